"""How large a `type: graph` model is, bounded before Keras builds it (see graph_expansion).

Blocks multiply: a block of two instances of a block of two... doubles at each level, so a few
kilobytes of YAML can stand for millions of layers. Before expanding, the layers each block
stands for are counted (each block once); a graph of more than DEFAULT_MAX_LAYERS layer calls
(`DLCLI_MAX_LAYERS` sets another bound), or with blocks nested deeper than MAX_BLOCK_DEPTH, is
refused. The expansion and its ordering then take time in proportion to the layers.
"""

from __future__ import annotations

import os

from dlcli.errors import SpecError
from dlcli.models.graph_spec import GraphModel
from dlcli.models.sizing import SizeBudget, output_features

MAX_BLOCK_DEPTH = 20  # blocks inside blocks
DEFAULT_MAX_LAYERS = 10_000  # layer calls once every block is expanded; DLCLI_MAX_LAYERS raises it


def max_layers() -> int:
    """The bound on a graph's layer calls: DLCLI_MAX_LAYERS, else DEFAULT_MAX_LAYERS."""
    try:
        return int(os.environ.get("DLCLI_MAX_LAYERS") or DEFAULT_MAX_LAYERS)
    except ValueError:
        raise SpecError(f"DLCLI_MAX_LAYERS must be a whole number of layers (default {DEFAULT_MAX_LAYERS:,})") \
            from None


class _TooDeep(Exception):
    """Blocks nest deeper than MAX_BLOCK_DEPTH (the chain of block names is its argument)."""


def too_large(graph: GraphModel) -> list[tuple[tuple, str]]:
    """The graph's size and nesting, counted block by block without expanding anything."""
    counts: dict[str, int] = {}

    def layers_of(name: str, stack: list) -> int:
        """Layer calls one instance of block `name` stands for (a cycle or unknown block counts 0:
        graph_expansion reports those)."""
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


def too_heavy(steps: list, graph: GraphModel) -> list[tuple[tuple, str]]:
    """The graph's weights as far as they are known before the data (see models.sizing): the
    first of the expanded `steps` (inputs first) past the bound. Building counts them all again on the real shapes."""
    features = {name: (spec.shape[-1] if spec.shape else None) for name, spec in graph.inputs.items()}
    by_name = {step.name: step for step in steps}
    budget = SizeBudget(partial=True)
    for step in steps:
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
