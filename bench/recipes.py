"""The two measured experiments as a pair of commands each: the plain Keras script and `dlcli train`,
with the same limits (epochs, samples, steps) on both sides. Shared by bench/backends.py,
bench/workers.py and bench/gpu.py. Imports no Keras.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from timing import BENCH, Timed, dlcli_command, printed_json

EXPERIMENTS = ["fashion-mnist-convnet", "jena-gru"]


def add_limits(parser: argparse.ArgumentParser, epochs: int = 3) -> None:
    """The options that size a run (the spec's own sizes by default, except the epochs)."""
    parser.add_argument("--epochs", type=int, default=epochs, help="at least 2: epoch 1 is reported apart")
    parser.add_argument("--fashion-samples", type=int, help="keep the first N training images (default all 60,000)")
    parser.add_argument("--jena-steps", type=int, default=500, help="training batches an epoch (the spec's 500)")
    parser.add_argument("--jena-validation-end", type=int, default=300000,
                        help="validation rows 200,001 up to this row (the spec's 300,000)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one process may run")


def check_limits(parser: argparse.ArgumentParser, args) -> None:
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is reported apart from the later ones")


def commands(experiment: str, args, data: Path, clock: Path, run_dir: Path, plain_extra: list[str] = (),
             dlcli_sets: list[str] = (), dlcli_extra: list[str] = (), first_step: bool = False
             ) -> tuple[list[str], list[str]]:
    """(the plain script's command, dlcli's) for one experiment, both with the epoch clock writing `clock`.

    jena-gru runs without its test split (data.test_rows null), as the plain script has none."""
    epochs = ["--epochs", str(args.epochs)]
    if experiment == "fashion-mnist-convnet":
        samples = ["--samples", str(args.fashion_samples)] if args.fashion_samples else []
        plain = [str(BENCH / "plain_fashion_mnist.py"), str(data / "fashion-mnist"), *epochs, *samples]
        sets = [f"data.train_samples={args.fashion_samples}"] if args.fashion_samples else []
    else:
        csv = data / "jena_climate" / "jena_climate_2009_2016.csv"
        plain = [str(BENCH / "plain_jena_gru.py"), str(csv), *epochs, "--steps", str(args.jena_steps),
                 "--validation-end", str(args.jena_validation_end)]
        sets = [f"fit.steps_per_epoch={args.jena_steps}",
                f"data.validation_rows=[200001, {args.jena_validation_end}]", "data.test_rows=null"]
    plain_clock = ["--clock", str(clock), *(["--first-step"] if first_step else [])]
    return ([sys.executable, *plain, *plain_clock, *plain_extra],
            dlcli_command(experiment, run_dir, clock, [*sets, *dlcli_sets], first_step,
                          extra=[*epochs, "-q", *dlcli_extra]))


def quality(experiment: str, timed: Timed) -> str:
    """The number that says both sides learned alike: test accuracy, or the last epoch's validation MAE."""
    result = printed_json(timed.stdout)
    metrics = result.get("metrics", {})  # dlcli's --json; a plain script prints its numbers at the top
    if experiment == "fashion-mnist-convnet":
        value = result.get("test_accuracy", metrics.get("test_accuracy"))
        return "-" if value is None else f"test accuracy {value:.3f}"
    value = result.get("val_loss", metrics.get("final_val_loss"))
    return "-" if value is None else f"val MAE {value:.3f}"
