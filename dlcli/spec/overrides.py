"""`--set KEY=VALUE` overrides, merged into the raw spec before validation."""

from __future__ import annotations

from typing import Any

from dlcli.errors import SpecError
from dlcli.spec.reading import parse_yaml


# Sections a spec may write as a bare name: `--set compile.optimizer.learning_rate=...` then
# reaches into `{name: <the name>}`.
NAMED_BY_A_STRING = ("compile.optimizer", "compile.loss")


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
            elif isinstance(node[part], str) and here in NAMED_BY_A_STRING:
                node[part] = {"name": node[part]}  # `optimizer: rmsprop` is `optimizer: {name: rmsprop}`
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
