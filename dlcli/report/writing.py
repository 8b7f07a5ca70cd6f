"""`dlcli report RUN...`: which page the references ask for, where it goes, and writing it.

One run's page goes into the run as its report.html (the layout's REPORT; a command that draws
from a finished run may write it, `Run.open(path, draws=True)`), several runs' page into the
current folder under a name made of theirs, a sweep's page into the sweep directory (also
written when the sweep ends: `sweep_report`); --out names another file, or a folder where the
page gets a name made of the runs', outside every run.
Writing into a finished run keeps its directory's times (a drawing Run's writes do), so `ls -t`
still finds the newest run.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from dlcli.atomic import write_text_atomic
from dlcli.errors import UsageError
from dlcli.report.run_report import generated_at, not_written, run_html, write_run_report
from dlcli.runs import Run, enclosing_run, layout

SWEEP_REPORT = "report.html"  # beside a sweep's sweep.csv


def check_out(out: str, own: Path | None, inside_checked: bool = True, name: str | None = None) -> Path:
    """--out: an .html file in an existing folder, or an existing folder, where the page gets `name`
    (its default file name; None while only --out is checked, before the runs are known), outside
    every run directory or the reported run's own report.html (`inside_checked=False`: the run is
    not known yet)."""
    path = Path(out)
    if path.is_dir():
        if name is None:
            return path
        path = path / name
    elif path.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out {out}: give a file name ending in .html, or a folder")
    if not path.parent.is_dir():
        raise UsageError(f"--out {out}: no such folder {path.parent}")
    owner = enclosing_run(path.parent) if inside_checked else None
    if owner is not None and (own is None or path.resolve() != (own / layout.REPORT.name).resolve()):
        raise UsageError(f"--out {out}: inside the run directory {owner}, where a report goes only to the run's own "
                         f"{layout.REPORT.name}; choose a path outside every run")
    return path


@contextlib.contextmanager
def writing_page(target: Path):
    """While a page is written: a place that refuses it (a read-only folder, a folder where the file
    should be) is one line, exit 2, not an unexpected error."""
    try:
        yield
    except OSError as error:
        raise UsageError(f"{target}: cannot write the page ({error.strerror or error}); choose another --out") from None


def write_page(target: Path, html: str) -> None:
    with writing_page(target):
        write_text_atomic(target, html)


def report(references: list[str], out: str | None = None) -> dict[str, Any]:
    """Write the page RUN... asks for: one run's, several runs' side by side, or a sweep's.
    Returns {'path', 'kind' ('run', 'runs' or 'sweep'), 'runs', 'bytes'}, with 'run_dir' for one
    run and 'sweep_dir' for a sweep."""
    if not references:
        raise UsageError("give one or more runs (a run directory, or an experiment for its latest completed run) "
                         "or a sweep directory")
    if out:
        check_out(out, None, inside_checked=False)  # before any run is looked for
    sweeps = [reference for reference in references if _is_sweep(reference)]
    if sweeps:
        if len(references) > 1:
            raise UsageError(f"{sweeps[0]}: a sweep gets a page of its own; report it alone")
        return _write_sweep(sweeps[0], out)
    runs = [Run.find(reference, "RUN") for reference in references]
    _check_distinct(references, runs)
    from dlcli.report.comparison import runs_file_name, runs_html

    if len(runs) == 1:
        run = Run.open(runs[0].path, draws=True)
        target = check_out(out, run.path, name=runs_file_name(runs)) if out else None
        path = target or run.file(layout.REPORT)
        if path.resolve() == run.file(layout.REPORT).resolve():
            with writing_page(path):
                write_run_report(run)
        else:
            write_page(path, run_html(run))
        return _result(path, "run", runs)
    target = check_out(out, None, name=runs_file_name(runs)) if out else _here(runs_file_name(runs))
    write_page(target, runs_html(runs, generated_at()))
    return _result(target, "runs", runs)


def _check_distinct(references: list[str], runs: list[Run]) -> None:
    """Each run once: a run compared with itself (given by its path and by its name) is a mistake."""
    folders = [run.path.resolve() for run in runs]
    for index, folder in enumerate(folders):
        if folder in folders[:index]:
            first = references[folders.index(folder)]
            raise UsageError(f"{references[index]}: the same run as {first} ({folder}), given twice; give each run once")


def _here(name: str) -> Path:
    """The default place of the page of several runs: the current folder, unless it lies in a run
    directory, which holds only its layout's files."""
    owner = enclosing_run(Path.cwd())
    if owner is not None:
        raise UsageError(f"the current folder is inside the run directory {owner}, which takes no page of several "
                         "runs; give --out FILE outside every run, or run this from another folder")
    return Path.cwd() / name


def _is_sweep(reference: str) -> bool:
    path = Path(reference)
    return path.is_dir() and not (path / layout.INFO.name).is_file() and (path / "sweep.json").is_file()


def sweep_report(sweep) -> str:
    """The sweep's report.html when the sweep ends (sweeps.runner), an optional part: its file
    name, or `not written: why` (the sweep's result says it; the sweep goes on)."""
    try:
        target = sweep.folder / SWEEP_REPORT
        write_text_atomic(target, sweep_html_of(sweep, target.parent))
        return SWEEP_REPORT
    except Exception as error:  # noqa: BLE001  an optional part: any failure is a note, never a failed sweep
        return not_written(error)


def sweep_html_of(sweep, page_folder: Path) -> str:
    from dlcli.report.sweep import sweep_html

    return sweep_html(sweep, page_folder, generated_at())


def _write_sweep(reference: str, out: str | None) -> dict[str, Any]:
    from dlcli.sweeps.directory import Sweep

    sweep = Sweep.open(reference)
    named = f"report-sweep-{sweep.folder.parent.name}-{sweep.folder.name}.html"  # in another folder than its own
    target = check_out(out, None, name=named) if out else sweep.folder / SWEEP_REPORT
    write_page(target, sweep_html_of(sweep, target.parent))
    return {"path": str(target.resolve()), "kind": "sweep", "runs": [], "sweep_dir": str(sweep.folder),
            "bytes": target.stat().st_size}


def _result(path: Path, kind: str, runs: list[Run]) -> dict[str, Any]:
    one = {"run_dir": str(runs[0].path.resolve())} if kind == "run" else {}
    return {"path": str(path.resolve()), "kind": kind, **one, "runs": [str(run.path.resolve()) for run in runs],
            "bytes": path.stat().st_size}
