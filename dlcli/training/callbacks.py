"""The spec's callbacks wired into the run directory, and the wrappers that make them safe there
(an optional part's failure is a note; checkpoints are saved atomically). dlcli's own callbacks,
which every fit ends with, are training.fit_callbacks'."""

from __future__ import annotations

import functools

from dlcli.backend import import_keras
from dlcli.models.kind import kind_of
from dlcli.registry import resolve
from dlcli.spec.keras_names import CALLBACK_ARGUMENTS
from dlcli.runs import Run, layout


def _checkpoint(run: Run, entry, context: dict) -> list:
    arguments = {"save_best_only": True, **_with_mode({"monitor": "val_loss", **entry.arguments}),
                 "filepath": str(run.output(layout.BEST_MODEL))}
    return [atomic_checkpoint_class()(**arguments)]


def _tensorboard(run: Run, entry, context: dict) -> list:
    """TensorBoard into logs/; its embedding projector by dlcli (Keras 3's writes what the projector
    cannot read), labelled with the run's vocabulary."""
    from dlcli.training.monitoring import monitoring_classes

    keras = import_keras()
    arguments = dict(entry.arguments)
    every = arguments.pop("embeddings_freq", 0)
    arguments.pop("embeddings_metadata", None)
    logs = run.output(layout.LOGS)
    made = [keras.callbacks.TensorBoard(**arguments, log_dir=str(logs))]
    if every:
        info = context["bundle"].info
        made.append(monitoring_classes()[1](logs, every, info.get("vocabulary") or info.get("index_words")))
    return [optional_callback_class()(callback, run, f"{layout.LOGS}/") for callback in made]


def _scheduler(run: Run, entry, context: dict) -> list:
    from dlcli.training.monitoring import epoch_schedule

    arguments = dict(entry.arguments)
    where = f"callbacks[{context['index']}].LearningRateScheduler.schedule"
    return [import_keras().callbacks.LearningRateScheduler(epoch_schedule(arguments.pop("schedule"), where), **arguments)]


def _activation_logger(run: Run, entry, context: dict) -> list:
    from dlcli.training.monitoring import first_samples, monitoring_classes

    arguments = dict(entry.arguments)
    samples = first_samples(context["validation"], arguments.pop("samples", 1))
    phase = context["phase"]

    def target(epoch: int):
        return run.output(layout.ACTIVATION_FILE, phase=phase, epoch=f"{epoch:04d}")

    return [optional_callback_class()(monitoring_classes()[0](target, samples, **arguments), run, f"{layout.ACTIVATIONS}/")]


def _text_sampler(run: Run, entry, context: dict) -> list:
    """8.7's samples after every epoch into samples/ (an optional part: a failure is noted in run.json)."""
    from dlcli.training.monitoring import text_sampler_class

    train, info = context["bundle"].train, context["bundle"].info
    sampler = text_sampler_class()(run, train.codes, info["vocabulary"], info["maxlen"], context["seed"], **entry.arguments)
    return [optional_callback_class()(sampler, run, f"{layout.SAMPLES}/")]


def _custom(run: Run, entry, context: dict) -> list:
    from dlcli.training.monitoring import load_custom

    where = f"callbacks[{context['index']}].Custom"
    return [load_custom(entry.arguments["path"], entry.arguments.get("args", {}), where)]


# How each spec callback is made and wired into the run (the arguments dlcli sets are refused in a
# spec: spec.entries.SET_BY_DLCLI). CSVLogger is not a Keras callback here: history.csv is written
# by the HistoryRecorder, from completed epochs only, with the CSVLogger's separator.
WIRING = {
    "ModelCheckpoint": _checkpoint,
    "TensorBoard": _tensorboard,
    "LearningRateScheduler": _scheduler,
    "ActivationLogger": _activation_logger,
    "TextSampler": _text_sampler,
    "Custom": _custom,
    "CSVLogger": lambda run, entry, context: [],
}


def check_callbacks(spec, model) -> None:
    """Make what can fail before any run exists: a custom callback (imported, constructed), a
    learning-rate schedule, the layers ActivationLogger names; a problem is a SpecError at its line."""
    from dlcli.errors import SpecError

    for index, entry in enumerate(spec.callbacks):
        if entry.name in ("Custom", "LearningRateScheduler"):
            WIRING[entry.name](None, entry, {"index": index})
        if entry.name == "ActivationLogger" and entry.arguments.get("layers"):
            names = [layer.name for layer in model.layers]
            unknown = [name for name in entry.arguments["layers"] if name not in names]
            if unknown:
                raise SpecError(f"callbacks[{index}].ActivationLogger.layers: no layer {', '.join(unknown)} "
                                f"(layers: {', '.join(names)})")


# Keras guesses whether a monitored metric improves up or down from the model's metrics, and
# fails for an output's own (val_digit_accuracy); dlcli tells it from the name where it can.
MINIMISED = ("loss", "mae", "mse", "error", "crossentropy", "hinge")
MAXIMISED = ("acc", "auc", "precision", "recall")


def monitor_mode(monitor: str) -> str | None:
    name = monitor.lower()
    if any(word in name for word in MINIMISED):
        return "min"
    return "max" if any(word in name for word in MAXIMISED) else None


def _with_mode(arguments: dict) -> dict:
    monitor = arguments.get("monitor")
    if monitor and arguments.get("mode", "auto") == "auto" and monitor_mode(monitor):
        return {**arguments, "mode": monitor_mode(monitor)}
    return arguments


# The callbacks that write into the run directory: only a run's writer (one process of several) runs them.
WRITERS = ("ModelCheckpoint", "TensorBoard", "ActivationLogger", "TextSampler")


def spec_callbacks(spec, run: Run, bundle=None, validation=None, phase: str = "fit") -> list:
    """The callbacks the spec names, writing into the run directory (checkpoints atomically).
    When `run` is not this process's to write (a worker other than process 0), each of the WRITERS
    is a callback that does nothing, so the others keep their places (the resume state names callbacks by position) and,
    like EarlyStopping, decide on every process alike. After them, on the writer only, come the
    model kind's own (`ModelKind.run_callbacks`: a GAN's image grids), each an optional part."""
    keras = import_keras()
    context = {"bundle": bundle, "validation": validation, "phase": phase, "seed": spec.seed}
    made = []
    for index, entry in enumerate(spec.callbacks):
        context["index"] = index
        if not run.writes and entry.name in WRITERS:  # as many as it makes (TensorBoard: its projector too)
            made += [keras.callbacks.Callback() for _ in range(1 + (entry.name == "TensorBoard"
                                                                    and bool(entry.arguments.get("embeddings_freq"))))]
            continue
        wire = WIRING.get(entry.name)
        arguments = _with_mode(entry.arguments) if "monitor" in CALLBACK_ARGUMENTS.get(entry.name, ()) else entry.arguments
        made += wire(run, entry, context) if wire else [getattr(keras.callbacks, entry.name)(**arguments)]
    hook = kind_of(spec).run_callbacks
    if hook and bundle is not None and run.writes:
        made += [optional_callback_class()(callback, run, part) for part, callback in resolve(hook)(run, spec, bundle)]
    return made


HOOKS = tuple(f"on_{stage}_{moment}" for stage in ("train", "epoch", "test", "predict", "train_batch", "test_batch",
                                                    "predict_batch") for moment in ("begin", "end"))


@functools.lru_cache(maxsize=None)
def optional_callback_class():
    """A wrapper for a callback whose files are an optional part of the run (TensorBoard's logs and
    projector, ActivationLogger's arrays): its first failure stops it, run.json's `missing` says
    what and why in one line, and the training goes on."""
    keras = import_keras()

    class OptionalCallback(keras.callbacks.Callback):
        def __init__(self, inner, run: Run, part: str):
            super().__init__()
            self.inner, self.run, self.part, self.failed = inner, run, part, False

        def set_model(self, model):
            super().set_model(model)
            self._guarded("set_model", model)

        def set_params(self, params):
            super().set_params(params)
            self._guarded("set_params", params)

        def _guarded(self, hook: str, *args, **kwargs) -> None:
            if self.failed:
                return
            try:
                getattr(self.inner, hook)(*args, **kwargs)
            except Exception as error:  # noqa: BLE001  an optional part: any failure is a note, never a failed run
                self.failed = True
                first = (str(error).strip().splitlines() or [""])[0][:200]
                why = f"{type(self.inner).__name__} stopped at {hook}: {type(error).__name__}" + (f": {first}" if first else "")
                missing = self.run.info.get("missing") or {}
                self.run.update(missing={**(missing if isinstance(missing, dict) else {}), self.part: why})

    for hook in HOOKS:
        setattr(OptionalCallback, hook, lambda self, *args, _hook=hook, **kwargs: self._guarded(_hook, *args, **kwargs))
    return OptionalCallback


@functools.lru_cache(maxsize=None)
def atomic_checkpoint_class():
    keras = import_keras()

    class ModelCheckpoint(keras.callbacks.ModelCheckpoint):
        """Keras' ModelCheckpoint, saving to a temporary file renamed over the checkpoint: a kill
        during a save never leaves a truncated best.keras, and the previous one survives."""

        def _save_model(self, epoch, batch, logs):
            import os
            from pathlib import Path

            from dlcli.training.distribution import no_distribution

            final = Path(self._get_file_path(epoch, batch, logs))
            temporary = final.with_name(f".{final.stem}.part{os.getpid()}{final.suffix}")
            self.filepath, kept = str(temporary), self.filepath
            try:
                with no_distribution():  # process 0 alone saves a model of several processes
                    super()._save_model(epoch, batch, logs)
                if temporary.exists():  # saved this time (save_best_only saves only improvements)
                    os.replace(temporary, final)
            finally:
                self.filepath = kept
                temporary.unlink(missing_ok=True)

    return ModelCheckpoint
