"""Each dataset's parameters (the `data:` section of a spec). Imports neither NumPy nor Keras,
so `dlcli validate` checks a spec in a fraction of a second."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class DataParams(BaseModel):
    """Base of each dataset's parameters; `name` selects the dataset."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    name: str
    train_samples: int | None = Field(None, gt=0, description="keep only the first N training samples")
    test_samples: int | None = Field(None, gt=0, description="keep only the first N test samples")


Heads = dict[str, Literal["classes"] | dict[str, list[int]]]
HEADS_HELP = ("targets for a model with several outputs (7.3), keyed by output name: `classes` (the labels), "
              "or groups of class numbers, e.g. {tops: [0, 2, 4, 6], footwear: [5, 7, 9], ...}")


class ImageParams(DataParams):
    shape: Literal["image", "flat"] = Field("image", description="(h, w, c) images or flat vectors")
    labels: Literal["onehot", "int"] = "onehot"
    heads: Heads | None = Field(None, description=HEADS_HELP)
    classes: list[Annotated[int, Field(ge=0, le=9)]] | None = Field(
        None, min_length=1, description="keep only the samples of these classes (0-9) in every split, e.g. [6] for "
                                        "CIFAR-10's frogs (8.29); labels keep their numbers")


class MnistParams(ImageParams):
    name: Literal["mnist"]


class FashionMnistParams(ImageParams):
    name: Literal["fashion_mnist"]


class Cifar10Params(ImageParams):
    name: Literal["cifar10"]


class SequenceParams(DataParams):
    num_words: int = Field(10000, gt=3, description="keep the most frequent words (Keras' num_words)")
    representation: Literal["multi_hot", "sequences"] = Field(
        "multi_hot", description="multi_hot: the book's vectorize_sequences (3.2); sequences: padded ids"
    )
    maxlen: int | None = Field(None, gt=0, description="sequences: pad/truncate to this length")
    truncating: Literal["pre", "post"] = Field("pre", description="pad_sequences' default keeps the end")
    padding: Literal["pre", "post"] = "pre"
    reverse: bool = Field(False, description="reverse each sequence before padding (6.42)")


class ImdbParams(SequenceParams):
    name: Literal["imdb"]


class ReutersParams(SequenceParams):
    name: Literal["reuters"]
    labels: Literal["onehot", "int"] = "onehot"


class BostonParams(DataParams):
    name: Literal["boston_housing"]
    standardize: bool = Field(True, description="features scaled by training mean and std (3.25)")


class DigitsParams(DataParams):
    name: Literal["digits"]
    shape: Literal["image", "flat"] = "image"
    labels: Literal["onehot", "int"] = "onehot"
    test_fraction: float = Field(0.2, gt=0, lt=1)
    split_seed: int = Field(0, ge=0, description="seed of the fixed, stratified train/test split")
    heads: Heads | None = Field(None, description=HEADS_HELP)


class VerticalLineParams(DataParams):
    name: Literal["vertical_line"]


class SyntheticParams(DataParams):
    name: Literal["synthetic"]
    task: Literal["classification", "binary", "regression", "multilabel"] = Field(
        "classification", description="multilabel: num_classes independent 0/1 labels per sample")
    num_samples: int = Field(256, gt=0)
    num_test: int = Field(64, ge=0)
    shape: list[int] = Field([8], min_length=1)
    num_classes: int = Field(3, ge=2, description="classes, or labels per sample for multilabel")
    labels: Literal["onehot", "int"] = Field("onehot", description="classification only")
    noise: float = Field(0.1, ge=0)
    seed: int = 0
    pixels: bool = Field(False, description="uint8 pixels 0-255 scaled by the model, as the image datasets")


MAX_RANDOM_VALUES = 500_000_000  # 2 GiB of float32


class RandomArray(BaseModel):
    """One named array of the `random` dataset: NumPy's random draws, as the book's ch. 7 demos make."""

    model_config = ConfigDict(extra="forbid")

    shape: list[int] = Field([], description="one sample's shape, e.g. [100]; [] for a scalar")
    distribution: Literal["uniform", "normal", "integers"] = Field(
        "uniform", description="uniform: np.random.random's [low, high); integers: randint's [low, high)")
    low: float = 0.0
    high: float = 1.0
    mean: float = Field(0.0, description="normal only")
    std: float = Field(1.0, ge=0, description="normal only")
    dtype: Literal["float32", "float64", "int32", "int64"] | None = Field(
        None, description="default: int32 for integers, float32 otherwise")
    onehot: int | None = Field(None, ge=2, le=100_000, description="integers in [0, onehot), one-hot encoded")

    @field_validator("shape")
    @classmethod
    def _positive(cls, shape: list[int]) -> list[int]:
        if any(size <= 0 for size in shape) or math.prod(shape) > 10**8:
            raise ValueError("sizes must be positive, and a sample at most 10^8 values")
        return shape

    @model_validator(mode="after")
    def _range(self) -> "RandomArray":
        if self.distribution != "normal" and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


class RandomParams(DataParams):
    """Named random arrays (7.1's demos): `inputs` and `targets` are keyed by the model's input and
    output names. Random targets cannot be learnt: such experiments show shapes and plumbing."""

    name: Literal["random"]
    num_samples: int = Field(1000, gt=0, le=10**7)
    num_test: int = Field(0, ge=0, le=10**7)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    inputs: dict[str, RandomArray] = Field(min_length=1)
    targets: dict[str, RandomArray] = Field(min_length=1)

    @model_validator(mode="after")
    def _fits_in_memory(self) -> "RandomParams":
        arrays = [*self.inputs.values(), *self.targets.values()]
        values = (self.num_samples + self.num_test) * sum(
            math.prod(array.shape) * (array.onehot or 1) for array in arrays)
        if values > MAX_RANDOM_VALUES:
            raise ValueError(f"{values:,} random values in all ({values * 4 / 2**30:.1f} GiB): at most "
                             f"{MAX_RANDOM_VALUES:,}; fewer samples or smaller shapes")
        return self


class FeaturesParams(BaseModel):
    """Fast feature extraction (5.17): a frozen pretrained base runs once per image; its outputs,
    cached in HDF5, are the dataset."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    network: str = Field(description="a keras.applications network: vgg16, resnet50...")
    weights: Literal["imagenet"] | None = "imagenet"
    preprocess: Literal["rescale", "network"] = Field(
        "rescale", description="rescale: pixels / 255, as the book (5.17); network: its preprocess_input"
    )
    cache: bool = Field(True, description="reuse the features of identical images and settings")

    @field_validator("network")
    @classmethod
    def _known(cls, network: str) -> str:
        from dlcli.pretrained import application

        try:
            application(network)
        except Exception as error:  # SpecError: its message lists the choices
            raise ValueError(str(error)) from None
        from dlcli.pretrained import network_key

        return network_key(network)


class ImageFolderParams(DataParams):
    """A folder with train/ (and validation/, test/) subfolders, each holding one folder per class;
    or simply a folder of class folders, with `validation_split` to hold some images out."""

    name: Literal["image_folder"]
    path: str = Field(description="the folder holding train/, validation/ and test/, or the class folders")
    validation_split: float | None = Field(
        None, gt=0, lt=1, description="a folder without validation/: hold out this fraction, drawn with split_seed"
    )
    split_seed: int = Field(1337, ge=0, description="seed of the files drawn for validation_split")
    image_size: tuple[int, int] = Field((150, 150), description="(height, width) every image is resized to")
    color_mode: Literal["rgb", "grayscale"] = "rgb"
    label_mode: Literal["binary", "categorical", "int"] = "categorical"
    interpolation: Literal["nearest", "bilinear", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                           "mitchellcubic"] = Field(
        "bilinear", description="resizing; Keras 2's flow_from_directory used nearest"
    )
    cache: bool = Field(True, description="keep the decoded images in memory (as uint8) after the first epoch")
    features: FeaturesParams | None = Field(None, description="train on a frozen network's outputs (5.17)")
    classes: list[str] | None = Field(None, min_length=1, description="keep only these class folders, by name, in "
                                                                      "every split; labels number them in sorted order")


class CatsVsDogsParams(ImageFolderParams):
    """The book's small Dogs-vs-Cats folders, made by `dlcli data split cats-vs-dogs` (5.4)."""

    name: Literal["cats_vs_dogs"]
    path: str | None = Field(None, description="default: the data cache's cats-vs-dogs/")
    label_mode: Literal["binary", "categorical", "int"] = "binary"
    interpolation: Literal["nearest", "bilinear", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                           "mitchellcubic"] = "nearest"


Rows = list[int | float | None]


class SeriesParams(DataParams):
    """Windows over a table of time steps, as the book's generator (6.33-6.34)."""

    lookback: int = Field(1440, gt=0, description="time steps of history a window covers")
    step: int = Field(6, gt=0, description="keep one time step in `step` inside a window")
    delay: int = Field(144, ge=0, description="the target is this many steps after the window's end")
    train_rows: Rows = Field([0, 200000], min_length=2, max_length=2,
                             description="[first, end) rows; numbers below 1 are fractions of the table")
    validation_rows: Rows | None = Field([200001, 300000], min_length=2, max_length=2)
    test_rows: Rows | None = Field([300001, None], min_length=2, max_length=2)
    features: list[str] | None = Field(None, description="columns fed to the model (default: every numeric one)")
    target: str = Field(description="the column to forecast")
    normalize: bool = Field(True, description="scale every column by the training rows' mean and std (6.32)")
    reverse: bool = Field(False, description="feed each window newest first (the reversed-GRU experiment)")


class JenaParams(SeriesParams):
    name: Literal["jena_climate"]
    target: str = "T (degC)"


class CsvSeriesParams(SeriesParams):
    """Your own series: a CSV file with a header, one row per time step."""

    name: Literal["csv_series"]
    path: str = Field(description="the CSV file")
    datetime_column: str | None = Field(None, description="a column of time stamps, not fed to the model")
    target_unit: str | None = Field(None, description="suffix of metrics in the target's own units, e.g. degc")


class ImdbReviewsParams(DataParams):
    """The raw IMDB reviews (aclImdb/{train,test}/{pos,neg}/*.txt), tokenised as in 6.8-6.10."""

    name: Literal["imdb_reviews"]
    path: str | None = Field(None, description="an aclImdb folder (default: the data cache's)")
    num_words: int = Field(10000, gt=2, description="vocabulary size, with padding (0) and out-of-vocabulary (1)")
    maxlen: int = Field(100, gt=0, description="words kept per review")
    truncating: Literal["pre", "post"] = Field("pre", description="pad_sequences' default keeps the last words")
    padding: Literal["pre", "post"] = "pre"
    out_of_vocabulary: Literal["drop", "token"] = Field(
        "drop", description="drop: as Keras 2's Tokenizer, rarer words vanish; token: they become 1"
    )
    standardize: Literal["tokenizer", "lower_and_strip_punctuation"] = Field(
        "tokenizer", description="tokenizer: Keras 2's filters become spaces; or TextVectorization's default"
    )
    validation_samples: int | None = Field(None, gt=0, description="the reviews after train_samples (6.9: 10,000)")
    shuffle_seed: int = Field(1337, ge=0, description="the book shuffles the training reviews without a seed")
    vocabulary_from: Literal["all", "train_samples"] = Field(
        "all", description="all: fit on the 25,000 training reviews, as 6.9 does"
    )


class GloveParams(DataParams):
    name: Literal["glove"]


class WeightsParams(DataParams):
    name: Literal["weights"]


class TextFileParams(DataParams):
    """Any UTF-8 text as character windows (8.2): a window of `maxlen` characters, its target the
    character after it, a new window every `step` characters; the book's corpus by default."""

    name: Literal["text_file"]
    path: str | None = Field(None, description="a UTF-8 text file (default: the data cache's nietzsche.txt, "
                                               "the book's corpus, downloaded from its URL)")
    lowercase: bool = Field(True, description="lower-case the text first, as 8.2 does")
    maxlen: int = Field(60, ge=2, le=10_000, description="characters a window holds (8.2: 60)")
    step: int = Field(3, gt=0, description="characters from one window's start to the next one's (8.2: 3)")
    validation_split: float | None = Field(
        None, gt=0, lt=1, description="the text's last fraction gives validation windows (fit.validation.kind: "
                                      "dataset); the book holds none out")
    labels: Literal["onehot", "int"] = Field(
        "onehot", description="onehot for categorical_crossentropy (8.4); int for sparse_categorical_crossentropy")

    @model_validator(mode="after")
    def _no_test_split(self) -> "TextFileParams":
        if self.test_samples is not None:
            raise ValueError("test_samples: a text file has no test split (validation_split holds windows out)")
        return self
