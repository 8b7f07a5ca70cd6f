"""The experiment spec's schema (pydantic v2): compile, fit, callbacks, reference, and the
model section, whose choices are the model kinds registered in `dlcli.models`."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dlcli.models import MODEL_KINDS
from dlcli.registry import name_key, unknown_name_message
from dlcli.spec import MAX_NAME_LENGTH
from dlcli.spec.base import StrictModel
from dlcli.spec.entries import CallbackEntry, Entry
from dlcli.spec.keras_names import CALLBACK_ARGUMENTS, OPTIMIZERS

# One spec class per registered model kind, told apart by `type` (Model Garden's config-as-key).
ModelSpec = Annotated[Union[tuple(kind.spec for _, kind in MODEL_KINDS.items())], Field(discriminator="type")]


# --------------------------------------------------------------------------- compile


class OptimizerSpec(BaseModel):
    """An optimizer by name; other keys go to its constructor (checked by Keras at build)."""

    model_config = ConfigDict(extra="allow")

    name: str = "rmsprop"
    learning_rate: float | None = Field(None, gt=0)
    decay: float | None = Field(
        None, ge=0, description="Keras 2's `decay`: lr / (1 + decay * step), as InverseTimeDecay"
    )

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        if isinstance(value, dict) and "lr" in value:
            if "learning_rate" in value:
                raise ValueError("give `learning_rate` only (`lr` is Keras 2's name for it)")
            value = {("learning_rate" if key == "lr" else key): item for key, item in value.items()}
        return value

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        if name.lower() not in OPTIMIZERS:
            raise ValueError(unknown_name_message("optimizer", name, OPTIMIZERS))
        return name.lower()


class CompileSpec(StrictModel):
    optimizer: OptimizerSpec = OptimizerSpec()
    loss: str | dict[str, Any] | None = Field(None, description="required unless every graph output names its own")
    metrics: list[str] = []
    jit_compile: bool | Literal["auto"] | None = Field(
        None, description="unset: the fastest on CPU for the backend (TensorFlow false, JAX true, "
                          "torch false: see dlcli.backend.FASTEST_JIT_COMPILE); true, false or 'auto' as Keras takes it"
    )
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16"] = Field(
        "float32", description="Keras' dtype policy while the model is built: mixed_* computes in 16 bits "
                               "and keeps float32 weights (for GPUs and TPUs; slower on CPU)"
    )


# --------------------------------------------------------------------------- fit


class ValidationSpec(StrictModel):
    """Where validation data comes from: none, the first N samples (3.7), the last fraction
    (Keras' validation_split), the test split (the course lesson), k-fold (3.27), or the
    dataset's own validation split (an image folder's validation/, 5.4)."""

    kind: Literal["none", "holdout", "split", "test", "kfold", "dataset"] = "none"
    size: int | None = Field(None, gt=0, description="holdout: the first `size` training samples")
    fraction: float | None = Field(None, gt=0, lt=1, description="split: the last fraction")
    k: int | None = Field(None, ge=2, description="kfold: number of contiguous folds")

    @model_validator(mode="after")
    def _needs(self) -> "ValidationSpec":
        needed = {"holdout": "size", "split": "fraction", "kfold": "k"}.get(self.kind)
        for key in ("size", "fraction", "k"):
            value = getattr(self, key)
            if key == needed and value is None:
                raise ValueError(f"validation kind '{self.kind}' needs `{key}`")
            if key != needed and value is not None:
                raise ValueError(f"`{key}` does not apply to validation kind '{self.kind}'")
        return self


class RetrainSpec(StrictModel):
    """After a validated fit, train a fresh model on all the training data, then test it."""

    epochs: int | Literal["best"] = "best"
    monitor: str = "val_loss"
    mode: Literal["min", "max"] = "min"
    batch_size: int | None = Field(None, gt=0, le=2**31 - 1)


class FitSpec(StrictModel):
    # Upper bounds: values past them cannot work (an overflow in TensorFlow, a run that never ends).
    epochs: int = Field(ge=0, le=100_000, description="0 trains nothing (fixed weights)")
    batch_size: int = Field(32, gt=0, le=2**31 - 1)
    steps_per_epoch: int | None = Field(
        None, gt=0, le=10**8, description="a step budget: batches drawn from the repeated, shuffled data"
    )
    shuffle: bool = True
    validation: ValidationSpec = ValidationSpec()
    retrain: RetrainSpec | None = None


# --------------------------------------------------------------------------- reference


Statistic = Literal["final", "min", "max", "argmin", "argmax"]


BETTER = ("which way the metric improves: higher or lower (default: from its name: loss, mae, mse, error... "
          "lower; acc, auc, precision, recall higher)")
BETTER_COUNTS = "a result better than the source past the tolerance counts as reproducing it (needs `better`)"


def _better_is_known(check):
    """`better_counts` says beating the source counts: which way is better must then be written, not guessed."""
    if check.better_counts and check.better is None:
        raise ValueError("`better_counts` needs `better: higher` or `better: lower` (which way beats the source)")
    return check


class Claim(StrictModel):
    """A checkable form of what a source says about a curve, e.g. 'overfits later than X'.

    `statistic` is computed on the history column `metric` (argmin/argmax are 1-based epochs),
    optionally after dropping `skip_first` points and exponential smoothing (`smooth`, 3.31).
    It is compared with a number, or with the same statistic of the latest completed run of
    the experiment named in `than`.
    """

    text: str
    metric: str
    statistic: Statistic
    relation: Literal["between", "greater", "less", "greater_or_equal", "less_or_equal"]
    value: float | list[float] | None = None
    than: str | None = Field(None, description="baseline experiment name")
    than_metric: str | None = Field(
        None, description="compare with this key of the baseline run's metrics.json (a run without a curve)"
    )
    smooth: float | None = Field(None, ge=0, lt=1)
    skip_first: int = Field(0, ge=0)
    better: Literal["higher", "lower"] | None = Field(None, description=BETTER)
    better_counts: bool = Field(False, description=BETTER_COUNTS)

    @model_validator(mode="after")
    def _operands(self) -> "Claim":
        if self.relation == "between":
            if not (isinstance(self.value, list) and len(self.value) == 2) or self.than:
                raise ValueError("relation 'between' needs `value: [low, high]`")
        elif (self.value is None) == (self.than is None):
            raise ValueError(f"relation '{self.relation}' needs exactly one of `value` or `than`")
        elif isinstance(self.value, list):
            raise ValueError(f"relation '{self.relation}' compares with one number")
        if self.than_metric and not self.than:
            raise ValueError("`than_metric` names a metric of the run given in `than`")
        return _better_is_known(self)


class ValueCheck(StrictModel):
    """Another number the source reports (the same MAE in degrees Celsius, say)."""

    metric: str
    value: float
    tolerance: float = Field(0.0, ge=0)
    direction: Literal["within", "at_least", "at_most"] = "within"
    better: Literal["higher", "lower"] | None = Field(None, description=BETTER)
    better_counts: bool = Field(False, description=BETTER_COUNTS)

    @model_validator(mode="after")
    def _better_written(self) -> "ValueCheck":
        return _better_is_known(self)


class Reference(StrictModel):
    """What the source reports, so a run can say whether it reproduced it."""

    source: str
    listing: str | None = None
    quote: str | None = Field(None, description="the source's own words, with line numbers")
    metric: str | None = Field(None, description="a key of metrics.json, e.g. test_accuracy")
    value: float | None = None
    tolerance: float = Field(0.0, ge=0)
    direction: Literal["within", "at_least", "at_most"] = "within"
    better: Literal["higher", "lower"] | None = Field(None, description=BETTER)
    better_counts: bool = Field(False, description=BETTER_COUNTS)
    also: list[ValueCheck] = Field([], description="more numbers the source reports, checked the same way")
    claims: list[Claim] = []

    @model_validator(mode="after")
    def _metric_and_value(self) -> "Reference":
        if (self.metric is None) != (self.value is None):
            raise ValueError("`metric` and `value` go together")
        return _better_is_known(self)


# --------------------------------------------------------------------------- sweep


class SweepSpec(StrictModel):
    """`dlcli sweep`'s defaults for this experiment (its command-line options override them)."""

    params: dict[str, str | list[Any]] = Field({}, description="KEY: SPACE, as --param KEY=SPACE (a list: choices)")
    trials: int | None = Field(None, gt=0, le=10_000, description="default: the grid's size, else 20")
    metric: str = Field("val_loss", description="a history column (its best epoch) or a key of metrics.json")
    direction: Literal["minimize", "maximize"] | None = Field(None, description="default: from the metric's name")
    pruning: bool = Field(True, description="stop poor trials early (Optuna's median pruner, per epoch)")


# --------------------------------------------------------------------------- the experiment


# data.labels and a loss that cannot take them: Keras fails at the first batch, after the run exists
LABELS_LOSSES_APART = {("int", "categoricalcrossentropy"), ("onehot", "sparsecategoricalcrossentropy")}


class ExperimentSpec(StrictModel):
    name: str = Field("", description="the folder its runs go in (runs/NAME/); default: the spec file's stem")
    description: str = ""
    notes: str = Field("", description="how the port differs from the source, and why")
    runtime: str = Field("", description="how long it takes on a CPU, shown by `dlcli list`")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="NumPy's and TensorFlow's seeds take 32 bits")
    deterministic: bool = Field(False, description="TensorFlow op determinism (slower)")
    data: Any = Field(description="dataset name and parameters; checked by the dataset's own model")
    model: ModelSpec
    compile: CompileSpec
    fit: FitSpec
    callbacks: list[CallbackEntry] = []
    evaluate: bool = Field(True, description="evaluate on the test split after fitting")
    report: bool = Field(True, description="write report.html into the run when training ends (`dlcli report` "
                                           "writes it at any time)")
    reference: Reference | None = None
    sweep: SweepSpec | None = Field(None, description="defaults for `dlcli sweep`; ignored by train")

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        """The name is one folder under runs/, so it may not lead elsewhere or be too long to create."""
        if len(name) > MAX_NAME_LENGTH or name.startswith(".") or "/" in name or "\\" in name \
                or not name.isprintable():
            shown = name if len(name) <= 40 else name[:37] + "..."
            raise ValueError(f"'{shown}' is not a folder name for its runs: at most {MAX_NAME_LENGTH} characters, "
                             "no / or \\, not starting with '.' (it defaults to the file's stem: set `name:`)")
        return name

    @model_validator(mode="after")
    def _consistent(self) -> "ExperimentSpec":
        if self.compile.loss is None and not getattr(self.model, "gives_losses", False):
            raise ValueError("compile.loss is required (every model output needs a loss)")
        validation = self.fit.validation.kind
        if validation == "none":
            for entry in self.callbacks:
                monitors = "monitor" in CALLBACK_ARGUMENTS.get(entry.name, ())  # val_loss by default
                monitor = entry.arguments.get("monitor", "val_loss" if monitors else "")
                if str(monitor).startswith("val_"):
                    raise ValueError(
                        f"callback {entry.name} monitors '{monitor}' but fit.validation.kind is 'none'"
                    )
        if validation in ("none", "kfold") and self.callback("ActivationLogger") is not None:
            raise ValueError("callback ActivationLogger logs validation samples: set fit.validation.kind "
                             "to holdout, split, test or dataset")
        if self.callback("TextSampler") is not None and name_key(str(self.data_value("name"))) != name_key("text_file"):
            raise ValueError("callback TextSampler samples a character model: it needs data.name text_file")
        labels = self.data_value("labels")
        if isinstance(self.compile.loss, str) and (labels, name_key(self.compile.loss)) in LABELS_LOSSES_APART:
            fitting = "sparse_categorical_crossentropy" if labels == "int" else "categorical_crossentropy"
            raise ValueError(f"compile.loss {self.compile.loss} does not take data.labels {labels}: use {fitting}")
        # else the held-out part is neither trained nor validated on
        if self.data_value("validation_split") is not None and validation != "dataset":
            raise ValueError(f"data.validation_split holds data out for validation: set fit.validation.kind to "
                             f"dataset (it is '{validation}'), or drop data.validation_split")
        if self.compile.optimizer.decay and self.callback("LearningRateScheduler") is not None:
            raise ValueError("compile.optimizer.decay and LearningRateScheduler both set the learning rate: keep one")
        if self.fit.retrain and validation == "none":
            raise ValueError("fit.retrain picks epochs from validation: set fit.validation.kind")
        if validation == "kfold" and self.fit.steps_per_epoch:
            raise ValueError("fit.steps_per_epoch does not apply to k-fold validation")
        return self

    def data_value(self, key: str) -> Any:
        """A key of the data section, None when unset; the section is still a mapping while the
        spec is checked (the dataset's own model validates it later) and its model afterwards."""
        return self.data.get(key) if isinstance(self.data, dict) else getattr(self.data, key, None)

    def callback(self, name: str) -> Entry | None:
        """The spec's callback entry of that class, if any."""
        return next((entry for entry in self.callbacks if entry.name == name), None)
