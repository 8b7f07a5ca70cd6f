"""The expansion of a `type: graph` model (see graph_spec for the spec) and its checks.

`expand` flattens blocks into `Step`s and finds every problem (unknown names with the nearest
valid one, cycles, unused nodes and inputs, bad layer arguments) without importing Keras, so
`dlcli validate` reports them at their line. Before expanding, graph_size bounds the layers the
blocks stand for; after, it bounds the weights known before the data.
"""

from __future__ import annotations

import graphlib
import re
from dataclasses import dataclass, field
from typing import Any

from dlcli.models.graph_size import MAX_BLOCK_DEPTH, too_heavy, too_large
from dlcli.models.graph_spec import NAME_PATTERN, GraphModel, GraphNode
from dlcli.registry import did_you_mean
from dlcli.spec.entries import Entry, parse_layer

MAX_SUGGESTIONS = 20  # each did-you-mean compares with every name: past this many problems, none


@dataclass
class Step:
    """One layer call of the flattened graph."""

    name: str  # the layer's name; a block's layers are `<node>.<block node>`
    inputs: list[str]  # names of steps or of the graph's inputs
    where: tuple  # the loc, under `model`, of the top-level node it comes from
    entry: Entry | None = None  # the layer to make, or
    share: str | None = None  # the step whose layer it calls again
    context: str = ""  # "block residual, node conv: " inside a block


@dataclass
class Expansion:
    steps: list[Step] = field(default_factory=list)  # in an order where inputs come first
    outputs: dict[str, str] = field(default_factory=dict)  # output name -> step name
    problems: list[tuple[tuple, str]] = field(default_factory=list)  # (loc under `model`, message)


def expand(graph: GraphModel) -> Expansion:
    """The graph's layer calls with blocks flattened, and every problem found."""
    result = Expansion()
    result.problems += _bad_names(graph)
    oversized = too_large(graph)
    if oversized:  # expanding it would take the time and memory the bound is there to save
        result.problems += oversized
        return result
    names = _scope(graph.nodes, graph.inputs, lambda i: ("nodes", i), "", graph, result.problems, [])
    if names is None:
        return result
    bound = {name: name for name in graph.inputs}
    _add_nodes(graph.nodes, "", {**bound, **names}, {}, lambda i: ("nodes", i), "", graph, result, [])
    for name in graph.outputs:
        if name not in names:
            result.problems.append((("outputs", name), f"no node named '{name}'{_near(name, names, result.problems)}"))
        else:
            result.outputs[name] = names[name]
    if result.problems:
        return result
    result.steps = _ordered(result)
    if not result.problems:
        _check_used(result, graph, names)
        result.problems += too_heavy(result.steps, graph)
    return result


def _bad_names(graph: GraphModel) -> list[tuple[tuple, str]]:
    """Names that become Keras layer names or parts of them (inputs; blocks, their inputs and
    parameters) take the pattern of node names: Keras refuses `/`, and `.` joins a block's layers."""
    rule = "use letters, digits and _, starting with a letter or _"
    problems = [(("inputs", name), f"input name '{name}': {rule}") for name in graph.inputs
                if not re.fullmatch(NAME_PATTERN, name)]
    for block_name, block in graph.blocks.items():
        names = [("block", block_name), *(("input", name) for name in block.inputs),
                 *(("parameter", name) for name in block.params)]
        problems += [(("blocks", block_name), f"{what} name '{name}': {rule}") for what, name in names
                     if not re.fullmatch(NAME_PATTERN, name)]
    return problems


def _scope(nodes, inputs, where_of, prefix: str, graph: GraphModel, problems: list, stack: list) -> dict | None:
    """Local name -> step name of each node (a block node's name is its output step's)."""
    names: dict[str, str] = {}
    for index, node in enumerate(nodes):
        if node.name in names or node.name in inputs:
            problems.append((where_of(index), f"the name '{node.name}' is used twice"))
            continue
        names[node.name] = f"{prefix}{node.name}"
        if node.block is not None:
            output = _block_output(graph, node.block, f"{prefix}{node.name}.", [*stack, node.block])
            if output is None:
                problems.append((where_of(index), _block_problem(graph, node.block, stack)))
                continue
            names[node.name] = output
    return names


def _near(name: str, choices, problems: list) -> str:
    """did_you_mean for the first MAX_SUGGESTIONS problems (a graph of 10,000 typos took minutes)."""
    return did_you_mean(name, list(choices)) if len(problems) < MAX_SUGGESTIONS else ""


def _block_output(graph: GraphModel, block_name: str, prefix: str, stack: list) -> str | None:
    block = graph.blocks.get(block_name)
    if block is None or len(stack) > MAX_BLOCK_DEPTH or stack.count(block_name) > 1:
        return None
    node = next((node for node in block.nodes if node.name == block.output), None)
    if node is None:
        return None
    if node.block is not None:
        return _block_output(graph, node.block, f"{prefix}{node.name}.", [*stack, node.block])
    return f"{prefix}{node.name}"


def _block_problem(graph: GraphModel, block_name: str, stack: list) -> str:
    block = graph.blocks.get(block_name)
    if block is None:
        return f"no block named '{block_name}'{did_you_mean(block_name, list(graph.blocks))}"
    if block_name in stack or len(stack) >= MAX_BLOCK_DEPTH:
        return f"block '{block_name}' contains itself"
    inner = [node.name for node in block.nodes]
    if block.output not in inner:
        return f"block '{block_name}': output '{block.output}' is none of its nodes{did_you_mean(block.output, inner)}"
    return f"block '{block_name}' contains itself"  # its output is a block instance that does


def _add_nodes(nodes, prefix: str, names: dict, params: dict, where_of, context: str, graph: GraphModel,
               result: Expansion, stack: list) -> None:
    by_name = {node.name: node for node in nodes}
    for index, node in enumerate(nodes):
        where = where_of(index)
        inside = f"{context}node '{node.name}': " if context else ""
        inputs = []
        for name in node.inputs:
            if name in names:
                inputs.append(names[name])
            else:
                visible = (key for key in names if key != node.name)
                suggestion = _near(name, visible, result.problems)
                result.problems.append((where, f"{inside}unknown input '{name}'{suggestion}"))
        step_name = f"{prefix}{node.name}"
        if node.layer is not None:
            arguments, unknown = _substitute(node.args, params)
            if unknown:
                result.problems.append((where, f"{inside}'${unknown}' is not a parameter of the block"))
                continue
            extras = {key: value for key, value in (("weights", node.weights), ("trainable", node.trainable))
                      if value is not None}
            try:
                entry = parse_layer({node.layer: arguments, **extras})
            except ValueError as error:
                result.problems.append((where, f"{inside}{error}"))
                continue
            result.steps.append(Step(step_name, inputs, where, entry=entry, context=inside))
        elif node.share is not None:
            target = names.get(node.share)
            shared = by_name.get(node.share)
            if target is None or shared is None or shared.layer is None:
                layers = (n.name for n in nodes if n.layer is not None)
                result.problems.append((where, f"{inside}`share` names a node with a `layer`: no such node "
                                               f"'{node.share}'{_near(node.share, layers, result.problems)}"))
                continue
            result.steps.append(Step(step_name, inputs, where, share=target, context=inside))
        else:
            _add_block(node, inputs, step_name, params, where, inside, graph, result, stack)


def _add_block(node: GraphNode, inputs: list[str], step_name: str, outer_params: dict, where: tuple, inside: str,
               graph: GraphModel, result: Expansion, stack: list) -> None:
    block = graph.blocks.get(node.block)
    if block is None or node.block in stack or len(stack) >= MAX_BLOCK_DEPTH:
        return  # reported by _scope
    given, unknown = _substitute(node.params, outer_params)
    problems = [f"'${unknown}' is not a parameter of the block"] if unknown else []
    problems += [f"block '{node.block}' has no parameter '{key}'{did_you_mean(key, list(block.params))}"
                 for key in given if key not in block.params]
    problems += [f"block '{node.block}' needs the parameter '{key}'"
                 for key, default in block.params.items() if default is None and key not in given]
    if len(node.inputs) != len(block.inputs):
        problems.append(f"block '{node.block}' takes {len(block.inputs)} input(s) "
                        f"({', '.join(block.inputs)}), got {len(node.inputs)}")
    if problems or len(inputs) != len(node.inputs):
        result.problems += [(where, f"{inside}{problem}") for problem in problems]
        return
    params = {**block.params, **given}
    prefix = f"{step_name}."
    context = f"{inside}block '{node.block}', "
    names = _scope(block.nodes, block.inputs, lambda i: where, prefix, graph, result.problems, [*stack, node.block])
    if names is not None:
        bound = dict(zip(block.inputs, inputs))
        _add_nodes(block.nodes, prefix, {**bound, **names}, params, lambda i: where, context, graph, result,
                   [*stack, node.block])


def _substitute(value: Any, params: dict) -> tuple[Any, str | None]:
    """`value` with every "$name" string replaced by the parameter; (value, first unknown name)."""
    if isinstance(value, str) and value.startswith("$") and len(value) > 1:
        name = value[1:]
        return (params[name], None) if name in params else (value, name)
    if isinstance(value, dict):
        items = {key: _substitute(item, params) for key, item in value.items()}
        return {key: item for key, (item, _) in items.items()}, next((u for _, u in items.values() if u), None)
    if isinstance(value, list):
        items = [_substitute(item, params) for item in value]
        return [item for item, _ in items], next((u for _, u in items if u), None)
    return value, None


def _ordered(result: Expansion) -> list[Step]:
    """The steps with each one after its inputs, wave by wave, each wave in the spec's order (the
    order layers are made in, so seeded weights stay the same); a cycle is a problem at its first node."""
    position = {step.name: index for index, step in enumerate(result.steps)}
    by_name = {step.name: step for step in result.steps}
    sorter = graphlib.TopologicalSorter({step.name: [name for name in step.inputs if name in by_name]
                                        for step in result.steps})
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        cycle = error.args[1][:-1][::-1]  # graphlib follows outputs; the message follows inputs
        start = min(range(len(cycle)), key=lambda index: position[cycle[index]])
        cycle = [*cycle[start:], *cycle[:start], cycle[start]]
        step = by_name[cycle[0]]
        result.problems.append((step.where, f"{step.context}the nodes {' -> '.join(cycle)} form a cycle"))
        return []
    ordered: list[Step] = []
    while sorter.is_active():
        wave = sorted(sorter.get_ready(), key=position.__getitem__)
        ordered += [by_name[name] for name in wave]
        sorter.done(*wave)
    return ordered


def _check_used(result: Expansion, graph: GraphModel, names: dict) -> None:
    """Every node and input feeds some output (Keras would drop an unused node silently)."""
    by_name = {step.name: step for step in result.steps}
    used: set[str] = set()
    pending = list(result.outputs.values())
    while pending:
        name = pending.pop()
        if name in used:
            continue
        used.add(name)
        step = by_name.get(name)
        if step is not None:
            pending += step.inputs
    for index, node in enumerate(graph.nodes):
        if names.get(node.name) not in used:
            result.problems.append((("nodes", index), f"node '{node.name}' is not used by any output "
                                                      f"(outputs: {', '.join(graph.outputs)})"))
    for name in graph.inputs:
        if name not in used:
            result.problems.append((("inputs", name), f"input '{name}' is not used by any node"))


def check_graph(graph: GraphModel) -> list[tuple[tuple, str]]:
    """The graph's problems as (loc under `model`, message), for `dlcli validate`."""
    return expand(graph).problems
