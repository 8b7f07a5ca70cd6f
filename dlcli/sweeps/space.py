"""A sweep's search space: `--param KEY=SPACE` on the command line, or the spec's `sweep.params`.

    compile.optimizer.learning_rate=loguniform:1e-4:1e-2   a float, log-uniform
    model.layers.0.Dense.units=int:16:128:16                an integer from 16 to 128 in steps of 16
    model.layers.1.Dropout.rate=uniform:0:0.5               a float
    fit.batch_size=16,32,64                                  one of these values (read as YAML)

KEY is a dotted path as `--set` takes it. Imports neither Optuna nor TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import yaml

from dlcli.errors import UsageError

KINDS = ("uniform", "loguniform", "int", "logint")
SYNTAX = ("uniform:LOW:HIGH, loguniform:LOW:HIGH, int:LOW:HIGH[:STEP], logint:LOW:HIGH, "
          "or values separated by commas")


@dataclass(frozen=True)
class Param:
    """One dimension: a float or int range, or a list of choices."""

    key: str
    kind: str  # one of KINDS, or "choice"
    low: float | None = None
    high: float | None = None
    step: int | None = None
    choices: tuple = ()

    def distribution(self):
        """The Optuna distribution (imports Optuna)."""
        import optuna.distributions as d

        if self.kind == "choice":
            return d.CategoricalDistribution(self.choices)
        if self.kind in ("int", "logint"):
            return d.IntDistribution(int(self.low), int(self.high), log=self.kind == "logint", step=self.step or 1)
        return d.FloatDistribution(self.low, self.high, log=self.kind == "loguniform")

    def describe(self) -> str:
        if self.kind == "choice":
            return ",".join(map(str, self.choices))
        if self.kind in ("int", "logint"):
            return f"{self.kind}:{int(self.low)}:{int(self.high)}" + (f":{self.step}" if self.step else "")
        return f"{self.kind}:{self.low!r}:{self.high!r}"  # repr: the same float when read back


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{what}: '{text}' is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{what}: '{text}' is not a finite number")
    return value


def parse_space(key: str, space: Any) -> Param:
    """One dimension from its text (the command line) or a YAML list of choices (the spec)."""
    what = f"--param {key}"
    if isinstance(space, list):
        values = space
    elif isinstance(space, str) and space.split(":", 1)[0] in KINDS:
        kind, *numbers = space.split(":")
        if len(numbers) not in ((2, 3) if kind == "int" else (2,)):
            raise UsageError(f"{what}: '{space}' is not {SYNTAX}")
        low, high = (_number(n, what) for n in numbers[:2])
        step = int(_number(numbers[2], what)) if len(numbers) == 3 else None
        if not low < high:
            raise UsageError(f"{what}: the low end {low:g} must be below the high end {high:g}")
        if kind in ("loguniform", "logint") and low <= 0:
            raise UsageError(f"{what}: a log scale needs a low end above 0 (got {low:g})")
        if kind in ("int", "logint") and (low != int(low) or high != int(high) or (step is not None and step < 1)):
            raise UsageError(f"{what}: int ranges take whole numbers and a step of 1 or more")
        return Param(key, kind, low, high, step)
    elif isinstance(space, str) and "," in space:
        values = [yaml.safe_load(item) for item in space.split(",")]
    else:
        raise UsageError(f"{what}: '{space}' is not {SYNTAX}")
    if len(values) < 2 or len(set(map(repr, values))) != len(values):
        raise UsageError(f"{what}: give at least two different values")
    if not all(isinstance(value, (str, int, float, bool)) or value is None for value in values):
        raise UsageError(f"{what}: choices are numbers, strings or booleans")
    return Param(key, "choice", choices=tuple(values))


def parse_params(texts: list[str], from_spec: dict[str, Any] | None = None) -> dict[str, Param]:
    """The spec's `sweep.params`, then the command line's `--param KEY=SPACE` (which win)."""
    params = {key: parse_space(key, space) for key, space in (from_spec or {}).items()}
    for text in texts:
        key, separator, space = text.partition("=")
        if not separator or not key.strip() or not space.strip():
            raise UsageError(f"--param {text}: expected KEY=SPACE, e.g. compile.optimizer.learning_rate=loguniform:1e-4:1e-2")
        params[key.strip()] = parse_space(key.strip(), space.strip())
    if not params:
        raise UsageError("nothing to search: give --param KEY=SPACE (or a `sweep: {params: ...}` block in the spec)")
    return params


def as_override(key: str, value: Any) -> str:
    """The `--set` text that gives `key` this value."""
    return f"{key}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix(chr(10) + '...')}"


def extremes(param: Param) -> tuple:
    """Every value the spec must accept for this dimension: each choice, or both ends of a range
    (an int range's highest reachable step; Optuna includes the high end), since spec bounds are
    intervals and a value between two accepted ends is accepted too."""
    if param.kind == "choice":
        return param.choices
    if param.kind in ("int", "logint"):
        low, high, step = int(param.low), int(param.high), param.step or 1
        return low, low + (high - low) // step * step
    return param.low, param.high
