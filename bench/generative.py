"""DeepDream octaves and style-transfer iterations at the book's sizes, on each installed backend.

    python bench/generative.py [--backends tensorflow jax] [--dream-size 350] [--style-height 400]

Random weights (the time does not depend on them; no download). For each backend, one process
(KERAS_BACKEND set) runs:
- dlcli.viz.dream.deep_dream with the book's settings (layers mixed2..mixed5, 3 octaves of scale
  1.4, 20 iterations, no early stop) on a --dream-size square photo: per octave, its first step
  (where a size new to the step is traced or compiled: JAX compiles each size, TensorFlow's
  reduce_retracing traces the first two and then runs any size) apart from the median of the others, and the octave's
  whole time;
- dlcli.viz.style_transfer's loss and gradient on VGG19 at --style-height rows (width 4/3 of it):
  its first call (compilation) and the median of 5 more, then two L-BFGS iterations of at most 20
  evaluations each (maxfun 20, as the book), each timed whole: the first compiles its own step, the
  second is what every later iteration costs.
The figures are from one run on whatever machine runs it; a shared machine makes them slower.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def dream_octaves(size: int) -> list[dict]:
    """Per octave: size, first step (with compilation), median later step, whole octave, in seconds."""
    import numpy as np

    from dlcli.pretrained import build_application
    from dlcli.viz.dream import DEFAULT_LAYERS, deep_dream, feature_extractor, octave_shapes

    extractor = feature_extractor(build_application("inceptionv3", include_top=False, weights=None), DEFAULT_LAYERS)
    image = np.random.default_rng(0).uniform(-1, 1, (size, size, 3)).astype("float32")
    stamps = [time.perf_counter()]
    deep_dream(extractor, image, DEFAULT_LAYERS, max_loss=None, progress=lambda steps: stamps.append(time.perf_counter()))
    steps = np.diff(stamps)  # 60 steps: 20 per octave (the re-injection's resizing falls in an octave's first)
    return [{"shape": list(shape), "first_step_s": float(steps[20 * i]),
             "median_step_s": float(np.median(steps[20 * i + 1:20 * (i + 1)])),
             "octave_s": float(steps[20 * i:20 * (i + 1)].sum())}
            for i, shape in enumerate(octave_shapes((size, size), 3, 1.4))]


def style_iteration(height: int) -> dict:
    """The loss-and-gradient call (first, then median of 5) and two L-BFGS iterations, in seconds."""
    import numpy as np

    from dlcli.pretrained import build_application
    from dlcli.viz.style_transfer import Weights, feature_extractor, loss_and_gradient, transfer_style

    extractor = feature_extractor(build_application("vgg19", include_top=False, weights=None))
    generator = np.random.default_rng(0)
    content, style = (generator.uniform(-120, 120, (height, height * 4 // 3, 3)).astype("float32") for _ in range(2))
    evaluate = loss_and_gradient(extractor, content, style, Weights())
    flat = content.astype("float64").ravel()
    times = []
    for _ in range(6):
        start = time.perf_counter()
        evaluate(flat)
        times.append(time.perf_counter() - start)
    first, second = transfer_style(extractor, content, style, iterations=2)
    return {"size": [height, height * 4 // 3], "first_call_s": times[0], "median_call_s": statistics.median(times[1:]),
            "first_iteration_s": first.seconds, "iteration_s": second.seconds}


def worker(args) -> None:
    sys.path.insert(0, str(REPOSITORY))
    from dlcli.backend import import_keras

    backend = import_keras().backend.backend()
    print(json.dumps({"backend": backend, "dream": dream_octaves(args.dream_size),
                      "style": style_iteration(args.style_height)}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--dream-size", type=int, default=350)
    parser.add_argument("--style-height", type=int, default=400)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    for backend in args.backends:
        if importlib.util.find_spec(backend) is None:
            print(f"{backend}: not installed")
            continue
        environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPOSITORY)}
        done = subprocess.run([sys.executable, __file__, "--worker", "--dream-size", str(args.dream_size),
                               "--style-height", str(args.style_height)],
                              capture_output=True, text=True, env=environment)
        if done.returncode != 0:
            print(f"{backend}: failed\n{done.stderr[-2000:]}")
            continue
        report(json.loads(done.stdout.strip().splitlines()[-1]))


def report(result: dict) -> None:
    print(f"{result['backend']}: DeepDream, InceptionV3, book's layers, 20 steps per octave")
    for octave in result["dream"]:
        print(f"  octave {octave['shape'][0]}x{octave['shape'][1]}: first step {octave['first_step_s']:6.2f} s "
              f"(traces or compiles for a new size), then {octave['median_step_s']:.3f} s a step; octave {octave['octave_s']:6.1f} s")
    style = result["style"]
    print(f"{result['backend']}: style transfer, VGG19 at {style['size'][0]}x{style['size'][1]}: loss and gradient "
          f"{style['first_call_s']:.2f} s first (compiles), then {style['median_call_s']:.2f} s; an L-BFGS "
          f"iteration (maxfun 20) {style['iteration_s']:.1f} s (the first, compiling, "
          f"{style['first_iteration_s']:.1f} s)")


if __name__ == "__main__":
    main()
