"""Whether a run may resume: its status, the epochs asked for, and what must not have changed
since it started (the spec file and the libraries)."""

from __future__ import annotations

from pathlib import Path

from dlcli.errors import UsageError
from dlcli.runs import Run

RESUMABLE = ("interrupted", "failed", "crashed")


def resumable_status(run: Run, force: bool = False) -> str:
    """The run's status, which must be one that resumes. With `force`, a `running` run whose writer
    cannot be told alive or dead (an older dlcli's, with a pid but no process start time) is taken
    as crashed: the user says its process is gone (this process holds the run's lock by now)."""
    from dlcli.runs.advice import diverged, retrain_lower, train_longer

    status = run.status
    if status == "running" and force and run.liveness_unknown():
        return "crashed"
    if status not in RESUMABLE:
        hint = (" (it is still running; if its process is gone, resume it with --force)" if run.liveness_unknown()
                else " (it is still running)") if status == "running" else \
            f"; {train_longer(run, run.experiment)}" if status == "completed" else ""
        raise UsageError(f"{run}: the run is '{status}'; only interrupted, failed or crashed runs resume{hint}")
    if diverged(run.info):  # its resume state holds the diverged weights: resuming repeats the failure
        raise UsageError(f"{run}: the run diverged (its loss became NaN or infinite), and its saved state holds those "
                         f"weights; train it anew with a lower learning rate: {retrain_lower(run)}")
    return status


def check_epochs(run: Run, spec, record: dict | None, epochs: int | None) -> None:
    """`--epochs N` sets the one fit's length: not for k-fold or retraining, never below what is done."""
    if epochs is None:
        return
    if spec.fit.validation.kind == "kfold" or (record and record["phase"] != "fit"):
        what = "folds" if spec.fit.validation.kind == "kfold" else f"{record['phase']} phase"
        raise UsageError(f"{run}: --epochs applies to a run's single fit; this run's {what} would end "
                         "with different numbers of epochs")
    if record is not None and epochs < record["epoch"]:
        raise UsageError(f"{run}: --epochs {epochs} is fewer than the {record['epoch']} epochs its "
                         f"{record['phase']} phase already completed")


def differences(run: Run, spec, epochs: int | None) -> list[str]:
    """Why resuming may not continue the same experiment: the spec file changed since the run
    started, the backend or the version of dlcli, Keras, the backend's library, NumPy or Python is
    another, or a file or folder the data is read from is not what it was (`data_identity`)."""
    from dlcli import __version__
    from dlcli.datasets.identity import changed_data
    from dlcli.errors import SpecError
    from dlcli.backend import versions
    from dlcli.spec.loading import dump_spec, load_spec

    info = run.info
    found = []
    recorded = info.get("versions") or {}
    current = {"dlcli": __version__, **versions()}
    for name, version in current.items():
        if name in recorded and recorded[name] != version:
            found.append(f"{name} is {version}, the run started with {recorded[name]}")
    spec_path = info.get("spec_path")
    if spec_path and Path(spec_path).is_file():
        try:
            now_spec, _ = load_spec(spec_path, info.get("overrides") or [])
        except SpecError as error:
            found.append(f"{spec_path} no longer validates ({str(error).splitlines()[0]})")
        else:
            earlier = [resumed["epochs"] for resumed in info.get("resumes") or [] if resumed.get("recipe_changes")]
            if epochs is not None or earlier:  # a resume to N epochs in all is a change of its own, recorded
                now_spec.fit.epochs = epochs if epochs is not None else earlier[-1]
            changed = _changed_keys(dump_spec(code_by_content(now_spec)), dump_spec(code_by_content(spec)))
            if changed:
                found.append(f"{spec_path} changed since the run started ({', '.join(changed)})")
    found += [f"data changed: {path}" for path in changed_data(info.get("data_identity") or {})]  # older runs: none
    return found


def code_by_content(spec):
    """The spec with each custom callback's file named by its content: the run's copy and the file
    the spec names are the same code when their bytes are."""
    import hashlib
    from dataclasses import replace

    spec = spec.model_copy(deep=True)
    for index, entry in enumerate(spec.callbacks):
        if entry.name == "Custom":
            file, _, class_name = entry.arguments["path"].rpartition(":")
            try:
                digest = hashlib.sha256(Path(file).read_bytes()).hexdigest()[:16]
            except OSError:
                digest = "missing"
            spec.callbacks[index] = replace(entry, arguments={**entry.arguments, "path": f"sha256-{digest}:{class_name}"})
    return spec


def _changed_keys(new: str, old: str) -> list[str]:
    import yaml

    def flat(tree, prefix=""):
        if isinstance(tree, dict):
            return {k: v for key, value in tree.items() for k, v in flat(value, f"{prefix}{key}.").items()}
        return {prefix.rstrip("."): tree}

    a, b = flat(yaml.safe_load(new)), flat(yaml.safe_load(old))
    if None in (a.get("compile.jit_compile"), b.get("compile.jit_compile")):  # unset: the backend's fastest; a run
        a.pop("compile.jit_compile", None), b.pop("compile.jit_compile", None)  # before that default recorded false
    return sorted(key for key in set(a) | set(b) if a.get(key) != b.get(key) and key not in ("description", "notes", "runtime"))
