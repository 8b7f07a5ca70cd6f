"""Time-series windows on tiny CSVs made here: the book's generator by hand, the baseline, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import write

pytestmark = pytest.mark.training

SPEC = """
description: a tiny series forecast
seed: 1
data: {{name: csv_series, path: {path}, target: temp, datetime_column: time, target_unit: degc,
        lookback: 12, step: 3, delay: 2, train_rows: [0, 120], validation_rows: [120, 160], test_rows: [160, null]}}
model: {model}
compile: {{optimizer: rmsprop, loss: mae, metrics: [mae]}}
fit: {{epochs: {epochs}, batch_size: 8, steps_per_epoch: 5, validation: {{kind: dataset}}}}
"""
GRU = "{type: sequential, layers: [{GRU: {units: 4}}, {Dense: {units: 1}}]}"


def series_csv(path: Path, rows: int = 200) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    temp = 10 + 5 * np.sin(t / 10) + rng.normal(0, 0.5, rows)
    pressure = 1000 + np.cumsum(rng.normal(0, 1, rows))
    lines = ["time,pressure,temp"] + [f"2020-01-01 {i:05d},{p:.3f},{x:.3f}" for i, p, x in zip(t, pressure, temp)]
    path.write_text("\n".join(lines) + "\n")
    return path


def book_windows(data, first, end, lookback, step, delay, target):
    """The book's generator (6.33), sequentially, rows r in [first + lookback, end)."""
    rows = [r for r in range(first + lookback, end) if r + delay < len(data)]
    samples = np.stack([data[r - lookback:r:step] for r in rows])
    return samples, np.array([data[r + delay][target] for r in rows])


@pytest.mark.parametrize("reverse", [False, True])
def test_windows_match_the_books_generator(reverse):
    from dlcli.datasets.series import series_stream, window_starts

    data = np.random.default_rng(1).standard_normal((100, 3)).astype("float32")
    lookback, step, delay, target = 12, 3, 5, 2
    targets = np.full(100, np.nan, "float32")
    targets[: 100 - lookback - delay] = data[lookback + delay:, target]
    for first, end in ((0, 50), (50, 100)):
        lowest, highest = window_starts(first, end, lookback, delay, 100)
        stream = series_stream(data, targets, lowest, highest, len(range(0, lookback, step)), step, reverse)
        batches = list(stream.make(7))
        x = np.concatenate([b[0] for b in batches])
        y = np.concatenate([b[1] for b in batches])[:, 0]
        expected_x, expected_y = book_windows(data, first, end, lookback, step, delay, target)
        if not reverse:  # Keras' own utility gives the same windows
            from dlcli.backend import import_keras

            keras = import_keras()
            reference = keras.utils.timeseries_dataset_from_array(
                data, targets, sequence_length=len(range(0, lookback, step)), sampling_rate=step,
                batch_size=1000, start_index=lowest, end_index=highest + 1 + (len(range(0, lookback, step)) - 1) * step)
            keras_x, keras_y = next(iter(reference))
            np.testing.assert_array_equal(x, keras_x.numpy())
            np.testing.assert_array_equal(y, keras_y.numpy())
        if reverse:
            expected_x = expected_x[:, ::-1]
        assert len(stream) == len(x) == len(expected_x)
        np.testing.assert_array_equal(x, expected_x)  # inputs: every step-th row of the lookback
        np.testing.assert_array_equal(y, expected_y)  # targets: `delay` rows after the window's end
    shuffled = np.concatenate([b[1] for b in stream.make(7, training=True, seed=3)])[:, 0]
    assert sorted(shuffled) == sorted(expected_y) and not np.array_equal(shuffled, expected_y)


def test_csv_series_normalised_by_training_rows(workdir):
    from dlcli import datasets
    from dlcli.datasets import params as p

    path = series_csv(workdir / "series.csv")
    bundle = datasets.load(p.CsvSeriesParams(
        name="csv_series", path=str(path), target="temp", datetime_column="time", lookback=12, step=3, delay=2,
        train_rows=[0, 120], validation_rows=[0.6, 0.8], test_rows=[160, None]))
    raw = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(1, 2))
    assert bundle.info["features"] == ["pressure", "temp"] and bundle.info["target_index"] == 1
    np.testing.assert_allclose(bundle.info["normalization"]["mean"], raw[:120].mean(axis=0), rtol=1e-5)
    assert bundle.info["target_scale"] == pytest.approx(raw[:120, 1].std(), rel=1e-5)
    assert bundle.input_shape == (4, 2)
    assert bundle.info["windows"] == {"train": 120 - 12, "validation": 40 - 12, "test": 40 - 12 - 2}


def test_baseline_mae_equals_numpy(run_cli, workdir):
    path = series_csv(workdir / "series.csv")
    spec = write(workdir / "naive.yaml", SPEC.format(path=path, model="{type: naive_last_value}", epochs=0))
    result = run_cli("train", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    raw = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(1, 2)).astype("float32")
    mean, std = raw[:120].mean(axis=0), raw[:120].std(axis=0)
    data = (raw - mean) / std
    for prefix, (first, end) in (("val_", (120, 160)), ("test_", (160, 200))):
        samples, targets = book_windows(data, first, end, 12, 3, 2, 1)
        expected = np.mean(np.abs(samples[:, -1, 1] - targets))  # 6.35's evaluate_naive_method
        assert metrics[f"{prefix}mae"] == pytest.approx(expected, rel=1e-5)
        assert metrics[f"{prefix}mae_degc"] == pytest.approx(expected * std[1], rel=1e-5)
    assert metrics["params"] == 0


def test_a_tiny_recurrent_run_through_the_cli(run_cli, workdir):
    path = series_csv(workdir / "series.csv")
    spec = write(workdir / "gru.yaml", SPEC.format(path=path, model=GRU, epochs=2))
    result = run_cli("train", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["metrics"]["epochs_completed"] == 2
    assert {"best_val_loss", "best_val_loss_degc", "test_mae", "test_mae_degc"} <= set(output["metrics"])
    evaluated = json.loads(run_cli("evaluate", output["run_dir"], "--json").stdout)["metrics"]
    assert evaluated["test_mae_degc"] == pytest.approx(output["metrics"]["test_mae_degc"], rel=1e-4)


def test_bad_csvs_get_one_clear_line(run_cli, workdir):
    path = series_csv(workdir / "series.csv")
    lines = path.read_text().splitlines()
    bad_value = workdir / "bad.csv"
    bad_value.write_text("\n".join(lines[:50] + [lines[50].rsplit(",", 1)[0] + ",warm"] + lines[51:]))
    short = workdir / "short.csv"
    short.write_text("\n".join(lines[:166]))  # the test rows [160, 165) are fewer than one window needs
    tiny = workdir / "tiny.csv"
    tiny.write_text("\n".join(lines[:20]))
    cases = [  # (file, spec text replaced, by, exit code, message)
        (path, "target: temp", "target: humidity", 2, "'humidity' is not a column"),
        (bad_value, "", "", 3, "row 51 (counting the header as row 1), column 'temp' is not a number: 'warm'"),
        (short, "", "", 2, "data.test_rows: rows [160, 165) hold no window of lookback 12 and delay 2"),
        (tiny, "", "", 2, "data.train_rows: rows [0, 120) do not fit a table of 19 rows"),
        (workdir / "missing.csv", "", "", 3, "no such CSV file"),
        (path, "datetime_column: time, ", "", 2, "column 'time' of"),  # time stamps fed as a feature
    ]
    for csv, old, new, code, message in cases:
        text = SPEC.format(path=csv, model=GRU, epochs=1)
        if old:
            text = text.replace(old, new)
        result = run_cli("train", str(write(workdir / "case.yaml", text)))
        assert result.exit_code == code and message in result.stderr, (csv, result.stderr)
        assert "Traceback" not in result.stderr
    assert not (workdir / "runs").exists()


def test_jena_import_checks_the_columns(run_cli, workdir):
    from dlcli.datasets.series import JENA_COLUMNS

    good = workdir / "jena_climate_2009_2016.csv"
    rows = [",".join(JENA_COLUMNS)] + [",".join(["01.01.2009 00:10:00"] + [str(i + j) for j in range(14)])
                                       for i in range(10)]
    good.write_text("\n".join(rows) + "\n")
    result = run_cli("data", "import", "jena_climate", str(good))  # the right columns, but not 420,551 rows
    assert result.exit_code == 3 and "holds 10 rows; jena_climate_2009_2016.csv has 420,551" in result.stderr
    assert not (workdir / "data" / "jena_climate").exists()
    wrong = workdir / "other.csv"
    wrong.write_text("a,b\n1,2\n")
    result = run_cli("data", "import", "jena_climate", str(wrong))
    assert result.exit_code == 3 and "lacks the columns" in result.stderr


def test_predict_from_the_last_window_of_a_csv(run_cli, workdir):
    path = series_csv(workdir / "series.csv")
    spec = write(workdir / "naive.yaml", SPEC.format(path=path, model="{type: naive_last_value}", epochs=0))
    run = json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"]
    recent = workdir / "recent.csv"
    recent.write_text("\n".join(path.read_text().splitlines()[:1] + path.read_text().splitlines()[-30:]) + "\n")
    result = run_cli("predict", run, "--csv", str(recent), "--json")
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)["predictions"][0]
    last_temp = float(recent.read_text().splitlines()[-1].split(",")[-1])
    assert row["target"] == "temp" and row["rows_ahead"] == 2 + 3  # delay + step after the last row
    assert row["prediction_degc"] == pytest.approx(last_temp, abs=1e-3)  # the naive forecast, in degrees
    short = workdir / "short.csv"
    short.write_text("\n".join(path.read_text().splitlines()[:5]) + "\n")
    result = run_cli("predict", run, "--csv", str(short))
    assert result.exit_code == 2 and "fewer than one window" in result.stderr
