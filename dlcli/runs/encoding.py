"""JSON as dlcli writes it: NumPy values made plain, NaN and infinities written as null."""

from __future__ import annotations

import json
import math
from typing import Any


def plain(value: Any) -> Any:
    """JSON-safe values: NumPy scalars and arrays to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(data: Any) -> str:
    return json.dumps(plain(data), indent=2, allow_nan=False) + "\n"
