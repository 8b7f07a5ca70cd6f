"""`type: graph`: a model that is not a stack (7.1), written as named nodes, and its checks.

    model:
      type: graph
      inputs:  {text: {shape: [null], dtype: int32}, question: {shape: [null], dtype: int32}}
      blocks:  {residual: {params: {filters: 32}, inputs: [x], nodes: [...], output: add}}
      nodes:
        - {name: embedded, layer: Embedding, args: {input_dim: 10000, output_dim: 64}, inputs: [text]}
        - {name: right, share: left, inputs: [question]}            # the same layer again (7.1.5)
        - {name: res1, block: residual, params: {filters: 64}, inputs: [embedded]}
      outputs: {answer: {loss: categorical_crossentropy, loss_weight: 1.0, metrics: [acc]}}

A node names one layer class with its arguments (`layer`, `args`), another node whose layer it
reuses (`share`), or a block it instantiates (`block`, `params`), and its inputs by name, in any
order. A block is a reusable sub-graph: its nodes refer to its `inputs` and to each other, and
`"$name"` anywhere in their arguments is the block parameter `name`. The layers of a block
instance are named `<node>.<block node>`.

`expand` flattens blocks into `Step`s and finds every problem (unknown names with the nearest
valid one, cycles, unused nodes and inputs, bad layer arguments) without importing Keras, so
`dlcli validate` reports them at their line.

Blocks multiply: a block of two instances of a block of two... doubles at each level, so a few
kilobytes of YAML can stand for millions of layers. Before expanding, the layers each block
stands for are counted (each block once); a graph of more than DEFAULT_MAX_LAYERS layer calls
(`DLCLI_MAX_LAYERS` sets another bound), or with blocks nested deeper than MAX_BLOCK_DEPTH, is
refused. The expansion and its ordering then take time in proportion to the layers.
"""

from __future__ import annotations

import graphlib
import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, model_validator

from dlcli.errors import SpecError
from dlcli.models.sizing import SizeBudget, output_features
from dlcli.registry import did_you_mean
from dlcli.spec.base import StrictModel
from dlcli.spec.entries import Entry, parse_layer

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_BLOCK_DEPTH = 20  # blocks inside blocks
DEFAULT_MAX_LAYERS = 10_000  # layer calls once every block is expanded; DLCLI_MAX_LAYERS raises it
MAX_SUGGESTIONS = 20  # each did-you-mean compares with every name: past this many problems, none


class GraphInput(StrictModel):
    shape: list[int | None] = Field(description="one sample's shape; null for any length, e.g. [null]")
    dtype: Literal["float32", "float16", "float64", "int32", "int64", "uint8", "bool"] = "float32"


class GraphNode(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    layer: str | None = Field(None, description="a Keras layer class, e.g. Dense")
    args: dict[str, Any] = Field({}, description="the layer's arguments")
    weights: Any = Field(None, description="a named set of weights (glove.6B.100d) for an Embedding")
    trainable: bool | None = None
    share: str | None = Field(None, description="reuse the layer of this node (shared weights)")
    block: str | None = Field(None, description="instantiate this block of `blocks`")
    params: dict[str, Any] = Field({}, description="the block's parameters")
    inputs: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> "GraphNode":
        sources = [key for key in ("layer", "share", "block") if getattr(self, key) is not None]
        if len(sources) != 1:
            raise ValueError(f"node '{self.name}' needs exactly one of `layer`, `share` or `block` "
                             f"(got {', '.join(sources) or 'none'})")
        if self.layer is None and (self.args or self.weights is not None or self.trainable is not None):
            raise ValueError(f"node '{self.name}': `args`, `weights` and `trainable` go with `layer`")
        if self.block is None and self.params:
            raise ValueError(f"node '{self.name}': `params` go with `block`")
        return self


class GraphBlock(StrictModel):
    params: dict[str, Any] = Field({}, description="parameter names and defaults (null: required)")
    inputs: list[str] = Field(min_length=1)
    nodes: list[GraphNode] = Field(min_length=1)
    output: str


class GraphOutput(StrictModel):
    loss: str | dict[str, Any] | None = Field(None, description="default: compile.loss")
    loss_weight: float = Field(1.0, ge=0)
    metrics: list[str] | None = Field(None, description="default: compile.metrics")


class GraphModel(StrictModel):
    """A graph of named layers with named inputs and outputs (the functional API, 7.1)."""

    type: Literal["graph"]
    inputs: dict[str, GraphInput] = Field(min_length=1)
    blocks: dict[str, GraphBlock] = {}
    nodes: list[GraphNode] = Field(min_length=1)
    outputs: dict[str, GraphOutput | None] = Field(min_length=1, description="node names and their losses")

    @property
    def gives_losses(self) -> bool:
        """Whether every output names its loss (then `compile.loss` may be left out)."""
        return all(output is not None and output.loss is not None for output in self.outputs.values())

    def output(self, name: str) -> GraphOutput:
        return self.outputs[name] or GraphOutput()


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
    too_large = _too_large(graph)
    if too_large:  # expanding it would take the time and memory the bound is there to save
        result.problems += too_large
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
        result.problems += _too_heavy(result, graph)
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


def max_layers() -> int:
    """The bound on a graph's layer calls: DLCLI_MAX_LAYERS, else DEFAULT_MAX_LAYERS."""
    try:
        return int(os.environ.get("DLCLI_MAX_LAYERS") or DEFAULT_MAX_LAYERS)
    except ValueError:
        raise SpecError(f"DLCLI_MAX_LAYERS must be a whole number of layers (default {DEFAULT_MAX_LAYERS:,})") \
            from None


class _TooDeep(Exception):
    """Blocks nest deeper than MAX_BLOCK_DEPTH (the chain of block names is its argument)."""


def _too_large(graph: GraphModel) -> list[tuple[tuple, str]]:
    """The graph's size and nesting, counted block by block without expanding anything."""
    counts: dict[str, int] = {}

    def layers_of(name: str, stack: list) -> int:
        """Layer calls one instance of block `name` stands for (a cycle or unknown block counts 0:
        `_scope` reports those)."""
        if name in counts:
            return counts[name]
        block = graph.blocks.get(name)
        if block is None or name in stack:
            return 0
        if len(stack) >= MAX_BLOCK_DEPTH:
            raise _TooDeep([*stack, name])
        counts[name] = sum(layers_of(node.block, [*stack, name]) if node.block else 1 for node in block.nodes)
        return counts[name]

    sizes = []
    for index, node in enumerate(graph.nodes):
        try:
            sizes.append(layers_of(node.block, []) if node.block else 1)
        except _TooDeep as error:
            chain = " -> ".join(error.args[0])
            return [(("nodes", index), f"blocks nest more than {MAX_BLOCK_DEPTH} deep ({chain})")]
    total, bound = sum(sizes), max_layers()
    if total <= bound:
        return []
    largest = max(range(len(sizes)), key=sizes.__getitem__)
    node = graph.nodes[largest]
    part = f"block '{node.block}' alone expands to {sizes[largest]:,}; " if node.block else ""
    return [(("nodes", largest) if node.block else ("nodes",),
             f"the graph expands to {total:,} layers ({part}at most {bound:,}: use fewer or smaller "
             "blocks, or raise DLCLI_MAX_LAYERS)")]


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


def _too_heavy(result: Expansion, graph: GraphModel) -> list[tuple[tuple, str]]:
    """The graph's weights as far as they are known before the data (see models.sizing): the
    first layer past the bound. Building counts them all again on the real shapes."""
    features = {name: (spec.shape[-1] if spec.shape else None) for name, spec in graph.inputs.items()}
    by_name = {step.name: step for step in result.steps}
    budget = SizeBudget(partial=True)
    for step in result.steps:
        incoming = [features.get(name) for name in step.inputs]
        if step.entry is not None:
            problem = budget.over(step.entry, (incoming[0],) if incoming[0] else ())
            if problem:
                return [(step.where, f"{step.context}{problem}")]
        entry = step.entry if step.entry is not None else by_name[step.share].entry
        if entry.name == "Concatenate" and entry.arguments.get("axis", -1) == -1:
            features[step.name] = sum(incoming) if all(incoming) else None
        else:
            features[step.name] = output_features(entry, incoming[0])
    return []


def check_graph(graph: GraphModel) -> list[tuple[tuple, str]]:
    """The graph's problems as (loc under `model`, message), for `dlcli validate`."""
    return expand(graph).problems
