"""What is checked before a sweep directory is made or resumed: the space against the spec, the
folder, the data and model, and sweep.json's settings (see sweeps.directory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dlcli.errors import SpecError, UsageError
from dlcli.runs import Run
from dlcli.sweeps.space import Param, as_override, extremes

MAX_TRIALS = 10_000  # as --trials allows
MAX_GRID = 1_000_000  # Optuna's grid sampler lists every combination in memory


class Settings(BaseModel):
    """sweep.json's fields that a resume reads (others, such as created_at, are kept as written)."""

    model_config = ConfigDict(extra="allow", strict=True)

    experiment: str
    overrides: list[str]
    params: dict[str, str | list[Any]]
    metric: str
    direction: Literal["minimize", "maximize"]
    trials: int = Field(ge=1, le=MAX_TRIALS)
    seed: int = Field(ge=0, le=2**32 - 1)
    pruning: bool
    sampler: Literal["grid", "tpe"]


def grid_size(params: dict[str, Param]) -> int | None:
    """The number of combinations when every dimension is a list of choices (a grid), else None."""
    if not all(p.kind == "choice" for p in params.values()):
        return None
    size = 1
    for param in params.values():
        size *= len(param.choices)
    return size


def overrides_at(params: dict[str, Param], index: int) -> list[str]:
    """The --set texts giving each dimension its `index`-th extreme value (its last, past its count)."""
    return [as_override(key, values[min(index, len(values) - 1)])
            for key, values in ((key, extremes(param)) for key, param in params.items())]


def check_space(target: str, overrides: list[str], params: dict[str, Param]) -> None:
    """Every value the space can produce fits the spec (each choice, both ends of each range),
    checked in as many validations as the longest dimension has values, before any trial."""
    from dlcli.spec.loading import load_spec

    grid = grid_size(params)
    if grid is not None and grid > MAX_GRID:
        raise UsageError(f"--param: the grid has {grid:,} combinations, more than {MAX_GRID:,}; "
                         "give fewer values, or a range (uniform:, int:...)")
    for index in range(max(len(extremes(param)) for param in params.values())):
        tried = overrides_at(params, index)
        try:
            load_spec(target, [*overrides, *tried])
        except SpecError as error:
            message = str(error)
            for text in tried:
                key, _, value = text.partition("=")
                message = message.replace(f"--set {text}", f"--param {key} (tried as {value})")
            raise SpecError(message) from None


def check_writable(parent: Path) -> None:
    """A sweep directory can be made under `parent` (else exit 2), before any data is loaded."""
    from dlcli.runs import probe_writable

    try:
        probe_writable(parent)
    except OSError as error:
        raise UsageError(f"{parent}: cannot create a sweep directory here ({error}); "
                         "choose another $DLCLI_SWEEPS_DIR") from None


def data_and_model(spec, spec_path: Path):
    """The data and the compiled model of the spec as it stands, as its trials will have them: a
    spec that does not fit the data is refused here, once, rather than by every trial."""
    from dlcli import datasets
    from dlcli.training import lifecycle

    datasets.ensure_available(spec.data)
    lifecycle.prepare(spec)
    bundle = datasets.load(spec.data)
    source = Run.find(spec.model.run, "model.run") if spec.model.type == "from_run" else None
    return bundle, lifecycle.built(lifecycle.pinned(spec, source), bundle, Path(spec_path))


def read_settings(path: Path) -> dict[str, Any]:
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: unreadable ({error}); the sweep directory is damaged") from None
    try:
        Settings.model_validate(settings)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the file"
        raise UsageError(f"{path}: {where}: {first['msg']}; the sweep directory is damaged") from None
    return settings
