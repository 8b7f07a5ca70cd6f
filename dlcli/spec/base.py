"""What every spec section shares: unknown keys are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base of every spec section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

