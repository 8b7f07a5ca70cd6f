"""Per-epoch time on a GPU in fp32, mixed precision and XLA, dlcli against the plain scripts (issue 15).

    python bench/gpu.py [--backends tensorflow jax] [--experiments fashion-mnist-convnet jena-gru]
        [--precision mixed_float16] [--epochs 3] [--fashion-samples N] [--jena-steps 500]
        [--jena-validation-end 300000] [--fashion-mnist /usr/share/datasets/fashion-mnist] [--timeout 1800]

For a machine with a GPU: refuses (exit 1, one line) when neither TensorFlow nor JAX sees one.
For each experiment and backend that sees a GPU, four variants, each as the plain script
(bench/plain_*.py) and as `dlcli train`:
  fp32        float32, no XLA on TensorFlow (jit_compile false); on JAX, XLA (its only compiled mode)
  mixed       the --precision policy (dlcli: compile.precision), compilation as fp32
  xla         float32, jit_compile true (TensorFlow only: on JAX it is fp32)
  mixed+xla   both (TensorFlow only: on JAX it is mixed)
It prints the median of epochs 2..N of each (bench/epoch_clock.py; epoch 1 holds compilation),
the ratio dlcli/plain, and the speed-up of mixed precision + XLA over fp32 on each side (goal:
>= 2x). Data as bench/backends.py (Jena SYNTHETIC, of the real file's format and size).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_data import FASHION_SOURCE, prepare
from recipes import EXPERIMENTS, add_limits, check_limits, commands
from timing import announce, environment, run_timed, seconds

SEES_A_GPU = {  # prints how many GPUs the backend sees
    "tensorflow": "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))",
    "jax": "import jax; print(sum(d.platform == 'gpu' for d in jax.devices()))",
}


def gpus(backend: str) -> int:
    """GPUs the backend sees, asked in a process of its own (TensorFlow takes a GPU's memory when it looks)."""
    done = subprocess.run([sys.executable, "-c", SEES_A_GPU[backend]], env=environment(backend),
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    return int(lines[-1]) if done.returncode == 0 and lines and lines[-1].isdigit() else 0


def variants(backend: str, precision: str) -> dict[str, tuple[list[str], list[str]]]:
    """{name: (plain script options, dlcli --set values)}; on JAX only fp32 and mixed (always XLA)."""
    xla_default = "true" if backend == "jax" else "false"
    table = {
        "fp32": (xla_default, "float32"), "mixed": (xla_default, precision),
        "xla": ("true", "float32"), "mixed+xla": ("true", precision),
    }
    if backend == "jax":
        table = {name: table[name] for name in ("fp32", "mixed")}
    return {name: (["--jit-compile", jit, "--precision", policy],
                   [f"compile.jit_compile={jit}", *([f"compile.precision={policy}"] if policy != "float32" else [])])
            for name, (jit, policy) in table.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(SEES_A_GPU), choices=list(SEES_A_GPU))
    parser.add_argument("--experiments", nargs="+", default=EXPERIMENTS, choices=EXPERIMENTS)
    parser.add_argument("--precision", default="mixed_float16", choices=["mixed_float16", "mixed_bfloat16"])
    add_limits(parser)
    parser.add_argument("--fashion-mnist", type=Path, default=FASHION_SOURCE, help="the four IDX .gz files")
    args = parser.parse_args()
    check_limits(parser, args)
    seen = {backend: gpus(backend) for backend in args.backends}
    backends = [backend for backend, count in seen.items() if count]
    if not backends:
        sys.exit(f"no GPU visible to {' or '.join(args.backends)}: bench/gpu.py measures GPU speed-ups; "
                 "run it on a machine with a GPU (bench/backends.py measures the CPU)")
    for backend in sorted(set(args.backends) - set(backends)):
        print(f"backend {backend}: sees no GPU, skipped", file=sys.stderr)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        data, clock = scratch / "data", scratch / "clock.json"
        prepare(data, args.fashion_mnist, jena="jena-gru" in args.experiments)
        for experiment in args.experiments:
            for backend in backends:
                for name, (plain_extra, dlcli_sets) in variants(backend, args.precision).items():
                    plain, dlcli = commands(experiment, args, data, clock, scratch / f"run-{len(results)}",
                                            plain_extra=plain_extra, dlcli_sets=dlcli_sets)
                    env = environment(backend, data)
                    results[experiment, backend, name] = {
                        side: run_timed(f"{side} {experiment} {backend} {name}", command, env, clock, args.timeout)
                        for side, command in (("plain", plain), ("dlcli", dlcli))}
                    for timed in results[experiment, backend, name].values():
                        announce(timed)
    report(results, args.precision)


def report(results: dict, precision: str) -> None:
    print(f"Per-epoch seconds on the GPU, median of epochs 2..N (mixed: {precision})")
    print(f"{'experiment':22s} {'backend':10s} {'variant':10s} {'plain':>7s} {'dlcli':>7s} {'dlcli/plain':>11s}")
    for (experiment, backend, name), pair in results.items():
        times = [pair[side].later_median() if pair[side].ok else None for side in ("plain", "dlcli")]
        ratio = f"{times[1] / times[0]:.2f}" if all(times) else "-"
        print(f"{experiment:22s} {backend:10s} {name:10s} {seconds(times[0]):>7s} {seconds(times[1]):>7s} {ratio:>11s}")
    for (experiment, backend, name), pair in results.items():
        for side, timed in pair.items():
            if not timed.ok:
                print(f"  {side} {experiment} {backend} {name} failed: {timed.why_not()}")
    for (experiment, backend, name), pair in results.items():
        if name != "fp32":
            continue
        fastest = "mixed+xla" if (experiment, backend, "mixed+xla") in results else "mixed"
        for side in ("plain", "dlcli"):
            base, best = pair[side], results[experiment, backend, fastest][side]
            if base.ok and best.ok and base.later_median() and best.later_median():
                speedup = base.later_median() / best.later_median()
                print(f"speed-up of {fastest} over fp32, {experiment} on {backend} ({side}): {speedup:.2f}x "
                      f"(goal >= 2: {'met' if speedup >= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
