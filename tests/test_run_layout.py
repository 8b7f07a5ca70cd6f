"""The run directory has one owner: every file a run holds is in the layout, paths come from it,
and only the process holding the run writes it (issue 15, part 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import TINY_SPEC, write
from dlcli.runs import NotAWriter, Run, layout
from dlcli.runs.records import close_fields, failure_fields, resume_fields


def made() -> Run:
    """A published run, still held (a writer) by this process, as `train` holds its run."""
    run = Run.create("exp")
    run.write_json(layout.INFO, {"status": "running", "experiment": "exp"})
    run.publish()
    return run


WRITES = {
    "write_json": lambda run: run.write_json(layout.METRICS, {"metrics": {}}),
    "write_text": lambda run: run.write_text(layout.MODEL_SUMMARY, "table\n"),
    "record_viz": lambda run: run.record_viz({"kind": "gradcam", "files": ["a.png"]}),
    "update": lambda run: run.update(status="completed"),
    "record_failure": lambda run: run.record_failure(**failure_fields("boom", 1.0, None)),
    "output": lambda run: run.output(layout.LOGS),
    "remove_leftovers": lambda run: run.remove_leftovers(),
}


@pytest.mark.parametrize("write_kind", WRITES)
@pytest.mark.parametrize("reader", ["open", "open writer=False", "constructor", "released"])
def test_a_run_not_held_by_this_process_refuses_every_write(workdir, write_kind, reader):
    """A reader (and a worker other than process 0, which opens the run as one) never writes: the
    write is refused as a bug, and the run is left exactly as it was."""
    writer = made()
    before = {path: path.read_bytes() for path in writer.path.rglob("*") if path.is_file()}
    opened = {"open": lambda: Run.open(writer.path), "open writer=False": lambda: Run.open(writer.path, writer=False),
              "constructor": lambda: Run(writer.path), "released": lambda: writer}[reader]
    if reader == "released":
        writer.release()
    run = opened()
    assert not run.writes
    with pytest.raises(NotAWriter, match="does not hold the run"):
        WRITES[write_kind](run)
    assert {path: path.read_bytes() for path in writer.path.rglob("*") if path.is_file()} == before


@pytest.mark.parametrize("write_kind", WRITES)
def test_the_process_holding_the_run_writes(workdir, write_kind):
    run = made()
    assert run.writes
    WRITES[write_kind](run)
    second = Run.open(run.path)
    run.release()
    held = Run.open(second.path, writer=True)  # open and lock: a writer again
    WRITES[write_kind](held)
    held.release()


def test_a_drawing_command_writes_pictures_only(workdir):
    run = made()
    run.release()
    drawing = Run.open(run.path, draws=True)
    drawing.record_viz({"kind": "gradcam", "files": ["a.png"]})
    assert drawing.output(layout.PLOTS) == run.path / "plots"
    assert [entry["files"] for entry in json.loads(run.file(layout.VIZ_INDEX).read_text())] == [["a.png"]]
    with pytest.raises(NotAWriter):
        drawing.update(status="completed")
    with pytest.raises(NotAWriter):
        drawing.write_json(layout.METRICS, {})
    assert Run.open(run.path).info["status"] == "running"


def test_a_name_outside_the_layout_is_refused(workdir):
    run = made()
    for name in ("histroy.json", "../elsewhere/run.json", "/etc/passwd", "folds/fold-1/other.json", "stat"):
        with pytest.raises(ValueError, match="not in the run directory layout"):
            run.file(name)
        with pytest.raises(ValueError, match="not in the run directory layout"):
            run.write_text(name, "x")
    assert not (run.path / "histroy.json").exists()
    assert run.file(layout.FOLD_HISTORY, fold=2) == run.path / "folds" / "fold-2" / "history.json"
    assert run.file("logs/train/events.out.tfevents.1") == run.path / "logs" / "train" / "events.out.tfevents.1"
    run.write_json(layout.FOLD_RESULT, {"history": {}}, fold=3)  # its folders are made
    assert json.loads((run.path / "folds" / "fold-3" / "result.json").read_text()) == {"history": {}}


def test_the_layout_describes_each_entry_and_finds_them_in_a_run(workdir):
    names = [entry.name for entry in layout.entries()]
    assert len(names) == len(set(names))
    assert all(entry.writer and entry.description for entry in layout.entries())
    assert {entry.name for entry in layout.entries() if not entry.optional} == {"spec.yaml", "run.json", ".lock"}
    assert "written by training.fit_callbacks" in layout.describe("folds/fold-4/history.csv")
    assert layout.describe("logs/train/x").startswith("logs/:")
    with pytest.raises(ValueError):
        layout.describe("nothing.txt")
    run = made()
    run.write_json(layout.FOLD_RESULT, {}, fold=1)
    run.write_json(layout.FOLD_RESULT, {}, fold=2)
    found = {entry.name: [path.relative_to(run.path).as_posix() for path in paths]
             for entry, paths in run.contents()}
    assert found == {".lock": [".lock"], "run.json": ["run.json"], "folds": ["folds"],
                     "folds/fold-{fold}": ["folds/fold-1", "folds/fold-2"],
                     "folds/fold-{fold}/result.json": ["folds/fold-1/result.json", "folds/fold-2/result.json"]}


def test_run_json_records(workdir):
    assert close_fields("completed", 2.5, "SIGINT").keys() == {"status", "finished_at", "duration_s"}
    assert close_fields("interrupted", 2.5, "SIGINT")["signal"] == "SIGINT"
    resumed = resume_fields({"resumes": [{"at": "then"}]}, from_status="crashed", record={"phase": "fit", "epoch": 2},
                            epochs=4, differences=[], recipe_changes=[], backend="jax")
    assert resumed["status"] == "running" and resumed["error"] is None
    assert [entry.get("from_epoch") for entry in resumed["resumes"]] == [None, 2]
    assert resumed["resumes"][1]["backend"] == "jax" and resumed["resumes"][1]["forced"] is False


@pytest.mark.training
def test_every_file_a_trained_run_holds_is_in_the_layout(run_cli, workdir):
    """Runs with every writer dlcli has (TensorBoard, checkpoints, activations, k-fold and
    retraining, a plot, a picture index) hold only what the layout lists."""
    short = TINY_SPEC.replace("fit:\n  epochs: 3", "fit:\n  epochs: 2")
    monitored = write(workdir / "monitored.yaml", short.replace(
        "callbacks:\n", "callbacks:\n  - TensorBoard: {histogram_freq: 1}\n  - ActivationLogger: {samples: 2}\n"))
    folded = write(workdir / "folded.yaml", short.replace(
        "validation: {kind: split, fraction: 0.25}", "validation: {kind: kfold, k: 2}\n  retrain: {epochs: 1}"))
    found = set()
    for spec in (monitored, folded):
        result = run_cli("train", str(spec), "--json", "-q")
        assert result.exit_code == 0, result.stderr
        path = Path(json.loads(result.stdout)["run_dir"])
        assert run_cli("plot", str(path)).exit_code == 0
        Run.open(path, draws=True).record_viz({"kind": "test", "files": ["x.png"]})
        outside = [item.relative_to(path).as_posix() for item in path.rglob("*")
                   if layout.entry_of(item.relative_to(path).as_posix()) is None]
        assert outside == []
        found |= {entry.name for entry, _ in layout.present(path)}
    assert {"spec.yaml", "run.json", "history.json", "history.csv", "retrain_history.json", "folds/fold-{fold}/result.json",
            "folds/fold-{fold}/history.json", "metrics.json", "model.keras", "model.json", "summary.txt", "logs",
            "activations/{phase}-epoch-{epoch}.npz", "state/latest.json", "checkpoints/best.keras", "plots",
            "viz/index.json"} <= found


@pytest.mark.training
def test_check_rewrites_the_verdict_only_while_no_other_process_holds_the_run(run_cli, workdir, tiny_spec):
    """`check` rewrites metrics.json's verdict as the run's writer: refused at once (exit 2, one
    line naming the holder, metrics.json untouched) while another process holds the run."""
    import subprocess
    import sys

    result = run_cli("train", str(tiny_spec), "--epochs", "1", "--json", "-q")
    assert result.exit_code == 0, result.stderr
    path = Path(json.loads(result.stdout)["run_dir"])
    metrics = path / "metrics.json"
    metrics.write_text(json.dumps({**json.loads(metrics.read_text()), "check": {"status": "none", "checks": []}}))
    before = metrics.read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", "import time; from dlcli.runs import Run; "
                               f"run = Run.open({str(path)!r}, writer=True); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = run_cli("check", str(path))
        assert refused.exit_code == 2 and f"pid {holder.pid}" in refused.stderr and refused.stderr.count("\n") == 1
        assert metrics.read_bytes() == before
    finally:
        holder.kill()
        holder.wait()
    assert run_cli("check", str(path)).exit_code == 0
    assert json.loads(metrics.read_text())["check"]["status"] == "not comparable"  # rewritten: --epochs changed the recipe
