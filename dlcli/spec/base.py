"""What every spec section shares: unknown keys are errors, and lists report every bad item."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base of every spec section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


def check_each(items: list[Any], check) -> list[Any]:
    """`check(item)` on every item (returning its parsed form); all the problems at once, each with its index."""
    problems, parsed = [], []
    for index, entry in enumerate(items):
        try:
            parsed.append(check(entry))
        except ValueError as error:
            problems.append(f"[{index}] {error}")
    if problems:
        raise ValueError("; ".join(problems))
    return parsed
