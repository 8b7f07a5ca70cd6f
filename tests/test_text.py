"""Raw reviews, TextVectorization, the saved vocabulary, GloVe: on tiny files made here."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import write

pytestmark = pytest.mark.training

GOOD = ["wonderful", "superb", "moving", "brilliant", "delightful"]
BAD = ["awful", "boring", "dreadful", "clumsy", "tedious"]
SPEC = """
description: tiny reviews
seed: 2
data: {{name: imdb_reviews, path: {path}, num_words: 30, maxlen: 12, train_samples: 40, validation_samples: 16}}
model:
  type: sequential
  layers:
    - Embedding: {{input_dim: 30, output_dim: {dim}}}{extra}
    - Flatten
    - Dense: {{units: 1, activation: sigmoid}}
compile: {{optimizer: {{name: rmsprop, learning_rate: 0.01}}, loss: binary_crossentropy, metrics: [acc]}}
fit: {{epochs: 3, batch_size: 8, validation: {{kind: dataset}}}}
"""


def reviews(root: Path, train: int = 30, test: int = 10) -> Path:
    """aclImdb/{train,test}/{pos,neg}/*.txt: praise words in pos/, complaints in neg/, shared filler."""
    rng = np.random.default_rng(0)
    for part, count in (("train", train), ("test", test)):
        for label, words in (("pos", GOOD), ("neg", BAD)):
            folder = root / "aclImdb" / part / label
            folder.mkdir(parents=True)
            for index in range(count):
                chosen = list(rng.choice(words, 3)) + list(rng.choice(["the", "film", "plot", "actors"], 4))
                rng.shuffle(chosen)
                (folder / f"{index}_{rng.integers(1, 10)}.txt").write_text(" ".join(chosen).capitalize() + "!<br />")
    return root / "aclImdb"


def test_tokenizer_standardisation_and_out_of_vocabulary(workdir):
    from dlcli.datasets import params as p
    from dlcli.datasets.text import encode, vectorizer

    settings = p.ImdbReviewsParams(name="imdb_reviews", num_words=6, maxlen=5)
    layer = vectorizer(settings)
    layer.adapt(["the film the film the", "don't stop, NOW.now! don't", "the film"])
    vocabulary = layer.get_vocabulary()
    assert vocabulary[:4] == ["", "[UNK]", "the", "film"]  # padding, unknown, then by frequency
    # Keras 2's filters keep the apostrophe and turn '.' into a space: "now" twice, "don't" twice.
    assert set(vocabulary[4:]) == {"now", "don't"} and "stop" not in vocabulary
    row = encode(layer, ["The FILM... unseen words here"], settings)[0]
    assert list(row) == [0, 0, 0, 2, 3]  # rare words dropped (as Tokenizer did), then padded in front
    kept = encode(layer, ["The FILM unseen"], p.ImdbReviewsParams(
        name="imdb_reviews", num_words=6, maxlen=5, out_of_vocabulary="token"))[0]
    assert list(kept) == [0, 0, 2, 3, 1]
    cut = encode(layer, ["film " * 3 + "the " * 4], settings)[0]
    assert list(cut) == [3, 2, 2, 2, 2]  # truncating 'pre' keeps the last maxlen words


def test_vocabulary_round_trip_between_train_evaluate_and_predict(run_cli, workdir):
    folder = reviews(workdir / "data")
    spec = write(workdir / "reviews.yaml", SPEC.format(path=folder, dim=8, extra=""))
    result = run_cli("train", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    run = Path(output["run_dir"])
    vocabulary = (run / "vocabulary.txt").read_text().split("\n")[:-1]
    assert vocabulary[:2] == ["", "[UNK]"] and "wonderful" in vocabulary and "br" in vocabulary  # "<br />"
    assert "vocabulary" not in json.loads((run / "run.json").read_text())["data_info"]
    evaluated = json.loads(run_cli("evaluate", str(run), "--json").stdout)["metrics"]
    assert evaluated["test_acc"] == pytest.approx(output["metrics"]["test_acc"])

    from dlcli import datasets
    from dlcli.runs import Run

    spec_model = Run(run).spec()
    again = datasets.load(spec_model.data, vocabulary=vocabulary)
    review = (folder / "test" / "pos").glob("*.txt").__next__()
    from dlcli.datasets.text import encode, vectorizer

    by_predict = encode(vectorizer(spec_model.data, vocabulary), [review.read_text()], spec_model.data)
    position = sorted((folder / "test" / "neg").glob("*.txt")).__len__() + sorted(
        (folder / "test" / "pos").glob("*.txt")).index(review)
    np.testing.assert_array_equal(by_predict[0], again.test.x[position])  # the very same tokens

    rows = json.loads(run_cli("predict", str(run), "a wonderful superb brilliant film",
                              "awful boring dreadful plot", str(review), "--json").stdout)["predictions"]
    assert [row["class"] for row in rows[:2]] == ["positive", "negative"]
    assert rows[2]["input"] == str(review) and 0 <= rows[2]["probability"] <= 1


def test_glove_import_and_frozen_embedding(run_cli, workdir):
    rng = np.random.default_rng(0)
    words = ["the", "film", *GOOD, *BAD, "zebra"]
    vectors = {word: rng.standard_normal(50).round(4) for word in words}
    glove = workdir / "data" / "glove" / "glove.6B.50d.txt"  # in the cache: `data import` wants 400,000 words
    glove.parent.mkdir(parents=True)
    glove.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in vectors.items()))
    bad = workdir / "other" / "glove.6B.100d.txt"
    bad.parent.mkdir()
    bad.write_text("the 0.1 0.2\nfilm 0.3\n")
    refused = run_cli("data", "import", "glove", str(bad))
    assert refused.exit_code == 3 and "line 2 has 1 numbers, not 2" in refused.stderr

    folder = reviews(workdir / "reviews")
    spec = write(workdir / "glove.yaml", SPEC.format(path=folder, dim=50,
                                                     extra="\n      weights: glove.6B.50d\n      trainable: false"))
    result = run_cli("train", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    from dlcli.models.saving import load_model

    model = load_model(run / "model.keras")
    embedding = model.layers[0]
    assert not embedding.trainable
    vocabulary = (run / "vocabulary.txt").read_text().split("\n")[:-1]
    matrix = np.asarray(embedding.get_weights()[0])
    for index, word in enumerate(vocabulary):
        expected = vectors.get(word, np.zeros(50)) if index > 1 else np.zeros(50)
        np.testing.assert_allclose(matrix[index], expected, atol=1e-6)  # zeros where GloVe lacks the word
    wrong_size = run_cli("train", str(spec), "--set", "model.layers.0.weights=glove.6B.100d")
    assert wrong_size.exit_code == 3 and "dlcli data import glove" in wrong_size.stderr


def test_a_reviews_sample_is_refused_and_nothing_escapes(run_cli, workdir):
    folder = reviews(workdir / "src", train=2, test=2)
    tarball = workdir / "aclImdb_v1.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(folder, arcname="aclImdb")
        evil = tarfile.TarInfo("../../evil.txt")
        evil.size = 4
        archive.addfile(evil, io.BytesIO(b"evil"))
    result = run_cli("data", "import", "imdb_reviews", str(tarball))  # 2 reviews a folder, not 12,500
    assert result.exit_code == 3 and "holds 2 reviews in aclImdb/train/pos" in result.stderr
    assert not (workdir / "data" / "aclImdb").exists() and not (workdir.parent / "evil.txt").exists()


def test_a_downloaded_glove_zip_is_unpacked_when_first_needed(workdir):
    import zipfile

    from dlcli.datasets.glove import glove_matrix

    cache = workdir / "data" / "glove"
    cache.mkdir(parents=True)
    with zipfile.ZipFile(cache / "glove.6B.zip", "w") as archive:  # where `data download glove` puts it
        archive.writestr("glove.6B.50d.txt", "film " + " ".join(["0.5"] * 50) + "\n")
    matrix = glove_matrix("glove.6B.50d", ["", "[UNK]", "film", "plot"], 4, 50)
    assert (cache / "glove.6B.50d.txt").is_file()
    np.testing.assert_allclose(matrix[2], 0.5)
    assert not matrix[3].any() and not matrix[:2].any()
