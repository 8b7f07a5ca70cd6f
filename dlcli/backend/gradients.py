"""Differentiation in each backend's own way, behind one neutral call: value and gradient of a
function of an input tensor (Grad-CAM, filter ascent, DeepDream, style transfer) and of a model's
weights (a custom train_step, a GAN's two networks), and compiling a repeated step."""

from __future__ import annotations

from typing import Any, Callable

from dlcli.backend import import_keras


def compiled(function: Callable) -> Callable:
    """`function` compiled once for repeated calls with same-shaped tensors (an ascent step):
    tf.function on TensorFlow, jax.jit on JAX (a model's weights become constants of the
    compiled step, so only for functions that do not change them); torch runs it eagerly."""
    active = import_keras().backend.backend()
    if active == "tensorflow":
        import tensorflow as tf

        return tf.function(function, reduce_retracing=True)
    if active == "jax":
        import jax

        return jax.jit(function)
    return function


def value_and_gradient(function: Callable[[Any], tuple[Any, Any]], tensor) -> tuple[Any, Any, Any]:
    """(value, aux, gradient of value with respect to `tensor`) for `function(tensor) -> (value,
    aux)` with a scalar value: tf.GradientTape, jax.value_and_grad or torch.autograd, as each of
    Keras' own trainers differentiates (keras/src/backend/*/trainer.py). `aux` is returned as the
    function computed it, without gradient."""
    keras = import_keras()
    tensor = keras.ops.convert_to_tensor(tensor)
    active = keras.backend.backend()
    if active == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(tensor)
            value, aux = function(tensor)
        return value, aux, tape.gradient(value, tensor)
    if active == "jax":
        import jax

        (value, aux), gradient = jax.value_and_grad(function, has_aux=True)(tensor)
        return value, aux, gradient
    import torch

    tensor = tensor.detach().requires_grad_(True)
    value, aux = function(tensor)
    (gradient,) = torch.autograd.grad(value, tensor)
    return value.detach(), aux, gradient


def value_and_weight_gradients(function: Callable[[], tuple[Any, Any]], variables: list) -> tuple[Any, Any, list]:
    """(value, aux, [gradient per variable]) of `function() -> (value, aux)` with respect to Keras
    variables it reads (a model's `trainable_variables`), for a custom train_step.

    On JAX the function runs in a keras.StatelessScope over traced values of the variables, as
    `stateless_call` does: assignments it makes (a BatchNormalization's moving statistics) are not
    kept, so a train_step that needs them calls `model.stateless_call` itself."""
    keras = import_keras()
    active = keras.backend.backend()
    if active == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value, aux = function()
        return value, aux, tape.gradient(value, [variable.value for variable in variables])
    if active == "jax":
        import jax

        def traced(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return function()

        (value, aux), gradients = jax.value_and_grad(traced, has_aux=True)([v.value for v in variables])
        return value, aux, list(gradients)
    import torch

    value, aux = function()
    gradients = torch.autograd.grad(value, [variable.value for variable in variables], allow_unused=True)
    return value.detach(), aux, list(gradients)
