"""What a new user saw in the pictures and fixed: a sweep's plots ticked at whole trials and
titled by the sweep, overlaid curves that hide one another said so, how Grad-CAM's model saw a
photo, titles wider than their grid, augmented variants that changed with the same seed (the
only test here that imports TensorFlow, marked training)."""

from __future__ import annotations

import types

import pytest

from test_reference_plotting import make_run


def visible_ticks(axes) -> list[float]:
    axes.figure.canvas.draw()
    low, high = axes.get_xlim()
    return [float(tick) for tick in axes.get_xticks() if low <= tick <= high]


def test_sweep_plots_tick_whole_trials_and_name_the_sweep_and_metric(tmp_path, monkeypatch):
    import optuna

    from dlcli.sweeps import report

    study = optuna.create_study(direction="minimize")
    distributions = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True),
                     "units": optuna.distributions.CategoricalDistribution([16, 32])}
    for index, (lr, value) in enumerate([(1e-4, 2.1), (1e-3, 1.5), (1e-2, 2.3), (3e-2, 1.49)]):
        study.add_trial(optuna.trial.create_trial(params={"lr": lr, "units": [16, 32][index % 2]},
                                                  distributions=distributions, value=value))
    sweep = types.SimpleNamespace(params={"lr": None, "units": None}, folder=tmp_path, trial_path=lambda name: None,
                                  settings={"metric": "val_loss", "experiment": "digits-convnet",
                                            "direction": "minimize", "trials": 4})
    import matplotlib

    def style():  # every setting but the backend (report.py selects Agg)
        return {key: value for key, value in matplotlib.rcParams.items() if not key.startswith("backend")}

    before = style()
    drawn = []
    plot_figure = report.plot_figure
    monkeypatch.setattr(report, "plot_figure", lambda *args: drawn.append(plot_figure(*args)) or drawn[-1])
    result = report.write_report(sweep, study)
    assert result["files"] == {"csv": "sweep.csv", "history": "history.png", "importances": "importances.png"}
    assert style() == before  # Optuna's ggplot style stays in its plots, not in the next curves
    history, importances = (figure.axes[0] for figure in drawn)
    assert visible_ticks(history) == [0.0, 1.0, 2.0, 3.0]  # was 0.0, 0.5, ... 3.0: no trial 2.5
    for axes in (history, importances):
        title = axes.figure.get_suptitle()
        assert "digits-convnet" in title and "val_loss" in title and "4 completed trials" in title
        assert [axes.get_title(loc=place) for place in ("left", "center", "right")] == ["", "", ""]  # not two overlaid


def legend_of(figure) -> list[str]:
    return [text.get_text() for text in figure.axes[0].get_legend().get_texts()]


def test_a_curve_covered_point_for_point_by_a_later_one_is_named_hidden(workdir):
    from dlcli.plotting import curve_figures

    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7]}
    spec = "seed: 1\nfit: {epochs: %d}\n"
    first = make_run("digits-convnet", {key: values[:2] for key, values in history.items()}, spec=spec % 2)
    other = make_run("digits-convnet", {"loss": [2.0, 1.0, 0.5], "val_loss": [2.0, 1.5, 0.9]}, spec=spec % 4)
    longer = make_run("digits-convnet", history, spec=spec % 3)  # the same seed: its first two epochs are first's
    labels = legend_of(curve_figures([first, other, longer])["loss"])
    assert labels == ["fit.epochs=2\n(hidden under fit.epochs=3: same values)", "fit.epochs=4", "fit.epochs=3"]
    shown_last = legend_of(curve_figures([longer, first])["loss"])
    assert shown_last == ["fit.epochs=3", "fit.epochs=2"]  # drawn over the longer one: both can be seen


def test_gradcam_says_how_the_model_saw_a_photo_it_resized_or_made_grey():
    import numpy as np

    from dlcli.viz.gradcam import model_view

    photo = np.random.default_rng(0).integers(0, 255, (600, 512, 3), dtype="uint8")  # a colour photo, 512 wide
    assert model_view(photo, np.zeros((1, 8, 8, 1))) == "the model saw it resized to 8x8 pixels, in grey"
    assert model_view(photo, np.zeros((1, 224, 224, 3))) == "the model saw it resized to 224x224 pixels"
    digit = np.repeat(np.arange(64, dtype="uint8").reshape(8, 8, 1), 3, axis=-1)  # a grey PNG of a digit
    assert model_view(digit, np.zeros((1, 8, 8, 1))) == ""  # what it shows is what the model saw


def test_overlay_labels_give_floats_four_significant_digits(workdir):
    from dlcli.plotting import curve_figures

    spec = "compile: {optimizer: {name: adam, learning_rate: %r}}\n"
    runs = [make_run("digits-convnet", {"val_loss": [2.0, 1.5]}, spec=spec % 0.0015751320499779737),
            make_run("digits-convnet", {"val_loss": [2.1, 1.7]}, spec=spec % 0.00013066739238053285)]
    assert legend_of(curve_figures(runs)["loss"]) == ["compile.optimizer.learning_rate=0.001575",
                                                      "compile.optimizer.learning_rate=0.0001307"]


def test_a_metric_asked_for_by_its_alias_is_the_same_picture(workdir):
    from dlcli.plotting import plot_runs

    run = make_run("digits-convnet", {"accuracy": [0.5, 0.8], "val_accuracy": [0.6, 0.7], "loss": [1.0, 0.5]})
    written = plot_runs([str(run.path)], metric="val_acc")
    assert [path.rsplit("/", 1)[1] for path in written] == ["accuracy.png"]  # was acc.png: a second copy
    assert plot_runs([str(run.path)], metric="accuracy") == written


def test_a_narrow_grid_is_made_as_wide_as_its_title():
    import numpy as np

    from dlcli.viz.labelled import TITLE_BAND, tile_sheet

    tiles = np.full((8, 8, 8, 3), 128, dtype="uint8")  # 8 filters of an 8x8 model: 3 tiles a row
    title = "digits-convnet, layer conv2d: filters 0-7 after 40 ascent steps of 1"
    sheet = tile_sheet(tiles, 3, title, list(range(8)), note="the input each filter responds to most")
    band = sheet[:TITLE_BAND]
    inked = np.flatnonzero((band < 128).any(axis=(0, 2)))  # columns the title's letters darken
    assert inked.size and inked[0] > 0 and inked[-1] < sheet.shape[1] - 1  # was cut at both edges
    long = "grace_hopper.jpg and 4 variants through cats-dogs-augment's augmentation (seed 0)"
    sheet = tile_sheet(np.full((5, 150, 150, 3), 128, dtype="uint8"), 3, long, ["original", 1, 2, 3, 4],
                       note="RandomRotation, RandomTranslation, RandomZoom, RandomFlip")
    inked = np.flatnonzero((sheet[:TITLE_BAND] < 128).any(axis=(0, 2)))
    assert inked[0] > 0 and inked[-1] < sheet.shape[1] - 1


@pytest.mark.training
def test_augmented_variants_are_the_same_for_the_same_seed(run_cli, workdir):
    import numpy as np
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 40, 3), dtype="uint8")).save(workdir / "photo.png")

    def variants(seed: str, name: str):
        result = run_cli("visualize", "augmentation", str(workdir / "photo.png"), "--experiment", "cats-dogs-augment",
                         "--count", "3", "--seed", seed, "--out", str(workdir / name))
        assert result.exit_code == 0, result.stderr
        return np.asarray(Image.open(workdir / name))

    first = variants("0", "first.png")
    assert np.array_equal(first, variants("0", "again.png"))  # the title says seed 0: it was different every time
    assert not np.array_equal(first, variants("1", "other.png"))


def test_epochs_without_a_finite_value_are_named_and_the_rest_joined(run_cli, workdir):
    import math

    from dlcli.plotting import curve_figures

    diverged = make_run("digits-convnet", {"loss": [1.0, 0.6, float("nan"), None, None, 0.4],
                                           "val_loss": [None, 0.9, None, 0.8, None, 0.7]})
    figure = curve_figures([diverged])["loss"]
    assert legend_of(figure) == ["Training loss (no finite value at epochs 3-5)",
                                 "Validation loss (no finite value at epochs 1, 3, 5)"]
    training, validation = (line for line in figure.axes[0].get_lines() if len(line.get_xdata()))
    assert list(training.get_xdata()) == [1, 2, 6] and list(validation.get_xdata()) == [2, 4, 6]  # one joined line
    smoothed = curve_figures([diverged], smooth=0.5)["loss"].axes[0].get_lines()[0].get_ydata()
    assert not any(math.isnan(value) for value in smoothed)  # a NaN no longer makes every later point NaN
    dead = make_run("digits-convnet", {"loss": [1.0, 0.5], "val_loss": [None, None]})
    assert legend_of(curve_figures([dead])["loss"]) == ["Training loss",
                                                        "not drawn: validation loss (no finite value at epochs 1-2)"]
    (workdir / "log.csv").write_text("epoch,loss,val_loss\n0,1.0,\n1,0.8,0.9\n2,0.7,\n")  # validation_freq=2
    figure = curve_figures([diverged, make_run("digits-convnet", {"val_loss": [1.0, float("inf")]})])["loss"]
    assert legend_of(figure)[1].endswith("(no finite value at epoch 2)")
    result = run_cli("plot", str(workdir / "log.csv"))
    assert result.exit_code == 0, result.stderr


def test_a_metric_with_no_finite_value_is_said_not_silently_skipped(run_cli, workdir):
    diverged = make_run("digits-convnet", {"accuracy": [0.1, 0.1], "loss": [None, None], "val_loss": [None, None]})
    result = run_cli("plot", str(diverged.path))
    assert result.exit_code == 0 and [path.rsplit("/", 1)[1] for path in result.stdout.split()] == ["accuracy.png"]
    assert "loss: no epoch has a finite value; not plotted" in result.stderr.splitlines()
    nothing = run_cli("plot", str(diverged.path), "--metric", "loss")
    assert nothing.exit_code == 2 and "no epoch has a finite value" in nothing.stderr


def test_a_filter_grid_with_stalled_filters_says_what_to_try(monkeypatch):
    import numpy as np

    from dlcli.viz import labelled
    from dlcli.viz.filters import Ascent, filter_sheet

    notes = []
    monkeypatch.setattr(labelled, "tile_sheet", lambda *args, note="": notes.append(note))
    patterns = np.full((2, 8, 8, 1), 128, dtype="uint8")
    filter_sheet(Ascent(patterns, start=np.array([1.0, 1.0]), end=np.array([2.0, 1.0])), [0, 1], "conv2d", "m", 40)
    filter_sheet(Ascent(patterns, start=np.zeros(2), end=np.zeros(2)), [0, 1], "conv2d", "m", 0)
    assert notes == ["crossed: 1 still noise (activation did not rise: try another --seed or --layer)",
                     "crossed: 2 still noise (no ascent steps: give --steps)"]  # the report shows no stderr


def test_the_book_table_says_which_number_a_margin_is_from(workdir):
    from test_book_table import make_run as make_book_run, rows_of

    from dlcli.report.book import book_table

    make_book_run(workdir, "digits-convnet", "20261203-100000", check={
        "status": "differs", "metric": "test_accuracy", "expected": ">= 0.95", "actual": 0.9331, "reported": 0.97,
        "direction": "worse", "margin": 0.03685})
    row = rows_of(book_table())["digits-convnet"]
    assert row["reason"] == "worse than the source (0.97) by 0.03685"  # its target is 0.95: 'by 0.03685' misled


def test_plot_of_a_sweep_folder_says_how_to_overlay_its_trials(run_cli, workdir):
    sweep = workdir / "sweeps" / "digits-convnet" / "20261203-185255"
    (sweep / "trials").mkdir(parents=True)
    (sweep / "sweep.json").write_text("{}")
    result = run_cli("plot", str(sweep))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert f"dlcli plot {sweep / 'trials'}/*" in result.stderr  # was: not a run directory (no run.json)


def test_a_run_is_titled_by_its_start_in_local_time_as_its_folder_is(workdir, monkeypatch):
    import time

    from dlcli.plotting import curve_figures

    run = make_run("digits-convnet", {"loss": [1.0, 0.5]}, info={"started_at": "2026-12-03T18:30:11+00:00"})
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "Asia/Tokyo")  # UTC+9, no summer time
        time.tzset()
        title = curve_figures([run])["loss"].axes[0].get_title()
    time.tzset()
    assert title.startswith("digits-convnet (2026-12-04 03:30)")  # was 18:30, UTC, beside a folder named in local time


def test_tile_numbers_do_not_tint_the_tile_under_them():
    import numpy as np

    from dlcli.viz.labelled import tile_sheet

    yellow = (253, 231, 37)  # viridis' strongest response
    sheet = tile_sheet(np.full((4, 3, 3, 3), yellow, dtype="uint8"), 4, "conv2d", [10, 11, 12, 13]).astype(int)
    rows, columns = np.nonzero(np.abs(sheet - yellow).sum(axis=-1) < 30)
    corner = sheet[rows.min():rows.min() + 20, columns.min():columns.min() + 30].reshape(-1, 3)  # tile 10's number
    tile = np.abs(corner - yellow).sum(axis=1) < 30
    ink = (np.abs(corner[:, 0] - corner[:, 1]) < 40) & (np.abs(corner[:, 1] - corner[:, 2]) < 40)  # white, black
    assert (~tile & ~ink).sum() < 100  # a translucent black box made ~200 olive pixels: a tile that looked marked


def test_metric_names_read_as_words_and_keep_their_capitals(workdir):
    from dlcli.plotting import curve_figures

    run = make_run("boston-kfold", {"mae": [3.0, 2.5], "val_mae": [3.2, 2.9],
                                    "reconstruction_loss": [0.6, 0.5], "val_reconstruction_loss": [0.6, 0.55]})
    figures = curve_figures([run])
    mae = figures["mae"].axes[0]
    assert legend_of(figures["mae"]) == ["Training MAE", "Validation MAE"]  # was 'Training mae' (str.capitalize)
    assert mae.get_ylabel() == "MAE"
    reconstruction = figures["reconstruction_loss"].axes[0]
    assert reconstruction.get_ylabel() == "Reconstruction loss" and "reconstruction_loss" not in reconstruction.get_title()


def test_importances_of_one_varied_parameter_say_it_is_one_by_definition(tmp_path, monkeypatch):
    import optuna

    from dlcli.sweeps import report

    study = optuna.create_study(direction="minimize")
    distributions = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True),
                     "units": optuna.distributions.CategoricalDistribution([16, 32])}
    for lr, value in [(1e-4, 2.1), (1e-3, 1.5), (1e-2, 2.3)]:
        study.add_trial(optuna.trial.create_trial(params={"lr": lr, "units": 16}, distributions=distributions,
                                                  value=value))
    sweep = types.SimpleNamespace(params={"lr": None, "units": None}, folder=tmp_path, trial_path=lambda name: None,
                                  settings={"metric": "val_loss", "experiment": "digits-convnet",
                                            "direction": "minimize", "trials": 3})
    drawn = []
    plot_figure = report.plot_figure
    monkeypatch.setattr(report, "plot_figure", lambda *args: drawn.append(plot_figure(*args)) or drawn[-1])
    assert report.write_report(sweep, study)["importances"] == {"lr": 1.0}
    under = [text.get_text() for text in drawn[1].texts if text.get_text() != drawn[1].get_suptitle()]
    assert under == ["only lr varied: its importance is 1 by definition; "
                     "not shown, one value in every completed trial: units=16"]


@pytest.mark.training
def test_dream_says_sizes_as_width_by_height(run_cli, workdir):
    import numpy as np
    from PIL import Image

    Image.fromarray(np.zeros((40, 30, 3), dtype="uint8")).save(workdir / "portrait.png")  # 30 wide, 40 high
    result = run_cli("dream", str(workdir / "portrait.png"), "--weights", "none", "--octaves", "1")
    assert result.exit_code == 2 and "image of 30x40 pixels is too small" in result.stderr  # said 40x30


def test_an_activation_grid_gives_its_maps_size_as_width_by_height(monkeypatch):
    import numpy as np

    from dlcli.viz import labelled
    from dlcli.viz.activations import activation_sheet

    titles = []
    monkeypatch.setattr(labelled, "tile_sheet", lambda tiles, columns, title, *args, **kwargs: titles.append(title))
    activation_sheet(np.random.default_rng(0).integers(0, 255, (3, 2, 5), dtype="uint8"), "conv1d", 1, "wide.png")
    assert titles[0].endswith("3 channels of 5x2")  # maps 5 wide, 2 high (said 2x5)
