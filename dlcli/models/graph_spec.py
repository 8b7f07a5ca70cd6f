"""`type: graph`: a model that is not a stack (7.1), written as named nodes: the schema.

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

`graph_expansion.expand` flattens the blocks and finds every problem, without importing Keras.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from dlcli.spec.base import StrictModel

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


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
