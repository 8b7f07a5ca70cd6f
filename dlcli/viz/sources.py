"""Where a visualised or predicting model comes from: a run, a .keras file, or a pretrained network.

A `ModelSource` knows how to turn an image file into the model's input batch (a run's model holds
its own Rescaling, so only resizing is left; a pretrained network uses its own
`preprocess_input`) and how to name the classes of a prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dlcli.errors import UsageError
from dlcli.models.saving import load_model
from dlcli.outputs import unusable_path
from dlcli.runs import Run
from dlcli.viz.images import resize


@dataclass
class ModelSource:
    model: Any
    label: str  # what to call it in messages and file names
    preprocess: Callable[[np.ndarray], np.ndarray]  # (h, w, 3) uint8 -> (1, H, W, C) float32
    class_names: list[str] | None = None
    run: Run | None = None
    input_size: tuple[int, int] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    from_logits: bool = False  # the run's loss reads its outputs as logits: shown through softmax (sigmoid)

    def top(self, batch: np.ndarray, count: int = 3) -> list[tuple[int, str, float]]:
        """[(class index, name, probability)], best first, for one image (a model with several
        outputs: of its first)."""
        return next(iter(self.heads(batch, count).values()))

    def heads(self, batch: np.ndarray, count: int = 3) -> dict[str, list[tuple[int, str, float]]]:
        """The top classes of each output, by output name ('' for a model with one output)."""
        predictions = self.model.predict(batch, verbose=0)
        if not isinstance(predictions, dict):
            return {"": decode_scores(self._chances(predictions), self.class_names, count)}
        names = (self.run.info.get("data_info") or {}).get("heads", {}) if self.run is not None else {}
        return {head: decode_scores(self._chances(scores), names.get(head), count)
                for head, scores in predictions.items()}

    def _chances(self, scores) -> np.ndarray:
        """One image's outputs as probabilities (logits through softmax, or sigmoid for one unit)."""
        from dlcli.ensemble_arithmetic import probabilities

        scores = np.asarray(scores)[0]
        return probabilities(scores, "binary" if scores.size == 1 else "categorical", self.from_logits)


def decode_scores(scores: np.ndarray, class_names: list[str] | None, count: int) -> list[tuple[int, str, float]]:
    """Softmax rows -> the top classes; one sigmoid unit -> both classes of a binary model."""
    scores = np.asarray(scores, dtype="float64").ravel()
    if scores.size == 1:
        scores = np.array([1.0 - scores[0], scores[0]])
    names = class_names or [str(index) for index in range(scores.size)]
    order = np.argsort(-scores)[:count]
    return [(int(i), names[i] if i < len(names) else str(i), float(scores[i])) for i in order]


def _resizer(size: tuple[int, int], interpolation: str = "bilinear", channels: int = 3):
    def preprocess(image: np.ndarray) -> np.ndarray:
        resized = resize(image, size, interpolation)
        if channels == 1:
            resized = resized.mean(axis=-1, keepdims=True)
        return resized[None]  # (1, H, W, C)

    return preprocess


def load_source(source: str | None, include_top: bool = True, weights: str | None = "imagenet") -> ModelSource:
    """RUN directory, .keras/.h5 file, or a keras.applications name (default vgg16)."""
    from dlcli.pretrained import APPLICATIONS, network_key

    source = source or "vgg16"
    path = Path(source)
    with unusable_path(f"--model {source}"):
        if path.is_dir():
            return _from_run(Run.open(path))
        if path.suffix in (".keras", ".h5") and not path.is_file():
            raise UsageError(f"{source}: no such model file")
    if path.suffix in (".keras", ".h5"):
        return _from_file(path)
    key = network_key(source)
    if key in APPLICATIONS:
        return _from_application(key, include_top, weights)
    raise UsageError(
        f"--model {source}: not a run directory, a .keras/.h5 file or a pretrained network "
        f"({', '.join(APPLICATIONS)})"
    )


def _sized(model) -> tuple[tuple[int, int], int]:
    if not hasattr(model, "input_shape"):  # a kind's own keras.Model subclass (a vae, a gan) declares none
        raise UsageError(f"this model ({type(model).__name__}) declares no input shape: it reads no images here")
    shape = tuple(model.input_shape[1:])
    if len(shape) != 3 or None in shape[:2]:
        raise UsageError(f"this model takes inputs of shape {shape}, not images (height, width, channels)")
    return (int(shape[0]), int(shape[1])), int(shape[2])


def _from_run(run: Run) -> ModelSource:
    """A run's model takes raw pixels (its own first layers scale them): only resizing is left,
    with the interpolation its images were read with."""
    from dlcli.backend import use_recorded

    use_recorded(run.info)  # the backend it was trained on, unless --backend says otherwise
    model = load_model(run.model_path())
    size, channels = _sized(model)
    interpolation = getattr(run.spec().data, "interpolation", "bilinear")
    return ModelSource(model, run.experiment, _resizer(size, interpolation, channels),
                       class_names=run.info.get("class_names"), run=run, input_size=size,
                       from_logits=_reads_logits(run.spec().compile.loss))


def _reads_logits(loss) -> bool:
    """Whether a run's loss takes its model's outputs as logits (`from_logits: true`), which are no
    probabilities until softmax. compile.loss only: an output's own loss and a .keras file's are not read."""
    from dlcli.ensemble_arithmetic import task_of

    found = task_of(loss)
    return bool(found and found[1])


def _from_file(path: Path) -> ModelSource:
    model = load_model(path)
    size, channels = _sized(model)
    return ModelSource(model, path.stem, _resizer(size, "bilinear", channels), input_size=size)


def _from_application(key: str, include_top: bool, weights: str | None) -> ModelSource:
    from dlcli.pretrained import APPLICATIONS, build_application, imagenet_class_names, preprocess_input

    app = APPLICATIONS[key]
    model = build_application(key, include_top=include_top, weights=weights)
    preprocess_function = preprocess_input(key)
    size = (app.size, app.size)

    def preprocess(image: np.ndarray) -> np.ndarray:
        return preprocess_function(resize(image, size)[None])

    names = imagenet_class_names() if include_top else None
    return ModelSource(model, key, preprocess, class_names=names, input_size=size,
                       info={"class_names_missing": include_top and names is None})
