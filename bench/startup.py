"""Start-up cost of the light commands, as ratios to bare imports (median of N runs each).

    python bench/startup.py [N]

Goals: `--help`, `list`, `validate` under 2x `python -c "import click, yaml"`;
`plot` under 2.5x `python -c "import matplotlib, pandas"`. `validate` is measured twice: as a
user re-checking an unchanged spec meets it (the record of specs that passed, dlcli.spec_cache,
spares the pydantic import) and cold, validating with pydantic every time (`--no-cache`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], runs: int, cwd: str | None = None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=cwd)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    python = sys.executable
    dlcli = [python, "-m", "dlcli"]
    bare = timed([python, "-c", "import click, yaml"], runs)
    bare_plot = timed([python, "-c", "import matplotlib, pandas"], runs)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["DLCLI_CACHE_DIR"] = str(Path(folder) / "cache")  # starts empty
        run = Path(folder) / "run"
        run.mkdir()
        (run / "run.json").write_text(json.dumps({"status": "completed", "experiment": "bench"}))
        (run / "history.json").write_text(json.dumps({"epoch": [1, 2, 3], "loss": [1, .5, .3], "val_loss": [1, .7, .8]}))
        rows = [
            ("dlcli --help", timed(dlcli + ["--help"], runs), bare, 2.0),
            ("dlcli list", timed(dlcli + ["list"], runs), bare, 2.0),
            ("dlcli validate mnist-convnet", timed(dlcli + ["validate", "mnist-convnet"], runs), bare, 2.0),
            ("  the same, cold (--no-cache)", timed(dlcli + ["validate", "--no-cache", "mnist-convnet"], runs), bare, 2.0),
            ("dlcli plot RUN", timed(dlcli + ["plot", str(run)], runs), bare_plot, 2.5),
        ]
    print(f"bare `import click, yaml`: {bare:.3f} s; bare `import matplotlib, pandas`: {bare_plot:.3f} s")
    for name, seconds, base, goal in rows:
        ratio = seconds / base
        print(f"{name:32s} {seconds:.3f} s  ratio {ratio:.2f}x  (goal < {goal}x: {'met' if ratio < goal else 'NOT met'})")


if __name__ == "__main__":
    main()
