"""Text from a character model (8.1, 8.6-8.7): temperature sampling, and `dlcli generate text`.

8.7 calls `model.predict` once per character (about 90 ms a character on TensorFlow here). Here the
loop over characters runs inside one compiled function (XLA on TensorFlow, jax.jit on JAX; torch
runs it eagerly), every temperature a row of one batch. Each step feeds the model the last
`maxlen` characters of each row, as 8.7 does, reweights its distribution by the row's temperature
(8.1: log / T, exp, normalise) and draws the next character with one multinomial trial (8.6): the
index where the cumulative distribution passes a uniform number, drawn beforehand by NumPy from the
seed, so a seed gives the same text again (from the same model, on the same backend).
bench/generate_text.py measures the speed-up: about 200-300x the book's loop on TensorFlow.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from dlcli.backend import import_keras
from dlcli.errors import UsageError
from dlcli.spec import MAX_SAMPLE_LENGTH, MAX_SAMPLE_TEMPERATURES, SAMPLE_LENGTH, SAMPLE_TEMPERATURES


def reweighted(probabilities, temperatures):
    """8.1's reweight_distribution, row i of `probabilities` (batch, characters) at temperatures[i]:
    exp(log(p) / T), normalised. The largest logit is subtracted before exp: the same after
    normalising, but a low temperature cannot overflow float32."""
    ops = import_keras().ops
    logits = ops.log(ops.cast(probabilities, "float32")) / ops.expand_dims(temperatures, -1)
    weights = ops.exp(logits - ops.max(logits, axis=-1, keepdims=True))
    return weights / ops.sum(weights, axis=-1, keepdims=True)


def drawn(weights, uniforms):
    """One multinomial trial per row (8.6's np.random.multinomial(1, p, 1)): the index i whose
    cumulative weight first exceeds uniform * total, for `uniforms` in [0, 1). A character of zero
    weight is never drawn."""
    ops = import_keras().ops
    cumulative = ops.cumsum(weights, axis=-1)  # (batch, characters)
    threshold = ops.expand_dims(uniforms, -1) * cumulative[:, -1:]
    return ops.sum(ops.cast(cumulative <= threshold, "int32"), axis=-1)


def sampling_loop(model):
    """The compiled generation: (trainable, non_trainable, windows (rows, maxlen), uniforms (length,
    rows), temperatures (rows,)) -> (rows, length) character indices. The weights are arguments
    (`stateless_call`), so one compiled loop serves a model whose weights change (every epoch)."""
    from dlcli.backend.gradients import compiled

    ops = import_keras().ops

    def generate(trainable, non_trainable, windows, uniforms, temperatures):
        rows = ops.arange(ops.shape(windows)[0], dtype="int32")
        length = ops.shape(uniforms)[0]

        def step(position, carry):
            windows, chosen = carry
            probabilities, _ = model.stateless_call(trainable, non_trainable, windows)  # (rows, characters)
            index = drawn(reweighted(probabilities, temperatures), uniforms[position])  # (rows,)
            where = ops.stack([rows, ops.full_like(rows, position)], axis=1)
            windows = ops.concatenate([windows[:, 1:], ops.expand_dims(index, -1)], axis=1)  # slide by one
            return windows, ops.scatter_update(chosen, where, index)

        return ops.fori_loop(0, length, step, (windows, ops.zeros((ops.shape(windows)[0], length), "int32")))[1]

    return compiled(generate, xla=True)


def sample_codes(model, seed: np.ndarray, temperatures, length: int, rng: np.random.Generator,
                 loop=None) -> np.ndarray:
    """(temperatures, length) character indices following the `seed` window (maxlen indices), one
    row per temperature, all in one batch; `loop` reuses a `sampling_loop(model)`."""
    keras = import_keras()
    windows = np.tile(np.asarray(seed, "int32")[None], (len(temperatures), 1))
    uniforms = rng.random((length, len(temperatures)), dtype=np.float32)  # [0, 1) in float32 too
    loop = loop or sampling_loop(model)
    weights = [[keras.ops.convert_to_numpy(v) for v in variables]  # this process's copy (one of several too)
               for variables in (model.trainable_variables, model.non_trainable_variables)]
    chosen = loop(*weights, windows, uniforms, np.asarray(temperatures, "float32"))
    return np.asarray(keras.ops.convert_to_numpy(chosen))


def seed_window(codes: np.ndarray, maxlen: int, rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """(start, codes[start:start + maxlen]) for a random start, as 8.7's random.randint(0, len(text) - maxlen - 1)."""
    start = int(rng.integers(0, len(codes) - maxlen))
    return start, codes[start:start + maxlen]


def as_text(codes, vocabulary: list[str]) -> str:
    return "".join(vocabulary[int(code)] for code in codes)


def samples_text(seed_text: str, temperatures, texts: list[str], heading: str) -> str:
    """The samples as 8.7 prints them: the seed, then each temperature's text after the seed."""
    parts = [f'--- {heading}: "{seed_text}"\n']
    parts += [f"\n------ temperature: {temperature:g}\n{seed_text}{text}\n"
              for temperature, text in zip(temperatures, texts)]
    return "".join(parts)


def epoch_samples(model, codes: np.ndarray, vocabulary: list[str], maxlen: int, epoch: int, seed: int,
                  temperatures=SAMPLE_TEMPERATURES, length: int = SAMPLE_LENGTH, loop=None) -> str:
    """8.7's samples after an epoch, the seed window and the draws taken from (run seed, epoch) alone,
    so a resumed run writes what an uninterrupted one does."""
    rng = np.random.default_rng([seed, epoch])
    start, window = seed_window(codes, maxlen, rng)
    chosen = sample_codes(model, window, temperatures, length, rng, loop)
    heading = f"epoch {epoch}: generating with the seed at character {start:,} of the training text"
    texts = [as_text(row, vocabulary) for row in chosen]
    return samples_text(as_text(window, vocabulary), temperatures, texts, heading)


# --------------------------------------------------------------------------- dlcli generate text


def check_options(temperatures, length: int, seed: int | None) -> None:
    if seed is not None and seed < 0:
        raise UsageError(f"--seed {seed}: give a seed of 0 or more")
    if not 1 <= len(temperatures) <= MAX_SAMPLE_TEMPERATURES:
        raise UsageError(f"--temperature: give 1 to {MAX_SAMPLE_TEMPERATURES} temperatures (the book: 0.2 0.5 1.0 1.2)")
    bad = [t for t in temperatures if not (t > 0 and math.isfinite(t))]
    if bad:
        raise UsageError(f"--temperature {bad[0]:g}: a temperature must be a positive number")
    if not 1 <= length <= MAX_SAMPLE_LENGTH:
        raise UsageError(f"--length {length}: must be from 1 to {MAX_SAMPLE_LENGTH:,} characters (the book: 400)")


def seed_codes(seed_text: str, data, vocabulary: list[str]) -> np.ndarray:
    """The seed text as indices, lower-cased when training was; a character the model never saw is
    one line naming it (exit 2)."""
    text = seed_text.lower() if data.lowercase else seed_text
    index = {character: number for number, character in enumerate(vocabulary)}
    unknown = sorted({character for character in text if character not in index})
    if unknown:
        raise UsageError(f"--seed-text: {', '.join(map(repr, unknown[:10]))} not in the run's vocabulary of "
                         f"{len(vocabulary)} characters; use only characters of the training text")
    if len(text) < data.maxlen:
        raise UsageError(f"--seed-text: {len(text)} characters; the model reads windows of {data.maxlen}: give at "
                         f"least {data.maxlen} (the last {data.maxlen} are used), or none for a random seed of the "
                         "training text")
    return np.asarray([index[character] for character in text], "int32")


def text_codes(data, vocabulary: list[str]) -> np.ndarray:
    """The run's training text as indices (for a random seed); its file missing is exit 3."""
    from dlcli.datasets import ensure_available
    from dlcli.datasets.cache import data_dir
    from dlcli.datasets.characters import encode, read_text, text_path
    from dlcli.errors import DataUnavailable

    try:
        ensure_available(data)
        path = text_path(data, data_dir())
        text = read_text(path)
    except DataUnavailable as error:
        raise DataUnavailable(f"{error} (a random seed is drawn from the training text; or give --seed-text)") from None
    return encode(text.lower() if data.lowercase else text, vocabulary, path)[0]


def generate_text(run_path: str, seed_text: str | None = None, temperatures=None,
                  length: int = SAMPLE_LENGTH, seed: int | None = None, out: str | None = None,
                  force: bool = False) -> dict[str, Any]:
    """Text from a text-generation run's model at each temperature, after `seed_text` (else a random
    window of the training text), into samples/generate-*.txt of the run, or `out`."""
    from dlcli.generation import trained_run
    from dlcli.models.saving import load_model

    temperatures = list(temperatures or SAMPLE_TEMPERATURES)
    check_options(temperatures, length, seed)
    run = trained_run(run_path)
    spec, vocabulary = run.spec(), run.vocabulary()
    if spec.data.name != "text_file" or vocabulary is None:
        raise UsageError(f"{run}: not a text-generation run (its data is '{spec.data.name}', not text_file)")
    seed = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    given = seed_codes(seed_text, spec.data, vocabulary) if seed_text is not None else None
    options = {"seed_text": seed_text, "temperatures": temperatures, "length": length, "seed": seed}
    target = _target(run, out, force, options)
    model = load_model(run.model_path())
    start, window = (None, given[-spec.data.maxlen:]) if given is not None else \
        seed_window(text_codes(spec.data, vocabulary), spec.data.maxlen, rng)
    prefix = as_text(given, vocabulary) if given is not None else as_text(window, vocabulary)
    texts = [as_text(row, vocabulary) for row in sample_codes(model, window, temperatures, length, rng)]
    heading = "generating with the seed" + ("" if start is None else f" at character {start:,} of the training text")
    _write(run, target, samples_text(prefix, temperatures, texts, heading))
    return {"run_dir": str(run.path.absolute()), "file": str(Path(target).absolute()),  # --json: paths absolute
            "seed": seed, "seed_text": prefix, "length": length,
            "samples": [{"temperature": t, "text": text} for t, text in zip(temperatures, texts)]}


def _target(run, out: str | None, force: bool, options: dict) -> Path:
    """Where the text goes: --out (outside every run, not replacing a file without --force), else
    samples/generate-seed<N>-<hash of the options and the model file>.txt of the run."""
    from dlcli.backend import wanted
    from dlcli.outputs import identity
    from dlcli.runs import enclosing_run, layout

    if out is None:  # the same options on another model file or backend may give other text: another name
        model = run.model_path().stat()
        made = identity(**options, model=[model.st_size, model.st_mtime_ns], backend=wanted())
        name = f"seed{options['seed']}-{made[:8]}"
        return run.file(layout.GENERATED_TEXT, tag=name)
    path = Path(out)
    if enclosing_run(path.parent.resolve()) is not None:
        raise UsageError(f"--out {out}: inside a run directory; leave --out out to write into the run's samples/")
    if path.is_dir() or (path.exists() and not force):
        raise UsageError(f"--out {out}: {'is a folder' if path.is_dir() else 'already exists (--force replaces it)'}")
    return path


def _write(run, target: Path, text: str) -> None:
    """The text into the run's samples/, or --out (its folders made, as for pictures); a path the
    system refuses (a parent that is a file, no permission, a full disk) is one line, exit 2."""
    from dlcli.atomic import write_text_atomic
    from dlcli.runs import layout

    try:
        if target.parent == run.file(layout.SAMPLES):
            run.write_text(f"{layout.SAMPLES}/{target.name}", text)
        else:
            write_text_atomic(target, text)
    except OSError as error:
        raise UsageError(f"{target}: cannot write the text ({error.strerror or error})") from None
