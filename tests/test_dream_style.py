"""`dlcli dream` and `dlcli style-transfer` on small photos made here, with random weights (--weights
none): the files, their sizes, the losses' direction, on TensorFlow in-process and on JAX and torch in a
subprocess; the refusals (no ImageNet weights offline, a non-image, bad options) before any file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from test_backends import dlcli_process, installed

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless reads and writes the images")
pytestmark = pytest.mark.training

# Two octaves close in size keep InceptionV3's mixed2 wider than its 2-pixel border on a 64-pixel photo.
DREAM = ["--weights", "none", "--octaves", "2", "--octave-scale", "1.03", "--iterations", "4",
         "--layers", "mixed0=1,mixed2=1", "--json", "-q"]
STYLE = ["--weights", "none", "--height", "64", "--iterations", "3", "--json", "-q"]


def photo(path: Path, size=(64, 64), seed: int = 0) -> Path:
    """Noise with a bright disc: something for the networks to see."""
    image = (np.random.default_rng(seed).random((*size, 3)) * 255).astype("uint8")
    cv2.circle(image, (size[1] // 2, size[0] // 2), size[0] // 4, (255, 200, 0), -1)
    cv2.imwrite(str(path), image)
    return path


def picture_shape(path: str) -> tuple[int, ...]:
    return cv2.imread(path).shape


def check_dream(output: dict, workdir: Path) -> None:
    assert [octave["shape"] for octave in output["octaves"]] == [[62, 62], [64, 64]]
    for octave in output["octaves"]:
        assert picture_shape(octave["file"]) == (*octave["shape"], 3)
        assert len(octave["losses"]) == 4 and octave["stopped_at"] is None
        assert octave["losses"][-1] > octave["losses"][0] > 0  # the ascent raises what the layers see
    assert output["final"] == output["octaves"][-1]["file"]
    assert picture_shape(output["final"]) == (64, 64, 3)  # the photo's own size
    assert Path(output["final"]).parent == workdir


def check_style(output: dict, workdir: Path, size=(64, 96), iterations: int = 3) -> None:
    losses = [row["loss"] for row in output["iterations"]]
    assert len(losses) == iterations and all(earlier > later > 0 for earlier, later in zip(losses, losses[1:]))
    for row in output["iterations"]:
        assert picture_shape(str(workdir / row["file"])) == (*size, 3)  # --height, the width in proportion
    written = json.loads(Path(output["losses"]).read_text())
    assert [row["loss"] for row in written["iterations"]] == losses and written["size"] == list(size)


def test_dream_writes_each_octave_and_the_final_picture_at_the_photos_size(run_cli, workdir):
    image = photo(workdir / "photo.png")
    result = run_cli("dream", str(image), *DREAM)
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    check_dream(output, workdir)
    assert output["weights"] == "none" and output["layers"] == {"mixed0": 1.0, "mixed2": 1.0}
    assert "dreaming" not in result.stderr  # -q: no progress bar
    again = run_cli("dream", str(image), *DREAM)  # the same command replaces its own pictures
    assert again.exit_code == 0, again.stderr
    repeated = json.loads(again.stdout)["octaves"]  # random weights drawn from one seed: the same dream
    assert [octave["file"] for octave in repeated] == [octave["file"] for octave in output["octaves"]]
    for first, second in zip(output["octaves"], repeated):
        assert first["losses"] == pytest.approx(second["losses"], rel=1e-4)  # up to threads' summing order


def test_dream_takes_a_local_weights_file(run_cli, workdir):
    from dlcli.backend import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(0)  # the weights --weights none draws
    path = workdir / "inception.weights.h5"
    keras.applications.InceptionV3(weights=None, include_top=False).save_weights(path)
    image = photo(workdir / "photo.png")
    from_file = run_cli("dream", str(image), *DREAM[2:], "--weights", str(path))
    assert from_file.exit_code == 0, from_file.stderr
    output = json.loads(from_file.stdout)
    assert output["weights"] == str(path)
    drawn = json.loads(run_cli("dream", str(image), *DREAM).stdout)
    for first, second in zip(output["octaves"], drawn["octaves"]):
        assert first["losses"] == pytest.approx(second["losses"], rel=1e-4)


def test_dream_stops_an_octave_when_its_loss_passes_max_loss(run_cli, workdir):
    image = photo(workdir / "photo.png")
    result = run_cli("dream", str(image), *DREAM, "--max-loss", "1e-12")
    assert result.exit_code == 0, result.stderr
    for octave in json.loads(result.stdout)["octaves"]:
        assert octave["losses"] == [] and octave["stopped_at"] > 1e-12  # no step taken past max_loss


def test_style_transfer_writes_each_iteration_and_the_loss_goes_down(run_cli, workdir):
    content, style = photo(workdir / "content.png", (64, 96)), photo(workdir / "style.png", (48, 48), seed=1)
    result = run_cli("style-transfer", str(content), str(style), *STYLE)
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    check_style(output, workdir)
    assert output["final"] == str(workdir / output["iterations"][-1]["file"])
    text = run_cli("style-transfer", str(content), str(style), *STYLE[:-2], "--force")
    assert text.exit_code == 0, text.stderr
    assert "styling" in text.stderr  # the progress bar
    assert [line.split()[0] for line in text.stdout.splitlines()[1:4]] == ["1", "2", "3"]  # a loss per iteration


@pytest.mark.parametrize("backend", ["jax", installed("torch")])
def test_dream_and_style_transfer_on_other_backends(workdir, backend):
    image = photo(workdir / "photo.png")
    dreamt = dlcli_process("dream", str(image), *DREAM, env={"KERAS_BACKEND": backend}, timeout=300)
    assert dreamt.returncode == 0, dreamt.stderr
    check_dream(json.loads(dreamt.stdout), workdir)
    content, style = photo(workdir / "content.png", (64, 96)), photo(workdir / "style.png", (48, 48), seed=1)
    smaller = ["--weights", "none", "--height", "32", "--iterations", "2", "--json", "-q"]  # torch runs VGG19 eagerly
    styled = dlcli_process("style-transfer", str(content), str(style), *smaller, env={"KERAS_BACKEND": backend},
                           timeout=300)
    assert styled.returncode == 0, styled.stderr
    check_style(json.loads(styled.stdout), workdir, (32, 48), 2)


def test_offline_without_imagenet_weights_exits_3_naming_the_file(run_cli, workdir):
    image = photo(workdir / "photo.png")
    cases = [(["dream", str(image)], "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
             (["style-transfer", str(image), str(image)], "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")]
    for args, weights_file in cases:
        result = run_cli(*args)
        assert result.exit_code == 3, result.stderr
        assert weights_file in result.stderr and "dlcli data import weights" in result.stderr
        assert "Traceback" not in result.stderr
    assert sorted(path.name for path in workdir.iterdir()) == ["photo.png"]


def test_bad_inputs_exit_with_one_line_and_write_nothing(run_cli, workdir):
    image = photo(workdir / "photo.png")
    tiny = photo(workdir / "tiny.png", (32, 32))
    (workdir / "notes.jpg").write_text("not an image")
    (workdir / "weights.h5").write_text("not weights")
    (workdir / "mine.png").write_bytes(image.read_bytes())  # a file dlcli did not make
    before = sorted(path.name for path in workdir.iterdir())
    cases = [
        (["dream", str(workdir / "notes.jpg"), "--weights", "none"], 2, "notes.jpg"),
        (["dream", str(workdir / "missing.jpg"), "--weights", "none"], 3, "missing.jpg: no such image"),
        (["style-transfer", str(image), str(workdir / "notes.jpg"), "--weights", "none"], 2, "notes.jpg"),
        (["style-transfer", str(workdir / "missing.jpg"), str(image), "--weights", "none"], 3, "missing.jpg"),
        (["dream", str(image), "--weights", "none", "--layers", "mixed2"], 2, "not LAYER=COEFFICIENT"),
        (["dream", str(image), "--weights", "none", "--layers", "mixed99=1"], 2, "no layer mixed99"),
        (["dream", str(tiny), "--weights", "none"], 2, "too small"),
        (["dream", str(image), "--weights", "none", "--octaves", "0"], 2, "--octaves 0"),
        (["dream", str(image), "--weights", str(workdir / "absent.h5")], 3, "absent.h5: no such weights file"),
        (["dream", str(image), "--weights", str(workdir / "weights.h5")], 2, "weights.h5"),
        (["dream", str(image), "--weights", "none", "--out", str(workdir / "mine.png")], 2, "--force"),
        (["style-transfer", str(image), str(image), "--weights", "none", "--height", "8"], 2, "--height 8"),
    ]
    for args, code, message in cases:
        result = run_cli(*args)
        assert result.exit_code == code and message in result.stderr, (args, result.exit_code, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert sorted(path.name for path in workdir.iterdir()) == before
