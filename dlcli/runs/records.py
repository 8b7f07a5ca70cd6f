"""What run.json records: at start, at each resume, at the close and on failure; and the
overrides a run holds now that resumes may have changed (`overrides_now`).

The functions build the fields; `Run` writes them (`Run.begin`, `Run.update`, `Run.record_failure`).
What needs the training objects (the spec, the data bundle, the built model) is read from them
here; what other packages compute (the model's description files, the data identity, the recipe
record) is passed in by the caller, so this module imports neither models.describing,
datasets.identity nor reference (which imports dlcli.runs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from dlcli.runs.liveness import this_process

FORMAT = 2  # 2: input preprocessing (pixels / 255...) lives in the saved model


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def elapsed(start: float) -> float:
    return round(time.perf_counter() - start, 3)


LAUNCHER_COMMAND = "DLCLI_LAUNCHER_COMMAND"  # set by `--workers` for its workers: the command the user typed


def command_line() -> list[str]:
    """The command as typed, program name without its folder: for a worker started by `--workers`,
    the launcher's (a worker's own command line names a coordinator port that is gone)."""
    launched = os.environ.get(LAUNCHER_COMMAND)
    if launched:
        return json.loads(launched)
    program = Path(sys.argv[0]).name
    return ["dlcli" if program == "__main__.py" else program, *sys.argv[1:]]  # `python -m dlcli` is dlcli


def git_commit() -> str | None:
    """The commit of dlcli's own checkout, when it runs from one."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def start_record(spec, spec_path: Path, overrides: list[str], bundle, model, *, started: str,
                 model_files: dict, data_identity: Any, recipe: dict, initialized_from: Path | None) -> dict[str, Any]:
    """run.json of a run that starts (`running`, owned by this process)."""
    from dlcli import __version__
    from dlcli.backend import device, versions

    return {
        "format": FORMAT, "status": "running", "experiment": spec.name, "spec_path": str(Path(spec_path).resolve()),
        "started_at": started, "finished_at": None, "duration_s": None,
        "command": command_line(), "overrides": overrides,
        "seed": spec.seed, "deterministic": spec.deterministic, "backend": versions()["backend"],
        "compilation": {"jit_compile": model.jit_compile, "precision": spec.compile.precision},
        "versions": {"dlcli": __version__, **versions()}, "git_commit": git_commit(),
        "device": device(), "process": this_process(), "params": int(model.count_params()), "model_files": model_files,
        "class_names": bundle.class_names,
        "input_preprocessing": [list(step) for step in bundle.input_preprocessing],
        "data_info": {key: value for key, value in bundle.info.items() if key not in ("vocabulary", "index_words")},
        "data_identity": data_identity,  # resume refuses other data (training/resuming.py)
        "initialized_from": str(initialized_from.resolve()) if initialized_from is not None else None,
        **recipe,  # what the verdict and baselines judge the recipe by (recipe_source.recipe_record)
        "resumes": [],
    }


def resume_fields(info: dict, *, from_status: str, record: dict | None, epochs: int, differences: list[str],
                  recipe_changes: list[str], **more: Any) -> dict[str, Any]:
    """run.json's fields when a run resumes: `running` again, owned by this process, one more entry
    in `resumes` (where it continued from, what changed, and the `more` fields given: its workers,
    its backend)."""
    return {"status": "running", "process": this_process(), "finished_at": None, "error": None, "traceback": None,
            "resumes": [*info.get("resumes", []), {
                "at": now(), "from_status": from_status, "phase": record["phase"] if record else None,
                "from_epoch": record["epoch"] if record else 0, "epochs": epochs,
                "forced": bool(differences), "differences": differences, "recipe_changes": recipe_changes,
                "command": command_line(), **more}]}


def overrides_now(info: dict) -> list[str]:
    """The run's overrides as its spec.yaml now is: those it started with, and fit.epochs as the
    last resume that changed it set it (`resume --epochs N` rewrites spec.yaml, not `overrides`)."""
    overrides = [str(text) for text in info.get("overrides") or []]
    resumed_to = [resumed.get("epochs") for resumed in info.get("resumes") or []
                  if isinstance(resumed, dict) and resumed.get("recipe_changes")]
    if not resumed_to:
        return overrides
    kept = [text for text in overrides if text.split("=", 1)[0].strip() != "fit.epochs"]
    return [*kept, f"fit.epochs={resumed_to[-1]}"]


def close_fields(status: str, duration_s: float, signal_name: str | None = None) -> dict[str, Any]:
    """run.json's fields when a run ends `completed` or `interrupted` (with the signal that stopped it)."""
    extra = {"signal": signal_name} if status == "interrupted" else {}
    return {"status": status, "finished_at": now(), "duration_s": duration_s, **extra}


def failure_fields(error: str, duration_s: float, traceback_text: str | None) -> dict[str, Any]:
    """run.json's fields when a run fails: the error in one line, and the traceback."""
    return {"status": "failed", "finished_at": now(), "duration_s": duration_s, "error": error,
            "traceback": traceback_text}
