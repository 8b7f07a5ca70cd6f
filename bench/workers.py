"""Samples per second of `dlcli train X --workers 2` against `--workers 1` and one plain process (issue 15).

    python bench/workers.py [--experiment fashion-mnist-convnet] [--epochs 3] [--fashion-samples N]
        [--jena-steps 500] [--jena-validation-end 300000] [--timeout 1800]

All on JAX (the workers' backend), one after the other: `dlcli train X --workers 2`, `--workers 1`,
`dlcli train X` without the option, and the plain Keras script (bench/plain_*.py). Each is timed
by bench/epoch_clock.py (process 0's record for a multi-process run); samples per second are the
samples of an epoch (steps x the spec's global batch) over the median of epochs 2..N, and the
time to first step is from launching the command to the end of the first training step. The
start-up cost of a worker is the difference of that time between `--workers 2` and `--workers 1`,
and between `--workers 1` and no option. On a 2-core machine two workers share the two cores one
process already uses, so no speed-up is expected here: the figures say what the workers cost.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_data import FASHION_SOURCE, prepare
from recipes import EXPERIMENTS, add_limits, check_limits, commands, quality
from timing import REPO, announce, environment, run_timed, seconds


def workers_missing(env: dict) -> str | None:
    """Why this dlcli cannot be measured: `train --help` fails, or shows no --workers (issue 15, part 3)."""
    shown = subprocess.run([sys.executable, "-m", "dlcli", "train", "--help"], env=env, capture_output=True,
                           text=True, cwd=REPO)
    if shown.returncode != 0:
        lines = shown.stderr.strip().splitlines()
        return f"`dlcli train --help` failed (exit {shown.returncode}: {lines[-1] if lines else 'no message'})"
    if "--workers" not in shown.stdout:
        return ("dlcli train has no --workers option yet (issue 15, part 3): nothing to measure; "
                "rerun once it has landed")
    return None


def global_batch(experiment: str) -> int:
    sys.path.insert(0, str(REPO))
    from dlcli.spec import load_spec

    return load_spec(experiment)[0].fit.batch_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="fashion-mnist-convnet", choices=EXPERIMENTS)
    add_limits(parser)
    parser.add_argument("--fashion-mnist", type=Path, default=FASHION_SOURCE, help="the four IDX .gz files")
    args = parser.parse_args()
    check_limits(parser, args)
    missing = workers_missing(environment("jax"))
    if missing:
        sys.exit(missing)
    batch = global_batch(args.experiment)
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        data = scratch / "data"
        prepare(data, args.fashion_mnist, jena=args.experiment == "jena-gru")
        env = environment("jax", data)
        clock = scratch / "clock-{process}.json"
        for label, extra in (("--workers 2", ["--workers", "2"]), ("--workers 1", ["--workers", "1"]),
                             ("no --workers", [])):
            _, command = commands(args.experiment, args, data, clock, scratch / f"run{len(rows)}",
                                  dlcli_extra=extra, first_step=True)
            rows[f"dlcli {label}"] = run_timed(f"dlcli {label}", command, env, scratch / "clock-0.json", args.timeout)
            announce(rows[f"dlcli {label}"])
        plain, _ = commands(args.experiment, args, data, scratch / "clock-0.json", scratch / "unused",
                            first_step=True)
        rows["plain Keras script"] = run_timed("plain Keras script", plain, env, scratch / "clock-0.json", args.timeout)
        announce(rows["plain Keras script"])
    rates = {name: samples_per_second(timed, batch, args) for name, timed in rows.items()}
    print(f"{args.experiment} on JAX, global batch {batch}, {args.epochs} epochs")
    print(f"{'':24s} {'samples/s':>9s} {'epoch 2..N':>10s} {'epoch 1':>8s} {'to first step':>13s}  learned")
    for name, timed in rows.items():
        if not timed.ok:
            print(f"{name:24s} failed: {timed.why_not()}")
            continue
        rate = "-" if rates[name] is None else f"{rates[name]:9.0f}"
        print(f"{name:24s} {rate:>9s} {seconds(timed.later_median()):>10s} {seconds(timed.first_epoch()):>8s} "
              f"{seconds(timed.to_first_step()):>13s}  {quality(args.experiment, timed)}")
    for a, b in (("dlcli --workers 2", "dlcli --workers 1"), ("dlcli --workers 2", "plain Keras script"),
                 ("dlcli --workers 1", "dlcli no --workers")):
        if rates[a] and rates[b]:
            print(f"samples/s {a} / {b}: {rates[a] / rates[b]:.2f}")
    for a, b in (("dlcli --workers 2", "dlcli --workers 1"), ("dlcli --workers 1", "dlcli no --workers")):
        if rows[a].ok and rows[b].ok and rows[a].to_first_step() and rows[b].to_first_step():
            print(f"start-up cost, {a} against {b}: {rows[a].to_first_step() - rows[b].to_first_step():+.2f} s "
                  "to the first step")


def samples_per_second(timed, batch: int, args) -> float | None:
    """Samples of an epoch over the median of epochs 2..N. An epoch is `steps` batches of the global
    batch; Fashion-MNIST's last batch holds only what is left, so its epoch is at most the images."""
    if not timed.ok or not timed.later_median() or not timed.clock.get("steps"):
        return None
    samples = timed.clock["steps"] * batch
    if args.experiment == "fashion-mnist-convnet":
        samples = min(samples, args.fashion_samples or 60000)
    return samples / timed.later_median()


if __name__ == "__main__":
    main()
