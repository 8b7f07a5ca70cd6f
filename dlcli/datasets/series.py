"""Time series as windows (6.28-6.36): the Jena climate table, or any CSV of time steps.

The book's generator (6.33) draws, for a row r, the window data[r - lookback : r : step] and the
target data[r + delay][target], over rows r in [first + lookback, end) of each split. Here window
s starts at row s = r - lookback, as in `keras.utils.timeseries_dataset_from_array`, and the
targets array is the target column moved `lookback + delay` rows earlier, so that targets[s]
belongs to window s. Training windows are reshuffled every pass (the book draws rows at random,
with replacement); validation and test windows come in order, each once.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from dlcli.datasets.archives import Inflation
from dlcli.datasets.base import passes_from, pass_seed, DataBundle, DatasetEntry, Stream
from dlcli.datasets.cache import install_file
from dlcli.errors import DataUnavailable, SpecError

JENA_CSV = "jena_climate_2009_2016.csv"
JENA_COLUMNS = ["Date Time", "p (mbar)", "T (degC)", "Tpot (K)", "Tdew (degC)", "rh (%)", "VPmax (mbar)",
                "VPact (mbar)", "VPdef (mbar)", "sh (g/kg)", "H2OC (mmol/mol)", "rho (g/m**3)", "wv (m/s)",
                "max. wv (m/s)", "wd (deg)"]
JENA_ROWS = 420_551  # one row every 10 minutes, 2009-2016, as the Keras examples' file holds them


def read_table(path: Path, where: str = "data.path"):
    """A CSV (or a zip holding one) as a pandas DataFrame; unreadable files are DataUnavailable."""
    import pandas as pd

    if not path.is_file():
        raise DataUnavailable(f"{path}: no such CSV file ({where})")
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")
                           and "__MACOSX" not in m.filename]
                if len(members) != 1:
                    raise DataUnavailable(f"{path}: a zip with exactly one .csv is expected "
                                          f"(found {[m.filename for m in members]})")
                with archive.open(members[0]) as handle:
                    return pd.read_csv(Inflation(path).reader(handle, members[0].filename, members[0].file_size))
        return pd.read_csv(path)
    except (ValueError, OSError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise DataUnavailable(f"{path}: not a readable CSV file ({str(error).splitlines()[0]})") from None


def numeric_matrix(table, columns: list[str], path: Path):
    """float32 (rows, columns); a value that is not a number is named with its row and column."""
    import pandas as pd

    values = table[columns].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & table[columns].notna()
    missing = table[columns].isna()
    for column in columns:
        if bad[column].all():  # a whole column of text: time stamps or labels, not a measurement
            raise SpecError(f"data: column '{column}' of {path} holds no numbers; name it in "
                            "data.datetime_column, or list the numeric columns in data.features")
    for problem, what in ((bad, "is not a number"), (missing, "is empty")):
        if problem.to_numpy().any():
            row, column = np.argwhere(problem.to_numpy())[0]
            raise DataUnavailable(
                f"{path}: row {row + 2} (counting the header as row 1), column '{columns[column]}' {what}: "
                f"{table[columns[column]].iloc[row]!r}"
            )
    return values.to_numpy(dtype="float32")


def _rows(bounds, total: int, what: str) -> tuple[int, int]:
    """[first, end) rows from a spec pair; numbers below 1 are fractions, None is the end."""
    def row(value, default):
        if value is None:
            return default
        return int(round(value * total)) if isinstance(value, float) and value <= 1 else int(value)

    first, end = row(bounds[0], 0), row(bounds[1], total)
    if not 0 <= first < end <= total:
        raise SpecError(f"data.{what}: rows [{first}, {end}) do not fit a table of {total} rows")
    return first, end


def window_starts(first: int, end: int, lookback: int, delay: int, total: int) -> tuple[int, int]:
    """(lowest, highest) start row of the windows the book's generator draws for rows [first, end).

    Rows r run over [first + lookback, end), and the target row r + delay must exist."""
    last_row = min(end, total - delay) - 1
    return first, last_row - lookback


def load_series(entry: DatasetEntry, params, root: Path) -> DataBundle:
    if params.name == "jena_climate":
        path = next(root / f.path for f in [*entry.files, *sum(entry.alternatives, [])] if (root / f.path).is_file())
    else:
        path = Path(params.path).expanduser()
    table = read_table(path)
    excluded = {getattr(params, "datetime_column", None) or ("Date Time" if params.name == "jena_climate" else None)}
    for column in [params.target, *(params.features or []), *excluded - {None}]:
        if column not in table.columns:
            raise SpecError(f"data: '{column}' is not a column of {path} (columns: {', '.join(map(str, table.columns))})")
    features = params.features or [c for c in table.columns if c not in excluded]
    if params.target not in features:
        features = [*features, params.target]
    data = numeric_matrix(table, features, path)
    target = features.index(params.target)
    total = len(data)
    length = len(range(0, params.lookback, params.step))  # samples per window (240 for 1440, 6)
    train_first, train_end = _rows(params.train_rows, total, "train_rows")
    mean, std = data[train_first:train_end].mean(axis=0), data[train_first:train_end].std(axis=0)
    if params.normalize:
        std = np.where(std > 0, std, 1.0).astype("float32")
        data = (data - mean) / std
    targets = np.full(total, np.nan, dtype="float32")
    shift = params.lookback + params.delay
    targets[: max(total - shift, 0)] = data[shift:, target]
    splits = {}
    for split, bounds in (("train", params.train_rows), ("validation", params.validation_rows),
                          ("test", params.test_rows)):
        if bounds is None:
            continue
        first, end = _rows(bounds, total, f"{split}_rows")
        lowest, highest = window_starts(first, end, params.lookback, params.delay, total)
        if highest < lowest:
            raise SpecError(
                f"data.{split}_rows: rows [{first}, {end}) hold no window of lookback {params.lookback} "
                f"and delay {params.delay} ({end - first} rows; at least {params.lookback + params.delay + 1} needed)"
            )
        splits[split] = series_stream(data, targets, lowest, highest, length, params.step, params.reverse)
    scale = float(std[target]) if params.normalize else 1.0
    unit = "degc" if params.name == "jena_climate" else getattr(params, "target_unit", None)
    return DataBundle(
        train=splits["train"], test=splits.get("test"), validation=splits.get("validation"),
        info={"file": str(path), "rows": total, "features": features, "target": params.target,
              "target_index": target, "window": [length, len(features)], "target_scale": scale,
              "target_mean": float(mean[target]) if params.normalize else 0.0, "target_unit": unit,
              "windows": {split: len(stream) for split, stream in splits.items()},
              "normalization": {"mean": mean.tolist(), "std": std.tolist()} if params.normalize else None},
    )


def series_stream(data: np.ndarray, targets: np.ndarray, lowest: int, highest: int, length: int, step: int,
                  reverse: bool) -> Stream:
    """The windows starting at rows lowest..highest as a Stream.

    Window s is data[s : s + length * step : step], the very window
    `keras.utils.timeseries_dataset_from_array(data, targets, length, sampling_rate=step)` gives
    (a test checks both against the book's generator). That utility gathers window by window, which
    ran 4x slower than the book's generator here; this gathers a whole batch with one tf.gather."""
    from dlcli.backend import import_keras

    import_keras()
    import tensorflow as tf

    offsets = np.arange(length, dtype="int64") * step  # (length,)
    if reverse:  # 6.42's idea on Jena: the newest step first
        offsets = offsets[::-1].copy()
    starts = np.arange(lowest, highest + 1, dtype="int64")
    table, goals = tf.constant(data), tf.constant(targets[:, None])  # (rows, features), (rows, 1)

    def windows(batch_starts):  # (batch,) -> (batch, length, features), (batch, 1)
        return tf.gather(table, batch_starts[:, None] + offsets), tf.gather(goals, batch_starts)

    all_starts = tf.constant(starts)

    def make(batch_size: int, training: bool = False, seed: int | None = None, repeat: bool = False,
             start: int = 0):
        def one_pass(number):  # the batches of start rows of one pass: one dataset element per batch
            order = all_starts
            if training:  # a fresh permutation every pass, from the seed and the pass number
                order = tf.random.experimental.stateless_shuffle(all_starts, seed=pass_seed(seed, number))
            return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

        batches = passes_from(start, -(-len(starts) // batch_size), repeat, one_pass)
        return batches.map(windows, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    return Stream(make=make, count=len(starts), element_shape=(length, data.shape[1]))


def import_jena(source: Path, root: Path) -> list[str]:
    """The zip Keras' examples download, or the CSV inside it: checked (columns, rows), then stored."""
    table = read_table(source, "PATH")
    missing = [column for column in JENA_COLUMNS if column not in table.columns]
    if missing:
        raise DataUnavailable(f"jena_climate: {source} lacks the columns {missing}; is it jena_climate_2009_2016.csv?")
    if len(table) != JENA_ROWS:
        raise DataUnavailable(f"jena_climate: {source} holds {len(table):,} rows; {JENA_CSV} has {JENA_ROWS:,} "
                              "(one every 10 minutes, 2009-2016): bring the complete file (or its .zip) and run "
                              "`dlcli data import jena_climate PATH`")
    numeric_matrix(table.head(1000), JENA_COLUMNS[1:], source)
    name = f"jena_climate/{JENA_CSV}.zip" if zipfile.is_zipfile(source) else f"jena_climate/{JENA_CSV}"
    install_file(source, root / name)
    return [name]
