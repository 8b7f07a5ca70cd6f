"""Callbacks that watch a training (7.2): the book's ActivationLogger, TensorBoard's embedding
projector, learning-rate schedules by name, a user's own callback class from a file, and 8.7's
TextSampler (a character model's samples after every epoch)."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from dlcli.atomic import atomic_path, write_text_atomic
from dlcli.errors import SpecError
from dlcli.backend import import_keras
from dlcli.backend.projector import save_embedding_checkpoint


def epoch_schedule(schedule: dict, where: str):
    """LearningRateScheduler's function from a keras.optimizers.schedules class by name, evaluated at
    the 0-based epoch number (a Keras schedule counts steps; here one step is one epoch)."""
    keras = import_keras()
    (name, arguments), = schedule.items()
    try:
        rule = getattr(keras.optimizers.schedules, name)(**arguments)
        rule(0)
    except (TypeError, ValueError) as error:
        raise SpecError(f"{where}.{name}: {error}") from None
    return lambda epoch, learning_rate=None: float(rule(epoch))


# --------------------------------------------------------------------------- custom callbacks


def load_custom(path: str, arguments: dict, where: str):
    """An instance of the Callback class `FILE.py:ClassName` (an absolute file, resolved when the spec
    was read); every way it can fail is a SpecError naming the file."""
    keras = import_keras()
    file, _, class_name = path.rpartition(":")
    if not Path(file).is_file():
        raise SpecError(f"{where}: no file {file}")
    module_name = f"dlcli_custom_{hashlib.sha1(file.encode()).hexdigest()[:12]}"
    try:
        module = sys.modules.get(module_name) or _import_file(module_name, file)
    except Exception as error:  # a user's module may raise anything while it is imported
        raise SpecError(f"{where}: cannot import {file}: {type(error).__name__}: {error}") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, keras.callbacks.Callback)):
        found = [name for name, value in vars(module).items()
                 if isinstance(value, type) and issubclass(value, keras.callbacks.Callback)
                 and value.__module__ == module.__name__]
        what = "no class" if cls is None else "not a keras.callbacks.Callback subclass:"
        raise SpecError(f"{where}: {what} {class_name} in {file} (callback classes there: {', '.join(found) or 'none'})")
    try:
        return cls(**arguments)
    except Exception as error:
        raise SpecError(f"{where}: {class_name}({', '.join(arguments)}) failed: {type(error).__name__}: {error}") from None


def _import_file(module_name: str, file: str):
    spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # pickling and dataclasses look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


# --------------------------------------------------------------------------- dlcli's own callbacks


def first_samples(validation, count: int):
    """The first `count` validation inputs, as arrays (a dict of them for named inputs)."""
    if validation is None:
        raise SpecError("callbacks: ActivationLogger needs validation data: set fit.validation")
    if hasattr(validation, "make"):  # a Stream
        inputs = next(iter(validation.make(count).take(1)))[0]
        return {k: np.asarray(v) for k, v in inputs.items()} if isinstance(inputs, dict) else np.asarray(inputs)
    x = validation.x
    return {k: v[:count] for k, v in x.items()} if isinstance(x, dict) else x[:count]


@functools.lru_cache(maxsize=None)
def monitoring_classes():
    keras = import_keras()

    class ActivationLogger(keras.callbacks.Callback):
        """7.2.1: after every epoch, the activations of every layer for the first validation
        samples, into the file `target(epoch)` names (1-based; the run's layout names it
        activations/<phase>-epoch-NNNN.npz), one array per layer, by layer name."""

        def __init__(self, target: Callable[[int], Path], samples, layers: list[str] | None = None, every: int = 1):
            super().__init__()
            self.target, self.samples, self.layer_names, self.every = target, samples, layers, every

        def on_train_begin(self, logs=None):
            names = [layer.name for layer in self.model.layers if not isinstance(layer, keras.layers.InputLayer)]
            unknown = [name for name in self.layer_names or [] if name not in names]
            if unknown:
                raise SpecError(f"callbacks: ActivationLogger.layers: no layer {', '.join(unknown)} "
                                f"(layers: {', '.join(names)})")
            self.names = self.layer_names or names
            self.probe = keras.Model(self.model.inputs, [self.model.get_layer(name).output for name in self.names])

        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % self.every:
                return
            outputs = self.probe.predict(self.samples, verbose=0)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            with atomic_path(self.target(epoch + 1)) as temporary:
                np.savez_compressed(temporary, **{name: np.asarray(value) for name, value in zip(self.names, outputs)})

    class EmbeddingProjector(keras.callbacks.Callback):
        """TensorBoard's embedding projector (7.9). Keras 3's own `embeddings_freq` saves an .h5
        file the projector cannot read (keras-team/keras#20210); this writes what it reads: a
        TensorFlow checkpoint of every Embedding matrix, projector_config.pbtxt, and the words of
        each row (metadata.tsv) when the run has a vocabulary."""

        def __init__(self, log_dir: Path, every: int, words: list[str] | None):
            super().__init__()
            self.log_dir, self.every, self.words = log_dir, every, words

        def on_epoch_end(self, epoch, logs=None):
            if epoch % self.every:
                return
            from google.protobuf import text_format
            from tensorboard.plugins import projector

            layers = [layer for layer in _walk(self.model) if isinstance(layer, keras.layers.Embedding)]
            if not layers:
                return
            names = {layer.name: f"embedding_{index}" for index, layer in enumerate(layers)}
            matrices = {names[layer.name]: keras.ops.convert_to_numpy(layer.embeddings) for layer in layers}
            # In the `train` run's folder, where the projector looks.
            folder = self.log_dir / "train"
            save_embedding_checkpoint(matrices, folder, epoch + 1)
            config = projector.ProjectorConfig()
            for layer in layers:
                embedding = config.embeddings.add()
                embedding.tensor_name = f"{names[layer.name]}/.ATTRIBUTES/VARIABLE_VALUE"
                if self.words:
                    metadata = f"metadata-{names[layer.name]}.tsv"
                    write_text_atomic(folder / metadata, _labels(self.words, layer.input_dim))
                    embedding.metadata_path = metadata
            write_text_atomic(folder / "projector_config.pbtxt", text_format.MessageToString(config))

    return ActivationLogger, EmbeddingProjector


def _walk(model) -> list:
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers"):
            found += _walk(layer)
    return found


def _labels(words: list[str], rows: int) -> str:
    """One label a row of the matrix: the vocabulary's words, `<pad>` for index 0, `#i` past the end."""
    labels = [(word or "<pad>") if index < len(words) else f"#{index}" for index, word in enumerate(words[:rows])]
    labels += [f"#{index}" for index in range(len(labels), rows)]
    return "\n".join(label.replace("\t", " ").replace("\n", " ") or f"#{i}" for i, label in enumerate(labels)) + "\n"


@functools.lru_cache(maxsize=None)
def text_sampler_class():
    from dlcli.spec import SAMPLE_LENGTH, SAMPLE_TEMPERATURES

    keras = import_keras()

    class TextSampler(keras.callbacks.Callback):
        """8.7's loop after every `every` epochs: from a random `maxlen`-character seed of the training
        text, `length` characters at each temperature (one batch, dlcli.generation.text), into
        samples/epoch_NNN.txt. The seed and the draws come from (run seed, epoch) alone."""

        def __init__(self, run, codes, vocabulary: list[str], maxlen: int, seed: int, length: int = SAMPLE_LENGTH,
                     temperatures: tuple[float, ...] = SAMPLE_TEMPERATURES, every: int = 1):
            super().__init__()
            self.run, self.codes, self.vocabulary, self.maxlen, self.seed = run, codes, vocabulary, maxlen, seed
            self.length, self.temperatures, self.every = length, tuple(temperatures), every
            self.loop = None  # compiled once; the weights are its arguments

        def on_epoch_end(self, epoch, logs=None):
            from dlcli.generation.text import epoch_samples, sampling_loop
            from dlcli.runs import layout
            from dlcli.training.distribution import no_distribution

            if (epoch + 1) % self.every:
                return
            with no_distribution():  # the writer of several processes samples alone, from its copy of the weights
                self.loop = self.loop or sampling_loop(self.model)
                text = epoch_samples(self.model, self.codes, self.vocabulary, self.maxlen, epoch + 1, self.seed,
                                     self.temperatures, self.length, self.loop)
            self.run.write_text(layout.TEXT_SAMPLE, text, epoch=f"{epoch + 1:03d}")

    return TextSampler
