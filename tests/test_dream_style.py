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
    # random weights differ by backend: the same command on TensorFlow names its pictures apart
    on_tensorflow = dlcli_process("dream", str(image), *DREAM, env={"KERAS_BACKEND": "tensorflow"}, timeout=300)
    assert on_tensorflow.returncode == 0, on_tensorflow.stderr
    assert json.loads(on_tensorflow.stdout)["final"] != json.loads(dreamt.stdout)["final"]
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
    strip = photo(workdir / "strip.png", (2, 1000))  # 8,000 pixels wide at 16 rows: VGG19 would take minutes
    (workdir / "notes.jpg").write_text("not an image")
    (workdir / "weights.h5").write_text("not weights")
    from dlcli.backend import import_keras

    keras = import_keras()  # the weights of another network: Keras lists every layer it cannot load
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save_weights(workdir / "other.weights.h5")
    (workdir / "mine.png").write_bytes(image.read_bytes())  # a file dlcli did not make
    before = sorted(path.name for path in workdir.iterdir())
    cases = [
        (["dream", str(workdir / "notes.jpg"), "--weights", "none"], 2, "notes.jpg"),
        (["dream", str(workdir / "missing.jpg"), "--weights", "none"], 2, "missing.jpg: no such image"),
        (["style-transfer", str(image), str(workdir / "notes.jpg"), "--weights", "none"], 2, "notes.jpg"),
        (["style-transfer", str(workdir / "missing.jpg"), str(image), "--weights", "none"], 2, "missing.jpg"),
        (["dream", str(image), "--weights", "none", "--layers", "mixed2"], 2, "not LAYER=COEFFICIENT"),
        (["dream", str(image), "--weights", "none", "--layers", "mixed99=1"], 2, "no layer mixed99"),
        (["dream", str(tiny), "--weights", "none"], 2, "too small"),
        (["dream", str(tiny), "--weights", "none", "--octaves", "1"], 2, "image of 32x32 pixels is too small"),
        (["dream", str(image), "--weights", "none", "--octaves", "0"], 2, "--octaves 0"),
        (["dream", str(image), "--weights", str(workdir / "absent.h5")], 2, "absent.h5: no such weights file"),
        (["dream", str(image), "--weights", str(workdir / "weights.h5")], 2, "weights.h5"),
        (["dream", str(image), "--weights", str(workdir / "other.weights.h5")], 2, "other.weights.h5"),
        (["dream", str(image), "--weights", "none", "--out", str(workdir / "mine.png")], 2, "--force"),
        (["style-transfer", str(image), str(image), "--weights", "none", "--height", "8"], 2, "--height 8"),
        (["style-transfer", str(strip), str(image), "--weights", "none", "--height", "16"], 2, "8000 pixels wide"),
    ]
    for args, code, message in cases:
        result = run_cli(*args)
        assert result.exit_code == code and message in result.stderr, (args, result.exit_code, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert sorted(path.name for path in workdir.iterdir()) == before


def book_dream(model, image, layers, octaves, octave_scale, iterations, step):
    """8.9-8.13 as printed (Keras 2's K.function written with tf.GradientTape), on a small network."""
    import scipy.ndimage
    import tensorflow as tf

    def resize_img(img, size):
        factors = (1, float(size[0]) / img.shape[1], float(size[1]) / img.shape[2], 1)
        return scipy.ndimage.zoom(img, factors, order=1)

    def eval_loss_and_grads(x):
        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = 0.0
            for name, coeff in layers.items():
                activation = model.get_layer(name)(x) if name == "a" else model(x)
                scaling = tf.reduce_prod(tf.cast(tf.shape(activation), "float32"))
                loss += coeff * tf.reduce_sum(tf.square(activation[:, 2:-2, 2:-2, :])) / scaling
        grads = tape.gradient(loss, x)
        return loss.numpy(), (grads / tf.maximum(tf.reduce_mean(tf.abs(grads)), 1e-7)).numpy()

    img = image[None].copy()
    original_shape = img.shape[1:3]
    successive_shapes = [original_shape]
    for i in range(1, octaves):
        successive_shapes.append(tuple([int(dim / (octave_scale ** i)) for dim in original_shape]))
    successive_shapes = successive_shapes[::-1]
    original_img = np.copy(img)
    shrunk_original_img = resize_img(img, successive_shapes[0])
    saved = []
    for shape in successive_shapes:
        img = resize_img(img, shape)
        for _ in range(iterations):
            img = img + step * eval_loss_and_grads(img)[1]
        lost_detail = resize_img(original_img, shape) - resize_img(shrunk_original_img, shape)
        img += lost_detail
        shrunk_original_img = resize_img(original_img, shape)
        saved.append(img[0])
    return saved


def test_deep_dream_follows_the_books_recipe_step_for_step():
    """Loss, normalised step, octave sizes and the lost detail re-injected with 8.13's resize_img."""
    from dlcli.backend import import_keras
    from dlcli.viz.dream import deep_dream, feature_extractor

    keras = import_keras()
    keras.utils.set_random_seed(1)
    inputs = keras.Input((None, None, 3))
    first = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="a")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(4, 3, strides=2, padding="same", name="b")(first))
    layers = {"a": 0.5, "b": 2.0}
    image = np.random.default_rng(0).uniform(-1, 1, (30, 41, 3)).astype("float32")
    octaves = deep_dream(feature_extractor(model, layers), image, layers, 3, 1.4, 3, 0.01, max_loss=None)
    expected = book_dream(model, image, layers, 3, 1.4, 3, 0.01)
    assert [octave.shape for octave in octaves] == [(15, 20), (21, 29), (30, 41)]
    for octave, book in zip(octaves, expected):
        np.testing.assert_allclose(octave.image, book, atol=1e-4)


@pytest.mark.parametrize("network", ["inceptionv3", "vgg19"])
def test_deprocessing_gives_the_nearest_pixel_level(network):
    """The book's astype('uint8') truncates: 254.6 became 254, and float error alone turned
    InceptionV3's 255 into 254.99997 and so 254."""
    from dlcli.pretrained import preprocess_input
    from dlcli.viz import dream, style_transfer

    levels = np.repeat(np.arange(256, dtype="float32")[None, :, None], 3, axis=2)  # (1, 256, 3): every level
    deprocess = dream.deprocess if network == "inceptionv3" else style_transfer.deprocess
    for offset in (0.0, -0.4, 0.4):
        restored = deprocess(preprocess_input(network)(levels + offset)[0])
        assert restored.dtype == np.uint8 and (restored == levels[0]).all(), offset
