"""One run's life: start (or resume) it, run its protocol, close it with an honest status.

`train` and `resume` differ only in how the run directory and the starting point are found;
both end in `execute`, which closes the run (run.json's fields from dlcli.runs.records). Only a
run that something left open is closed elsewhere: a sweep's trial (sweeps.runner) and a run
whose --workers launcher outlived a failed worker (dlcli.workers).
"""

from __future__ import annotations

import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from dlcli.atomic import atomic_path
from dlcli.errors import RunFailed, UsageError
from dlcli.runs import Run, layout
from dlcli.runs.records import close_fields, elapsed, failure_fields, now, resume_fields, start_record


def prepare(spec) -> Any:
    """The backend checked against the spec, Keras, determinism and seeds: what every start and
    resume does first (an experiment the backend cannot run is refused before any data loads, and
    data or weights that are missing and cannot be downloaded now before Keras is imported)."""
    import yaml

    from dlcli.backend import import_keras, make_deterministic
    from dlcli.backend.limits import refuse_unsupported
    from dlcli.datasets.presence import require
    from dlcli.spec.loading import dump_spec

    refuse_unsupported(spec.name, yaml.safe_load(dump_spec(spec)))
    require(spec)
    keras = import_keras()
    if spec.deterministic:  # before the first random draw starts JAX's devices (its flag is read then)
        make_deterministic()
    keras.utils.set_random_seed(spec.seed)
    keras.config.set_dtype_policy(spec.compile.precision)  # before the model is built; float32 resets it
    return keras


def start(spec, spec_path: Path, overrides: list[str], run_dir: str | None, verbose: int,
          bundle=None, watchers: list = (), cluster=None) -> dict[str, Any]:
    """A new run: data, model, then the run directory (nothing is created if the spec does not fit).

    `bundle`: data already loaded for this spec's `data` section (a sweep's trials share it);
    `watchers`: more Keras callbacks for the fit (a sweep's pruning); `cluster`: the job of
    several processes this one joins (training.distribution): process 0 makes the run directory
    (at `run_dir`, which every process is given), the others write nothing."""
    from dlcli import datasets
    from dlcli.training.distribution import join

    worker = join(cluster, spec) if cluster is not None else None  # before any JAX computation
    if worker is None or worker.is_chief:
        Run.check_writable(spec.name, run_dir)  # before loading data, so a typo or a read-only disk costs nothing
    started = now()
    prepare(spec)
    from dlcli import terminal

    if bundle is None and verbose and terminal.bars_shown():  # progress, for a person at a terminal (as bars)
        from dlcli.datasets.counts import loading_message

        print(loading_message(spec.data), file=sys.stderr)  # before a load that may take a while
    bundle = bundle if bundle is not None else datasets.load(spec.data)
    source = Run.find(spec.model.run, "model.run") if spec.model.type == "from_run" else None
    working = pinned(spec, source)
    model = built(working, bundle, spec_path)
    if worker is not None and not worker.is_chief:  # reads the run process 0 made (the resume state), writes nothing
        return execute(Run(worker.run_path()), working, bundle, model, None, verbose, watchers=watchers, worker=worker)
    run = Run.create(spec.name, run_dir)  # a hidden staging folder, locked by this process
    try:
        try:
            _initialise(run, spec, spec_path, overrides, bundle, model, source, started)
            if worker is not None:
                run.update(workers=worker.describe(spec, bundle))
            run.publish()  # the run directory appears with its run.json
        except BaseException as error:  # a full disk, a signal: no half-made run directory is left behind
            shutil.rmtree(run.path, ignore_errors=True)
            if isinstance(error, OSError):
                raise RunFailed(f"cannot write the run directory ({error}); nothing was kept", None, str(error)) from None
            raise
        print(f"run directory: {run.path}", file=sys.stderr)  # where to look while it trains
        if worker is not None:
            worker.run_path(run.path)
        return execute(run, working, bundle, model, None, verbose, watchers=watchers, worker=worker)
    finally:
        run.release()


def _last_fit_model(run: Run, model):
    """The first model at the last completed epoch of the run's `fit` phase, if there is one."""
    from dlcli.training.state import TrainingState

    state = TrainingState(run)
    record = state.latest()
    if record is None or record["phase"] != "fit":
        return None
    state.restore_model(model, record)
    return model


def _initialise(run: Run, spec, spec_path: Path, overrides: list[str], bundle, model, source, started: str) -> None:
    """spec.yaml, the vocabulary (.txt or .json) and run.json (`running`): what a run holds before training."""
    from dlcli.datasets.identity import data_identity
    from dlcli.models.describing import describe
    from dlcli.recipe_source import recipe_record
    from dlcli.spec.loading import dump_spec
    from dlcli.training.callback_copies import with_callback_copies

    run.write_text(layout.SPEC, dump_spec(with_callback_copies(run, spec)))
    described = describe(model, run)
    if bundle.info.get("vocabulary"):  # evaluate and predict tokenise with exactly this vocabulary
        run.write_vocabulary(bundle.info["vocabulary"])
    run.begin(start_record(spec, spec_path, overrides, bundle, model, started=started, model_files=described,
                           data_identity=data_identity(spec.data), recipe=recipe_record(spec, spec_path),
                           initialized_from=source.path if source is not None else None))


def pinned(spec, source: Run | None):
    """The spec to build with: a `from_run` model continues the very run found when the run
    started (resolved once; a newer run of that experiment never replaces it on resume)."""
    if source is None:
        return spec
    working = spec.model_copy(deep=True)
    working.model.run = str(source.path)
    return working


def built(spec, bundle, spec_path: Path):
    """The compiled model; a problem only Keras finds is still reported at its line of the spec."""
    from dlcli.errors import SpecError
    from dlcli.spec.messages import locate
    from dlcli.training.building import build_checked

    from dlcli.training.callbacks import check_callbacks

    try:
        model = build_checked(spec, bundle)
        check_callbacks(spec, model)
        return model
    except SpecError as error:
        raise SpecError(locate(str(error), spec_path)) from None


def resume(run: Run, epochs: int | None, force: bool, verbose: int, watchers: list = (),
           cluster=None) -> dict[str, Any]:
    """Continue an interrupted, failed or crashed run in its own directory (with `cluster`, as one of
    several processes: process 0 checks, locks and writes the run, the others only read it)."""
    from dlcli.training.distribution import join

    worker = join(cluster, run.spec()) if cluster is not None else None
    if worker is not None and not worker.is_chief:
        return _resume_locked(run, epochs, force, verbose, watchers, worker)
    run.lock("resume")  # from the status check to the end: a second writer is refused at once
    try:
        return _resume_locked(run, epochs, force, verbose, watchers, worker)
    finally:
        run.release()


def _resume_locked(run: Run, epochs: int | None, force: bool, verbose: int, watchers: list,
                   worker=None) -> dict[str, Any]:
    from dlcli import datasets
    from dlcli.backend import name as active_backend
    from dlcli.datasets.presence import require
    from dlcli.training.resuming import check_epochs, differences, resumable_status
    from dlcli.training.state import TrainingState

    writes = run.writes  # process 0 holds the run; the others read it as process 0 found it
    status = resumable_status(run, force) if writes else run.info.get("status")
    if writes:
        run.remove_leftovers()  # a killed process's half-written model or checkpoint
    spec = run.spec()
    require(spec)  # missing data is one line before the checks below import TensorFlow
    state = TrainingState(run)
    record = state.latest()
    if record is not None:
        state.verify(record)  # damaged weights are refused now, while the run is untouched
    check_epochs(run, spec, record, epochs)
    changed_epochs = epochs is not None and epochs != spec.fit.epochs
    recipe = [f"fit.epochs={epochs} (was {spec.fit.epochs})"] if changed_epochs else []
    if epochs is not None:
        spec.fit.epochs = epochs
    found = differences(run, spec, epochs) if writes else []
    if found and not force:
        raise UsageError(f"{run}: cannot resume: " + "; ".join(found) + ". Resume anyway with --force")
    info = run.info
    source = Run.open(info["initialized_from"]) if info.get("initialized_from") else None
    prepare(spec)
    bundle = datasets.load(spec.data, vocabulary=run.vocabulary())
    working = pinned(spec, source)
    model = built(working, bundle, run.file(layout.SPEC))
    if not writes:
        return execute(run, working, bundle, model, record, verbose, watchers=watchers, worker=worker)
    run.update(**resume_fields(info, from_status=status, record=record, epochs=spec.fit.epochs, differences=found,
                               recipe_changes=recipe,
                               workers=worker.describe(spec, bundle) if worker is not None else None,
                               backend=active_backend()))
    if changed_epochs:
        from dlcli.spec.loading import dump_spec
        from dlcli.training.callback_copies import relative_to_run

        run.write_text(layout.SPEC, dump_spec(relative_to_run(run, spec)))
    return execute(run, working, bundle, model, record, verbose, previous_duration=info.get("duration_s") or 0.0,
                   watchers=watchers, worker=worker)


def execute(run: Run, spec, bundle, model, record: dict | None, verbose: int,
            previous_duration: float = 0.0, watchers: list = (), worker=None) -> dict[str, Any]:
    """Run the protocol and close the run: completed, interrupted (130) or failed (RunFailed).
    A `worker` other than process 0 runs the same protocol and writes nothing."""
    from dlcli.training.stopping import Diverged, StopRequest
    from dlcli.training.trainer import Outcome, Trainer

    wall = time.perf_counter()

    def duration() -> float:
        return round(previous_duration + elapsed(wall), 3)

    try:
        with StopRequest() as stop:
            try:
                outcome = Trainer(spec, bundle, run, stop, verbose, resume=record, watchers=watchers,
                                  worker=worker).run_protocol(model)
            except KeyboardInterrupt:  # a second Ctrl-C: stop now, keep what the last epoch saved
                outcome = Outcome(history=run.history(), interrupted=True, model=_last_fit_model(run, model))
                stop.signal_name = stop.signal_name or "SIGINT"
            stop.closing = True  # from here a signal is only noted: the run is closed whole, then exit 130
            result = close(run, spec, bundle, model, outcome, stop.signal_name, duration)
    except Exception as error:  # a failing fit, a full disk while saving...
        why = str(error) if isinstance(error, Diverged) else f"{type(error).__name__}: {error}"
        why = " ".join(why.split())[:600]  # one line: h5py's messages span several
        if worker is not None and not worker.is_chief:  # its launcher records it in the run
            raise RunFailed(f"worker {worker.index} failed: {why}", str(run), why) from error
        try:
            run.record_failure(**failure_fields(why, duration(), traceback.format_exc()))
        except OSError as unwritable:  # even in place: the run reads as crashed
            why += f"; run.json could not record it ({unwritable})"
        else:
            if spec.report:  # the page of a failed run shows its error beside its curves (an optional part)
                from dlcli.report.run_report import training_report

                training_report(run)
        raise RunFailed(f"run failed: {why} (run directory: {run})", str(run), why) from error
    if stop.signal_name and not outcome.interrupted:
        result["signal"] = stop.signal_name  # the run completed while a signal was pending: exit 130
    if worker is not None:
        from dlcli.training.distribution import leave

        leave()
    return result


def close(run: Run, spec, bundle, model, outcome, signal_name: str | None, duration) -> dict[str, Any]:
    """The model of the last completed epoch, the metrics and verdict, then run.json's status, then
    report.html (unless the spec says `report: false`); when the run is not this process's to write
    (a worker other than process 0): only what they are."""
    from dlcli.reference import run_verdict
    from dlcli.training.summary import add_target_units

    metrics = {**add_target_units(outcome.metrics, bundle.info, spec.compile.loss), "params": int(model.count_params())}
    status = "interrupted" if outcome.interrupted else "completed"
    if not run.writes:
        return {"run_dir": str(run), "status": status, "metrics": metrics, "check": {"status": "none", "checks": []}}
    if outcome.model is not None:  # the model of the last completed epoch, even when interrupted
        from dlcli.training.distribution import no_distribution

        with atomic_path(run.output(layout.MODEL)) as temporary, no_distribution():  # one of several processes saves alone
            outcome.model.save(temporary)
    check = run_verdict(run, spec, metrics, outcome.history) if status == "completed" else {"status": "none", "checks": []}
    run.write_json(layout.METRICS, {"metrics": metrics, "check": check})
    run.update(**close_fields(status, duration(), signal_name))
    if spec.report:  # report.html, an optional part: its failure is a note in run.json, never a failed run
        from dlcli.report.run_report import training_report

        training_report(run)
    return {"run_dir": str(run), "status": status, "metrics": metrics, "check": check}
