"""What one run's page shows, gathered from the run directory through `dlcli.runs` (its layout
names every file read here): plain data for `templates/run.html.j2`, pictures as data: URIs.

A part the run lacks (no history, no confusion matrix, no model drawing) becomes a note saying
so, and why where the run recorded why; a damaged history.json, metrics.json or viz/index.json is
named on the page, not raised, so the report of a broken run still shows everything else (a run
whose run.json is unreadable cannot be opened at all: that is one error line, exit 2). A file that
links out of the run directory is named, never embedded (`own_file`).
"""

from __future__ import annotations

import math
import shlex
from pathlib import Path
from typing import Any

from dlcli.errors import DlcliError
from dlcli.runs import Run, layout, recipe_changes
from dlcli.runs.records import overrides_now

MAX_PICTURES = 60  # per folder: a run that drew hundreds of pictures keeps its page in the megabytes,
MAX_PICTURE_BYTES = 20_000_000  # as do a few large ones (dream, style transfer): the rest are counted
MAX_TEXT = 20_000  # characters of one text sample or summary shown
SKIPPED_COLUMNS = ("epoch", "learning_rate", "lr")
VERDICT_COLOURS = {"passed": "passed", "differs": "differs", "failed": "failed", "unverifiable": "unverifiable",
                   "not comparable": "not-comparable", "none": "none"}  # base.html.j2's classes


OUTSIDE = "a link to a file outside the run directory: not shown"
UNFINISHED = {"failed": "the run failed", "interrupted": "the run was interrupted", "crashed": "the run crashed",
              "running": "the run is still running"}


def own_file(run: Run, path: Path) -> bool:
    """Whether `path` is the run's own file: one that links out of the run directory (a run received
    from someone may hold such links) is never embedded, so a page made here and passed on carries
    nothing of this machine's other files."""
    return path.resolve().is_relative_to(run.path.resolve())


def read_spec(run: Run) -> dict[str, Any]:
    """spec.yaml as written (not validated again: a report reads, it does not judge the spec)."""
    from dlcli.spec.reading import read_yaml

    if not run.has(layout.SPEC) or not own_file(run, run.file(layout.SPEC)):
        return {}
    try:
        raw = read_yaml(run.file(layout.SPEC))
    except (DlcliError, OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def epoch_rows(history: dict) -> list[dict[str, Any]]:
    """For each history column: its last value and, where better is known (loss lower, accuracy
    higher), its best value and the epoch it came at."""
    from dlcli.training.callbacks import monitor_mode

    epochs = history.get("epoch") or []
    rows = []
    for key, values in history.items():
        if key in SKIPPED_COLUMNS or not values:
            continue
        numbers = [(value, epoch) for value, epoch in zip(values, epochs)
                   if isinstance(value, (int, float)) and math.isfinite(value)]  # a diverged epoch is no best
        mode = monitor_mode(key)
        best = (min if mode == "min" else max)(numbers, key=lambda pair: pair[0]) if numbers and mode else None
        rows.append({"metric": key, "last": values[-1], "last_epoch": epochs[-1] if epochs else len(values),
                     "best": best[0] if best else None, "best_epoch": best[1] if best else None})
    return rows


def verdict_of(run: Run, metrics: dict, spec: dict) -> dict[str, Any]:
    """The verdict beside the source's own words: status, one line per check, the quote."""
    from dlcli.reference import describe

    check = metrics.get("check") if isinstance(metrics.get("check"), dict) else {"status": "none", "checks": []}
    reference = spec.get("reference") if isinstance(spec.get("reference"), dict) else {}
    status = str(check.get("status", "none"))
    if not run.has(layout.METRICS):
        status = "none"
    return {"status": status, "colour": VERDICT_COLOURS.get(status, "none"),
            "lines": [line.strip() for line in describe(check)], "source": reference.get("source"),
            "listing": reference.get("listing"), "quote": reference.get("quote")}


def pictures(run: Run, folder: layout.Entry) -> dict[str, Any]:
    """The PNG pictures in one of the run's picture folders (viz/ named by its index.json's
    descriptions), at most MAX_PICTURES of them and MAX_PICTURE_BYTES in all, and how many more there are."""
    from dlcli.report.pictures import png_file_uri, shown_width

    root = run.file(folder)
    if not root.is_dir():
        return {"items": [], "more": 0}
    described = {}
    if folder is layout.VIZ and run.has(layout.VIZ_INDEX):
        try:
            index = run.read_json(layout.VIZ_INDEX)
        except DlcliError:
            index = []
        for entry in index if isinstance(index, list) else []:
            if isinstance(entry, dict):
                what = ", ".join(f"{key}: {value}" for key, value in entry.items()
                                 if key not in ("files", "created_at") and isinstance(value, (str, int, float)))
                for name in entry.get("files") or []:
                    described[str(name)] = what
    files = sorted(path for path in root.rglob("*.png") if path.is_file())
    items, embedded = [], 0
    for path in files[:MAX_PICTURES]:
        name = path.relative_to(root).as_posix()
        own = own_file(run, path)
        embedded += path.stat().st_size if own else 0
        if embedded > MAX_PICTURE_BYTES:
            break
        items.append({"name": name, "uri": png_file_uri(path) if own else None, "what": described.get(name, ""),
                      "note": "" if own else OUTSIDE, "width": shown_width(path) if own else None})
    return {"items": items, "more": len(files) - len(items)}


def texts(run: Run, folder: layout.Entry) -> list[dict[str, str]]:
    """The text files of a folder of the run (samples/), each cut at MAX_TEXT characters."""
    root = run.file(folder)
    if not root.is_dir():
        return []
    return [_text(path, path.relative_to(root).as_posix()) if own_file(run, path) else
            {"name": path.relative_to(root).as_posix(), "text": "", "note": OUTSIDE}
            for path in sorted(root.rglob("*.txt")) if path.is_file()]


def _text(path: Path, name: str) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return {"name": name, "text": "", "note": f"unreadable: {error}"}
    cut = len(text) > MAX_TEXT
    return {"name": name, "text": text[:MAX_TEXT],
            "note": f"the first {MAX_TEXT:,} of {len(text):,} characters" if cut else ""}


def confusion(run: Run, info: dict, status: str) -> dict[str, Any]:
    """The confusion matrix the training's test evaluation wrote, drawn; else why there is none
    (`status`: the run's, `crashed` for a dead `running` run)."""
    from dlcli.report.pictures import confusion_figure, figure_uri

    entry = layout.CONFUSION
    if not run.has(entry):
        if isinstance(info.get("confusion"), str):
            why = info["confusion"]
        elif status != "completed":  # a run that failed (diverged), was interrupted or died never reached it
            why = f"{UNFINISHED.get(status, f'the run is {status}')}: its test split was never evaluated"
        else:
            why = "the run holds none (runs made before dlcli wrote confusion matrices, and models that are not " \
                  "single-output classifiers, have none)"
        return {"uri": None, "note": why}
    try:
        data = run.read_json(entry)
        matrix, names = data["matrix"], data.get("class_names") or []
        return {"uri": figure_uri(confusion_figure(matrix, names)), "note": data.get("note", ""),
                "split": data.get("split", "test"), "accuracy": data.get("accuracy")}
    except (DlcliError, KeyError, TypeError, ValueError) as error:
        return {"uri": None, "note": f"{run.file(entry)}: unreadable ({error})"}


def curves(runs: list[Run]) -> dict[str, Any]:
    """The learning curves `dlcli plot` draws (dlcli.plotting): one picture per metric, the runs
    overlaid when there are several; else why there are none."""
    from dlcli.plotting import curve_figures, metric_bases
    from dlcli.report.pictures import figure_uri

    try:
        histories = [run.history() for run in runs if run.has(layout.HISTORY)]
        figures = curve_figures(runs) if histories else {}
    except DlcliError as error:
        return {"items": [], "note": str(error), "missing": ""}
    bases = metric_bases({key: None for history in histories if history.get("epoch") for key in history})
    unplotted = [base for base in bases if base not in figures]  # as `dlcli plot` says of a diverged run's loss
    missing = f"{', '.join(unplotted)}: no epoch has a finite value; not drawn" if unplotted else ""
    if not figures:
        return {"items": [], "note": missing or "no history: no epoch was completed", "missing": ""}
    return {"items": [{"name": name, "uri": figure_uri(figure)} for name, figure in figures.items()], "note": "",
            "missing": missing}


def run_page(run: Run, whole: bool = True) -> dict[str, Any]:
    """Everything the page of one run shows, as plain data; `problems` lists what could not be read.
    `whole=False`: without its pictures (a row of the page of several runs)."""
    problems: list[str] = []

    def attempt(read, default):
        try:
            return read()
        except DlcliError as error:
            problems.append(str(error))
            return default

    info = attempt(lambda: run.info, {})
    metrics = attempt(run.metrics, {})
    history = attempt(run.history, {})
    spec = read_spec(run)
    status = attempt(lambda: run.status, "unknown")
    model_files = info.get("model_files") if isinstance(info.get("model_files"), dict) else {}
    return {
        "run_dir": str(run.path.resolve()), "name": run.path.name,
        "experiment": info.get("experiment") or run.path.parent.name,
        "description": spec.get("description", ""), "notes": spec.get("notes", ""),
        "status": status, "info": info, "facts": facts(info),
        "verdict": verdict_of(run, metrics, spec),
        "metrics": metrics.get("metrics") if isinstance(metrics.get("metrics"), dict) else {},
        "epochs": epoch_rows(history), "curves": curves([run]) if whole else None,
        "recipe_changes": recipe_changes(info), "recipe_source": info.get("recipe_source"),
        "overrides": overrides_now(info),  # as spec.yaml now is: a resume to N epochs rewrote it
        "resumed": len(info.get("resumes") or []),
        "spec_text": _file_text(run, layout.SPEC), "summary": _file_text(run, layout.MODEL_SUMMARY),
        **(_pictures(run, info, model_files, status) if whole else {}),
        "error": info.get("error"), "problems": problems,
    }


def _pictures(run: Run, info: dict, model_files: dict, status: str) -> dict[str, Any]:
    return {"model_plot": _model_plot(run, model_files), "confusion": confusion(run, info, status),
            "viz": pictures(run, layout.VIZ), "plots": pictures(run, layout.PLOTS),
            "sample_pictures": pictures(run, layout.SAMPLES), "sample_texts": texts(run, layout.SAMPLES)}


def facts(info: dict) -> list[tuple[str, str]]:
    """(label, value) lines of how the run was made, from run.json."""
    versions = info.get("versions") if isinstance(info.get("versions"), dict) else {}
    command = info.get("command")
    rows = [
        ("command", shlex.join(str(part) for part in command) if isinstance(command, list) else str(command or "")),
        ("started", info.get("started_at")), ("finished", info.get("finished_at")),
        ("backend", info.get("backend")), ("device", info.get("device")),
        ("seed", info.get("seed")),
        ("parameters", f"{info['params']:,}" if isinstance(info.get("params"), int) else None),
        ("versions", ", ".join(f"{key} {value}" for key, value in versions.items() if value)),
        ("git commit", info.get("git_commit")),
    ]
    for number, resumed in enumerate(info.get("resumes") or [], start=1):
        if isinstance(resumed, dict):
            rows += _resume_facts(number, resumed)
    return [(label, str(value)) for label, value in rows if value not in (None, "")]


def _resume_facts(number: int, resumed: dict) -> list[tuple[str, Any]]:
    """A resume's lines: when, from which epoch of which status, to how many epochs, and its command."""
    command = resumed.get("command")
    forced = f"; forced past: {'; '.join(map(str, resumed.get('differences') or []))}" if resumed.get("forced") else ""
    what = (f"{resumed.get('at')}: from epoch {resumed.get('from_epoch')} ({resumed.get('from_status')}), "
            f"to {resumed.get('epochs')} epochs in all{forced}")
    return [(f"resume {number}", what),
            (f"resume {number} command", shlex.join(map(str, command)) if isinstance(command, list) else command)]


def _file_text(run: Run, entry: layout.Entry) -> str | None:
    if not run.has(entry):
        return None
    return _text(run.file(entry), entry.name)["text"] if own_file(run, run.file(entry)) else f"({OUTSIDE})"


def _model_plot(run: Run, model_files: dict) -> dict[str, Any]:
    from dlcli.report.pictures import png_file_uri

    if run.has(layout.MODEL_PLOT):
        own = own_file(run, run.file(layout.MODEL_PLOT))
        return {"uri": png_file_uri(run.file(layout.MODEL_PLOT)) if own else None, "note": "" if own else OUTSIDE}
    note = model_files.get("plot")
    return {"uri": None, "note": note if isinstance(note, str) and note != layout.MODEL_PLOT.name else "not drawn"}
