"""Text generation (8.1-8.7): the text_file dataset's character windows, the vocabulary a run keeps
(any character), temperature sampling against the book's NumPy, a tiny character model trained
through the CLI with its epoch samples, `generate text`, and `predict` sending such a run there.

Pytest's Keras runs on TensorFlow; the JAX test runs the CLI in a subprocess.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dlcli
from conftest import write
from test_resume import interrupt_at_epoch_end

REPOSITORY = Path(dlcli.__file__).resolve().parents[1]
CORPUS = ("supposing that truth is a woman--what then? is there not ground\nfor suspecting that all "
          "philosophers, in so far as they have been\ndogmatists, have failed to understand women. ") * 3


@pytest.fixture(autouse=True)
def forget_the_backend(monkeypatch):
    """`generate text` records the run's backend in this process: forgotten after each test."""
    from dlcli import backend

    monkeypatch.setattr(backend, "_CHOSEN", None)
    monkeypatch.setattr(backend, "_RECORDED", None)


def text_spec(workdir: Path, corpus: str = CORPUS, units: int | None = None, extra: str = "") -> Path:
    (workdir / "corpus.txt").write_text(corpus, encoding="utf-8")
    characters = len(set(corpus.lower()))
    return write(workdir / "chars.yaml", f"""
        description: a tiny character model
        seed: 5
        data: {{name: text_file, path: corpus.txt, maxlen: 12, step: 3{extra}}}
        model:
          type: sequential
          layers:
            - LSTM: {{units: 8}}
            - Dense: {{units: {units or characters}, activation: softmax}}
        compile: {{optimizer: {{name: rmsprop, learning_rate: 0.01}}, loss: categorical_crossentropy}}
        fit: {{epochs: 1, batch_size: 32}}
        callbacks:
          - TextSampler: {{length: 30}}
        """)


def reweight_distribution(original_distribution, temperature=0.5):
    """8.1, as the book prints it."""
    with np.errstate(divide="ignore"):  # log(0) = -inf, exp(-inf) = 0: a character that never comes
        distribution = np.log(original_distribution) / temperature
    distribution = np.exp(distribution)
    return distribution / np.sum(distribution)


# --------------------------------------------------------------------------- data


def test_generate_text_has_help(run_cli):
    result = run_cli("generate", "text", "--help")
    assert result.exit_code == 0 and "--seed-text" in result.stdout and "--temperature" in result.stdout


def test_an_empty_temperature_list_is_refused_before_anything_else(run_cli, workdir):
    result = run_cli("generate", "text", str(workdir / "no-run"), "--temperature", ",")
    assert result.exit_code == 2 and "--temperature" in result.stderr  # not the book's four, silently


def test_character_windows_against_a_hand_computation():
    from dlcli.datasets.characters import character_windows, encode

    codes, vocabulary = encode("abcabdab", None, Path("x"))
    assert vocabulary == ["a", "b", "c", "d"] and codes.tolist() == [0, 1, 2, 0, 1, 3, 0, 1]
    # maxlen 3, step 2: windows start at range(0, 8 - 3, 2) = 0, 2, 4, each with the character after it
    x, y = next(iter(character_windows(codes, 3, 2, 4, onehot=False).make(10)))
    assert np.asarray(x).tolist() == [[0, 1, 2], [2, 0, 1], [1, 3, 0]]  # "abc", "cab", "bda"
    assert np.asarray(y).tolist() == [0, 3, 1]  # "a", "d", "b"
    _, onehot = next(iter(character_windows(codes, 3, 2, 4, onehot=True).make(10)))
    assert np.asarray(onehot).tolist() == [[1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]]


def test_a_validation_split_holds_the_texts_end_out(workdir):
    from dlcli.datasets import load
    from dlcli.datasets.params import TextFileParams

    (workdir / "t.txt").write_text("abcdefghij" * 10, encoding="utf-8")
    bundle = load(TextFileParams(name="text_file", path="t.txt", maxlen=5, step=1, validation_split=0.2))
    assert len(bundle.train.codes) == 80 and len(bundle.validation.codes) == 20
    assert (len(bundle.train), len(bundle.validation)) == (75, 15)  # range(0, 80 - 5), range(0, 20 - 5)
    assert bundle.input_shape == (5,) and bundle.info["vocabulary"] == list("abcdefghij")


def test_line_ends_are_read_as_the_books_open_reads_them(workdir):
    from dlcli.datasets import load
    from dlcli.datasets.params import TextFileParams

    (workdir / "unix.txt").write_bytes(b"one line\ntwo lines\nthree\n" * 4)
    (workdir / "windows.txt").write_bytes(b"one line\r\ntwo lines\rthree\r\n" * 4)
    unix, windows = (load(TextFileParams(name="text_file", path=f"{name}.txt", maxlen=5)) for name in ("unix", "windows"))
    assert windows.info["vocabulary"] == unix.info["vocabulary"] and "\r" not in windows.info["vocabulary"]
    np.testing.assert_array_equal(windows.train.codes, unix.train.codes)


def test_labels_that_the_loss_cannot_take_are_a_spec_error_before_any_run(run_cli, workdir):
    spec = text_spec(workdir, extra=", labels: int")  # with categorical_crossentropy: Keras failed at the first batch
    result = run_cli("train", str(spec), "-q")
    assert result.exit_code == 2 and "sparse_categorical_crossentropy" in result.stderr
    assert not (workdir / "runs").exists()
    spec.write_text(spec.read_text().replace("loss: categorical_crossentropy", "loss: sparse_categorical_crossentropy"))
    assert run_cli("validate", str(spec)).exit_code == 0


def test_a_held_out_fraction_needs_validation_on_it(run_cli, workdir):
    """Without fit.validation.kind: dataset the text's last fraction would be neither trained nor validated on."""
    spec = text_spec(workdir, extra=", validation_split: 0.2")
    result = run_cli("train", str(spec), "-q")
    assert result.exit_code == 2 and "fit.validation.kind" in result.stderr and not (workdir / "runs").exists()
    spec.write_text(spec.read_text().replace("fit: {epochs: 1,", "fit: {validation: {kind: dataset}, epochs: 1,"))
    assert run_cli("validate", str(spec)).exit_code == 0


@pytest.mark.parametrize("content, problem", [(b"caf\xe9 latin-1", "not UTF-8"), (b"", "empty")])
def test_a_file_that_is_not_utf8_text_is_one_line_and_no_run(run_cli, workdir, content, problem):
    spec = text_spec(workdir)
    (workdir / "corpus.txt").write_bytes(content)
    result = run_cli("train", str(spec), "-q")
    assert result.exit_code == 3 and problem in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (workdir / "runs").exists()


def test_a_text_shorter_than_one_window_is_a_spec_error(run_cli, workdir):
    spec = text_spec(workdir, corpus="too short")
    result = run_cli("train", str(spec), "-q")
    assert result.exit_code == 2 and "no window of maxlen 12" in result.stderr and not (workdir / "runs").exists()


def test_a_softmax_that_is_not_the_vocabulary_is_a_spec_error(run_cli, workdir):
    spec = text_spec(workdir, units=7)
    result = run_cli("train", str(spec), "-q")
    characters = len(set(CORPUS))
    assert result.exit_code == 2 and "units: num_classes" in result.stderr and f"{characters} here" in result.stderr
    assert not (workdir / "runs").exists()


def test_units_num_classes_makes_the_softmax_follow_the_text(run_cli, workdir):
    """A character model of any text without counting its characters by hand: `units: num_classes`
    is the vocabulary's size (the text's distinct characters, lower-cased as training reads them)."""
    from dlcli.models.saving import load_model

    for corpus in (CORPUS, "Any text of one's own, with \u00fcml\u00e4uts and\nlines. " * 4):
        spec = text_spec(workdir, corpus=corpus, units="num_classes", extra=", train_samples: 8")
        result = run_cli("train", str(spec), "--json", "-q")
        assert result.exit_code == 0, result.stderr
        run = Path(json.loads(result.stdout)["run_dir"])
        assert load_model(run / "model.keras").output_shape == (None, len(set(corpus.lower())))


def test_units_num_classes_counts_in_the_size_bound(run_cli, workdir, monkeypatch):
    """The bound on a model's weights counts the softmax at its real width, before Keras allocates it."""
    characters = len(set(CORPUS.lower()))
    lstm, softmax = 4 * 8 * (characters + 8 + 1), (8 + 1) * characters  # LSTM(8) on one-hot characters, Dense
    monkeypatch.setenv("DLCLI_MAX_MODEL_BYTES", str(4 * lstm + 4 * softmax // 2))  # the LSTM fits, not both
    result = run_cli("train", str(text_spec(workdir, units="num_classes")), "-q")
    assert result.exit_code == 2 and "model.layers[1]" in result.stderr and f"{softmax:,} weights" in result.stderr
    assert not (workdir / "runs").exists()


def test_the_sampler_needs_a_text_file_dataset(run_cli, tiny_spec):
    spec = tiny_spec.read_text().replace("callbacks:\n", "callbacks:\n  - TextSampler: {}\n")
    tiny_spec.write_text(spec)
    result = run_cli("validate", str(tiny_spec))
    assert result.exit_code == 2 and "TextSampler" in result.stderr and "text_file" in result.stderr


def test_the_books_corpus_offline_is_exit_3_naming_its_url_and_the_import(run_cli, workdir):
    spec = text_spec(workdir)
    spec.write_text(spec.read_text().replace("path: corpus.txt, ", ""))
    result = run_cli("train", str(spec), "-q")
    assert result.exit_code == 3 and "https://s3.amazonaws.com/text-datasets/nietzsche.txt" in result.stderr
    assert "dlcli data import text_file" in result.stderr and not (workdir / "runs").exists()


def test_the_nietzsche_import_checks_the_file(run_cli, workdir):
    (workdir / "nietzsche.txt").write_text("not the corpus", encoding="utf-8")
    result = run_cli("data", "import", "text_file", str(workdir / "nietzsche.txt"))
    assert result.exit_code == 3 and "600,901 bytes" in result.stderr and "data.path" in result.stderr
    assert not (workdir / "data" / "nietzsche.txt").exists()


# --------------------------------------------------------------------------- the vocabulary


def test_a_vocabulary_of_any_characters_round_trips(workdir):
    from dlcli.runs import Run, layout

    tokens = ["\n", "\r", "\t", " ", "\u2028", "\U0001F600", "", "a", "\r\n", "\\n"]
    run = Run.create("chars")
    try:
        run.write_vocabulary(tokens)
        assert run.has(layout.VOCABULARY_JSON) and not run.has(layout.VOCABULARY)
        assert run.vocabulary() == tokens
    finally:
        run.release()


def test_a_word_vocabulary_stays_in_vocabulary_txt(workdir):
    from dlcli.runs import Run, layout

    words = ["", "[UNK]", "the", "film", "caf\u00e9", "a\u2028b"]
    run = Run.create("words")
    try:
        run.write_vocabulary(words)
        assert not run.has(layout.VOCABULARY_JSON)
        assert run.file(layout.VOCABULARY).read_text(encoding="utf-8") == "\n".join(words) + "\n"  # as before
        assert run.vocabulary() == words
    finally:
        run.release()


# --------------------------------------------------------------------------- sampling


def test_reweighting_is_the_books_reweight_distribution():
    from dlcli.backend import import_keras
    from dlcli.generation.text import reweighted

    keras = import_keras()
    probabilities = np.random.default_rng(0).dirichlet(np.ones(30), size=4).astype("float32")
    temperatures = np.asarray([0.2, 0.5, 1.0, 1.2], "float32")
    ours = keras.ops.convert_to_numpy(reweighted(probabilities, temperatures))
    books = [reweight_distribution(row.astype("float64"), t) for row, t in zip(probabilities, temperatures)]
    np.testing.assert_allclose(ours, books, rtol=2e-5, atol=1e-7)


def test_draws_follow_the_reweighted_distribution():
    from dlcli.backend import import_keras
    from dlcli.generation.text import drawn

    keras = import_keras()
    weights = reweight_distribution(np.asarray([0.5, 0.3, 0.0, 0.15, 0.05]), 0.5)
    draws = 200_000
    uniforms = np.random.default_rng(1).random(draws, dtype=np.float32)
    chosen = keras.ops.convert_to_numpy(drawn(np.tile(weights.astype("float32"), (draws, 1)), uniforms))
    frequencies = np.bincount(chosen, minlength=5) / draws
    assert frequencies[2] == 0  # a character of probability 0 never comes
    np.testing.assert_allclose(frequencies, weights, atol=0.004)  # 4 standard errors at most


# --------------------------------------------------------------------------- training and generating


def generated(run_cli, run: str, *args: str) -> dict:
    result = run_cli("generate", "text", run, "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_tiny_character_model_samples_after_its_epoch_and_generates(run_cli, workdir):
    spec = text_spec(workdir)
    result = run_cli("train", str(spec), "--json", "-q")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    vocabulary = sorted(set(CORPUS))
    assert json.loads((run / "vocabulary.json").read_text()) == vocabulary  # the corpus has newlines
    epoch_sample = (run / "samples" / "epoch_001.txt").read_text(encoding="utf-8")
    assert [line for line in epoch_sample.splitlines() if line.startswith("------ temperature")] == [
        "------ temperature: 0.2", "------ temperature: 0.5", "------ temperature: 1", "------ temperature: 1.2"]
    first = generated(run_cli, str(run), "--seed", "3", "--length", "50", "--temperature", "0.5,1.5")
    assert [sample["temperature"] for sample in first["samples"]] == [0.5, 1.5]
    assert all(len(sample["text"]) == 50 and set(sample["text"]) <= set(vocabulary) for sample in first["samples"])
    assert set(first["seed_text"]) <= set(vocabulary) and len(first["seed_text"]) == 12
    assert Path(first["file"]).parent == run / "samples" and Path(first["file"]).is_file()
    assert generated(run_cli, str(run), "--seed", "3", "--length", "50", "--temperature", "0.5 1.5") == first
    seeded = generated(run_cli, str(run), "--seed-text", "Supposing that truth", "--length", "5")
    assert seeded["seed_text"] == "supposing that truth" and len(seeded["samples"]) == 4
    out = workdir / "text.txt"
    assert generated(run_cli, str(run), "--length", "5", "--out", str(out))["file"] == str(out) and out.is_file()
    again = run_cli("generate", "text", str(run), "--length", "5", "--out", str(out))
    assert again.exit_code == 2 and "--force" in again.stderr
    inside = run_cli("generate", "text", str(run), "--length", "5", "--out", str(run / "mine.txt"))
    assert inside.exit_code == 2 and not (run / "mine.txt").exists()
    nested = workdir / "new" / "folder" / "text.txt"  # folders made, as for pictures
    assert generated(run_cli, str(run), "--length", "5", "--out", str(nested))["file"] == str(nested)
    under_a_file = run_cli("generate", "text", str(run), "--length", "5", "--out", str(out / "text.txt"))
    assert under_a_file.exit_code == 2 and len(under_a_file.stderr.strip().splitlines()) == 1
    assert str(out) in under_a_file.stderr


def test_a_resumed_run_reads_its_vocabulary_json_and_samples_on(run_cli, workdir, monkeypatch):
    spec = write(workdir / "longer.yaml", text_spec(workdir).read_text().replace("epochs: 1", "epochs: 2"))
    interrupt_at_epoch_end(monkeypatch, 1)
    stopped = run_cli("train", str(spec), "--json", "-q")
    assert stopped.exit_code == 130, stopped.stderr
    run = Path(json.loads(stopped.stdout)["run_dir"])
    first = (run / "samples" / "epoch_001.txt").read_text(encoding="utf-8")
    result = run_cli("resume", str(run), "--json", "-q")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "completed"
    assert (run / "samples" / "epoch_001.txt").read_text(encoding="utf-8") == first  # not written again
    assert "epoch 2:" in (run / "samples" / "epoch_002.txt").read_text(encoding="utf-8")


def test_epoch_samples_come_from_the_run_seed_and_the_epoch():
    from dlcli.backend import import_keras
    from dlcli.generation.text import epoch_samples, sampling_loop

    keras = import_keras()
    model = keras.Sequential([keras.Input((6,)), keras.layers.CategoryEncoding(5, output_mode="one_hot"),
                              keras.layers.LSTM(4), keras.layers.Dense(5, activation="softmax")])
    codes = np.random.default_rng(0).integers(0, 5, 300).astype("int32")
    vocabulary = list("abcde")

    loop = sampling_loop(model)  # compiled once, as the TextSampler keeps it

    def sample(epoch: int, seed: int = 7) -> str:
        return epoch_samples(model, codes, vocabulary, 6, epoch, seed, length=20, loop=loop)

    assert sample(3) == sample(3)  # a resumed run writes what an uninterrupted one does
    assert sample(3) != sample(4) and sample(3) != sample(3, seed=8)


def test_a_sample_that_cannot_be_written_is_noted_and_the_run_completes(run_cli, workdir, monkeypatch):
    from dlcli.generation import text

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(text, "epoch_samples", full_disk)
    result = run_cli("train", str(text_spec(workdir)), "--json", "-q")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and "No space left" in info["missing"]["samples/"]
    assert not (run / "samples" / "epoch_001.txt").exists()


def test_generate_text_refusals_and_predict_points_there(run_cli, workdir):
    spec = text_spec(workdir)
    run = json.loads(run_cli("train", str(spec), "--json", "-q").stdout)["run_dir"]
    unknown = run_cli("generate", "text", run, "--seed-text", "truth is a woman \u20ac!")
    assert unknown.exit_code == 2 and "'\u20ac'" in unknown.stderr
    short = run_cli("generate", "text", run, "--seed-text", "truth")
    assert short.exit_code == 2 and "at least 12" in short.stderr
    assert run_cli("generate", "text", run, "--temperature", "0").exit_code == 2
    negative = run_cli("generate", "text", run, "--seed", "-1")
    assert negative.exit_code == 2 and "--seed -1" in negative.stderr  # not NumPy's ValueError
    predicted = run_cli("predict", run, "truth is a woman")
    assert predicted.exit_code == 2 and "dlcli generate text" in predicted.stderr
    (workdir / "corpus.txt").unlink()
    no_text = run_cli("generate", "text", run)  # a random seed needs the training text
    assert no_text.exit_code == 3 and "--seed-text" in no_text.stderr
    assert not any(Path(run, "samples").glob("generate-*"))


def test_generate_text_refuses_a_run_that_is_not_a_character_model(run_cli, tiny_spec):
    run = json.loads(run_cli("train", str(tiny_spec), "--json", "-q").stdout)["run_dir"]
    result = run_cli("generate", "text", run)
    assert result.exit_code == 2 and "not a text-generation run" in result.stderr


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install -e '.[jax]')")
def test_the_character_model_on_jax(workdir):
    spec = text_spec(workdir)
    environment = {**os.environ, "KERAS_BACKEND": "jax",
                   "PYTHONPATH": os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")])}

    def dlcli_process(*args: str) -> dict:
        result = subprocess.run([sys.executable, "-m", "dlcli", *args, "--json"], capture_output=True, text=True,
                                timeout=300, env=environment)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    run = Path(dlcli_process("train", str(spec), "-q")["run_dir"])
    assert json.loads((run / "run.json").read_text())["backend"] == "jax"
    assert (run / "samples" / "epoch_001.txt").is_file()
    result = dlcli_process("generate", "text", str(run), "--seed", "1", "--length", "40")
    assert all(len(sample["text"]) == 40 and set(sample["text"]) <= set(CORPUS) for sample in result["samples"])
