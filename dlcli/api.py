"""The Python API behind every command: usable from a notebook or a test.

Each function returns plain data (dicts and lists) and raises DlcliError subclasses with the
message a user should read; dlcli.cli only parses arguments and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlcli.catalog import resolve_spec_path
from dlcli.errors import SpecError, UsageError
from dlcli.registry import resolve
from dlcli.runs import Run

# The commands whose whole work is a function of its own module, part of this API (the CLI calls
# dlcli.api only) but imported when first used: `validate`, `list` and `show` load none of them.
ELSEWHERE = {
    "predict": "dlcli.predicting",
    **dict.fromkeys(["visualize_activations", "visualize_augmentation", "visualize_filters", "visualize_gradcam"],
                    "dlcli.viz.jobs"),
    "dream": "dlcli.viz.generative_jobs",  # chapter 8's pictures from photos
    "style_transfer": "dlcli.viz.generative_jobs",
    "generate_latent_grid": "dlcli.generation.latent_grid",  # chapter 8's generations from runs
    "generate_images": "dlcli.generation.images",
    "generate_text": "dlcli.generation.text",
    "book_report": "dlcli.report.book_page",  # `report --book`: the book's reproduction table
    "evaluate": "dlcli.evaluating",  # reading runs
    "check": "dlcli.checking",
    "data_import": "dlcli.datasets.importing",  # the data cache
    "data_split": "dlcli.datasets.image_split",
}


def __getattr__(name: str):
    if name in ELSEWHERE:
        return resolve(f"{ELSEWHERE[name]}:{name}")
    raise AttributeError(f"module 'dlcli.api' has no attribute {name!r}")

# --------------------------------------------------------------------------- catalogue


def list_experiments() -> list[dict[str, Any]]:
    """Every named experiment: name, description, source and listing, dataset, CPU runtime note,
    the backends it runs on, and what its data needs that this machine lacks (data_missing, data_present).

    Reads the YAML files only (no validation, no Keras), so it stays fast; `validate` checks them."""
    from dlcli.catalog import experiment_rows
    from dlcli.datasets.presence import missing

    return experiment_rows(lacking=missing)


def show(name_or_path: str, overrides: tuple[str, ...] = ()) -> str:
    """The resolved spec, defaults filled in, as YAML."""
    from dlcli.spec.loading import dump_spec, load_spec

    spec, _ = load_spec(name_or_path, overrides)
    return dump_spec(spec)


def validate(names: list[str], use_cache: bool = True) -> list[dict[str, Any]]:
    """Check specs without importing TensorFlow: [{'name', 'ok', 'errors'}].

    A spec file whose exact bytes, and those of the files it names, already passed with this very
    dlcli and pydantic is not validated again (see dlcli.spec_cache); errors always come from a
    real validation."""
    from dlcli import spec_cache

    results = []
    for name in names:
        try:
            try:
                spec_key = spec_cache.key(resolve_spec_path(name)) if use_cache else None
            except OSError:
                spec_key = None  # load_spec reports an unreadable file
            if spec_key is None or not spec_cache.known_valid(spec_key):
                from dlcli.spec.loading import load_spec

                load_spec(name)
                if spec_key is not None:
                    spec_cache.remember_valid(spec_key)
            results.append({"name": name, "ok": True, "errors": []})
        except SpecError as error:
            results.append({"name": name, "ok": False, "errors": str(error).splitlines()})
    return results


def list_templates() -> list[dict[str, str]]:
    """The chapter 9 templates `new_spec` writes from: name, description, file."""
    from dlcli import templates

    return [{"name": name, "description": text, "path": str(templates.path(name))}
            for name, text in templates.TEMPLATES.items()]


def new_spec(template: str, name: str, out: str | Path = ".", force: bool = False) -> dict[str, str]:
    """Write `out/NAME.yaml` from a chapter 9 template: {'path', 'template'}.

    An existing file is kept unless `force`; NAME is a file stem of letters, digits, - and _."""
    from dlcli.templates import write_spec

    return write_spec(template, name, out, force)


# --------------------------------------------------------------------------- training


def train(name_or_path: str, overrides: tuple[str, ...] | list[str] = (), epochs: int | None = None,
          seed: int | None = None, run_dir: str | None = None, verbose: int = 2,
          cluster: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate, load data, build, fit, evaluate and save one experiment.

    Returns {'run_dir', 'status', 'metrics', 'check'}; status is 'completed' or 'interrupted'.
    Bad input raises before any run directory exists; a failure after that leaves run.json
    with status 'failed' and raises RunFailed. `cluster` ({'coordinator', 'num_processes',
    'process_id'}, or Keras' KERAS_DISTRIBUTION_* variables, or a SLURM step) makes this process
    one worker of data-parallel training on JAX; process 0 writes the run."""
    from dlcli.spec.loading import load_spec
    from dlcli.training import lifecycle
    from dlcli.training.distribution import cluster_from

    overrides = _with_options(overrides, epochs, seed)
    spec, spec_path = load_spec(name_or_path, overrides)
    return lifecycle.start(spec, spec_path, overrides, run_dir, verbose, cluster=cluster_from(**(cluster or {})))


def _with_options(overrides, epochs: int | None, seed: int | None) -> list[str]:
    """The overrides with --epochs and --seed as the overrides they stand for."""
    return [*overrides, *([f"fit.epochs={epochs}"] if epochs is not None else []),
            *([f"seed={seed}"] if seed is not None else [])]


def train_workers(name_or_path: str, workers: int, overrides: tuple[str, ...] | list[str] = (),
                  epochs: int | None = None, seed: int | None = None, run_dir: str | None = None,
                  options: tuple[str, ...] = ()) -> dict[str, Any]:
    """`train` as `workers` local processes of data-parallel training on JAX (dlcli.workers).
    Process 0 prints the run's outcome (`options`: its --json, --check, --quiet); returns
    {'run_dir', 'status', 'exit_code'}; a failed worker raises RunFailed naming it."""
    from dlcli.datasets.presence import require
    from dlcli.spec.loading import load_spec
    from dlcli.workers import launch_train

    overrides = _with_options(overrides, epochs, seed)
    spec, _ = load_spec(name_or_path, overrides)  # a bad spec is refused here, before any process starts
    require(spec)  # and so is data that is missing and cannot be downloaded now
    return launch_train(name_or_path, spec, workers, overrides, run_dir, list(options))


def resume_workers(run_path: str, workers: int, epochs: int | None = None, force: bool = False,
                   options: tuple[str, ...] = ()) -> dict[str, Any]:
    """`resume` as `workers` local processes, as many as the run had or not (the global batch and
    the data order do not depend on their number); returns what `train_workers` returns."""
    from dlcli.datasets.presence import require
    from dlcli.runs.references import RESUMABLE
    from dlcli.workers import launch_resume

    run = Run.find(run_path, "RUN", RESUMABLE)  # a name: its latest run that can be resumed
    require(run.spec())  # missing data is one line, before any process starts
    return launch_resume(run, run.spec(), workers, epochs, force, list(options))


def resume(run_path: str, epochs: int | None = None, force: bool = False, verbose: int = 2,
           cluster: dict[str, Any] | None = None) -> dict[str, Any]:
    """Continue an interrupted, failed or crashed run in its own directory, from its last
    completed epoch; returns what `train` returns (`cluster` as for `train`)."""
    from dlcli.backend import use_recorded
    from dlcli.runs.references import RESUMABLE
    from dlcli.training import lifecycle
    from dlcli.training.distribution import cluster_from

    run = Run.find(run_path, "RUN", RESUMABLE)  # a name: its latest run that can be resumed
    use_recorded(run.info)  # the backend it was trained on, unless --backend says otherwise
    return lifecycle.resume(run, epochs, force, verbose, cluster=cluster_from(**(cluster or {})))


# --------------------------------------------------------------------------- reading runs
# evaluate and check: ELSEWHERE (dlcli.evaluating, dlcli.checking)


def list_runs(experiment: str | None = None, status: str | None = None, limit: int | None = None) -> dict[str, Any]:
    """The runs under the runs root and the sweeps' trials, newest first: {'runs', 'sweeps'}. See
    dlcli.runs.listing."""
    from dlcli.runs.listing import list_runs as listed

    return listed(experiment, status, limit)


def compare(run_paths: list[str]) -> dict[str, Any]:
    """Final metrics of several runs, and the spec values that differ between them. See dlcli.comparing."""
    from dlcli.comparing import compare_runs

    return compare_runs(run_paths)


def report(references: list[str], out: str | None = None) -> dict[str, Any]:
    """An HTML page of one run, several runs side by side, or a sweep: {'path', 'kind', 'runs', 'bytes'}.
    See dlcli.report."""
    from dlcli.report import report as write_page

    return write_page(references, out)


def ensemble(run_paths: list[str], weights: str | None = None) -> dict[str, Any]:
    """Several runs' models averaged (7.3.3): each member's, the plain mean's and, with `weights`
    ('auto': fitted on the validation split; or 'w1,w2,...'), a weighted average's metric on the
    validation and test splits. See dlcli.ensembling."""
    from dlcli.ensembling import ensemble_runs

    return ensemble_runs(run_paths, weights)


# --------------------------------------------------------------------------- data
# data_import and data_split: ELSEWHERE (dlcli.datasets.importing, dlcli.datasets.image_split)


def data_list() -> list[dict[str, Any]]:
    """What the data cache holds, one row per dataset. See dlcli.datasets.listing."""
    from dlcli.datasets.listing import cache_rows

    return cache_rows()


def data_download(name: str) -> list[str]:
    from dlcli.datasets import DATASETS
    from dlcli.datasets.cache import download, exclusive

    entry = DATASETS.get(name)
    if entry.shipped:
        return []
    with exclusive(entry.name, wait=False):
        return [str(path) for path in download(entry)]


# --------------------------------------------------------------------------- sweeps


def sweep(target: str | None, params: list[str] = (), overrides: list[str] = (), trials: int | None = None,
          metric: str | None = None, direction: str | None = None, pruning: bool | None = None,
          resume: str | None = None, verbose: int = 2) -> dict[str, Any]:
    """A hyperparameter sweep of TARGET (a name or spec file), or the continuation of one (`resume`):
    the report (sweep_dir, trials, best, files, status)."""
    from dlcli.sweeps.directory import Sweep
    from dlcli.sweeps.runner import run_sweep

    if resume is not None:
        if target or params or overrides or metric or direction or pruning is not None:
            raise UsageError("--resume DIR continues a sweep as it was asked: give only --trials with it")
        return run_sweep(Sweep.open(resume), resuming=True, verbose=verbose, trials=trials)
    if not target:
        raise UsageError("give an experiment name or spec file to sweep, or --resume DIR")
    return run_sweep(Sweep.create(target, list(params), list(overrides), trials, metric, direction, pruning),
                     resuming=False, verbose=verbose)


__all__ = sorted([
    "compare",
    "data_download",
    "data_list",
    "ensemble",
    "list_experiments",
    "list_runs",
    "report",
    "resume",
    "resume_workers",
    "show",
    "sweep",
    "train",
    "train_workers",
    "validate",
    *ELSEWHERE,
])
