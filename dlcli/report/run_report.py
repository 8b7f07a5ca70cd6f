"""One run's report.html: its page rendered, written into the run, and the page written when a
training ends (train, resume, a sweep's trial: training.lifecycle), an optional part. Apart from
dlcli.report.writing, which also reaches sweeps, so that training imports nothing of sweeps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from dlcli.runs import Run, layout


def generated_at() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def run_html(run: Run) -> str:
    """The page of one run."""
    from dlcli.report.page import run_page
    from dlcli.report.rendering import render

    return render("run.html.j2", page=run_page(run), generated_at=generated_at())


def write_run_report(run: Run) -> Path:
    """report.html of a run, written through the run (its writer, or a Run opened with draws=True)."""
    run.write_text(layout.REPORT, run_html(run))  # a drawing Run keeps the run directory's times
    return run.file(layout.REPORT)


def not_written(error: Exception) -> str:
    """Why an optional page is missing, in one line: 'not written: ValueError: ...'."""
    text = str(error).strip().splitlines()
    return f"not written: {type(error).__name__}" + (f": {text[0][:200]}" if text else "")


def training_report(run: Run) -> None:
    """report.html at the end of a training (train, resume, a sweep's trial), as an optional part:
    whatever goes wrong, the run is not failed; run.json's `report` says why there is no page (an
    older page of the run, from before a resume, is removed: it would show what is no longer so)."""
    try:
        write_run_report(run)
        if run.info.get("report"):  # an earlier training's note: not so any more
            run.update(report=None)
    except Exception as error:  # noqa: BLE001  an optional part: any failure is a note, never a failed run
        try:
            run.file(layout.REPORT).unlink(missing_ok=True)
            run.update(report=not_written(error))
        except OSError:  # a full disk: the missing page says it
            pass
