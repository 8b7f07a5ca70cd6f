"""Differentiation in each backend's own way, behind one neutral call: value and gradient of a
function of an input tensor (Grad-CAM, filter ascent, DeepDream, style transfer) and of a model's
weights (a custom train_step, a GAN's two networks), a custom train_step in the form JAX's trainer
calls, compiling a repeated step, and a transposed convolution whose gradient XLA's CPU computes
fast."""

from __future__ import annotations

from typing import Any, Callable

from dlcli.backend import import_keras


def compiled(function: Callable, xla: bool = False) -> Callable:
    """`function` compiled once for repeated calls with same-shaped tensors (an ascent step):
    tf.function on TensorFlow (with `xla`, compiled by XLA: a loop of small steps, such as text
    generation's, ran 4x faster so), jax.jit on JAX (a model's weights become constants of the
    compiled step, so only for functions that do not change them); torch runs it eagerly."""
    active = import_keras().backend.backend()
    if active == "tensorflow":
        import tensorflow as tf

        return tf.function(function, reduce_retracing=True, jit_compile=xla or None)
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
    `stateless_call` does. Inside an enclosing StatelessScope (a train_step run by
    `stateless_train_step`) it reads the other variables' values from that scope, and the
    assignments it makes to them (a Dropout's seed state) go into it; without one, those
    assignments are not kept."""
    keras = import_keras()
    active = keras.backend.backend()
    if active == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value, aux = function()
        return value, aux, tape.gradient(value, [variable.value for variable in variables])
    if active == "jax":
        import jax
        from keras.src.backend.common.stateless_scope import get_stateless_scope  # Keras exports no getter

        enclosing = get_stateless_scope()
        inherited = dict(enclosing.state_mapping) if enclosing is not None else {}
        differentiated = {id(variable) for variable in variables}

        def traced(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
                scope.state_mapping = {**inherited, **scope.state_mapping}
                start = dict(scope.state_mapping)
                value, aux = function()
            assigned = {key: new for key, new in scope.state_mapping.items()
                        if key not in differentiated and new is not start.get(key)}
            return value, (aux, assigned)

        (value, (aux, assigned)), gradients = jax.value_and_grad(traced, has_aux=True)([v.value for v in variables])
        if enclosing is not None:
            enclosing.state_mapping.update(assigned)
        return value, aux, list(gradients)
    import torch

    value, aux = function()
    gradients = torch.autograd.grad(value, [variable.value for variable in variables], allow_unused=True)
    return value.detach(), aux, list(gradients)


def stateless_train_step(model, step: Callable[[Any], dict], state, data) -> tuple[dict, tuple]:
    """A train_step written as TensorFlow and torch run it (`step(data) -> logs`, assigning
    variables, calling `optimizer.apply`) in the form JAX's trainer calls, `train_step(state, data)
    -> (logs, state)`: `state` holds the values of the model's trainable, non-trainable, optimizer
    and metrics variables (keras/src/backend/jax/trainer.py); the step runs in a keras.StatelessScope
    over them, and the values it leaves are the new state. Every optimizer the step applies must be
    among `model.optimizer.variables` (several: a keras.optimizers.MultiOptimizer)."""
    keras = import_keras()
    groups = (model.trainable_variables, model.non_trainable_variables, model.optimizer.variables,
              model.metrics_variables)
    mapping = [pair for variables, values in zip(groups, state) for pair in zip(variables, values)]
    with keras.StatelessScope(state_mapping=mapping) as scope:
        logs = step(data)
    return logs, tuple([scope.get_current_value(variable) for variable in variables] for variables in groups)


def fast_conv_transpose(inputs, kernel, strides):
    """`keras.ops.conv_transpose(inputs, kernel, strides, padding="same")` on JAX, the same values,
    with its gradients taken from the strided convolution it is the adjoint of: <conv_transpose(x,
    k), g> = <x, conv(g, k)>. JAX differentiates a transposed convolution's kernel into a
    convolution with lhs_dilation, which XLA's CPU runs some 100x slower: measured here, the book's
    generator's 4x4/2 layer (256 maps, 16 -> 32 pixels, batch 20) took 56-64 s for it, this 0.5 s."""
    import jax

    ops = import_keras().ops

    def strided(gradient, kernel):
        return ops.conv(gradient, kernel, strides, padding="same")

    @jax.custom_vjp
    def transposed(inputs, kernel):
        return ops.conv_transpose(inputs, kernel, strides, padding="same")

    def forward(inputs, kernel):
        return transposed(inputs, kernel), (inputs, kernel)

    def backward(saved, gradient):
        inputs, kernel = saved
        _, kernel_gradient = jax.vjp(lambda kernel: strided(gradient, kernel), kernel)
        return strided(gradient, kernel), kernel_gradient(inputs)[0]

    transposed.defvjp(forward, backward)
    return transposed(inputs, kernel)
