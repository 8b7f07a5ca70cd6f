"""The book's MNIST convnet (5.1-5.3) on Fashion-MNIST, as a user writes it in Keras 3: the plain
script dlcli's `fashion-mnist-convnet` is measured against (bench/backends.py, workers.py, gpu.py).

    KERAS_BACKEND=jax python bench/plain_fashion_mnist.py DATA_FOLDER [--epochs 5] [--samples N]
        [--clock OUT.json [--first-step]] [--precision mixed_float16] [--jit-compile true|false|auto]

DATA_FOLDER holds the four IDX .gz files (a dlcli data cache's fashion-mnist/, or
/usr/share/datasets/fashion-mnist). Same model, optimizer, batch of 64 and epochs as the spec,
Keras' defaults otherwise; `--samples` keeps the first N training images (as dlcli's
data.train_samples). Prints the test loss and accuracy as one JSON line, and saves the model.
"""

import argparse
import gzip
import json
import os
import tempfile

import keras
import numpy as np

from epoch_clock import EpochClock

parser = argparse.ArgumentParser()
parser.add_argument("folder")
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--samples", type=int)
parser.add_argument("--clock", help="write bench/epoch_clock.py's record here")
parser.add_argument("--first-step", action="store_true", help="the clock also notes the first step's end")
parser.add_argument("--precision", default="float32", help="a Keras dtype policy, e.g. mixed_float16")
parser.add_argument("--jit-compile", default="auto", choices=["auto", "true", "false"])
args = parser.parse_args()


def idx(name, offset):
    with gzip.open(os.path.join(args.folder, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


keras.mixed_precision.set_global_policy(args.precision)
x_train = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1)[: args.samples].astype("float32") / 255
y_train = keras.utils.to_categorical(idx("train-labels-idx1-ubyte.gz", 8)[: args.samples], 10)
x_test = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1).astype("float32") / 255
y_test = keras.utils.to_categorical(idx("t10k-labels-idx1-ubyte.gz", 8), 10)
model = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2),
    keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(2),
    keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.Flatten(),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(10, activation="softmax", dtype="float32"),  # float32 outputs under mixed precision
])
jit_compile = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=jit_compile)
model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, verbose=0,
          callbacks=[EpochClock(args.clock, args.first_step)] if args.clock else [])
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
with tempfile.TemporaryDirectory() as scratch:
    model.save(os.path.join(scratch, "model.keras"))
print(json.dumps({"test_loss": loss, "test_accuracy": accuracy}))
