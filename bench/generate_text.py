"""Characters per second of `dlcli generate text` against the book's sampling loop (8.7).

    python bench/generate_text.py [--backends tensorflow,jax] [--length 400] [--book-characters 30]

The same untrained model of the book's shape, LSTM(128) then Dense(57, softmax) over windows of
60 characters (the timing does not depend on the weights), on each backend in its own process:
- the book's loop: one-hot the last 60 characters in NumPy, `model.predict` (the book's model
  takes the one-hot windows), 8.6's `sample` in NumPy, one character at a time;
- dlcli (dlcli.generation.text.sample_codes, the model with its CategoryEncoding first layer and
  the same weights): the whole generation one compiled loop, at one temperature and at 8.7's four
  temperatures in one batch. Compiling it (once per model and length) is timed apart;
- for comparison, not what dlcli does: the LSTM's state carried from one character to the next in
  the same compiled loop (one LSTM step a character instead of 60; the model then reads all the
  text so far, not the last 60 characters it was trained on and 8.7 feeds it).
Goal: dlcli at least 50x the book's characters per second on TensorFlow, at one temperature.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAXLEN, CHARACTERS = 60, 57  # 8.2's window; Nietzsche's lower-cased characters
TEMPERATURES = [0.2, 0.5, 1.0, 1.2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--length", type=int, default=400, help="characters per temperature (8.7: 400)")
    parser.add_argument("--book-characters", type=int, default=30, help="characters the book's loop makes")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.length, args.book_characters)))
        return
    for backend in args.backends.split(","):
        environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO)}
        done = subprocess.run([sys.executable, __file__, "--worker", backend, "--length", str(args.length),
                               "--book-characters", str(args.book_characters)],
                              capture_output=True, text=True, env=environment)
        if done.returncode != 0:
            print(f"{backend}: failed\n{done.stderr[-2000:]}")
            continue
        report(backend, json.loads(done.stdout.strip().splitlines()[-1]), args.length)


def report(backend: str, result: dict, length: int) -> None:
    book, one, four = result["book_chars_per_s"], result["one_chars_per_s"], result["four_chars_per_s"]
    ratio = one / book
    print(f"{backend}: the book's loop {book:8.1f} characters/s ({1000 / book:.1f} ms a character)")
    print(f"{backend}: dlcli, 1 temperature  {one:8.0f} characters/s ({length} characters in "
          f"{length / one:.3f} s; compiling {result['one_compile_s']:.2f} s once)")
    print(f"{backend}: dlcli, 4 temperatures {four:8.0f} characters/s ({4 * length} characters in "
          f"{4 * length / four:.3f} s; compiling {result['four_compile_s']:.2f} s once)")
    goal = f" (goal >= 50x on TensorFlow: {'met' if ratio >= 50 else 'NOT met'})" if backend == "tensorflow" else ""
    print(f"{backend}: ratio to the book, 1 temperature {ratio:.0f}x{goal}; 4 temperatures {four / book:.0f}x")
    print(f"{backend}: (state carried, 4 temperatures: {result['state_chars_per_s']:.0f} characters/s, "
          f"{result['state_chars_per_s'] / four:.0f}x dlcli's; not dlcli's way, see the docstring)")


def measure(length: int, book_characters: int) -> dict:
    import numpy as np

    sys.path.insert(0, str(REPO))
    from dlcli.backend import import_keras
    from dlcli.generation.text import sample_codes, sampling_loop

    keras = import_keras()
    keras.utils.set_random_seed(0)
    books = keras.Sequential([keras.Input((MAXLEN, CHARACTERS)), keras.layers.LSTM(128),
                              keras.layers.Dense(CHARACTERS, activation="softmax")])
    ours = keras.Sequential([keras.Input((MAXLEN,)), keras.layers.CategoryEncoding(CHARACTERS, output_mode="one_hot"),
                             keras.layers.LSTM(128), keras.layers.Dense(CHARACTERS, activation="softmax")])
    ours.set_weights(books.get_weights())
    seed = np.random.default_rng(0).integers(0, CHARACTERS, MAXLEN)
    book_loop(books, seed, 2)  # Keras' predict function built once, as after the book's first character
    start = time.perf_counter()
    book_loop(books, seed, book_characters)
    book = book_characters / (time.perf_counter() - start)
    result = {"book_chars_per_s": book}
    for name, temperatures in (("one", [0.5]), ("four", TEMPERATURES)):
        loop = sampling_loop(ours)
        start = time.perf_counter()
        sample_codes(ours, seed, temperatures, length, np.random.default_rng(1), loop)  # traced and compiled
        first = time.perf_counter() - start
        start = time.perf_counter()
        sample_codes(ours, seed, temperatures, length, np.random.default_rng(2), loop)
        elapsed = time.perf_counter() - start
        result[f"{name}_chars_per_s"] = len(temperatures) * length / elapsed
        result[f"{name}_compile_s"] = first - elapsed
    carried = state_carried(ours)
    carried(seed, TEMPERATURES, length, np.random.default_rng(1))
    start = time.perf_counter()
    carried(seed, TEMPERATURES, length, np.random.default_rng(2))
    result["state_chars_per_s"] = len(TEMPERATURES) * length / (time.perf_counter() - start)
    return result


def state_carried(model):
    """The comparison: the seed read once, then one LSTM cell step a character, inside one compiled
    loop, sampled as dlcli samples (for this model only: CategoryEncoding, LSTM, Dense)."""
    import numpy as np

    from dlcli.backend import import_keras
    from dlcli.backend.gradients import compiled
    from dlcli.generation.text import drawn, reweighted

    ops = import_keras().ops
    _, lstm, dense = model.layers

    def generate(window, uniforms, temperatures):
        rows, length = window.shape[0], uniforms.shape[0]
        state = [ops.zeros((rows, lstm.units)), ops.zeros((rows, lstm.units))]
        state = ops.fori_loop(0, MAXLEN - 1, lambda t, state: lstm.cell(ops.one_hot(window[:, t], CHARACTERS),
                                                                         state)[1], state)

        def step(position, carry):
            last, state, chosen = carry
            output, state = lstm.cell(ops.one_hot(last, CHARACTERS), state)
            index = drawn(reweighted(dense(output), temperatures), uniforms[position])
            where = ops.stack([ops.arange(rows), ops.full((rows,), position, "int32")], axis=1)
            return index, state, ops.scatter_update(chosen, where, index)

        return ops.fori_loop(0, length, step, (window[:, -1], state, ops.zeros((rows, length), "int32")))[2]

    loop = compiled(generate, xla=True)

    def run(seed, temperatures, length, rng):
        windows = np.tile(np.asarray(seed, "int32")[None], (len(temperatures), 1))
        uniforms = rng.random((length, len(temperatures)), dtype=np.float32)
        return np.asarray(ops.convert_to_numpy(loop(windows, uniforms, np.asarray(temperatures, "float32"))))

    return run


def book_loop(model, seed, characters: int, temperature: float = 0.5) -> list[int]:
    """8.7's inner loop: one-hot the window, predict, sample (8.6), slide the window."""
    import numpy as np

    window, generated = list(seed), []
    for _ in range(characters):
        sampled = np.zeros((1, MAXLEN, CHARACTERS))
        for position, character in enumerate(window):
            sampled[0, position, character] = 1.0
        preds = model.predict(sampled, verbose=0)[0]
        next_index = sample(preds, temperature)
        generated.append(next_index)
        window = window[1:] + [next_index]
    return generated


def sample(preds, temperature=1.0):
    """8.6, as the book prints it."""
    import numpy as np

    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


if __name__ == "__main__":
    main()
