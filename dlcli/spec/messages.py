"""pydantic's errors as one line each: `FILE:LINE: dotted.path: message`, with did-you-mean."""

from __future__ import annotations

import reprlib
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from dlcli.registry import did_you_mean


class _Shown(str):
    """An already shortened repr that formats as itself under !r."""

    def __repr__(self) -> str:
        return str(self)


def error_lines(errors: list[dict], raw: dict, path: Path | str, set_paths=()) -> list[str]:
    """One message per problem, located at its --set or at its line in the file."""
    root = _yaml_tree(path)
    messages = []
    for item in errors:
        loc = clean_loc(item["loc"], raw)
        dotted = _dotted(loc)
        origin = next((text for parts, text in set_paths if _starts_with(loc, parts)), None)
        where = f"--set {_cut(origin)}" if origin else f"{path}{_line_suffix(root, loc)}"
        messages.append(f"{where}: {dotted or '(top level)'}: {_message(item, loc, raw)}")
    return list(dict.fromkeys(messages))


def locate(message: str, path: Path | str) -> str:
    """A problem found while building (`model.layers[0].Dropout: ...`) at its place in the spec
    file: `FILE:LINE: model.layers[0].Dropout: ...`."""
    import re

    dotted, separator, _ = message.partition(": ")
    if not separator or not re.fullmatch(r"[A-Za-z_][\w.\[\]]*", dotted):
        return f"{path}: {message}"
    loc = tuple(int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", dotted))
    return f"{path}{_line_suffix(_yaml_tree(path), loc)}: {message}"


def clean_loc(loc: tuple, raw: Any = None) -> tuple:
    """The path as the user wrote it: without pydantic's union tags (`from_run`, `function-after[...]`);
    a key the spec itself holds (`"a[0]": 1`) is kept."""
    from dlcli.models import MODEL_KINDS

    kept, data = [], raw
    for index, part in enumerate(loc):
        written = isinstance(data, dict) and part in data or isinstance(data, list) and isinstance(part, int)
        tag = isinstance(part, str) and ("[" in part or (index and loc[index - 1] == "model" and part in MODEL_KINDS))
        if written or not tag:
            kept.append(part)
            data = data[part] if written and (isinstance(data, dict) or part < len(data)) else None
    return tuple(kept)


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _starts_with(loc: tuple, parts: tuple) -> bool:
    return [str(p) for p in loc[: len(parts)]] == [str(p) for p in parts[: len(loc)]] and len(loc) > 0


def _short(value: Any, limit: int = 80) -> str:
    """A value as it may appear in a message: its repr, cut (input can be huge)."""
    return _cut(reprlib.repr(value), limit)


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _message(item: dict, loc: tuple, raw: dict) -> str:
    kind, got = item["type"], _Shown(_short(item.get("input")))
    context = item.get("ctx") or {}
    if kind == "extra_forbidden" and loc:
        known = _known_keys(loc[:-1], raw)
        return f"unknown key '{loc[-1]}'{did_you_mean(str(loc[-1]), known)}" + (
            f"; valid keys: {', '.join(sorted(known))}" if known else ""
        )
    if kind == "missing":
        return "required key is missing"
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(context.values()))
        shown = str(limit) if isinstance(limit, int) else f"{limit:g}" if isinstance(limit, float) else limit
        return f"must be {bounds[kind]} {shown} (got {got!r})"
    if kind == "value_error":
        return str(context.get("error", item["msg"]))
    if kind == "literal_error":
        return f"must be one of {context.get('expected')} (got {got!r})"
    if kind == "union_tag_invalid":
        from dlcli.models import MODEL_KINDS
        from dlcli.registry import unknown_name_message

        return unknown_name_message("model type", str(context.get("tag")), MODEL_KINDS.names())
    if kind == "union_tag_not_found":
        return f"needs `{context.get('discriminator', 'type').strip(chr(39))}`"
    return f"{item['msg'][0].lower()}{item['msg'][1:]} (got {got!r})"


def _known_keys(loc: tuple, raw: dict) -> list[str]:
    """Field names of the section at `loc`, for did-you-mean on unknown keys."""
    from dlcli.datasets import DATASETS
    from dlcli.spec.schema import ExperimentSpec

    model: Any = ExperimentSpec
    data: Any = raw
    for part in loc:
        data = data.get(part) if isinstance(data, dict) else (
            data[part] if isinstance(data, list) and isinstance(part, int) and part < len(data) else None)
        if model is None:
            return []
        if part == "data" and model is ExperimentSpec:
            name = data.get("name") if isinstance(data, dict) else None
            model = DATASETS.get(name).params if name in DATASETS else None
            continue
        field = model.model_fields.get(part) if isinstance(part, str) else None
        model = _section_model(field.annotation if field else None, data)
    return list(model.model_fields) if model else []


def _section_model(annotation: Any, data: Any) -> Any:
    """The pydantic class of a section; in a union told apart by `type`, the member `data` names."""
    candidates = _models_in(annotation)
    if len(candidates) > 1 and isinstance(data, dict):
        for candidate in candidates:
            tag = candidate.model_fields.get("type")
            if tag is not None and data.get("type") in typing.get_args(tag.annotation):
                return candidate
    return candidates[0] if candidates else None


def _models_in(annotation: Any) -> list:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _yaml_tree(path: Path | str):
    """The file's YAML node tree, to find the line of an error (None if unreadable)."""
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the pure-Python one takes a minute on 7 MB
        return yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=loader)
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
