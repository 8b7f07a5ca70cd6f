"""`type: graph`: a Keras functional model built from named nodes (see graph_spec for the spec).

The model's structure follows the data's: named inputs (a dict of arrays, as the `random`
dataset gives) make a model that takes a dict, one array makes a model that takes one array; the
same for targets and outputs. Losses, loss weights and metrics are compiled per output.
"""

from __future__ import annotations

from dataclasses import replace

from dlcli.errors import SpecError
from dlcli.backend import import_keras
from dlcli.models.graph_expansion import check_graph, expand
from dlcli.models.graph_spec import GraphModel
from dlcli.models.kind import ModelKind, register_kind
from dlcli.models.sequential import build_layer, input_layers, named_weights, pretrained_layer
from dlcli.models.sizing import SizeBudget
from dlcli.spec.entries import PRETRAINED


def _where(step) -> str:
    """`model.nodes[3]`: the place of the step's top-level node in the spec."""
    return "model" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in step.where)


def _fits(model_shape: tuple, data_shape: tuple) -> bool:
    return len(model_shape) == len(data_shape) and all(m is None or m == d for m, d in zip(model_shape, data_shape))


def _graph_inputs(keras, graph: GraphModel, bundle) -> tuple[dict, object]:
    """The Input tensors by name, and the structure the model takes (a dict, or the one tensor)."""
    data = bundle.input_shape
    named = isinstance(data, dict)
    if named and set(data) != set(graph.inputs):
        raise SpecError(f"model.inputs: the model takes {', '.join(graph.inputs)} but dataset gives "
                        f"{', '.join(data)}: name the inputs as the dataset does")
    if not named and len(graph.inputs) != 1:
        raise SpecError(f"model.inputs: the dataset gives one input array; the model takes {len(graph.inputs)}")
    tensors, structure = {}, {}
    preprocessing = [] if named else input_layers(bundle)  # pixels / 255 as the first layers, as in a Sequential model
    _check_names_free(graph, {layer.name: "dlcli's own input layer" for layer in preprocessing})
    for name, spec in graph.inputs.items():
        shape = tuple(spec.shape)
        given = data[name] if named else data
        if not _fits(shape, given):
            raise SpecError(f"model.inputs.{name}.shape: {list(shape)} does not fit the dataset's {list(given)}")
        structure[name] = keras.Input(shape=shape, dtype=spec.dtype, name=name)
        tensor = structure[name]
        for layer in preprocessing:
            tensor = layer(tensor)
        tensors[name] = tensor
    return tensors, (structure if named else next(iter(structure.values())))


def _check_names_free(graph: GraphModel, taken: dict[str, str]) -> None:
    """No input or node takes the name of a layer dlcli adds itself (Keras needs unique names)."""
    for name in graph.inputs:
        if name in taken:
            raise SpecError(f"model.inputs.{name}: the name '{name}' is taken by {taken[name]}: rename the input")
    for index, node in enumerate(graph.nodes):
        if node.name in taken:
            raise SpecError(f"model.nodes[{index}]: the name '{node.name}' is taken by {taken[node.name]}: "
                            "rename the node")


def build_graph(graph: GraphModel, bundle):
    keras = import_keras()
    expansion = expand(graph)
    if expansion.problems:  # validate_spec reports these first; a spec built directly meets them here
        loc, message = expansion.problems[0]
        raise SpecError(f"model.{'.'.join(map(str, loc))}: {message}")
    tensors, inputs = _graph_inputs(keras, graph, bundle)
    layers = {step.name: build_layer(replace(step.entry, arguments={**step.entry.arguments, "name": step.name}),
                                     _where(step))
              for step in expansion.steps if step.entry is not None and step.entry.name != PRETRAINED}
    budget = SizeBudget()
    for step in expansion.steps:
        incoming = [tensors[name] for name in step.inputs]
        where = f"{_where(step)}: {step.context or f'node {step.name!r}: '}".removesuffix(": ")
        if step.entry is not None:  # counted before the layer is called, which allocates its weights
            budget.add(step.entry, tuple(incoming[0].shape[1:]), where)
        try:
            if step.entry is not None and step.entry.name == PRETRAINED:
                layers[step.name] = pretrained_layer(step.entry.arguments, tuple(incoming[0].shape[1:]), where)
            layer = layers[step.share or step.name]
            tensors[step.name] = layer(incoming[0] if len(incoming) == 1 else incoming)
        except (TypeError, ValueError) as error:
            raise SpecError(f"{where}: {str(error).splitlines()[0]}") from None
        if step.entry is not None and isinstance(step.entry.weights, str):
            layer.set_weights([named_weights(step.entry.weights, layer, bundle, where)])
    targets = bundle.target_names
    if targets is not None and set(targets) != set(graph.outputs):
        raise SpecError(f"model.outputs: the model gives {', '.join(graph.outputs)} but dataset has targets "
                        f"{', '.join(targets)}: name the outputs as the dataset does")
    if targets is None and len(graph.outputs) != 1:
        raise SpecError(f"model.outputs: the dataset has one target array; the model gives {len(graph.outputs)}")
    outputs = {name: tensors[step] for name, step in expansion.outputs.items()}
    _check_targets(outputs, bundle, targets)
    try:
        return keras.Model(inputs, outputs if targets is not None else next(iter(outputs.values())), name="graph")
    except ValueError as error:  # a clash the checks above do not foresee (two networks named vgg16): one line
        raise SpecError(f"model: {str(error).splitlines()[0]}") from None


def _check_targets(outputs: dict, bundle, named: list[str] | None) -> None:
    """Each output gives what its target holds (integer labels aside, which sparse losses expand)."""
    y = getattr(bundle.train, "y", None)
    if y is None or not hasattr(bundle.train, "take"):
        return
    for name, tensor in outputs.items():
        target = y[name] if named is not None else y
        wanted, given = tuple(target.shape[1:]), tuple(tensor.shape[1:])
        if len(wanted) == 0 or (wanted == (1,) and target.dtype.kind in "iu"):
            continue  # one number a sample: a label (sparse losses expand it) or a binary target
        if not _fits(given, wanted):
            raise SpecError(f"model.outputs.{name}: the node gives {list(given)} per sample but its target is "
                            f"{list(wanted)}")


def compile_graph(model, spec) -> None:
    """Per-output losses, weights and metrics; an output without them takes `compile:`'s."""
    from dlcli.models.compiling import build_loss, build_optimizer, check_metrics, jit_compile_of

    graph: GraphModel = spec.model
    losses, weights, metrics = {}, {}, {}
    for name in graph.outputs:
        output = graph.output(name)
        loss = output.loss if output.loss is not None else spec.compile.loss
        losses[name] = build_loss(loss, f"model.outputs.{name}.loss" if output.loss is not None else "compile.loss")
        weights[name] = output.loss_weight
        metrics[name] = check_metrics(output.metrics if output.metrics is not None else spec.compile.metrics)
    model.compile(optimizer=build_optimizer(spec.compile.optimizer), loss=losses, loss_weights=weights,
                  metrics=metrics, jit_compile=jit_compile_of(spec.compile))


register_kind("graph", ModelKind(GraphModel, build_graph, compile=compile_graph, check=check_graph, named_data=True))
