"""A run directory is shared, copied, hand-edited and damaged: every reader of a run, given a run
whose files are missing, truncated, of the wrong JSON type or shape, says which file and what is
wrong in one line, with exit 2 (or 3), never "unexpected" (issue 14: a table of damages x readers)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import write

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless writes the test image")
pytestmark = pytest.mark.training

IMAGE_SPEC = """
description: a tiny image classifier whose runs the tests damage
seed: 5
data: {name: synthetic, num_samples: 48, num_test: 12, shape: [8, 8, 1], num_classes: 3, pixels: true}
model:
  type: sequential
  layers:
    - Conv2D: {filters: 2, kernel_size: 3, activation: relu}
    - Flatten: {}
    - Dense: {units: 3, activation: softmax}
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 16, validation: {kind: split, fraction: 0.25}}
callbacks:
  - ModelCheckpoint: {monitor: val_loss}
reference: {source: tests, metric: test_accuracy, value: 0.0, direction: at_least}
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One completed run (with its resume state), trained once and copied into each test."""
    import sys

    from dlcli.cli import main

    root = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for name, folder in (("DLCLI_DATA_DIR", "data"), ("DLCLI_RUNS_DIR", "runs"), ("DLCLI_CACHE_DIR", "cache")):
            patch.setenv(name, str(root / folder))
        patch.setenv("DLCLI_OFFLINE", "1")
        patch.setattr(sys, "argv", ["dlcli", "train", str(write(root / "damaged.yaml", IMAGE_SPEC)), "-q"])
        with pytest.raises(SystemExit) as exit_:
            main(fast_exit=False)
        assert exit_.value.code == 0
    return next((root / "runs" / "damaged").iterdir())


@pytest.fixture
def run(trained, workdir) -> Path:
    copy = workdir / "runs" / "damaged" / "20260101-000000"
    shutil.copytree(trained, copy)
    return copy


@pytest.fixture
def image(workdir) -> Path:
    path = workdir / "digit.png"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (8, 8, 1), dtype="uint8"))
    return path


def _json(name: str, content) -> callable:
    return lambda run: (run / name).write_text(content if isinstance(content, str) else json.dumps(content))


def _edit_run_json(**fields) -> callable:
    def edit(run: Path) -> None:
        info = json.loads((run / "run.json").read_text())
        (run / "run.json").write_text(json.dumps({**info, **fields}))
    return edit


def _edit_metrics_check(**fields) -> callable:
    def edit(run: Path) -> None:
        metrics = json.loads((run / "metrics.json").read_text())
        (run / "metrics.json").write_text(json.dumps({**metrics, "check": {**metrics["check"], **fields}}))
    return edit


def _interrupted_with(damage) -> callable:
    """A resumable run (interrupted), then the damage (to its resume state)."""
    def apply(run: Path) -> None:
        _edit_run_json(status="interrupted")(run)
        damage(run)
    return apply


def _latest(**fields) -> callable:
    def edit(run: Path) -> None:
        latest = json.loads((run / "state" / "latest.json").read_text())
        (run / "state" / "latest.json").write_text(json.dumps({**latest, **fields}))
    return edit


def _snapshot_of_another_run(run: Path) -> None:
    """latest.json pointing at a complete snapshot of another run (whose weights must not be loaded)."""
    latest = json.loads((run / "state" / "latest.json").read_text())
    shutil.copytree(run / "state", run.parent / "other" / "state")
    _latest(snapshot=f"../../other/state/{latest['snapshot']}")(run)


def _truncate(name: str) -> callable:
    def cut(run: Path) -> None:
        data = (run / name).read_bytes()
        (run / name).write_bytes(data[: len(data) // 3])
    return cut


def _snapshot_file(name: str, content: bytes) -> callable:
    def damage(run: Path) -> None:
        snapshot = json.loads((run / "state" / "latest.json").read_text())["snapshot"]
        (run / "state" / snapshot / name).write_bytes(content)
    return damage


# Readers of one run (report first: check rewrites the verdict it reads); `runs` lists every run and
# refuses none (a damaged one is a row saying why).
ALL = ("report", "check", "compare", "plot", "evaluate", "predict", "gradcam", "activations", "ensemble", "resume")
LISTINGS = ("runs",)
MODEL_READERS = ("evaluate", "predict", "gradcam", "activations", "ensemble")

# damage -> (the file a refusal names, the readers that cannot do without that file)
DAMAGES = {
    "run.json missing": (lambda run: (run / "run.json").unlink(), "run.json", ALL),
    "run.json truncated": (_truncate("run.json"), "run.json", ALL),
    "run.json a list": (_json("run.json", "[1, 2]"), "run.json", ALL),
    "run.json status a number": (_edit_run_json(status=5), "run.json", ALL),
    "run.json unknown status": (_edit_run_json(status="exploded"), "run.json", ALL),
    "run.json unknown backend": (_edit_run_json(backend="theano"), "run.json", ALL),
    "run.json workers a number": (_edit_run_json(workers=2), "run.json", ALL),
    "run.json resumes a string": (_edit_run_json(resumes="x"), "run.json", ("check", "resume")),
    "run.json class_names a number": (_edit_run_json(class_names=3), "run.json", ("predict", "gradcam")),
    "run.json overrides of numbers": (_edit_run_json(overrides=[1, 2]), "run.json", ("check",)),
    "spec.yaml missing": (_interrupted_with(lambda run: (run / "spec.yaml").unlink()), "spec.yaml",
                          ("check", "evaluate", "predict", "resume")),
    "spec.yaml truncated": (_interrupted_with(_json("spec.yaml", "data: {name: synth")), "spec.yaml",
                            ("check", "evaluate", "predict", "resume")),
    "spec.yaml a list": (_interrupted_with(_json("spec.yaml", "- 1\n- 2\n")), "spec.yaml",
                         ("check", "evaluate", "predict", "resume")),
    "spec.yaml of an unknown key": (lambda run: (run / "spec.yaml").write_text(
        (run / "spec.yaml").read_text() + "from_the_future: 1\n"), "spec.yaml", ("check", "evaluate", "ensemble")),
    "history.json truncated": (_truncate("history.json"), "history.json", ("check", "plot")),
    "history.json a list": (_json("history.json", "[0.5, 0.4]"), "history.json", ("check", "plot")),
    "history.json of text": (_json("history.json", {"epoch": [1, 2], "loss": ["a", "b"]}), "history.json",
                             ("check", "plot")),
    "history.json ragged": (_json("history.json", {"epoch": [1, 2], "loss": [0.5]}), "history.json", ("check", "plot")),
    "metrics.json truncated": (_truncate("metrics.json"), "metrics.json", ("compare",)),
    "metrics.json a string": (_json("metrics.json", '"ok"'), "metrics.json", ("compare",)),
    "metrics.json metrics a list": (_json("metrics.json", {"metrics": [1], "check": {}}), "metrics.json", ("compare",)),
    "metrics.json checks by hand": (_edit_metrics_check(status="failed", checks=[{"what": "test_accuracy"}, "x"]),
                                     "metrics.json",
                                     ()),  # read as they are, each line saying what it can
    "model.keras missing": (lambda run: (run / "model.keras").unlink(), "model.keras", MODEL_READERS),
    "model.keras truncated": (_truncate("model.keras"), "model.keras", MODEL_READERS),
    "model.keras garbage": (_json("model.keras", "not a zip"), "model.keras", MODEL_READERS),
    "latest.json truncated": (_interrupted_with(_truncate("state/latest.json")), "latest.json", ("resume",)),
    "latest.json a list": (_interrupted_with(_json("state/latest.json", "[]")), "latest.json", ("resume",)),
    "latest.json epoch text": (_interrupted_with(_latest(epoch="two")), "latest.json", ("resume",)),
    "latest.json snapshot elsewhere": (_interrupted_with(_snapshot_of_another_run),
                                       "latest.json", ("resume",)),
    "latest.json snapshot absolute": (_interrupted_with(_latest(snapshot="/tmp")), "latest.json", ("resume",)),
    "weights truncated": (_interrupted_with(_snapshot_file("weights.weights.h5", b"\x89HDF\r\n")), "weights",
                          ("resume",)),
    "arrays.npz garbage": (_interrupted_with(_snapshot_file("arrays.npz", b"garbage")), "arrays.npz", ("resume",)),
}


def _command(reader: str, run: Path, image: Path) -> list[str]:
    return {"predict": ["predict", str(run), str(image)],
            "gradcam": ["visualize", "gradcam", str(image), "--model", str(run)],
            "activations": ["visualize", "activations", str(image), "--model", str(run)],
            "ensemble": ["ensemble", str(run), str(run.parent / "good")],
            "runs": ["runs"]}.get(reader, [reader, str(run)])


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_every_reader_says_which_file_is_damaged(damage, run, image, run_cli):
    apply, named, refusing = DAMAGES[damage]
    shutil.copytree(run, run.parent / "good")  # an undamaged second member for the ensemble
    apply(run)
    # report rewrites the run's report.html, on purpose: every other file must stay as it was
    before = {path: path.read_bytes() for path in run.rglob("*")
              if path.is_file() and path.name not in (".lock", "report.html")}
    for reader in ALL + LISTINGS:
        result = run_cli(*_command(reader, run, image))
        where = f"{reader} on {damage}"
        assert result.exit_code in (0, 2, 3), f"{where}: exit {result.exit_code}: {result.stderr}"
        assert "unexpected" not in result.stderr and "Traceback" not in result.stderr, where
        if result.exit_code:
            assert result.stderr.count("\n") == 1, f"{where}: {result.stderr}"
        if reader in refusing:
            assert result.exit_code in (2, 3) and named in result.stderr, f"{where}: {result.stderr}"
        if reader in LISTINGS:
            assert result.exit_code == 0, f"{where}: {result.stderr}"
    if "resume" in refusing:  # a refused resume leaves the run as it was
        after = {path: path.read_bytes() for path in before if path.is_file()}
        assert after == before, damage


def test_readers_of_many_runs_report_a_bad_one_and_go_on(run, run_cli):
    good = run.parent / "good"
    shutil.copytree(run, good)
    (run / "run.json").write_text("{")
    for command in (["compare"], ["plot"]):
        result = run_cli(*command, str(run), str(good))
        assert result.exit_code == 2, command
        assert str(run / "run.json") in result.stderr and "unexpected" not in result.stderr
    compared = run_cli("compare", str(run), str(good), "--json")
    assert [row["run"] for row in json.loads(compared.stdout)["runs"]] == [str(good)]
