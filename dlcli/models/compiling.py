"""Optimizer, loss and metrics from the spec's `compile` section (Keras 2 recipes ported)."""

from __future__ import annotations

from dlcli.errors import SpecError
from dlcli.backend import import_keras


def _squash(name: str) -> str:
    return name.replace("_", "").lower()


def build_optimizer(spec):
    """The optimizer; Keras 2's `decay` becomes InverseTimeDecay (lr / (1 + decay * step))."""
    keras = import_keras()
    kwargs = dict(spec.model_extra or {})
    optimizer_class = type(keras.optimizers.get(spec.name))
    if spec.learning_rate is not None:
        kwargs["learning_rate"] = spec.learning_rate
    if spec.decay:
        initial = kwargs.get("learning_rate", optimizer_class().learning_rate.numpy().item())
        kwargs["learning_rate"] = keras.optimizers.schedules.InverseTimeDecay(
            initial_learning_rate=float(initial), decay_steps=1, decay_rate=spec.decay
        )
    try:
        return optimizer_class(**kwargs)
    except (TypeError, ValueError) as error:
        raise SpecError(f"compile.optimizer: {error}") from None


def build_loss(loss, where: str = "compile.loss"):
    keras = import_keras()
    if loss is None:
        raise SpecError(f"{where}: required (the loss to minimise, e.g. categorical_crossentropy)")
    if isinstance(loss, str):
        try:
            keras.losses.get(loss)
        except (TypeError, ValueError):
            raise SpecError(f"{where}: unknown loss '{loss}'") from None
        return loss
    config = dict(loss)
    name = str(config.pop("name", ""))
    classes = {_squash(n): getattr(keras.losses, n) for n in dir(keras.losses) if n[:1].isupper()}
    if _squash(name) not in classes:
        raise SpecError(f"{where}: unknown loss '{name}' (write `name: categorical_crossentropy`)")
    try:
        return classes[_squash(name)](**config)
    except (TypeError, ValueError) as error:
        raise SpecError(f"{where}: {error}") from None


def check_metrics(metrics: list[str]) -> list[str]:
    keras = import_keras()
    for name in metrics:
        if name in ("accuracy", "acc", "crossentropy", "ce"):
            continue  # resolved by Keras from the loss
        try:
            keras.metrics.get(name)
        except (TypeError, ValueError):
            raise SpecError(f"compile.metrics: unknown metric '{name}'") from None
    return list(metrics)


def jit_compile_of(compile_spec) -> bool | str:
    """The spec's `jit_compile`, or when it is unset the fastest on this backend (dlcli.backend)."""
    from dlcli.backend import fastest_jit_compile

    return fastest_jit_compile() if compile_spec.jit_compile is None else compile_spec.jit_compile


def compile_model(model, compile_spec) -> None:
    model.compile(
        optimizer=build_optimizer(compile_spec.optimizer),
        loss=build_loss(compile_spec.loss),
        metrics=check_metrics(compile_spec.metrics),
        jit_compile=jit_compile_of(compile_spec),
    )
