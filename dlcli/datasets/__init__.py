"""Datasets by name. Registering imports neither NumPy, pydantic nor Keras: loaders and parameter
classes are named "module:attribute" and imported only when a dataset is loaded, imported or its
parameters read (so `dlcli list` and `data list` stay fast)."""

from __future__ import annotations

from dlcli.datasets.base import CIFAR_BATCHES, IDX_FILES, DataBundle, DatasetEntry, RemoteFile, Split
from dlcli.registry import Registry

KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
PARAMS = "dlcli.datasets.params"
ARRAYS = "dlcli.datasets.keras_arrays"
SMALL = "dlcli.datasets.small"
IMAGES = "dlcli.datasets.image_folder"
SERIES = "dlcli.datasets.series"
TEXT = "dlcli.datasets.text"
GLOVE = "dlcli.datasets.glove"
CHARACTERS = "dlcli.datasets.characters"

DATASETS = Registry("dataset")
for _entry in [
    DatasetEntry(
        "mnist", "MNIST handwritten digits, 60,000 + 10,000 28x28 grey images", "keras.datasets.mnist",
        f"{PARAMS}:MnistParams", f"{ARRAYS}:load_mnist",
        files=[RemoteFile("mnist.npz", KERAS_DATASETS + "mnist.npz",
                          "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")],
        alternatives=[[RemoteFile(f"mnist/{name}") for name in IDX_FILES.values()]],
        importer="dlcli.datasets.array_imports:import_mnist",
        import_formats="mnist.npz, or a folder with the four IDX .gz files",
    ),
    DatasetEntry(
        "fashion_mnist", "Fashion-MNIST clothing, 60,000 + 10,000 28x28 grey images",
        "keras.datasets.fashion_mnist (Zalando, MIT licence)", f"{PARAMS}:FashionMnistParams", f"{ARRAYS}:load_mnist",
        files=[RemoteFile(f"fashion-mnist/{name}", KERAS_DATASETS + name) for name in IDX_FILES.values()],
        importer="dlcli.datasets.array_imports:import_fashion_mnist",
        import_formats="a folder with the four IDX .gz files, e.g. /usr/share/datasets/fashion-mnist "
                       "from Debian's dataset-fashion-mnist",
    ),
    DatasetEntry(
        "imdb", "IMDB movie reviews as word-index sequences, 25,000 + 25,000, positive/negative",
        "keras.datasets.imdb", f"{PARAMS}:ImdbParams", f"{ARRAYS}:load_imdb",
        files=[RemoteFile("imdb.npz", KERAS_DATASETS + "imdb.npz",
                          "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f")],
        importer="dlcli.datasets.array_imports:import_imdb", import_formats="Keras' imdb.npz",
    ),
    DatasetEntry(
        "reuters", "Reuters newswires as word-index sequences, 8,982 + 2,246, 46 topics",
        "keras.datasets.reuters", f"{PARAMS}:ReutersParams", f"{ARRAYS}:load_reuters",
        files=[RemoteFile("reuters.npz", KERAS_DATASETS + "reuters.npz",
                          "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916")],
        importer="dlcli.datasets.array_imports:import_reuters", import_formats="Keras' reuters.npz",
    ),
    DatasetEntry(
        "boston_housing", "Boston housing prices, 404 + 102 samples, 13 features",
        "keras.datasets.boston_housing", f"{PARAMS}:BostonParams", f"{ARRAYS}:load_boston",
        files=[RemoteFile("boston_housing.npz", KERAS_DATASETS + "boston_housing.npz",
                          "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5")],
        alternatives=[[RemoteFile("boston_housing.csv")]],
        importer="dlcli.datasets.array_imports:import_boston",
        import_formats="Keras' boston_housing.npz, or the CSV with the 14 named columns CRIM ... MEDV",
    ),
    DatasetEntry(
        "cifar10", "CIFAR-10 colour images, 50,000 + 10,000 32x32, 10 classes", "keras.datasets.cifar10",
        f"{PARAMS}:Cifar10Params", f"{ARRAYS}:load_cifar10",
        files=[RemoteFile("cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                          "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")],
        alternatives=[[RemoteFile(f"cifar-10-batches-py/{name}") for name in CIFAR_BATCHES]],
        importer="dlcli.datasets.array_imports:import_cifar10",
        import_formats="cifar-10-python.tar.gz (the python version)",
    ),
    DatasetEntry(
        "digits", "UCI optical digits, 1,797 8x8 images (shipped with dlcli, CC BY 4.0)",
        "UCI ML repository: Optical Recognition of Handwritten Digits (Alpaydin & Kaynak, 1998)",
        f"{PARAMS}:DigitsParams", f"{SMALL}:load_digits", shipped=True,
    ),
    DatasetEntry(
        "vertical_line", "the course lesson's 8x8 image of a vertical line (built in)",
        "course lesson on convnets (seed 003, L96-102)", f"{PARAMS}:VerticalLineParams", f"{SMALL}:load_vertical_line",
        shipped=True,
    ),
    DatasetEntry(
        "cats_vs_dogs", "Kaggle Dogs vs. Cats, the book's small split: 1000/500/500 images per class (5.4)",
        "Kaggle Dogs vs. Cats (https://www.kaggle.com/c/dogs-vs-cats/data, needs a Kaggle login)",
        f"{PARAMS}:CatsVsDogsParams", f"{IMAGES}:load_image_folder",
        files=[RemoteFile(f"cats-vs-dogs/{split}") for split in ("train", "validation", "test")],
        how_to_get="Download train.zip (or dogs-vs-cats.zip) from https://www.kaggle.com/c/dogs-vs-cats/data "
                   "(a Kaggle login is needed), then run: dlcli data split cats-vs-dogs PATH",
    ),
    DatasetEntry(
        "image_folder", "any folder of train/, validation/ and test/ subfolders with one folder per class",
        "your own images (data.path)", f"{PARAMS}:ImageFolderParams", f"{IMAGES}:load_image_folder", external=True,
    ),
    DatasetEntry(
        "jena_climate", "Jena weather station, 2009-2016: 420,551 rows of 14 measurements every 10 min",
        "Max Planck Institute for Biogeochemistry, as packaged for the Keras examples", f"{PARAMS}:JenaParams",
        f"{SERIES}:load_series",
        files=[RemoteFile("jena_climate/jena_climate_2009_2016.csv.zip",
                          KERAS_DATASETS + "jena_climate_2009_2016.csv.zip")],  # the book's: s3 keras-datasets
        alternatives=[[RemoteFile("jena_climate/jena_climate_2009_2016.csv")]],
        importer=f"{SERIES}:import_jena", import_formats="jena_climate_2009_2016.csv or its .zip",
    ),
    DatasetEntry(
        "csv_series", "any CSV of time steps (one row each, a header) as windows, like jena_climate",
        "your own file (data.path)", f"{PARAMS}:CsvSeriesParams", f"{SERIES}:load_series", external=True,
    ),
    DatasetEntry(
        "imdb_reviews", "IMDB reviews as raw text (aclImdb), 25,000 + 25,000, tokenised with TextVectorization",
        "Stanford Large Movie Review Dataset (Maas et al., 2011)", f"{PARAMS}:ImdbReviewsParams",
        f"{TEXT}:load_imdb_reviews",
        files=[RemoteFile("aclImdb_v1.tar.gz", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz")],
        alternatives=[[RemoteFile("aclImdb/train"), RemoteFile("aclImdb/test")]],
        importer=f"{TEXT}:import_reviews", import_formats="aclImdb_v1.tar.gz or its aclImdb folder",
    ),
    DatasetEntry(
        "text_file", "any UTF-8 text as character windows (8.2); by default Nietzsche's writings, 600,901 bytes",
        "your own file (data.path), or the book's corpus: Nietzsche in English translation", f"{PARAMS}:TextFileParams",
        f"{CHARACTERS}:load_text_file",
        files=[RemoteFile("nietzsche.txt", "https://s3.amazonaws.com/text-datasets/nietzsche.txt")],  # no hash published
        importer=f"{CHARACTERS}:import_nietzsche",
        import_formats="the book's nietzsche.txt; a text of your own needs no import, name it in data.path",
    ),
    DatasetEntry(
        "glove", "GloVe word vectors (glove.6B.50d/100d/200d/300d.txt) for pretrained embeddings (6.10-6.13)",
        "Stanford NLP, GloVe 6B (Wikipedia 2014 + Gigaword 5)", f"{PARAMS}:GloveParams", f"{GLOVE}:not_a_training_set",
        files=[RemoteFile("glove/glove.6B.zip", "https://nlp.stanford.edu/data/glove.6B.zip")],
        alternatives=[[RemoteFile(f"glove/glove.6B.{d}d.txt")] for d in (50, 100, 200, 300)],
        importer=f"{GLOVE}:import_glove", import_formats="glove.6B.*d.txt or glove.6B.zip", training_set=False,
    ),
    DatasetEntry(
        "weights", "ImageNet weights of keras.applications networks, for Pretrained layers and visualize",
        "keras.applications (VGG16, VGG19, InceptionV3, ResNet50, Xception, MobileNetV2)", f"{PARAMS}:WeightsParams",
        "dlcli.pretrained:not_a_training_set", training_set=False,
        importer="dlcli.pretrained:import_weights",
        import_formats="weight files by their Keras names (a file, or a folder such as ~/.keras/models)",
        how_to_get="Each network's weights are downloaded when it is first used (a Pretrained layer, dlcli "
                   "visualize); offline, bring the files and run: dlcli data import weights PATH",
    ),
    DatasetEntry(
        "synthetic", "random, learnable arrays for tests (built in)", "dlcli", f"{PARAMS}:SyntheticParams",
        f"{SMALL}:load_synthetic", shipped=True,
    ),
    DatasetEntry(
        "random", "named random arrays, as the book's chapter 7 demos draw them (built in)", "dlcli",
        f"{PARAMS}:RandomParams", f"{SMALL}:load_random", shipped=True,
    ),
]:
    DATASETS.add(_entry.name, _entry)


def ensure_available(params) -> None:
    """The dataset's files are in the cache, downloaded when allowed, else DataUnavailable (exit 3)."""
    from dlcli.datasets.cache import data_dir, ensure

    if getattr(params, "path", None) is None:  # a folder the spec names is not the cache's business
        ensure(DATASETS.get(params.name), data_dir())


def load(params, vocabulary: list[str] | None = None) -> DataBundle:
    """Load the dataset a validated `data` section names, downloading it when allowed.

    A text dataset given a `vocabulary` (the one a run saved) tokenises with it, unchanged."""
    from dlcli.datasets.cache import data_dir

    entry: DatasetEntry = DATASETS.get(params.name)
    root = data_dir()
    ensure_available(params)
    bundle = entry.load(params, root, vocabulary=vocabulary)
    if getattr(params, "heads", None):
        from dlcli.datasets.heads import with_heads

        bundle = with_heads(bundle, params.heads, getattr(params, "labels", "onehot"))
    return bundle


__all__ = ["DATASETS", "DataBundle", "DatasetEntry", "Split", "ensure_available", "load"]
