"""Plots and pictures that read well: learning curves of runs and of Keras' own history files
(no TensorFlow here; the pictures of a model are in test_visualize.py)."""

from __future__ import annotations

import json

from test_reference_plotting import make_run

HISTORY = {"loss": [1.0, 0.6, 0.4, 0.3, 0.25], "val_loss": [1.1, 0.8, 0.7, 0.75, 0.8],
           "acc": [0.5, 0.7, 0.8, 0.85, 0.9], "val_acc": [0.5, 0.6, 0.65, 0.66, 0.64]}


def lines_of(figure):
    return [line for line in figure.axes[0].get_lines() if len(line.get_xdata())]


def legend_of(figure) -> list[str]:
    return [text.get_text() for text in figure.axes[0].get_legend().get_texts()]


def epoch_ticks(figure) -> list[float]:
    """The epoch ticks a reader sees (those inside the axis' limits)."""
    figure.canvas.draw()
    axes = figure.axes[0]
    return [tick for tick in axes.get_xticks() if axes.get_xlim()[0] <= tick <= axes.get_xlim()[1]]


def test_one_run_curves_are_lines_over_integer_epochs_titled_by_the_run(workdir):
    from dlcli.plotting import curve_figures

    run = make_run("mnist-dense", HISTORY, info={"started_at": "2026-12-03T18:30:11+00:00"})
    figures = curve_figures([run])
    assert sorted(figures) == ["acc", "loss"]
    figure = figures["loss"]
    axes = figure.axes[0]
    ticks = epoch_ticks(figure)
    assert ticks and all(float(tick).is_integer() for tick in ticks)  # no epoch 2.5
    for epochs in (1, 2):  # a quick run: no 0.95, 0.975... either
        short = make_run("mnist-dense", {key: values[:epochs] for key, values in HISTORY.items()})
        assert [float(tick) for tick in epoch_ticks(curve_figures([short])["loss"])] == list(range(1, epochs + 1))
    assert [line.get_linestyle() for line in lines_of(figure)] != [] and all(
        line.get_linestyle() not in ("None", "", " ") and line.get_marker() not in ("None", "", " ")
        for line in lines_of(figure))
    assert "mnist-dense" in axes.get_title() and "2026-12-03 18:30" in axes.get_title() and "loss" in axes.get_title()
    assert list(lines_of(figure)[0].get_xdata()) == [1, 2, 3, 4, 5]
    no_validation = make_run("mnist-dense", {"loss": [1.0, 0.5]})
    assert curve_figures([no_validation])["loss"].axes[0].get_title().endswith("\ntraining loss")  # only what is drawn


def test_overlays_are_labelled_by_the_settings_that_differ(workdir):
    from dlcli.plotting import curve_figures

    spec = "seed: 1\ndata: {name: mnist}\nfit: {epochs: %d, batch_size: 128}\n"
    short = make_run("mnist-dense", {key: values[:2] for key, values in HISTORY.items()}, spec=spec % 2)
    long = make_run("mnist-dense", HISTORY, spec=spec % 5)
    figure = curve_figures([short, long], metric="val_loss")["loss"]
    assert legend_of(figure) == ["fit.epochs=2\n(hidden under fit.epochs=5: same values)",
                                 "fit.epochs=5"]  # not folder names; short's epochs are long's first two
    assert all(line.get_linestyle() == "-" for line in lines_of(figure))
    assert "mnist-dense" in figure.axes[0].get_title() and "validation loss" in figure.axes[0].get_title()


def test_identical_settings_fall_back_to_the_run_time(workdir):
    from dlcli.plotting import curve_figures

    first, second = make_run("a", HISTORY, spec="seed: 1\n"), make_run("a", HISTORY, spec="seed: 1\n")
    labels = legend_of(curve_figures([first, second], metric="val_loss")["loss"])
    assert labels == [f"a ({first.path.name})\n(hidden under a ({second.path.name}): same values)",
                      f"a ({second.path.name})"]


def test_a_spec_yaml_that_cannot_be_read_costs_the_labels_not_the_curves(workdir):
    from dlcli.plotting import curve_figures

    broken = make_run("a", HISTORY, spec="seed: 1\nseed: 2\n")  # a key given twice: a spec error
    figure = curve_figures([broken], metric="val_loss")["loss"]
    assert lines_of(figure)  # drawn, its settings unknown


def test_a_run_without_the_metric_is_named_not_dropped(run_cli, workdir):
    with_accuracy = make_run("mnist-dense", HISTORY, spec="fit: {epochs: 5}\n")
    without = make_run("mnist-dense", {"loss": [1.0, 0.5], "val_loss": [1.0, 0.9]}, spec="fit: {epochs: 2}\n")
    result = run_cli("plot", str(with_accuracy.path), str(without.path), "--out", str(workdir / "out"))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [f"{without.path}: no val_acc; not in the acc plot"]
    from dlcli.plotting import curve_figures

    legend = legend_of(curve_figures([with_accuracy, without])["acc"])
    assert legend == ["fit.epochs=5", "not drawn: fit.epochs=2 (no val_acc)"]
    untrained = make_run("mnist-dense", {"loss": []}, spec="fit: {epochs: 9}\n")
    result = run_cli("plot", str(untrained.path), str(with_accuracy.path), "--out", str(workdir / "out"))
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"{untrained.path}: no history.json with epochs to plot (was the run trained?)"]
    assert len(result.stdout.split()) == 2  # loss and acc of the trained run, though the first run has none
    alone = run_cli("plot", str(untrained.path))
    assert alone.exit_code == 2 and "was the run trained?" in alone.stderr


def test_plot_reads_a_keras_history_json_beside_it(run_cli, workdir):
    from dlcli.curves import file_curves
    from dlcli.plotting import draw

    path = workdir / "history.json"
    path.write_text(json.dumps({"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, 0.6]}))  # history.history
    result = run_cli("plot", str(path))
    assert result.exit_code == 0, result.stderr
    written = result.stdout.split()
    assert len(written) == 1 and written[0].startswith(str(workdir / "history-loss-")) and written[0].endswith(".png")
    figures = {base: drawn.figure for base, drawn in draw([file_curves(path)], None, None, 0).items()}
    assert [list(line.get_xdata()) for line in lines_of(figures["loss"])] == [[1, 2, 3], [1, 2, 3]]
    assert "history.json" in figures["loss"].axes[0].get_title()


def test_plot_reads_a_csvlogger_file_with_epochs_from_zero(run_cli, workdir):
    from dlcli.curves import file_curves
    from dlcli.plotting import draw

    path = workdir / "training.log"  # the name Keras' documentation gives a CSVLogger file
    csv_file = workdir / "log.csv"
    csv_file.write_text("epoch;accuracy;loss;val_accuracy;val_loss\n0;0.5;1.0;0.4;1.1\n1;0.7;0.6;0.6;0.8\n")
    figures = {base: drawn.figure for base, drawn in draw([file_curves(csv_file)], None, None, 0).items()}
    assert sorted(figures) == ["accuracy", "loss"]
    assert list(lines_of(figures["loss"])[0].get_xdata()) == [1, 2]  # CSVLogger's epoch 0 is the first epoch
    assert list(lines_of(figures["loss"])[1].get_ydata()) == [1.1, 0.8]
    out = workdir / "curves.png"
    result = run_cli("plot", str(csv_file), "--metric", "loss", "--out", str(out))
    assert result.exit_code == 0 and out.read_bytes()[:4] == b"\x89PNG"
    path.write_text(csv_file.read_text())
    result = run_cli("plot", str(path), "--metric", "accuracy")
    assert result.exit_code == 0 and "training-accuracy-" in result.stdout
    path.write_text("not a history")
    result = run_cli("plot", str(path))
    assert result.exit_code == 2 and "CSVLogger" in result.stderr and "Traceback" not in result.stderr


def test_a_broken_history_file_is_one_line(run_cli, workdir):
    for name, text in (("a.json", '{"loss": [1, 2], "val_loss": [1]}'), ("b.json", "[1, 2]"),
                       ("c.csv", "loss,val_loss\n1,2\n")):
        (workdir / name).write_text(text)
        result = run_cli("plot", str(workdir / name))
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and name in result.stderr
        assert not list(workdir.glob("*.png"))


def test_a_csvlogger_file_without_epochs_is_named_as_a_file(run_cli, workdir):
    """A CSVLogger file holding its header alone is no run: it is not asked for a history.json."""
    (workdir / "training.log").write_text("epoch,loss,val_loss\n")
    result = run_cli("plot", str(workdir / "training.log"))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "training.log" in result.stderr
    assert "history.json" not in result.stderr and "trained" not in result.stderr


def test_small_tiles_are_scaled_up_sharp_and_numbered():
    import numpy as np

    from dlcli.viz.activations import activation_sheet, blank_channels
    from dlcli.viz.labelled import MIN_TILE, scale_factor, upscale

    assert scale_factor(3, 5, 64) == 22 and scale_factor(224, 224, 64) == 1
    tile = np.arange(4, dtype="uint8").reshape(2, 2)
    assert upscale(tile, 3)[:3, :3].tolist() == [[0] * 3] * 3  # nearest neighbour: each pixel a square
    tiles = np.random.default_rng(0).integers(0, 255, (20, 3, 3), dtype="uint8")  # 20 channels of 3x3
    sheet = activation_sheet(tiles, "conv2d_1", 2, "seven.png")
    assert sheet.dtype == np.uint8 and sheet.shape[2] == 3
    assert sheet.shape[1] >= 16 * MIN_TILE and sheet.shape[0] >= 2 * MIN_TILE  # 16 a row, 2 rows of >= 64 px
    tiles[[3, 7]] = 128  # a channel that is one value everywhere: the book's blank filter
    assert blank_channels(tiles) == [3, 7]


def test_filter_tiles_that_stayed_noise_are_marked_in_red():
    import numpy as np

    from dlcli.viz.filters import Ascent, filter_sheet
    from dlcli.viz.labelled import MARK_COLOUR

    patterns = np.full((4, 16, 16, 1), 128, dtype="uint8")
    ascent = Ascent(patterns, start=np.array([1.0, 2.0, 0.0, 0.5]), end=np.array([3.0, 2.0, 0.0, float("nan")]))
    assert ascent.stalled() == [1, 2, 3]  # unchanged, dead, or NaN: no ascent
    clean = filter_sheet(Ascent(patterns, np.zeros(4), np.ones(4)), [10, 11, 12, 13], "conv", "model", 40)
    marked = filter_sheet(ascent, [10, 11, 12, 13], "conv", "model", 40)
    red = tuple(int(MARK_COLOUR[i:i + 2], 16) for i in (1, 3, 5))

    def reddish(picture):
        return int(np.all(np.abs(picture.astype(int) - red) < 40, axis=-1).sum())

    assert reddish(clean) == 0 and reddish(marked) > 3 * 4 * 64  # three frames of >= 64-pixel tiles


def test_an_overlay_is_at_least_256_pixels_with_a_colour_bar():
    import numpy as np

    from dlcli.viz.gradcam import gradcam_picture

    digit = np.zeros((8, 8, 3), dtype="uint8")
    picture = gradcam_picture(digit, digit, "7", 0.93, "conv2d_1", "seven.png")
    assert picture.shape[0] >= 256 and picture.shape[1] >= 2 * 256
    right = picture[:, -100:]  # JET's bar: blue at the bottom, red at the top
    assert ((right[..., 0] > 150) & (right[..., 2] < 80)).any() and ((right[..., 2] > 150) & (right[..., 0] < 80)).any()


def test_sweep_importances_leave_out_the_parameters_that_stayed_constant(tmp_path):
    import types

    import optuna

    from dlcli.sweeps.report import write_report

    study = optuna.create_study(direction="minimize")
    distributions = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True),
                     "units": optuna.distributions.CategoricalDistribution([16, 32]),
                     "epochs": optuna.distributions.CategoricalDistribution([2, 3])}
    for index, lr in enumerate([1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 5e-3]):
        study.add_trial(optuna.trial.create_trial(params={"lr": lr, "units": [16, 32][index % 2], "epochs": 2},
                                                  distributions=distributions, value=abs(lr - 5e-3) + index % 2 * 1e-4))
    sweep = types.SimpleNamespace(params={"lr": None, "units": None, "epochs": None}, folder=tmp_path,
                                  trial_path=lambda name: None,
                                  settings={"metric": "val_loss", "experiment": "x", "direction": "minimize", "trials": 6})
    report = write_report(sweep, study)
    assert report["constant_params"] == {"epochs": 2}  # one value in every trial: no importance to speak of
    assert sorted(report["importances"]) == ["lr", "units"] and abs(sum(report["importances"].values()) - 1) < 1e-6
    assert report["files"]["importances"] == "importances.png" and (tmp_path / "importances.png").is_file()
    only_constant = optuna.create_study()
    for value in (0.3, 0.2):
        only_constant.add_trial(optuna.trial.create_trial(params={"lr": 1e-3, "units": 16, "epochs": 2},
                                                          distributions=distributions, value=value))
    (tmp_path / "importances.png").unlink()
    report = write_report(sweep, only_constant)
    assert report["importances"] == {} and report["constant_params"] == {"lr": 1e-3, "units": 16, "epochs": 2}
    assert "no parameter took more than one value" in report["files"]["importances"]
    assert not (tmp_path / "importances.png").exists()


def test_overlaid_runs_without_validation_show_training_curves_and_say_so(workdir):
    from dlcli.plotting import plot_runs

    first = make_run("a", {"loss": [1.0, 0.5]}, spec="fit: {epochs: 2}\n")
    second = make_run("a", {"loss": [1.0, 0.7, 0.6]}, spec="fit: {epochs: 3}\n")
    written = plot_runs([str(first.path), str(second.path)])
    assert len(written) == 1 and "/loss-training-vs-" in written[0]  # not named 'validation'


def test_a_folder_given_as_an_image_is_said_to_be_a_folder(run_cli, workdir):
    (workdir / "photos").mkdir()
    result = run_cli("visualize", "gradcam", str(workdir / "photos"), "--model", "nowhere.keras")
    assert result.exit_code == 2 and "a folder, not an image" in result.stderr and result.stderr.count("\n") == 1
