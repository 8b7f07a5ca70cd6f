"""Folders of images, one subfolder per class, as tf.data streams (5.2-5.4 without ImageDataGenerator).

Files are listed and decoded by `keras.utils.image_dataset_from_directory` (parallel decoding), of
the class folders `data.classes` keeps (all by default).
dlcli then keeps the decoded, resized images in memory as uint8 after the first epoch (`cache`),
reshuffles the training split every epoch, batches, and prefetches. Rescaling and augmentation are
layers of the model (Rescaling, RandomFlip, ...), so a saved model.keras carries its own
preprocessing and augmentation is active in training only.
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path

from dlcli.datasets.base import passes_from, DataBundle, DatasetEntry, Stream
from dlcli.datasets.pixels import pixel_problem
from dlcli.errors import DataUnavailable, SpecError
from dlcli.backend import import_keras

SPLIT_FOLDERS = ("train", "validation", "test")


def folder_of(entry: DatasetEntry, params, root: Path) -> Path:
    if params.path is not None:
        return Path(params.path).expanduser()
    return root / Path(entry.files[0].path).parent


def load_image_folder(entry: DatasetEntry, params, root: Path) -> DataBundle:
    folder = folder_of(entry, params, root)
    if not folder.is_dir():
        raise DataUnavailable(f"{folder}: no such folder of images")
    split_folders = (folder / "train").is_dir()
    train_folder = folder / "train" if split_folders else folder
    class_names = sorted(p.name for p in train_folder.iterdir() if p.is_dir())
    if not class_names:
        raise DataUnavailable(
            f"{folder}: no class folders; an image folder holds one subfolder of images per class, "
            "or train/ (and validation/, test/) with one subfolder per class each"
        )
    class_names = kept_classes(class_names, params.classes, train_folder)
    holdout = params.validation_split
    if holdout and split_folders and (folder / "validation").is_dir():
        raise DataUnavailable(f"{folder}: has a validation/ folder; drop data.validation_split")
    streams = {}
    for split in SPLIT_FOLDERS if split_folders else ("train",):
        if (folder / split).is_dir() or not split_folders:
            limit = {"train": params.train_samples, "test": params.test_samples}.get(split)
            place = folder / split if split_folders else folder
            if split == "train" and holdout:
                streams["train"] = image_stream(place, params, class_names, limit, subset="training")
                streams["validation"] = image_stream(place, params, class_names, subset="validation")
            else:
                streams[split] = image_stream(place, params, class_names, limit)
    info = {"folder": str(folder), "counts": {split: len(stream) for split, stream in streams.items()}}
    if params.classes is not None:
        info["classes"] = {"kept": class_names}
    if params.features is not None:
        from dlcli.datasets.features import feature_splits

        splits, info["features"] = feature_splits(streams, params, root)
        return DataBundle(train=splits["train"], test=splits.get("test"), validation=splits.get("validation"),
                          num_classes=len(class_names), class_names=class_names, info=info)
    return DataBundle(
        train=streams["train"], test=streams.get("test"), validation=streams.get("validation"),
        num_classes=len(class_names), class_names=class_names, info=info,
    )


def kept_classes(class_names: list[str], kept: list[str] | None, folder: Path) -> list[str]:
    """The class folders `data.classes` keeps (all when None), in sorted order; a name that is no
    class folder is a SpecError listing them."""
    if kept is None:
        return class_names
    unknown = [name for name in kept if name not in class_names]
    if unknown:
        raise SpecError(f"data.classes: no class folder {', '.join(unknown)} in {folder} "
                        f"(its classes: {', '.join(class_names)})")
    return [name for name in class_names if name in kept]


def image_stream(folder: Path, params, class_names: list[str], limit: int | None = None,
                 subset: str | None = None) -> Stream:
    """One split as a Stream; its images are decoded once and cached as uint8 when params.cache.

    `subset` ('training' or 'validation') takes Keras' seeded validation_split of the files."""
    keras = import_keras()
    import tensorflow as tf

    found = kept_classes(sorted(p.name for p in folder.iterdir() if p.is_dir()), params.classes, folder)
    if found != class_names:
        raise DataUnavailable(f"{folder}: class folders {found} differ from train/'s {class_names}")
    try:
        with contextlib.redirect_stdout(sys.stderr):  # "Found N files..." never reaches --json output
            images = keras.utils.image_dataset_from_directory(
                folder, labels="inferred", label_mode=params.label_mode, class_names=class_names,
                color_mode=params.color_mode, batch_size=None, image_size=tuple(params.image_size),
                interpolation=params.interpolation, verbose=False,
                # a held-out subset needs Keras to draw the files (shuffled once, with the seed)
                **({"shuffle": True, "seed": params.split_seed, "validation_split": params.validation_split,
                    "subset": subset} if subset else {"shuffle": False}),
            )
    except ValueError as error:
        raise DataUnavailable(f"{folder}: {error}") from None
    files = list(images.file_paths)
    if limit is not None:
        images, files = images.take(limit), files[:limit]
    for path in files:  # TensorFlow decodes whatever size a header declares: each is checked first
        problem = pixel_problem(Path(path))
        if problem:
            raise DataUnavailable(f"{path}: {problem}")
    if params.cache:  # uint8 holds what Keras 2's generators fed the model, at a quarter of the memory
        images = images.map(lambda x, y: (tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8), y),
                            num_parallel_calls=tf.data.AUTOTUNE).cache()
    channels = 1 if params.color_mode == "grayscale" else 3
    count = len(files)

    def make(batch_size: int, training: bool = False, seed: int | None = None, repeat: bool = False,
             start: int = 0):
        def one_pass(number):  # a pass shuffled from (seed, pass number) alone
            data = images
            if training:
                data = data.shuffle(count, seed=(seed or 0) * 1_000_003 + number, reshuffle_each_iteration=False)
            return data.batch(batch_size)

        data = passes_from(start, -(-count // batch_size), repeat, one_pass)
        data = data.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE)
        return data.prefetch(tf.data.AUTOTUNE)

    return Stream(make=make, count=count, element_shape=(*params.image_size, channels), files=files)


def decode_problem(data: bytes) -> str | None:
    """None when the bytes decode with the pipeline's own decoder (tf.io.decode_image), else why not;
    an image whose header declares too many pixels, or none Pillow can read, is never decoded."""
    if not data:
        return "empty file"
    problem = pixel_problem(data)
    if problem:
        return problem
    import_keras()
    import tensorflow as tf

    try:
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError, ValueError) as error:
        message = re.sub(r"\{\{.*?\}\}|\[Op:\w+\]", "", getattr(error, "message", str(error))).strip()
        return f"does not decode ({message or type(error).__name__})"
    if image.shape[0] == 0 or image.shape[1] == 0:
        return "an image with no pixels"
    return None


def first_bad_file(streams) -> str | None:
    """After a decoding error inside fit: name the first file that does not decode, and why."""
    for stream in streams:
        for path in getattr(stream, "files", []):
            problem = decode_problem(Path(path).read_bytes())
            if problem:
                return f"{path} {problem}; remove it (dlcli data split skips such files)"
    return None
