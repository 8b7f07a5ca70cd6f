"""What the resume state costs: saving it after an epoch, against the epoch itself.

    python bench/resume_state.py [--experiment fashion-mnist-convnet] [--saves 20]

Trains one epoch of the experiment in-process on its real data (import Fashion-MNIST first:
dlcli data import fashion_mnist /usr/share/datasets/fashion-mnist), then times the resume-state
snapshot dlcli writes after every epoch (weights, optimizer, callback and seed states, history).
Goal: under 5 % of an epoch.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiment", default="fashion-mnist-convnet")
    parser.add_argument("--saves", type=int, default=20)
    args = parser.parse_args()

    from dlcli import datasets
    from dlcli.runs import Run
    from dlcli.spec.loading import load_spec
    from dlcli.training.callbacks import spec_callbacks
    from dlcli.training.lifecycle import prepare
    from dlcli.training.state import TrainingState
    from dlcli.training.trainer import build_checked

    spec, _ = load_spec(args.experiment)
    prepare(spec)
    bundle = datasets.load(spec.data)
    model = build_checked(spec, bundle)
    started = time.perf_counter()
    model.fit(bundle.train.x, bundle.train.y, batch_size=spec.fit.batch_size, epochs=1, verbose=0)
    epoch = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        run = Run.create(spec.name, f"{scratch}/run")
        run.publish()
        state = TrainingState(run)
        callbacks = spec_callbacks(spec, run)
        history = {"epoch": [1], "loss": [0.5], "accuracy": [0.8]}
        times = []
        for number in range(args.saves):
            started = time.perf_counter()
            state.save("fit", number + 1, model, callbacks, history, finished=False)
            times.append(time.perf_counter() - started)
    save = statistics.median(times)
    print(f"{args.experiment}: one epoch {epoch:.2f} s; resume-state save median {save * 1000:.1f} ms "
          f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}) over {args.saves}")
    print(f"state save / epoch = {save / epoch:.4f} (goal < 0.05)")


if __name__ == "__main__":
    main()
