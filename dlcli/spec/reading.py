"""Reading YAML safely, with errors as `FILE:LINE:COLUMN: problem`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dlcli.errors import SpecError


def read_yaml(path: Path) -> Any:
    """`yaml.safe_load` with errors as `FILE:LINE:COLUMN: problem`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: cannot read ({error})") from None
    return parse_yaml(text, str(path))


# A spec is a few hundred values; anchors and aliases may repeat a part, never blow it up.
MAX_VALUES = 100_000
MAX_DEPTH = 100
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _expanded_size(node, depth: int = 0, sizes: dict | None = None) -> int:
    """How many values the document holds once every alias is expanded (shared nodes memoised)."""
    sizes = {} if sizes is None else sizes
    if depth > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    if id(node) not in sizes:
        children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else \
            node.value if isinstance(node, yaml.SequenceNode) else []
        sizes[id(node)] = 1 + sum(_expanded_size(child, depth + 1, sizes) for child in children)
    return sizes[id(node)]


def parse_yaml(text: str, origin: str) -> Any:
    """Safe YAML: no object tags, no alias bombs, no runaway nesting; errors as FILE:LINE:COLUMN."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            size = _expanded_size(node)
            if size > MAX_VALUES:
                raise ValueError(f"its aliases expand to {size:,} values (at most {MAX_VALUES:,}); "
                                 "write the values out instead")
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except (ValueError, RecursionError) as error:
        why = error if isinstance(error, ValueError) else f"nested more than {MAX_DEPTH} levels deep"
        raise SpecError(f"{origin}: refused: {why}") from None
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
