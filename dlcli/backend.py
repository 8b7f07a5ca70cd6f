"""The one place outside the tf.data input pipeline that imports TensorFlow, JAX or torch.

Keras 3 runs on any of the three; which one is fixed when `keras` is first imported, by the
KERAS_BACKEND environment variable. This module chooses it (`--backend` > the backend a run
recorded, for a command that reads a run > KERAS_BACKEND > tensorflow), imports Keras quietly,
and holds what differs between backends: library versions, devices, determinism, the fastest
`jit_compile` on CPU, and value-and-gradient in each backend's own way of differentiating.

Everything else calls `import_keras()` inside the function that needs it, so `dlcli --help`,
`list`, `show`, `validate`, `plot` and `compare` never pay for importing a backend.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import warnings
from typing import Any, Callable

from dlcli.errors import UsageError

BACKENDS = ("tensorflow", "jax", "torch")
# The pyproject extra that installs each backend's library.
EXTRAS = {"tensorflow": "cpu", "jax": "jax", "torch": "torch"}
# jit_compile when the spec leaves it unset: the fastest on CPU. Measured on 5 epochs of
# digits-convnet (Keras 3.15.1, 2 cores; the run's training time): TensorFlow 2.4 s without XLA,
# 6.1 s with it; JAX 3.8 s with XLA, 20.4 s without (op by op); torch 14.6 s eager, while
# torch.compile took 110 s on the tests' two-layer model (11 s eager).
FASTEST_JIT_COMPILE = {"tensorflow": False, "jax": True, "torch": False}

_VERBOSE = False
_CHOSEN: str | None = None  # --backend
_RECORDED: str | None = None  # the backend of the run a command reads or resumes


def set_verbose(verbose: bool) -> None:
    """--verbose: keep the backends' and Keras' own logs and warnings."""
    global _VERBOSE
    _VERBOSE = verbose


def choose(name: str | None) -> None:
    """--backend NAME (None: not given) as a command starts: the backend this process imports Keras
    with, checked now, used at import; a run recorded by an earlier command is forgotten."""
    global _CHOSEN, _RECORDED
    _CHOSEN = None if name is None else _checked(f"--backend {name}", name)
    _RECORDED = None


def use_recorded(info: dict) -> None:
    """The backend a run was trained on (its run.json `info`): used for a command on that run unless
    --backend says otherwise. Runs from before `backend` was recorded name it under `versions`."""
    global _RECORDED
    recorded = info.get("backend") or (info.get("versions") or {}).get("backend")
    _RECORDED = recorded if recorded in BACKENDS else "tensorflow"


def _checked(given: str, name: str) -> str:
    if name not in BACKENDS:
        raise UsageError(f"{given}: unknown backend; choose one of {', '.join(BACKENDS)}")
    return name


def wanted() -> str:
    """The backend Keras is (or will be) imported with, by the order in the module docstring."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return _requested()


def _requested() -> str:
    environment = os.environ.get("KERAS_BACKEND")
    return _CHOSEN or _RECORDED or (_checked(f"KERAS_BACKEND={environment}", environment) if environment else "tensorflow")


# What a backend cannot run: (backend, a dotted key of the spec, a test of its value, why). Every
# kind of feature the shipped experiments use was trained on tiny data on JAX and torch (Keras
# 3.15.1, JAX 0.10.2, torch 2.13 CPU): Conv2D/SeparableConv2D/BatchNormalization/augmentation
# layers, Embedding/Conv1D/LSTM/GRU/SimpleRNN/Bidirectional with recurrent dropout, graph models
# with several inputs and outputs, k-fold with retraining, tf.data streams of image folders and
# series, review texts (TextVectorization) with GloVe, the naive baseline, a frozen and a
# fine-tuned VGG16, cached features, sweeps, ensembles, Grad-CAM and filters, every callback the
# experiments name (TensorBoard's histograms and projector, ActivationLogger), mixed precision and
# determinism. All ran, so no spec feature is refused today; torch with `jit_compile: true` runs,
# but torch.compile took 110 s for the tests' two-layer model (11 s eager).
LIMITS: list[tuple[str, str, Callable[[Any], bool], str]] = []


def unsupported(tree: dict, backend: str) -> str | None:
    """Why a spec (its YAML tree: a file's, unvalidated, or a resolved spec's) cannot run on
    `backend`, or None."""
    return next((why for name, key, needs, why in LIMITS if name == backend and needs(_value_at(tree, key))), None)


def _value_at(tree: Any, key: str) -> Any:
    """The value at a dotted key of a YAML tree, None where the tree has none."""
    for part in key.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree


def backends_for(tree: dict) -> list[str]:
    """The backends a spec runs on."""
    return [backend for backend in BACKENDS if unsupported(tree, backend) is None]


def refuse_unsupported(name: str, tree: dict) -> None:
    """A UsageError (exit 2) before anything runs when the chosen backend cannot run the spec
    `name` (`tree`: the resolved spec as YAML writes it)."""
    backend = wanted()
    why = unsupported(tree, backend)
    if why is not None:
        raise UsageError(f"{name} cannot run on {backend}: {why}; it runs on "
                         f"{', '.join(backends_for(tree)) or 'no backend'} (--backend NAME)")


def import_keras():
    """Import Keras on the chosen backend, quietly unless --verbose.

    Keras' backend cannot change once imported: --backend naming another one is a UsageError
    (exit 2). A run's recorded backend is only a preference: a .keras file loads on any backend."""
    requested = _requested()
    if "keras" in sys.modules:
        active = sys.modules["keras"].backend.backend()
        if _CHOSEN and active != _CHOSEN:
            raise UsageError(f"Keras is already running on {active} in this process; "
                             f"{requested} needs a new process (dlcli ... --backend {requested})")
        return sys.modules["keras"]
    if importlib.util.find_spec(requested) is None:
        raise UsageError(f"backend {requested} is not installed: pip install -e '.[{EXTRAS[requested]}]'")
    os.environ["KERAS_BACKEND"] = requested
    if not _VERBOSE:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        warnings.filterwarnings("ignore", module=r"(keras|tensorflow|absl|jax|torch)(\..*)?")
    try:
        with _quiet_stderr(not _VERBOSE):
            import keras

            if requested != "tensorflow" and not _VERBOSE and importlib.util.find_spec("tensorflow"):
                import tensorflow  # noqa: F401  now, quietly: tf.data, the input pipeline on every backend, loads it anyway
    except ImportError as error:
        raise UsageError(f"cannot import Keras on {requested} ({error}); "
                         f"install it: pip install -e '.[{EXTRAS[requested]}]'") from None
    if not _VERBOSE:
        logging.getLogger("absl").setLevel(logging.ERROR)
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    return keras


@contextlib.contextmanager
def _quiet_stderr(quiet: bool):
    """Silence what TensorFlow's and XLA's C++ start-up write straight to file descriptor 2."""
    if not quiet or "keras" in sys.modules:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def name() -> str:
    """The backend Keras runs on (imports Keras)."""
    return import_keras().backend.backend()


def versions() -> dict[str, str]:
    """Versions of the libraries a run depends on: Keras, the active backend's library (under its
    own name), numpy, Python, and `backend` (imports Keras)."""
    import platform

    import numpy

    keras = import_keras()
    active = keras.backend.backend()
    library = sys.modules.get(active) or __import__(active)
    return {
        "keras": keras.__version__,
        active: library.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "backend": active,
    }


def device() -> str:
    """'GPU: names' when the backend sees a GPU, else 'CPU (N cores)'."""
    keras = import_keras()
    active = keras.backend.backend()
    if active == "tensorflow":
        import tensorflow as tf

        gpus = [gpu.name for gpu in tf.config.list_physical_devices("GPU")]
    elif active == "jax":
        import jax

        gpus = [str(found) for found in jax.devices() if found.platform == "gpu"]
    else:
        import torch

        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return "GPU: " + ", ".join(gpus) if gpus else f"CPU ({os.cpu_count()} cores)"


def make_deterministic() -> None:
    """Same seed, same numbers: TensorFlow's op determinism; torch's deterministic algorithms; on
    JAX, XLA's CPU kernels are deterministic already and its GPU kernels are told to be (the flag
    is read when JAX starts its GPU backend)."""
    active = import_keras().backend.backend()
    if active == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif active == "torch":
        import torch

        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # what deterministic cuBLAS needs on a GPU
        torch.use_deterministic_algorithms(True)
    else:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_gpu_deterministic_ops" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} --xla_gpu_deterministic_ops=true".strip()


def fastest_jit_compile() -> bool:
    """The `jit_compile` a spec gets when it leaves it unset (see FASTEST_JIT_COMPILE)."""
    return FASTEST_JIT_COMPILE[import_keras().backend.backend()]


def save_embedding_checkpoint(matrices: dict[str, Any], folder, number: int) -> None:
    """Embedding matrices (NumPy, by name) as the TensorFlow checkpoint TensorBoard's projector
    reads, whatever backend trained them (the TensorBoard callback needs TensorFlow installed on
    every backend). Its `checkpoint` file names the checkpoint relative to `folder`, so the run
    directory may move."""
    import tensorflow as tf

    variables = {name: tf.Variable(matrix) for name, matrix in matrices.items()}
    tf.train.CheckpointManager(tf.train.Checkpoint(**variables), str(folder), max_to_keep=1,
                               checkpoint_name="embeddings").save(checkpoint_number=number)


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
