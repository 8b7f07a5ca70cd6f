"""The data the backend, worker and GPU benchmarks train on, in a data cache of their own.

Fashion-MNIST is the real one (Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist).
The Jena climate table cannot be downloaded here, so `synthetic_jena` writes a stand-in of the
same format: the file's 15 columns ("Date Time" and the 14 measurements), its 420,551 rows (one
every 10 minutes from 2009-01-01 00:10), values with daily and yearly cycles plus noise around
plausible means. The time of a training step does not depend on the values, only on the shapes.
Both go through `dlcli data import`, as a user's own files do, into a scratch DLCLI_DATA_DIR, so a
real Jena file in the user's cache is never touched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from timing import environment

FASHION_SOURCE = Path("/usr/share/datasets/fashion-mnist")
JENA_ROWS = 420_551
# column: (mean, spread) of the stand-in, roughly the real table's
JENA_COLUMNS = {
    "p (mbar)": (989.2, 8.4), "T (degC)": (9.5, 8.4), "Tpot (K)": (283.5, 8.5), "Tdew (degC)": (4.9, 6.7),
    "rh (%)": (76.0, 16.5), "VPmax (mbar)": (13.6, 7.7), "VPact (mbar)": (9.5, 4.2), "VPdef (mbar)": (4.1, 4.9),
    "sh (g/kg)": (6.0, 2.7), "H2OC (mmol/mol)": (9.6, 4.2), "rho (g/m**3)": (1216.1, 39.9),
    "wv (m/s)": (2.1, 1.6), "max. wv (m/s)": (3.5, 2.4), "wd (deg)": (174.7, 86.6),
}


def synthetic_jena(path: Path, seed: int = 0) -> None:
    """Write a CSV shaped like jena_climate_2009_2016.csv (its header, rows and time stamps)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    steps = np.arange(1, JENA_ROWS + 1)
    day, year = np.sin(2 * np.pi * steps / 144), np.sin(2 * np.pi * steps / (144 * 365.25))
    table = {"Date Time": pd.date_range("2009-01-01 00:10", periods=JENA_ROWS, freq="10min")
             .strftime("%d.%m.%Y %H:%M:%S")}
    for number, (column, (mean, spread)) in enumerate(JENA_COLUMNS.items()):
        weather = np.cumsum(rng.standard_normal(JENA_ROWS)) / np.sqrt(JENA_ROWS)  # a slow random walk
        mix = 0.6 * year + 0.3 * day * np.cos(number) + 0.4 * weather + 0.1 * rng.standard_normal(JENA_ROWS)
        table[column] = np.round(mean + spread * mix, 2)
    pd.DataFrame(table).to_csv(path, index=False)


def prepare(data_dir: Path, fashion_source: Path = FASHION_SOURCE, jena: bool = True) -> None:
    """Import Fashion-MNIST and (with `jena`) the synthetic Jena table into `data_dir` with `dlcli data import`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = environment("tensorflow", data_dir)
    imports = [("fashion_mnist", fashion_source)]
    if jena:
        csv = data_dir / "jena_climate_2009_2016.csv"
        synthetic_jena(csv)
        imports.append(("jena_climate", csv))
    for name, source in imports:
        done = subprocess.run([sys.executable, "-m", "dlcli", "data", "import", name, str(source)],
                              env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"dlcli data import {name} {source} failed (exit {done.returncode}): "
                     f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}")
    if jena:
        csv.unlink()  # the cache holds its copy
