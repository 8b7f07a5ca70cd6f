"""The book's GRU on the Jena climate table (6.39), as a user writes it in Keras 3: the plain script
dlcli's `jena-gru` is measured against (bench/backends.py, gpu.py).

    KERAS_BACKEND=jax python bench/plain_jena_gru.py JENA_CSV [--epochs 20] [--steps 500]
        [--validation-end 300000] [--clock OUT.json [--first-step]] [--precision mixed_float16] [--jit-compile auto]

The book's recipe (lookback 1440 rows, one in 6, target 144 rows later, columns normalised by the
first 200,000 rows' mean and std, batches of 128, 500 shuffled training batches an epoch, every
validation window of rows 200,001-300,000 once) with the windows of
`keras.utils.timeseries_dataset_from_array` (the book's 2nd edition) instead of its generator.
Window s covers rows s, s+6, ... s+1434 and its target is row s+1584's temperature, as the
generator's row r = s+1440; `--validation-end` ends validation earlier, for a short run.
Prints the last validation MAE as one JSON line.
"""

import argparse
import json

import keras
import pandas as pd

from epoch_clock import EpochClock

parser = argparse.ArgumentParser()
parser.add_argument("csv")
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--steps", type=int, default=500)
parser.add_argument("--validation-end", type=int, default=300000)
parser.add_argument("--clock", help="write bench/epoch_clock.py's record here")
parser.add_argument("--first-step", action="store_true", help="the clock also notes the first step's end")
parser.add_argument("--precision", default="float32", help="a Keras dtype policy, e.g. mixed_float16")
parser.add_argument("--jit-compile", default="auto", choices=["auto", "true", "false"])
args = parser.parse_args()

lookback, step, delay, batch_size = 1440, 6, 144, 128
table = pd.read_csv(args.csv).drop(columns=["Date Time"]).to_numpy("float32")
mean, std = table[:200000].mean(axis=0), table[:200000].std(axis=0)
table = (table - mean) / std
temperature = table[:, 1]
shift = lookback + delay  # rows from a window's first row to its target


def windows(first, end, shuffle):
    """The generator's windows for rows r in [first + lookback, end): window s = r - lookback."""
    return keras.utils.timeseries_dataset_from_array(
        table[:-shift], targets=temperature[shift:], sequence_length=lookback // step, sampling_rate=step,
        batch_size=batch_size, shuffle=shuffle, seed=0, start_index=first, end_index=end - step)


keras.utils.set_random_seed(0)
keras.mixed_precision.set_global_policy(args.precision)
train = windows(0, 200000, shuffle=True).repeat()  # the generator never ends: 500 batches are an epoch
validation = windows(200001, args.validation_end, shuffle=False)
model = keras.Sequential([
    keras.Input((lookback // step, table.shape[-1])),
    keras.layers.GRU(32),
    keras.layers.Dense(1, dtype="float32"),  # float32 outputs under mixed precision
])
jit_compile = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
model.compile(optimizer="rmsprop", loss="mae", jit_compile=jit_compile)
history = model.fit(train, steps_per_epoch=args.steps, epochs=args.epochs, validation_data=validation, verbose=0,
                    callbacks=[EpochClock(args.clock, args.first_step)] if args.clock else [])
print(json.dumps({"val_loss": history.history["val_loss"][-1]}))
