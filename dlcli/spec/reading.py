"""Reading YAML safely, with errors as `FILE:LINE:COLUMN: problem`."""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import yaml

from dlcli.errors import SpecError


def read_yaml(path: Path) -> Any:
    """`yaml.safe_load` with errors as `FILE:LINE:COLUMN: problem`."""
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(f"{path}: refused: {path.stat().st_size:,} bytes (a spec is at most {MAX_SPEC_BYTES:,})")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: cannot read ({error})") from None
    return parse_yaml(text, str(path))


# A spec is a few hundred values (a 10,000-node graph some 120,000, read in a second); anchors
# and aliases may repeat a part, never blow it up.
MAX_SPEC_BYTES = 4 * 2**20  # 250,000 values take about 2 MB
MAX_VALUES = 250_000
MAX_ALIASED_VALUES = 100_000  # values aliases add to those written out
MAX_DEPTH = 100
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping gives the same key twice (YAML keeps the last silently)."""


class _Loader(_Base):
    """`yaml.safe_load`'s loader, refusing a key given twice in one mapping (`<<` merges may
    still be overridden: that is what they are for)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first_lines: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    if key in first_lines:
                        first = first_lines[key]
                        problem = f"key {reprlib.repr(key)} is given twice (first at line {first}); keep one"
                        raise DuplicateKey(problem=problem, problem_mark=key_node.start_mark)
                    first_lines[key] = key_node.start_mark.line + 1
                except TypeError:
                    continue  # an unhashable key: SafeConstructor says so
        return super().construct_mapping(node, deep=deep)


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


def parse_yaml(text: str, origin: str, in_file: bool = True) -> Any:
    """Safe YAML: no object tags, no alias bombs, no runaway nesting; errors as FILE:LINE:COLUMN
    (`in_file=False`, a value given on the command line: ORIGIN alone)."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            sizes: dict = {}
            size = _expanded_size(node, sizes=sizes)
            if size - len(sizes) > MAX_ALIASED_VALUES:  # len(sizes): the values written out
                raise ValueError(f"its aliases expand to {size:,} values ({size - len(sizes):,} more than written, "
                                 f"at most {MAX_ALIASED_VALUES:,}); write the values out instead")
            if size > MAX_VALUES:
                raise ValueError(f"it holds {size:,} values (at most {MAX_VALUES:,}); split it up")
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except (ValueError, RecursionError) as error:
        why = error if isinstance(error, ValueError) else f"nested more than {MAX_DEPTH} levels deep"
        raise SpecError(f"{origin}: refused: {why}") from None
    except DuplicateKey as error:
        mark = error.problem_mark
        raise SpecError(f"{_at(origin, mark, in_file, column=False)}: {error.problem}") from None
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        if not (error.problem or "").startswith("could not determine a constructor"):  # an unhashable key...
            raise SpecError(f"{_at(origin, mark, in_file)}: {error.problem}") from None
        quoted = error.problem.split("'")
        tag = quoted[1].replace("tag:yaml.org,2002:", "!!") if len(quoted) > 2 else "a tag"
        raise SpecError(
            f"{_at(origin, mark, in_file)}: YAML tags that build objects are not "
            f"allowed (found {tag}); write plain values"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = _at(origin, mark, in_file) if mark else origin
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(f"{where}: malformed YAML: {problem}") from None


def _at(origin: str, mark, in_file: bool, column: bool = True) -> str:
    """Where in the text a YAML error is: FILE:LINE[:COLUMN] in a file; a value given on the command
    line is short, and `--set fit.epochs=[1:2:1` would read as part of the value: its origin alone."""
    if not in_file:
        return origin
    return f"{origin}:{mark.line + 1}" + (f":{mark.column + 1}" if column else "")
