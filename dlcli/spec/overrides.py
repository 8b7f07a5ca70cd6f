"""`--set KEY=VALUE` overrides, merged into the raw spec before validation.

KEY is a path as `dlcli compare` prints it, `model.layers[0].Dense.units`, or with the index
as a dotted part, `model.layers.0.Dense.units`. A key of the spec that holds dots itself
(`sweep.params`' `fit.batch_size`) is found whole. A path that cannot exist (an index past the
list's end, a key under a plain value, a second class name in a `{Name: {...}}` item) is one
line naming the nearest path the spec has.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from dlcli.errors import SpecError
from dlcli.spec.reading import MAX_DEPTH, parse_yaml

# Sections a spec may write as a bare name: `--set compile.optimizer.learning_rate=...` then
# reaches into `{name: <the name>}`.
NAMED_BY_A_STRING = (("compile", "optimizer"), ("compile", "loss"))
# Keys that replace a Keras 2 alias the spec may have used: `lr` beside `learning_rate` is an error.
ALIASES = {("compile", "optimizer", "learning_rate"): "lr"}
# Keys written beside the class name of a `{Name: {...}}` list item.
ITEM_EXTRAS = ("weights", "trainable")

_PATH = re.compile(r"[^.\[\]=\s][^.\[\]=]*(?:\.[^.\[\]=]+|\[\d+\])*")
_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")

KeyPath = list  # of str (a key, or a list index written as a dotted part) and int (an index in brackets)


def parse_override(text: str) -> tuple[KeyPath, Any]:
    """`fit.epochs=3` -> (['fit', 'epochs'], 3); `a[0].b=x` -> (['a', 0, 'b'], 'x'); the value is
    read as YAML (a scalar, a list or a mapping)."""
    if "=" not in text:
        raise SpecError(f"--set {_cut(text)}: expected KEY=VALUE, e.g. --set fit.epochs=3")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not _PATH.fullmatch(key):
        raise SpecError(f"--set {_cut(text)}: the key must be a path like fit.epochs or model.layers[0].Dense.units")
    parts = [int(index) if index else name.strip() for index, name in _PART.findall(key)]
    if len(parts) > MAX_DEPTH:
        raise SpecError(f"--set {_cut(text)}: the key is {len(parts):,} levels deep (a spec nests at most {MAX_DEPTH})")
    value = parse_yaml(raw, f"--set {_cut(text)}", in_file=False) if raw.strip() else None
    return parts, value


def _cut(text: str, limit: int = 80) -> str:
    """The --set text as a message shows it (a value can be long)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def apply_override(tree: dict, parts: KeyPath, value: Any, text: str) -> tuple:
    """Set the path in the raw spec, making the mappings it needs; returns where the value went,
    as a loc of keys and indexes (`('model', 'layers', 0, 'Dense', 'units')`)."""
    node: Any = tree
    loc: list = []
    index = 0
    try:
        while True:
            if isinstance(node, dict):
                key, used = _key_in(node, parts, index, loc)
            elif isinstance(node, list):
                key, used = _list_index(node, parts[index], loc), 1
            else:
                raise _NoPath(f"'{_shown(loc)}' is a value, it has no key '{parts[index]}'")
            loc.append(key)
            index += used
            if index == len(parts):
                _drop_alias(node, loc)
                node[key] = value
                return tuple(loc)
            node = _child(node, key, parts[index], loc)
    except _NoPath as error:  # one line, with the nearest path the spec has
        wanted = _shown([*loc, *parts[index:]])
        near = difflib.get_close_matches(wanted, list(spec_paths(tree)), n=1, cutoff=0.5)
        raise SpecError(f"--set {_cut(text)}: {error}" + (f" (did you mean {near[0]}?)" if near else "")) from None


class _NoPath(Exception):
    """A path the spec cannot have; apply_override says which path it has nearby."""


def _key_in(node: dict, parts: KeyPath, index: int, loc: list) -> tuple[Any, int]:
    """The key of `node` that parts[index:] starts with, and how many parts it spans."""
    if isinstance(parts[index], int):
        raise _NoPath(f"'{_shown(loc)}' is a mapping, not a list: name a key, not [{parts[index]}]")
    dots = max((key.count(".") for key in node if isinstance(key, str)), default=0)
    for end in range(min(len(parts), index + 1 + dots), index + 1, -1):  # the longest dotted key first
        words = parts[index:end]
        if all(isinstance(word, str) for word in words) and ".".join(words) in node:
            return ".".join(words), end - index
    key = parts[index]
    if key.isdigit() and int(key) in node:  # YAML reads `0:` as a number
        return int(key), 1
    names = [name for name in node if name not in ITEM_EXTRAS]
    if loc and isinstance(loc[-1], int) and key not in node and _is_class_name(key) and names \
            and all(_is_class_name(name) for name in names):
        raise _NoPath(f"'{_shown(loc)}' is {names[0]}, not {key}")
    return key, 1


def _list_index(node: list, part: str | int, loc: list) -> int:
    if isinstance(part, str) and not part.isdigit():
        raise _NoPath(f"'{_shown(loc)}' is a list: name an item by its index, e.g. {_shown([*loc, 0])}")
    if int(part) >= len(node):
        items = f"items 0 to {len(node) - 1}" if node else "no items"
        raise _NoPath(f"'{_shown([*loc, int(part)])}' is not an item of a list of {len(node)} ({items})")
    return int(part)


def _child(node: dict | list, key: Any, next_part: Any, loc: list) -> Any:
    """The container at node[key], made where the spec leaves it out."""
    child = node.get(key) if isinstance(node, dict) else node[key]
    if child is None:
        if isinstance(next_part, int) or (isinstance(next_part, str) and next_part.isdigit()):
            raise _NoPath(f"'{_shown(loc)}' has no items: give the whole list, e.g. --set '{_shown(loc)}=[...]'")
        child = node[key] = {}
    elif isinstance(child, str) and tuple(loc) in NAMED_BY_A_STRING:
        child = node[key] = {"name": child}  # `optimizer: rmsprop` is `optimizer: {name: rmsprop}`
    elif isinstance(child, str) and isinstance(key, int) and child == next_part:
        child = node[key] = {child: {}}  # a bare `- Flatten` is `- Flatten: {}`
    return child


def _drop_alias(node: dict, loc: list) -> None:
    """Setting `learning_rate` replaces the spec's `lr` (compare prints the first)."""
    alias = ALIASES.get(tuple(loc))
    if alias is not None and isinstance(node, dict):
        node.pop(alias, None)


def _is_class_name(name: Any) -> bool:
    return isinstance(name, str) and name[:1].isupper()


def spec_paths(tree: Any, prefix: str = ""):
    """Every value's path in a spec, written as `dlcli compare` and --set write it."""
    if isinstance(tree, dict) and tree:
        for key, value in tree.items():
            yield from spec_paths(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(tree, list) and tree and all(isinstance(item, (dict, list)) for item in tree):
        for index, value in enumerate(tree):
            yield from spec_paths(value, f"{prefix}[{index}]")
    elif prefix:
        yield prefix


def _shown(loc: list) -> str:
    """`['model', 'layers', 0]` as `model.layers[0]`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
