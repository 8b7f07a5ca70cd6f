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
