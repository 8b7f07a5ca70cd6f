"""The windowed series pipeline against the book's Python generator (6.33), on the same CSV.

    python bench/series_pipeline.py [--rows 420551] [--batches 300]

Writes a CSV of the Jena table's shape (420,551 rows, a time stamp and 14 columns), loads it with
dlcli's csv_series dataset (lookback 1440, step 6, delay 144, batches of 128, as 6.34) and draws
`--batches` shuffled training batches; then the book's generator, copied from 6.33, draws as many
from the same normalised array. Prints windows per second of each and the ratio. Goal: >= 5x.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def generator(data, lookback, delay, min_index, max_index, shuffle=False, batch_size=128, step=6):
    """Listing 6.33, as printed."""
    if max_index is None:
        max_index = len(data) - delay - 1
    i = min_index + lookback
    while 1:
        if shuffle:
            rows = np.random.randint(min_index + lookback, max_index, size=batch_size)
        else:
            if i + batch_size >= max_index:
                i = min_index + lookback
            rows = np.arange(i, min(i + batch_size, max_index))
            i += len(rows)
        samples = np.zeros((len(rows), lookback // step, data.shape[-1]))
        targets = np.zeros((len(rows),))
        for j, row in enumerate(rows):
            indices = range(rows[j] - lookback, rows[j], step)
            samples[j] = data[indices]
            targets[j] = data[rows[j] + delay][1]
        yield samples, targets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=420551)
    parser.add_argument("--batches", type=int, default=300)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from dlcli import datasets
    from dlcli.datasets import params as p

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "series.csv"
        table = np.cumsum(rng.standard_normal((args.rows, 14)), axis=0).astype("float32")
        header = "Date Time," + ",".join(f"c{i}" for i in range(14))
        np.savetxt(path, table, delimiter=",", fmt="%.3f", header=header, comments="")
        # the time stamp column: the CSV reader must skip it as the Jena one does
        lines = path.read_text().splitlines()
        path.write_text("\n".join([lines[0]] + [f"t{i}," + line for i, line in enumerate(lines[1:])]))
        bundle = datasets.load(p.CsvSeriesParams(name="csv_series", path=str(path), target="c1",
                                                 datetime_column="Date Time"))
        stream = bundle.train.make(128, training=True, seed=0, repeat=True)
        iterator = iter(stream)
        next(iterator)
        start = time.perf_counter()
        for _ in range(args.batches):
            next(iterator)
        dlcli_rate = args.batches * 128 / (time.perf_counter() - start)
        mean, std = table[:200000].mean(axis=0), table[:200000].std(axis=0)
        data = (table - mean) / std
        book = generator(data, lookback=1440, delay=144, min_index=0, max_index=200000, shuffle=True)
        next(book)
        start = time.perf_counter()
        for _ in range(args.batches):
            next(book)
        book_rate = args.batches * 128 / (time.perf_counter() - start)
    print(f"{args.rows} rows x 14 columns; windows of 240 steps, batches of 128, {args.batches} batches")
    print(f"book's generator (6.33):   {book_rate:9.0f} windows/s")
    print(f"dlcli (tf.data windows):   {dlcli_rate:9.0f} windows/s")
    ratio = dlcli_rate / book_rate
    print(f"ratio {ratio:.1f}x (goal >= 5x: {'met' if ratio >= 5 else 'NOT met'})")


if __name__ == "__main__":
    main()
