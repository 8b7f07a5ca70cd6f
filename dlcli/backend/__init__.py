"""The backend package: the one place outside the tf.data input pipeline that imports TensorFlow,
JAX or torch.

Keras 3 runs on any of the three; which one is fixed when `keras` is first imported, by the
KERAS_BACKEND environment variable. This module chooses it (`--backend` > the backend a run
recorded, for a command that reads a run > KERAS_BACKEND > tensorflow), imports Keras quietly,
and holds library versions, devices, determinism and the fastest `jit_compile` on CPU. Its
modules hold the rest of what differs between backends: `gradients` (value and gradient of a
function of an input tensor or of a model's weights, compiled steps), `limits` (what a backend
cannot run), `processes` (what the processes of a multi-process JAX job share) and `projector`
(TensorBoard's embedding checkpoint).

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


def asked() -> str | None:
    """The backend this command was asked for (--backend, then KERAS_BACKEND), None when neither says."""
    return _CHOSEN or os.environ.get("KERAS_BACKEND") or None


def wanted() -> str:
    """The backend Keras is (or will be) imported with, by the order in the module docstring."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return _requested()


def _requested() -> str:
    environment = os.environ.get("KERAS_BACKEND")
    return _CHOSEN or _RECORDED or (_checked(f"KERAS_BACKEND={environment}", environment) if environment else "tensorflow")


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
        with _quiet_stderr(not _VERBOSE), _unimportable("jax" if requested == "tensorflow" else None):
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
def _unimportable(module: str | None):
    """`module` cannot be imported meanwhile (unless it already was). TensorFlow's tf.lite imports
    JAX when it is installed, for a converter dlcli never calls: 0.4-0.5 s of every TensorFlow
    start on this machine. Afterwards JAX imports normally."""
    if module is None or module in sys.modules:
        yield
        return
    sys.modules[module] = None  # Python's own way to make an import fail: ImportError
    try:
        yield
    finally:
        if sys.modules.get(module, 0) is None:
            del sys.modules[module]


@contextlib.contextmanager
def _quiet_stderr(quiet: bool):
    """Silence what TensorFlow's and XLA's C++ start-up write straight to file descriptor 2."""
    if not quiet or "keras" in sys.modules:
        yield
        return
    with silenced(2):
        yield


@contextlib.contextmanager
def silenced(descriptor: int):
    """File descriptor 1 (stdout) or 2 (stderr) onto /dev/null meanwhile: what C++ libraries write
    there directly, past Python, is dropped."""
    (sys.stdout if descriptor == 1 else sys.stderr).flush()
    saved, devnull = os.dup(descriptor), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    try:
        yield
    finally:
        os.dup2(saved, descriptor)
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
