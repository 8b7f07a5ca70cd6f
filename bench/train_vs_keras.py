"""`dlcli train fashion-mnist-convnet` against a plain Keras script doing the same fit.

    python bench/train_vs_keras.py [--epochs N]

Both run as whole processes on the same cached Fashion-MNIST files (import them first:
dlcli data import fashion_mnist /usr/share/datasets/fashion-mnist), same model, epochs and batch
size; prints wall time and peak memory (max RSS) of each and their ratios.
Goals: dlcli at most 0.9x the wall time (never above 1.0x) and 1.1x the peak memory of the plain
script. The machine is shared and noisy: run it more than once and quote every figure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PLAIN = r'''
import gzip, os, sys
import numpy as np
import keras
folder = sys.argv[1]; epochs = int(sys.argv[2])
def idx(name, offset):
    with gzip.open(os.path.join(folder, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)
x_train = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1).astype("float32") / 255
x_test = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1).astype("float32") / 255
y_train = keras.utils.to_categorical(idx("train-labels-idx1-ubyte.gz", 8), 10)
y_test = keras.utils.to_categorical(idx("t10k-labels-idx1-ubyte.gz", 8), 10)
model = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2),
    keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(2),
    keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.Flatten(),
    keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=2)
print(model.evaluate(x_test, y_test, verbose=0))
model.save(os.path.join(sys.argv[3], "model.keras"))
'''


WRAPPER = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def measure(command: list[str], env: dict) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of one process, read by a fresh parent of its own."""
    out = subprocess.run([sys.executable, "-c", WRAPPER, *command], check=True, env=env,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]) / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    data = Path(os.environ.get("DLCLI_DATA_DIR", "data"))
    folder = data / "fashion-mnist"
    if not (folder / "t10k-images-idx3-ubyte.gz").exists():
        sys.exit(f"import Fashion-MNIST first: dlcli data import fashion_mnist PATH (looked in {folder})")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "DLCLI_DATA_DIR": str(data.resolve())}
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "plain.py"
        script.write_text(PLAIN)
        plain_wall, plain_peak = measure([sys.executable, str(script), str(folder), str(args.epochs), scratch], env)
        dl_wall, dl_peak = measure([sys.executable, "-m", "dlcli", "train", "fashion-mnist-convnet", "-q",
                                    "--epochs", str(args.epochs), "--run-dir", str(Path(scratch) / "run")], env)
    print(f"plain Keras script: {plain_wall:.1f} s, peak {plain_peak:.0f} MiB")
    print(f"dlcli train:        {dl_wall:.1f} s, peak {dl_peak:.0f} MiB")
    print(f"wall-time ratio {dl_wall / plain_wall:.3f} (goal <= 0.9, never above 1.0); "
          f"peak-memory ratio {dl_peak / plain_peak:.3f} (goal <= 1.1)")


if __name__ == "__main__":
    main()
