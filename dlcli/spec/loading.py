"""Load a spec: read the YAML, apply --set overrides, validate it whole, dump it back.

A spec is validated completely before anything heavy runs. Every problem is reported at once,
one line each, as `FILE:LINE: dotted.path: message`, and raises `SpecError` (exit code 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dlcli.catalog import resolve_spec_path
from dlcli.errors import SpecError
from dlcli.registry import unknown_name_message
from dlcli.spec.messages import error_lines
from dlcli.spec.overrides import apply_override, parse_override
from dlcli.spec.reading import read_yaml
from dlcli.spec.schema import ExperimentSpec


MAX_ERROR_LINES = 100


def load_spec(name_or_path: str, overrides: tuple[str, ...] | list[str] = ()) -> tuple[ExperimentSpec, Path]:
    """Read, override and validate a spec; raises SpecError listing every problem."""
    path = resolve_spec_path(name_or_path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a spec is a YAML mapping (got {type(raw).__name__})")
    set_paths = []
    for text in overrides:
        parts, value = parse_override(text)
        set_paths.append((apply_override(raw, parts, value, text), text))
    raw.setdefault("name", path.stem)
    return validate_spec(raw, path, set_paths), path


def validate_spec(raw: dict, path: Path | str, set_paths=()) -> ExperimentSpec:
    """The validated spec, or a SpecError with every problem of `raw` (read from `path`)."""
    errors: list[dict] = []
    spec = None
    try:
        spec = ExperimentSpec.model_validate(raw)
    except ValidationError as error:
        errors += [item for item in error.errors() if item["loc"][:1] != ("data",)]
    data, data_errors = _validate_data(raw.get("data"))
    errors += data_errors
    if spec is not None:
        errors += _kind_problems(spec.model) + _resolve_callback_files(spec, Path(path).parent)
    if errors:
        lines = error_lines(errors, raw, path, set_paths)
        if len(lines) > MAX_ERROR_LINES:  # the first ones, and how many more: not a screenful per node
            lines = [*lines[:MAX_ERROR_LINES], f"{path}: and {len(lines) - MAX_ERROR_LINES:,} more problems"]
        raise SpecError("\n".join(lines))
    spec.data = data
    return spec


def _resolve_callback_files(spec, folder: Path) -> list[dict]:
    """A custom callback's file, relative to the spec's folder, made absolute (it must exist)."""
    from dataclasses import replace

    problems = []
    for index, entry in enumerate(spec.callbacks):
        if entry.name != "Custom":
            continue
        file, _, class_name = entry.arguments["path"].rpartition(":")
        resolved = (folder / file).resolve()
        if not resolved.is_file():
            message = f"no file {resolved} (a relative path starts at the spec's folder)"
            problems.append({"type": "value_error", "loc": ("callbacks", index, "Custom", "path"), "msg": message,
                             "ctx": {"error": message}})
            continue
        spec.callbacks[index] = replace(entry, arguments={**entry.arguments, "path": f"{resolved}:{class_name}"})
    return problems


def _kind_problems(model) -> list[dict]:
    """What the model kind's own check finds without Keras (a graph's unknown names, cycles...)."""
    from dlcli.models import MODEL_KINDS

    check = MODEL_KINDS.get(model.type).check
    return [{"type": "value_error", "loc": ("model", *loc), "msg": message, "ctx": {"error": message}}
            for loc, message in (check(model) if check else [])]


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
    if not DATASETS.get(value["name"]).training_set:
        return None, error(f"'{value['name']}' is not a training set: {DATASETS.get(value['name']).description}",
                           ("data", "name"))
    try:  # `fashion-mnist` is `fashion_mnist`
        return DATASETS.get(value["name"]).params.model_validate(
            {**value, "name": DATASETS.canonical(value["name"])}), []
    except ValidationError as problem:
        return None, [dict(item, loc=("data", *item["loc"])) for item in problem.errors()]


HEAD_KEYS = ("name", "description", "notes", "runtime", "seed", "deterministic")


def dump_spec(spec: ExperimentSpec) -> str:
    """The resolved spec as YAML, defaults filled in."""
    data = spec.model_dump(mode="json", exclude_none=True, exclude={"data"})
    data = {**{k: v for k, v in data.items() if k in HEAD_KEYS},
            "data": spec.data.model_dump(mode="json", exclude_none=True),
            **{k: v for k, v in data.items() if k not in HEAD_KEYS}}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
