"""The files dlcli writes (issue 14): every picture named after all its inputs and options, no
file replaced that dlcli did not make (without --force) and nothing written into another run, and
optional parts of a run (model.png, model.json, summary.txt) that fail as a note, never the run."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import write

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless writes the test images")

CONVNET = """
description: a tiny convnet for the picture tests
seed: 1
data: {name: synthetic, num_samples: 32, num_test: 8, shape: [12, 12, 3], num_classes: 3, pixels: true}
model:
  type: sequential
  layers:
    - RandomFlip: {mode: horizontal}
    - Conv2D: {filters: 4, kernel_size: 3, activation: relu, name: conv}
    - MaxPooling2D: {pool_size: 2, name: pool}
    - Flatten: {}
    - Dense: {units: 3, activation: softmax}
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 8, validation: {kind: split, fraction: 0.25}}
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One completed run of CONVNET, trained once for the module; tests copy it."""
    from dlcli import api

    root = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("DLCLI_RUNS_DIR", str(root / "runs"))
        patch.setenv("DLCLI_DATA_DIR", str(root / "data"))
        patch.setenv("DLCLI_OFFLINE", "1")
        result = api.train(str(write(root / "convnet.yaml", CONVNET)), verbose=0)
    return Path(result["run_dir"])


@pytest.fixture
def runs(trained, workdir) -> tuple[Path, Path]:
    """Two runs of the convnet in this test's folder (the second a copy: another run to overlay)."""
    first = workdir / "runs" / "convnet" / "first"
    shutil.copytree(trained, first)
    second = shutil.copytree(trained, workdir / "runs" / "convnet" / "second")
    return first, second


def photo(path: Path, level: int = 200) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((20, 16, 3), 30, "uint8")
    image[4:12, 3:9] = level
    cv2.imwrite(str(path), image)
    return path


def pictures(run: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for folder in ("viz", "plots") for path in (run / folder).glob("*.png")}


def one_line_refusal(result) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


# ------------------------------------------------------------------ names: one picture, one file

# (command A, command B that differs in one input or option): B makes new files, never A's.
VARIANTS = {
    "gradcam class": (["visualize", "gradcam", "{a}", "--model", "{run}", "--class", "0"],
                      ["visualize", "gradcam", "{a}", "--model", "{run}", "--class", "1"]),
    "gradcam alpha": (["visualize", "gradcam", "{a}", "--model", "{run}", "--alpha", "0.4"],
                      ["visualize", "gradcam", "{a}", "--model", "{run}", "--alpha", "0.7"]),
    "gradcam same stem": (["visualize", "gradcam", "{a}", "--model", "{run}"],
                          ["visualize", "gradcam", "{b}", "--model", "{run}"]),
    "activations same stem": (["visualize", "activations", "{a}", "--model", "{run}"],
                              ["visualize", "activations", "{b}", "--model", "{run}"]),
    "filters steps": (["visualize", "filters", "--model", "{run}", "--steps", "1"],
                      ["visualize", "filters", "--model", "{run}", "--steps", "2"]),
    "filters seed": (["visualize", "filters", "--model", "{run}", "--steps", "1", "--seed", "1"],
                     ["visualize", "filters", "--model", "{run}", "--steps", "1", "--seed", "2"]),
    "augmentation seed": (["visualize", "augmentation", "{a}", "--experiment", "{run}", "--count", "2"],
                          ["visualize", "augmentation", "{a}", "--experiment", "{run}", "--count", "2", "--seed", "1"]),
    "plot overlay": (["plot", "{run}"], ["plot", "{run}", "{other}"]),
    "plot metric": (["plot", "{run}", "{other}", "--metric", "loss"], ["plot", "{run}", "{other}", "--metric", "val_loss"]),
    "plot smoothing": (["plot", "{run}"], ["plot", "{run}", "--smooth", "0.5"]),
    "plot skip": (["plot", "{run}", "--metric", "loss"], ["plot", "{run}", "--metric", "loss", "--skip-first", "1"]),
}


@pytest.mark.training
@pytest.mark.parametrize("variant", VARIANTS)
def test_another_command_never_replaces_a_picture_and_the_same_one_replaces_its_own(run_cli, workdir, runs, variant):
    run, other = runs
    values = {"run": str(run), "other": str(other), "a": str(photo(workdir / "one" / "fm0.png")),
              "b": str(photo(workdir / "two" / "fm0.png", level=90))}
    first, second = ([part.format(**values) for part in command] for command in VARIANTS[variant])

    made = []
    for command in (first, second, first):
        before = pictures(run)
        result = run_cli(*command)
        assert result.exit_code == 0, result.stderr
        after = pictures(run)
        made.append(set(after) - set(before))
        if command is second:
            assert all(after[path] == content for path, content in before.items()), "a picture was replaced"
    assert made[0] and made[1] and not made[0] & made[1], made  # B wrote files of its own
    assert not made[2], "the same command made a new file instead of replacing its own"
    assert not any(path.name != "model.png" for path in other.rglob("*.png")), "a plot went into the other run"
    if (run / "viz" / "index.json").exists():
        index = json.loads((run / "viz" / "index.json").read_text())
        listed = [name for entry in index for name in entry["files"]]
        assert len(listed) == len(set(listed)), "two index entries name one file"
        assert sorted(listed) == sorted(path.name for path in (run / "viz").glob("*.png"))


def test_picture_names_are_readable_bounded_and_distinct():
    from dlcli.outputs import identity, picture_name

    one = identity(kind="gradcam", image="/a/fm0.png", layer="conv", class_index=9, alpha=0.4)
    assert one == identity(alpha=0.4, class_index=9, layer="conv", image="/a/fm0.png", kind="gradcam")
    assert one != identity(kind="gradcam", image="/b/fm0.png", layer="conv", class_index=9, alpha=0.4)
    name = picture_name(["fm0", "gradcam", "Ankle boot", "conv/1", "alpha0.4"], one)
    assert name == f"fm0-gradcam-Ankle_boot-conv_1-alpha0.4-{one[:8]}.png"
    long = picture_name(["x" * 500, "y" * 500], one)
    assert len(long) < 120 and long.endswith(f"-{one[:8]}.png")
    assert picture_name(["loss", None, "smooth0.9"]) == "loss-smooth0.9.png"


def test_a_rewritten_picture_replaces_its_index_entry(workdir):
    from dlcli.runs import Run

    run = Run.create("exp")
    run.write_json("run.json", {"status": "completed", "experiment": "exp"})
    run.publish()
    run.record_viz({"kind": "gradcam", "files": ["a.png", "a-heatmap.png"], "class": "Ankle boot"})
    run.record_viz({"kind": "gradcam", "files": ["b.png"], "class": "Sneaker"})
    run.record_viz({"kind": "gradcam", "files": ["a.png", "a-heatmap.png"], "class": "Ankle boot"})
    index = json.loads(run.file("viz/index.json").read_text())
    assert [entry["files"] for entry in index] == [["b.png"], ["a.png", "a-heatmap.png"]]


# ------------------------------------------------------------------ --out: refusals, one line each

OUT_COMMANDS = {  # command, its --out for a file (or folder), whether --out is a folder
    "gradcam": (["visualize", "gradcam", "{image}", "--model", "{model}"], False),
    "activations": (["visualize", "activations", "{image}", "--model", "{model}"], True),
    "filters": (["visualize", "filters", "--model", "{model}", "--steps", "1"], False),
    "augmentation": (["visualize", "augmentation", "{image}", "--experiment", "{run}", "--count", "1"], False),
    "plot": (["plot", "{run}", "--metric", "loss"], False),
}


def _command(name: str, values: dict) -> list[str]:
    return [part.format(**values) for part in OUT_COMMANDS[name][0]]


@pytest.mark.training
@pytest.mark.parametrize("name", OUT_COMMANDS)
def test_out_is_refused_inside_another_run_and_outside_picture_folders(run_cli, workdir, runs, name):
    run, other = runs
    (other / "model.png").write_bytes(b"\x89PNG not really")
    values = {"image": str(photo(workdir / "fm0.png")), "model": str(run / "model.keras"), "run": str(run)}
    before = {path: path.read_bytes() for path in other.rglob("*") if path.is_file()}
    drawing = (run / "model.png").read_bytes() if (run / "model.png").exists() else None  # train's, with Graphviz
    folder = OUT_COMMANDS[name][1]
    targets = [other / "plots", other / "viz" / "x"] if folder else \
        [other / "model.png", other / "plots" / "loss.png", other / "deep" / "er" / "x.png"]
    if name in ("plot", "augmentation"):  # they write into RUN: inside it, only its plots/ and viz/
        targets.append(run if folder else run / "model.png")
    for target in targets:
        result = run_cli(*_command(name, values), "--out", str(target), "--force")
        one_line_refusal(result)
        assert "run" in result.stderr
    assert {path: path.read_bytes() for path in other.rglob("*") if path.is_file()} == before
    assert ((run / "model.png").read_bytes() if (run / "model.png").exists() else None) == drawing


@pytest.mark.training
@pytest.mark.parametrize("name", OUT_COMMANDS)
def test_out_never_replaces_a_file_dlcli_did_not_make_without_force(run_cli, workdir, runs, name):
    run, _ = runs
    values = {"image": str(photo(workdir / "fm0.png")), "model": str(run / "model.keras"), "run": str(run)}
    folder = OUT_COMMANDS[name][1]
    out = workdir / ("pictures" if folder else "picture.png")
    result = run_cli(*_command(name, values), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    made = sorted(out.glob("*.png")) if folder else [out]
    assert made
    again = run_cli(*_command(name, values), "--out", str(out))  # the same picture: replaced
    assert again.exit_code == 0, again.stderr
    for path in made:
        path.write_bytes(b"the user's own file")  # now a file dlcli did not make
    refused = run_cli(*_command(name, values), "--out", str(out))
    one_line_refusal(refused)
    assert str(made[0].name) in refused.stderr and "--force" in refused.stderr
    assert all(path.read_bytes() == b"the user's own file" for path in made)
    forced = run_cli(*_command(name, values), "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert all(path.read_bytes()[:4] == b"\x89PNG" for path in made)


@pytest.mark.parametrize("name", [name for name, (_, folder) in OUT_COMMANDS.items() if not folder])
def test_out_with_an_extension_that_is_no_picture_is_refused_before_any_work(run_cli, workdir, name):
    values = {"image": str(workdir / "missing.jpg"), "model": str(workdir / "missing.keras"),
              "run": str(workdir / "missing-run")}
    if name == "plot":
        from dlcli.runs import Run

        run = Run.create("exp")
        run.write_json("run.json", {"status": "completed", "experiment": "exp"})
        run.publish()
        values["run"] = str(run.path)
    started = time.perf_counter()
    result = run_cli(*_command(name, values), "--out", str(workdir / "x.keras"))
    one_line_refusal(result)
    assert "--out" in result.stderr and ".keras" in result.stderr  # not the missing image or model
    assert time.perf_counter() - started < 5 and not (workdir / "x.keras").exists()


def test_run_dir_inside_a_run_is_refused(run_cli, workdir, tiny_spec):
    from dlcli.runs import Run

    run = Run.create("exp")
    run.write_json("run.json", {"status": "completed", "experiment": "exp"})
    run.publish()
    before = sorted(run.path.rglob("*"))
    for nested in (run.path / "nested", run.path / "plots" / "deeper" / "x"):
        result = run_cli("train", str(tiny_spec), "--run-dir", str(nested))
        one_line_refusal(result)
        assert str(run.path) in result.stderr
    assert sorted(run.path.rglob("*")) == before


# ------------------------------------------------------------------ optional parts of a run

def fake_dot(folder: Path, body: str) -> None:
    """A `dot` on PATH that runs `body` (a shell script)."""
    folder.mkdir(parents=True, exist_ok=True)
    write(folder / "dot", "#!/bin/sh\n" + body).chmod(0o755)


DOTS = {
    "exits 1": ('echo "dot junk on stdout"\necho "Error: broken graphviz" >&2\nexit 1\n', "code 1"),
    "hangs": ('sleep 60 &\necho $! > "$PWD/sleeper.pid"\nwait\n', "ran past"),  # its child holds the output open
    "crashes": ("kill -SEGV $$\n", "code -11"),
}


@pytest.mark.training
@pytest.mark.parametrize("kind", DOTS)
def test_a_broken_graphviz_is_a_note_not_a_failed_run(run_cli, workdir, tiny_spec, monkeypatch, kind):
    pytest.importorskip("pydot")
    from dlcli.models import describing

    body, why = DOTS[kind]
    fake_dot(workdir / "bin", body)
    monkeypatch.setenv("PATH", f"{workdir / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(describing, "DRAW_TIMEOUT_S", 2)
    monkeypatch.setattr(describing, "STUCK", [])
    started = time.perf_counter()
    result = run_cli("train", str(tiny_spec), "--epochs", "1", "--json", "-q")
    assert result.exit_code == 0, result.stderr
    assert time.perf_counter() - started < 60
    run = Path(json.loads(result.stdout)["run_dir"])  # stdout holds the JSON object and nothing else
    files = json.loads((run / "run.json").read_text())["model_files"]
    assert files["plot"].startswith("not drawn") and why in files["plot"], files
    assert len(files["plot"].splitlines()) == 1 and "junk" not in result.stdout + result.stderr
    assert not (run / "model.png").exists() and not list(run.glob(".model*"))
    assert files["config"] == "model.json" and files["summary"] == "summary.txt"
    if kind == "hangs":  # stopped with what it started: nothing left running
        status = Path(f"/proc/{(workdir / 'sleeper.pid').read_text().strip()}/status")
        assert not status.exists() or "zombie" in status.read_text()
        started = time.perf_counter()  # the next run of this process (a sweep's next trial) waits no more
        again = run_cli("train", str(tiny_spec), "--epochs", "1", "--json", "-q")
        files = json.loads((Path(json.loads(again.stdout)["run_dir"]) / "run.json").read_text())["model_files"]
        assert "earlier model" in files["plot"] and time.perf_counter() - started < 30


@pytest.mark.training
def test_a_working_graphviz_draws_model_png(run_cli, workdir, tiny_spec, monkeypatch):
    pytest.importorskip("pydot")
    fake_dot(workdir / "bin", 'cat > /dev/null\nprintf "\\211PNG fake" > "$3"\n')  # dot -Tpng -o FILE
    monkeypatch.setenv("PATH", f"{workdir / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = run_cli("train", str(tiny_spec), "--epochs", "1", "--json", "-q")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    assert json.loads((run / "run.json").read_text())["model_files"]["plot"] == "model.png"
    assert (run / "model.png").read_bytes().startswith(b"\x89PNG")


class Unserialisable:
    """A model whose every description fails, as a custom subclass without get_config may."""

    def to_json(self):
        raise NotImplementedError("Layer Gan has no get_config")

    def summary(self, **kwargs):
        print("half a table")
        raise ValueError("This model has not yet been built.")


def test_each_optional_description_that_fails_is_a_one_line_note(workdir, capsys):
    from dlcli.models.describing import describe
    from dlcli.runs import Run

    run = Run.create("described")
    files = describe(Unserialisable(), run)
    assert files["config"].startswith("not written: NotImplementedError") and "get_config" in files["config"]
    assert files["summary"].startswith("not written: ValueError") and "not yet been built" in files["summary"]
    assert files["plot"].startswith("not drawn")
    assert all(len(note.splitlines()) == 1 for note in files.values())
    assert [path.name for path in run.path.iterdir()] == [".lock"]  # no half-written file
    assert capsys.readouterr().out == ""


def _failing_tensorboard(monkeypatch):
    from dlcli.backend import import_keras

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(import_keras().callbacks.TensorBoard, "on_epoch_end", full_disk)


def _failing_activation_logger(monkeypatch):
    from dlcli.training.monitoring import monitoring_classes

    def broken(self, *args, **kwargs):
        raise ValueError("cannot save activations")

    monkeypatch.setattr(monitoring_classes()[0], "on_epoch_end", broken)


OPTIONAL_CALLBACKS = {  # callback entry, how it fails, the part run.json names, a word of the reason
    "TensorBoard": ("TensorBoard: {histogram_freq: 1}", _failing_tensorboard, "logs/", "No space left"),
    "ActivationLogger": ("ActivationLogger: {samples: 2}", _failing_activation_logger, "activations/", "cannot save"),
}


@pytest.mark.training
@pytest.mark.parametrize("name", OPTIONAL_CALLBACKS)
def test_an_optional_callback_that_fails_is_a_note_not_a_failed_run(run_cli, workdir, tiny_spec, monkeypatch, name):
    entry, break_it, part, why = OPTIONAL_CALLBACKS[name]
    break_it(monkeypatch)
    spec = write(workdir / "optional.yaml", tiny_spec.read_text().replace("callbacks:\n", f"callbacks:\n  - {entry}\n"))
    result = run_cli("train", str(spec), "--epochs", "2", "--json", "-q")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["status"] == "completed"
    info = json.loads((Path(output["run_dir"]) / "run.json").read_text())
    assert info["status"] == "completed" and why in info["missing"][part]
    assert len(info["missing"][part].splitlines()) == 1


BOUNDS = {  # a command past one of its bounds: refused at once, naming the option and the bound
    "filter size": (["visualize", "filters", "--size", "100000"], "--size", "1024"),
    "filter steps": (["visualize", "filters", "--steps", "1000000000"], "--steps", "10,000"),
    "variants": (["visualize", "augmentation", "{image}", "--count", "1000000"], "--count", "100"),
}


@pytest.mark.parametrize("bound", BOUNDS)
def test_what_one_command_draws_is_bounded(run_cli, workdir, bound):
    command, option, limit = BOUNDS[bound]
    started = time.perf_counter()
    result = run_cli(*[part.format(image=workdir / "missing.jpg") for part in command],
                     "--model" if "filters" in command else "--experiment", str(workdir / "missing.keras"))
    one_line_refusal(result)
    assert option in result.stderr and limit in result.stderr
    assert time.perf_counter() - started < 5


def test_a_damaged_viz_index_is_named_before_any_picture_is_written(run_cli, workdir, runs):
    run, _ = runs
    (run / "viz").mkdir()
    (run / "viz" / "index.json").write_text('{"not": "a list"}')
    result = run_cli("visualize", "filters", "--model", str(run), "--steps", "1")
    one_line_refusal(result)
    assert "index.json" in result.stderr
    assert sorted(path.name for path in (run / "viz").iterdir()) == ["index.json"]


def test_new_writes_no_spec_into_a_run(run_cli, workdir):
    from dlcli.runs import Run

    run = Run.create("exp")
    run.write_json("run.json", {"status": "completed", "experiment": "exp"})
    run.publish()
    result = run_cli("new", "binary", "mine", "--out", str(run.path / "plots"), "--force")
    one_line_refusal(result)
    assert str(run.path) in result.stderr and not (run.path / "plots").exists()


@pytest.mark.training
def test_links_and_the_current_folder_lead_into_no_other_run(run_cli, workdir, runs, monkeypatch):
    run, other = runs
    model = shutil.copy(run / "model.keras", workdir / "model.keras")
    image = str(photo(workdir / "fm0.png"))
    (other / "model.png").write_bytes(b"\x89PNG the other run's drawing")
    (workdir / "into-other").symlink_to(other / "plots", target_is_directory=True)
    (workdir / "drawing.png").symlink_to(other / "model.png")
    for out in ("into-other", "into-other/x.png"):
        one_line_refusal(run_cli("visualize", "gradcam", image, "--model", str(model), "--out", str(workdir / out)))
    one_line_refusal(run_cli("visualize", "gradcam", image, "--model", str(model), "--out", str(workdir / "drawing.png")))
    forced = run_cli("visualize", "gradcam", image, "--model", str(model), "--out", str(workdir / "drawing.png"), "--force")
    assert forced.exit_code == 0, forced.stderr  # the link is replaced, not what it points at
    assert (other / "model.png").read_bytes() == b"\x89PNG the other run's drawing"
    assert not (workdir / "drawing.png").is_symlink()
    monkeypatch.chdir(other)  # the default folder of a model that is no run's is the current one
    one_line_refusal(run_cli("visualize", "gradcam", image, "--model", str(model)))
    assert not list(other.glob("*gradcam*")) and not (other / "plots").exists()


LONG = "z" * 300  # longer than any file system's name limit (255 bytes)
TOO_LONG = {
    "plot --out file": ["plot", "{run}", "--out", f"{{workdir}}/{LONG}.png"],
    "plot --out folder": ["plot", "{run}", "--out", f"{{workdir}}/{LONG}/"],
    "plot run": ["plot", LONG],
    "gradcam --out": ["visualize", "gradcam", "x.png", "--model", "{run}", "--out", f"{LONG}/a.png"],
    "activations --out": ["visualize", "activations", "x.png", "--model", "{run}", "--out", LONG],
    "filters --model": ["visualize", "filters", "--model", LONG],
    "filters --model file": ["visualize", "filters", "--model", f"{LONG}.keras"],
    "augmentation --experiment": ["visualize", "augmentation", "x.png", "--experiment", LONG],
    "train --run-dir": ["train", "{spec}", "--run-dir", f"{{workdir}}/{LONG}"],
    # a RUN or spec argument too long to be a name (each command's path checks raised OSError)
    **{f"{' '.join(command)} RUN": [*command, LONG] for command in (
        ["train"], ["show"], ["resume"], ["evaluate"], ["check"], ["compare"], ["report"], ["tensorboard"],
        ["generate", "text"])},
    "predict RUN": ["predict", LONG, "x.png"],
}


@pytest.mark.parametrize("case", TOO_LONG)
def test_a_path_too_long_is_one_line(run_cli, workdir, tiny_spec, case):
    from dlcli.runs import Run

    run = Run.create("exp")
    run.write_json("run.json", {"status": "completed", "experiment": "exp"})
    run.publish()
    run.write_json("history.json", {"epoch": [1, 2], "loss": [1.0, 0.5]})
    values = {"run": str(run.path), "workdir": str(workdir), "spec": str(tiny_spec)}
    one_line_refusal(run_cli(*[part.format(**values) for part in TOO_LONG[case]]))


@pytest.mark.training
def test_a_moved_run_keeps_its_pictures(run_cli, workdir, runs):
    """Identities name the run's own files relative to it: drawing again after a move replaces."""
    run, _ = runs
    commands = [["plot", "{run}"], ["visualize", "filters", "--model", "{run}", "--steps", "1"]]
    for command in commands:
        assert run_cli(*[part.format(run=run) for part in command]).exit_code == 0
    moved = run.rename(run.with_name("moved"))
    before = set(pictures(moved))
    for command in commands:
        result = run_cli(*[part.format(run=moved) for part in command])
        assert result.exit_code == 0, result.stderr
    assert set(pictures(moved)) == before
