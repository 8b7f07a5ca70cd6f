"""What to tell a user to do with a run that cannot serve as it is, as a command that works.

An interrupted, crashed or failed run continues with `dlcli resume RUN`, except one that failed
because its loss became NaN or infinite: its resume state holds the diverged weights, so resuming
would diverge again; it is trained anew with a lower learning rate. A completed run does not
resume; training it longer is a new run from its own resolved spec (RUN/spec.yaml), which keeps
its overrides, where `dlcli train EXPERIMENT --epochs N` would drop them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlcli.runs import layout

# The words of training.stopping's error for a loss that became NaN; run.json keeps that error.
DIVERGED = "diverged: the loss is not a finite number"


def diverged(info: dict[str, Any]) -> bool:
    """Whether run.json says the run failed because its loss became NaN or infinite."""
    return info.get("status") == "failed" and DIVERGED in str(info.get("error") or "")


def spec_file(run) -> str:
    """RUN/spec.yaml: the run's resolved spec, overrides included, as `dlcli train` takes it."""
    return str(Path(str(run)) / layout.SPEC.name)


def optimizer(run) -> dict[str, Any]:
    """The optimizer section of the run's spec.yaml as a mapping ({} when unreadable)."""
    from dlcli.errors import SpecError
    from dlcli.spec.reading import read_yaml

    try:
        raw = read_yaml(Path(spec_file(run)))
    except (SpecError, OSError):
        return {}
    section = ((raw or {}).get("compile") or {}).get("optimizer") if isinstance(raw, dict) else None
    if isinstance(section, str):  # `optimizer: rmsprop`
        return {"name": section}
    return section if isinstance(section, dict) else {}


def retrain_lower(run) -> str:
    """The command that trains a diverged run again with a lower learning rate: a tenth of the one
    its spec gave, or LR to choose below the optimizer's default when the spec gave none."""
    given = optimizer(run)
    rate = given.get("learning_rate")
    if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0:
        return f"dlcli train {spec_file(run)} --set compile.optimizer.learning_rate={rate / 10:g} (it was {rate:g})"
    default = f"{given['name']}'s default" if given.get("name") else "the optimizer's default"
    return f"dlcli train {spec_file(run)} --set compile.optimizer.learning_rate=LR (LR below {default})"


def continue_run(run, status: str) -> str:
    """How to go on with a run of this status: resume it, or for a diverged run, train it anew lower."""
    if status == "failed" and diverged(run.info):
        return ("it diverged, and resuming would diverge again; train it anew with a lower learning rate: "
                f"{retrain_lower(run)}")
    return f"resume it: dlcli resume {run}"


def train_longer(run, experiment: str) -> str:
    """How to train a completed run for more epochs, keeping its overrides (a new run; weights start anew)."""
    return (f"to train {experiment} longer, start a new run from this one's spec (its overrides kept; the "
            f"weights start anew): dlcli train {spec_file(run)} --epochs N")
