"""Filter patterns of a 64-filter layer: one batch for the whole grid against one filter at a time.

    python bench/filters.py [--layer block1_conv1] [--size 64] [--steps 40]

VGG16's convolution base with random weights (the timing does not depend on the weights; no
download needed), the book's 40 steps of gradient ascent at 64x64 (5.38). Three ways:
- as the book does: `generate_pattern` per filter builds its own loss, gradients and
  `K.function`, then runs 40 steps; here each filter gets a fresh tf.function (traced anew);
- one filter at a time through dlcli's step, compiled once (the best a loop can do);
- dlcli: the 64 filters as one batch.
Goal: dlcli at least 5x faster than the book's way. The ratio to the compiled loop is printed too:
on a CPU, where the arithmetic dominates, batching gains far less than it does on a GPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layer", default="block1_conv1")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from dlcli.pretrained import build_application
    from dlcli.viz.filters import filter_patterns

    model = build_application("vgg16", include_top=False, weights=None)
    filters = list(range(64))
    size = (args.size, args.size)
    filter_patterns(model, args.layer, filters[:2], size, steps=2)  # warm up both dlcli runs
    start = time.perf_counter()
    for index in filters:
        book_pattern(model, args.layer, index, size, args.steps)
    book = time.perf_counter() - start
    start = time.perf_counter()
    filter_patterns(model, args.layer, filters, size, steps=args.steps)
    batched = time.perf_counter() - start
    start = time.perf_counter()
    filter_patterns(model, args.layer, filters, size, steps=args.steps, batch_size=1)
    one_by_one = time.perf_counter() - start
    print(f"VGG16 {args.layer}, 64 filters, {args.steps} steps at {args.size}x{args.size}")
    print(f"as the book does (a new gradient function per filter): {book:7.1f} s")
    print(f"one filter at a time, one compiled step:               {one_by_one:7.1f} s")
    print(f"dlcli, one batch of 64:                                {batched:7.1f} s")
    ratio = book / batched
    print(f"ratio to the book's way {ratio:.1f}x (goal >= 5x: {'met' if ratio >= 5 else 'NOT met'}); "
          f"to the compiled loop {one_by_one / batched:.1f}x")


def book_pattern(model, layer_name: str, index: int, size: tuple[int, int], steps: int):
    """5.38's generate_pattern in TF2: the loss and gradient function are built for this filter."""
    import numpy as np
    import tensorflow as tf

    import keras

    extractor = keras.Model(model.inputs, model.get_layer(layer_name).output)

    @tf.function
    def iterate(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            loss = tf.reduce_mean(extractor(image)[..., index])
        grads = tape.gradient(loss, image)
        return loss, grads / (tf.sqrt(tf.reduce_mean(tf.square(grads))) + 1e-5)

    image = tf.constant(np.random.random((1, *size, 3)).astype("float32") * 20 + 128)
    for _ in range(steps):
        _, grads = iterate(image)
        image += grads
    return image.numpy()


if __name__ == "__main__":
    main()
