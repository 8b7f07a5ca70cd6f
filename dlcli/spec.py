"""Experiment specs: YAML loading, --set overrides, pydantic v2 validation and readable errors.

A spec is validated completely before anything heavy runs. Every problem is reported at once,
one line each, as `FILE:LINE: dotted.path: message`, and raises `SpecError` (exit code 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dlcli.catalog import resolve_spec_path
from dlcli.errors import SpecError
from dlcli.registry import did_you_mean, unknown_name_message
from dlcli.models.keras_names import LAYERS, OPTIMIZERS

class StrictModel(BaseModel):
    """Base of every spec section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


# --------------------------------------------------------------------------- layers & model


def check_each(items: list[Any], check) -> list[Any]:
    """Run `check` on every item; all the problems at once, each with its index."""
    problems = []
    for index, entry in enumerate(items):
        try:
            check(entry)
        except ValueError as error:
            problems.append(f"[{index}] {error}")
    if problems:
        raise ValueError("; ".join(problems))
    return items


def layer_entry_name(entry: Any, where: str = "layer") -> str:
    """The layer class name of a YAML layer entry `{Dense: {units: 10}}` (checked)."""
    if isinstance(entry, str):
        entry = {entry: {}}
    if not isinstance(entry, dict):
        raise ValueError(f"a {where} is written as a one-key mapping like `Dense: {{units: 10}}`")
    names = [key for key in entry if key not in ("weights", "trainable")]
    if len(names) != 1:
        raise ValueError(
            f"a {where} has exactly one layer name besides `weights`/`trainable` (got {sorted(map(str, entry))})"
        )
    name = names[0]
    if name not in LAYERS and name != PRETRAINED:
        raise ValueError(unknown_name_message("layer", str(name), [*LAYERS, PRETRAINED]))
    kwargs = entry[name]
    if kwargs is not None and not isinstance(kwargs, dict):
        raise ValueError(f"the arguments of {name} must be a mapping (got {kwargs!r})")
    if name == PRETRAINED:
        try:
            PretrainedLayer.model_validate(kwargs or {})
        except ValidationError as error:
            raise ValueError("; ".join(
                f"{PRETRAINED}.{'.'.join(map(str, item['loc']))}: {item['msg'].removeprefix('Value error, ')}"
                for item in error.errors())) from None
    for value in (kwargs or {}).values():
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in LAYERS:
            layer_entry_name(value, "wrapped layer")  # Bidirectional: {layer: {LSTM: {...}}}
    return name


PRETRAINED = "Pretrained"


class PretrainedLayer(StrictModel):
    """`Pretrained: {network: vgg16}` in a layer list: a keras.applications network as one layer (5.20)."""

    network: str
    include_top: bool = False
    weights: Literal["imagenet"] | None = "imagenet"
    trainable: bool = Field(False, description="False freezes the whole network (5.20)")
    trainable_from: str | None = Field(None, description="train this layer and the ones after it (5.22)")

    @field_validator("network")
    @classmethod
    def _known(cls, network: str) -> str:
        from dlcli.models.applications import APPLICATIONS

        key = network.lower().replace("_", "").replace("-", "")
        if key not in APPLICATIONS:
            raise ValueError(unknown_name_message("pretrained network", network, APPLICATIONS))
        return key


class SequentialModel(StrictModel):
    """A stack of Keras layers written in YAML (`keras.Sequential`)."""

    type: Literal["sequential"]
    input_shape: list[int | None] | None = Field(
        None, description="shape of one sample; taken from the data when omitted"
    )
    layers: list[Any] = Field(min_length=1)

    @field_validator("layers")
    @classmethod
    def _check_layers(cls, layers: list[Any]) -> list[Any]:
        return check_each(layers, layer_entry_name)


class FromRunModel(StrictModel):
    """A previous run's trained model, to train further (5.22: fine-tuning after 5.20)."""

    type: Literal["from_run"]
    run: str = Field(description="an experiment name (its latest completed run) or a run directory")
    trainable_from: str | None = Field(
        None, description="unfreeze this layer of the nested pretrained network and the ones after it"
    )


class NaiveLastValueModel(StrictModel):
    """The common-sense baseline of 6.35: forecast the target's last observed value (no training)."""

    type: Literal["naive_last_value"]


ModelSpec = Annotated[Union[SequentialModel, FromRunModel, NaiveLastValueModel], Field(discriminator="type")]


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
    loss: str | dict[str, Any]
    metrics: list[str] = []
    jit_compile: bool | Literal["auto"] = Field(
        False, description="False trains small convnets ~1.3x faster on CPU than Keras' 'auto'"
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
    batch_size: int | None = Field(None, gt=0)


class FitSpec(StrictModel):
    epochs: int = Field(ge=0, description="0 trains nothing (fixed weights)")
    batch_size: int = Field(32, gt=0)
    steps_per_epoch: int | None = Field(
        None, gt=0, description="a step budget: batches drawn from the repeated, shuffled data"
    )
    shuffle: bool = True
    validation: ValidationSpec = ValidationSpec()
    retrain: RetrainSpec | None = None


# --------------------------------------------------------------------------- callbacks

CALLBACKS = {
    "EarlyStopping": (),
    "ModelCheckpoint": ("filepath",),
    "ReduceLROnPlateau": (),
    "TensorBoard": ("log_dir",),
    "CSVLogger": ("filename", "append"),
    "TerminateOnNaN": (),
}


def _check_callback(entry: Any) -> None:
    if isinstance(entry, str):
        entry = {entry: {}}
    if not isinstance(entry, dict) or len(entry) != 1:
        raise ValueError("a callback is a one-key mapping like `EarlyStopping: {patience: 2}`")
    name, kwargs = next(iter(entry.items()))
    if name not in CALLBACKS:
        raise ValueError(unknown_name_message("callback", str(name), CALLBACKS))
    if kwargs is not None and not isinstance(kwargs, dict):
        raise ValueError(f"the arguments of {name} must be a mapping (got {kwargs!r})")
    for key in CALLBACKS[name]:
        if key in (kwargs or {}):
            raise ValueError(f"{name}.{key} is set by dlcli: it writes into the run directory")


# --------------------------------------------------------------------------- reference


Statistic = Literal["final", "min", "max", "argmin", "argmax"]


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
        return self


class ValueCheck(StrictModel):
    """Another number the source reports (the same MAE in degrees Celsius, say)."""

    metric: str
    value: float
    tolerance: float = Field(0.0, ge=0)
    direction: Literal["within", "at_least", "at_most"] = "within"


class Reference(StrictModel):
    """What the source reports, so a run can say whether it reproduced it."""

    source: str
    listing: str | None = None
    quote: str | None = None
    metric: str | None = Field(None, description="a key of metrics.json, e.g. test_accuracy")
    value: float | None = None
    tolerance: float = Field(0.0, ge=0)
    direction: Literal["within", "at_least", "at_most"] = "within"
    also: list[ValueCheck] = Field([], description="more numbers the source reports, checked the same way")
    claims: list[Claim] = []

    @model_validator(mode="after")
    def _metric_and_value(self) -> "Reference":
        if (self.metric is None) != (self.value is None):
            raise ValueError("`metric` and `value` go together")
        return self


# --------------------------------------------------------------------------- the experiment


class ExperimentSpec(StrictModel):
    name: str = ""
    description: str = ""
    notes: str = Field("", description="how the port differs from the source, and why")
    runtime: str = Field("", description="how long it takes on a CPU, shown by `dlcli list`")
    seed: int = Field(42, ge=0)
    deterministic: bool = Field(False, description="TensorFlow op determinism (slower)")
    data: Any = Field(description="dataset name and parameters; checked by the dataset's own model")
    model: ModelSpec
    compile: CompileSpec
    fit: FitSpec
    callbacks: list[Any] = []
    evaluate: bool = Field(True, description="evaluate on the test split after fitting")
    reference: Reference | None = None

    @field_validator("callbacks")
    @classmethod
    def _callbacks(cls, callbacks: list[Any]) -> list[Any]:
        return check_each(callbacks, _check_callback)

    @model_validator(mode="after")
    def _consistent(self) -> "ExperimentSpec":
        validation = self.fit.validation.kind
        if validation == "none":
            for entry in self.callbacks:
                name, kwargs = _callback_items(entry)
                monitor = (kwargs or {}).get("monitor", "val_loss" if name != "TerminateOnNaN" else "")
                if str(monitor).startswith("val_"):
                    raise ValueError(
                        f"callback {name} monitors '{monitor}' but fit.validation.kind is 'none'"
                    )
        if self.fit.retrain and validation == "none":
            raise ValueError("fit.retrain picks epochs from validation: set fit.validation.kind")
        if validation == "kfold" and self.fit.steps_per_epoch:
            raise ValueError("fit.steps_per_epoch does not apply to k-fold validation")
        return self

    @property
    def callback_entries(self) -> list[tuple[str, dict]]:
        return [_callback_items(entry) for entry in self.callbacks]


def _callback_items(entry: Any) -> tuple[str, dict]:
    if isinstance(entry, str):
        return entry, {}
    name, kwargs = next(iter(entry.items()))
    return name, dict(kwargs or {})


def _validate_data(value: Any) -> tuple[Any, list[dict]]:
    """Validate the `data` section against the parameter model its dataset registered.

    Returns (params or None, pydantic-style error dicts located under `data`)."""
    from dlcli.datasets import DATASETS

    def error(msg: str, loc=("data",)) -> list[dict]:
        return [{"type": "value_error", "loc": loc, "msg": msg, "ctx": {"error": msg}}]

    if not isinstance(value, dict) or "name" not in value:
        return None, error("needs `name`, one of: " + ", ".join(DATASETS.names()))
    if value["name"] not in DATASETS:
        return None, error(unknown_name_message("dataset", str(value["name"]), DATASETS.names()), ("data", "name"))
    try:
        return DATASETS.get(value["name"]).params.model_validate(value), []
    except ValidationError as problem:
        return None, [dict(item, loc=("data", *item["loc"])) for item in problem.errors()]


# --------------------------------------------------------------------------- YAML and overrides


def read_yaml(path: Path) -> Any:
    """`yaml.safe_load` with errors as `FILE:LINE:COLUMN: problem`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: cannot read ({error})") from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, origin: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        tag = (error.problem or "").split("tag")[-1].strip(" '!")
        raise SpecError(
            f"{origin}:{mark.line + 1}:{mark.column + 1}: YAML tags that build objects are not "
            f"allowed (found '!{tag}'); write plain values"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}:{mark.column + 1}" if mark else origin
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(f"{where}: malformed YAML: {problem}") from None


def parse_override(text: str) -> tuple[list[str], Any]:
    """`fit.epochs=3` -> (['fit', 'epochs'], 3); the value is read as a YAML scalar or list."""
    if "=" not in text:
        raise SpecError(f"--set {text}: expected KEY=VALUE, e.g. --set fit.epochs=3")
    key, raw = text.split("=", 1)
    parts = key.strip().split(".")
    if not key.strip() or any(not part for part in parts):
        raise SpecError(f"--set {text}: the key must be a dotted path like fit.epochs")
    value = parse_yaml(raw, f"--set {text}") if raw.strip() else None
    return parts, value


def apply_override(tree: dict, parts: list[str], value: Any, text: str) -> None:
    """Set a dotted path in the raw spec; list items by index (`model.layers.0.Dense.units`)."""
    node: Any = tree
    for depth, part in enumerate(parts[:-1]):
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            node = _list_item(node, part, here, text)
        elif isinstance(node, dict):
            if part not in node or node[part] is None:
                node[part] = {}
            node = node[part]
        else:
            raise SpecError(f"--set {text}: '{here}' is a value, it has no key '{parts[depth + 1]}'")
    last = parts[-1]
    if isinstance(node, list):
        _list_item(node, last, ".".join(parts), text)
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise SpecError(f"--set {text}: '{'.'.join(parts[:-1])}' is a value, it has no key '{last}'")


def _list_item(node: list, part: str, here: str, text: str) -> Any:
    if not part.isdigit() or int(part) >= len(node):
        raise SpecError(f"--set {text}: '{here}' is not an item of a list of {len(node)}")
    return node[int(part)]


# --------------------------------------------------------------------------- validation


def load_spec(name_or_path: str, overrides: tuple[str, ...] | list[str] = ()) -> tuple[ExperimentSpec, Path]:
    """Read, override and validate a spec; raises SpecError listing every problem."""
    path = resolve_spec_path(name_or_path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a spec is a YAML mapping (got {type(raw).__name__})")
    set_paths = []
    for text in overrides:
        parts, value = parse_override(text)
        apply_override(raw, parts, value, text)
        set_paths.append((parts, text))
    raw.setdefault("name", path.stem)
    return validate_spec(raw, path, set_paths), path


def validate_spec(raw: dict, path: Path | str, set_paths=()) -> ExperimentSpec:
    errors: list[dict] = []
    spec = None
    try:
        spec = ExperimentSpec.model_validate(raw)
    except ValidationError as error:
        errors += [item for item in error.errors() if item["loc"][:1] != ("data",)]
    data, data_errors = _validate_data(raw.get("data"))
    errors += data_errors
    if not errors and spec is not None:
        spec.data = data
        return spec
    if errors:
        root = _yaml_tree(path)
        messages = []
        for item in errors:
            loc = _clean_loc(item["loc"])
            dotted = _dotted(loc)
            origin = next((text for parts, text in set_paths if _starts_with(loc, parts)), None)
            where = f"--set {origin}" if origin else f"{path}{_line_suffix(root, loc)}"
            messages.append(f"{where}: {dotted or '(top level)'}: {_message(item, raw)}")
        raise SpecError("\n".join(dict.fromkeys(messages)))
    raise SpecError(f"{path}: invalid spec")  # pragma: no cover - errors always explain


def _clean_loc(loc: tuple) -> tuple:
    # Drop pydantic's union tags ('sequential', 'function-after[...]') from the path.
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("sequential",))))


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _starts_with(loc: tuple, parts: list[str]) -> bool:
    return [str(p) for p in loc[: len(parts)]] == parts[: len(loc)] and len(loc) > 0


def _message(item: dict, raw: dict) -> str:
    kind, loc, got = item["type"], _clean_loc(item["loc"]), item.get("input")
    context = item.get("ctx") or {}
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1], raw)
        return f"unknown key '{loc[-1]}'{did_you_mean(str(loc[-1]), known)}" + (
            f"; valid keys: {', '.join(sorted(known))}" if known else ""
        )
    if kind == "missing":
        return "required key is missing"
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(context.values()))
        shown = f"{limit:g}" if isinstance(limit, (int, float)) else limit
        return f"must be {bounds[kind]} {shown} (got {got!r})"
    if kind == "value_error":
        return str(context.get("error", item["msg"]))
    if kind == "literal_error":
        return f"must be one of {context.get('expected')} (got {got!r})"
    if kind == "union_tag_invalid":
        return f"unknown type '{context.get('tag')}'; choices: {context.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"needs `{context.get('discriminator', 'type').strip(chr(39))}`"
    return f"{item['msg'][0].lower()}{item['msg'][1:]} (got {got!r})"


def _known_keys(loc: tuple, raw: dict) -> list[str]:
    """Field names of the section at `loc`, for did-you-mean on unknown keys."""
    from dlcli.datasets import DATASETS

    model: Any = ExperimentSpec
    data: Any = raw
    for part in loc:
        data = data.get(part) if isinstance(data, dict) else (data[part] if isinstance(data, list) else None)
        if model is None:
            return []
        if part == "data" and model is ExperimentSpec:
            name = data.get("name") if isinstance(data, dict) else None
            model = DATASETS.get(name).params if name in DATASETS else None
            continue
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotation = field.annotation if field else None
        model = _model_in(annotation)
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found:
            return found
    return None


def _yaml_tree(path: Path | str):
    """The file's YAML node tree, to find the line of an error (None if unreadable)."""
    try:
        return yaml.compose(Path(path).read_text(encoding="utf-8"))
    except Exception:
        return None


def _line_suffix(root, loc: tuple) -> str:
    node, line = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line, node = (key.start_mark.line + 1), match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return f":{line}" if line else ""


HEAD_KEYS = ("name", "description", "notes", "runtime", "seed", "deterministic")


def dump_spec(spec: ExperimentSpec) -> str:
    """The resolved spec as YAML, defaults filled in."""
    data = spec.model_dump(mode="json", exclude_none=True, exclude={"data"})
    data = {**{k: v for k, v in data.items() if k in HEAD_KEYS},
            "data": spec.data.model_dump(mode="json", exclude_none=True),
            **{k: v for k, v in data.items() if k not in HEAD_KEYS}}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
