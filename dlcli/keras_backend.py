"""The one place that imports Keras and TensorFlow, with their start-up noise turned down.

Everything else calls `import_keras()` inside the function that needs it, so `dlcli --help`,
`list`, `show`, `validate`, `plot` and `compare` never pay for importing TensorFlow.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings

from dlcli.errors import UsageError

_VERBOSE = False


def set_verbose(verbose: bool) -> None:
    """--verbose: keep TensorFlow's and Keras' own logs and warnings."""
    global _VERBOSE
    _VERBOSE = verbose


def import_keras():
    """Import Keras on the TensorFlow backend, quietly unless --verbose."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if not _VERBOSE:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        warnings.filterwarnings("ignore", module=r"(keras|tensorflow|absl)(\..*)?")
    try:
        with _quiet_stderr(not _VERBOSE):
            import keras
            import tensorflow as tf
    except ImportError as error:
        raise UsageError(
            f"cannot import Keras/TensorFlow ({error}); install a backend: pip install -e '.[cpu]'"
        ) from None
    if not _VERBOSE:
        tf.get_logger().setLevel(logging.ERROR)
        logging.getLogger("absl").setLevel(logging.ERROR)
    return keras


@contextlib.contextmanager
def _quiet_stderr(quiet: bool):
    """Silence what TensorFlow's C++ start-up writes straight to file descriptor 2 (absl, oneDNN)."""
    if not quiet or "tensorflow" in sys.modules:
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


def versions() -> dict[str, str]:
    """Versions of the libraries a run depends on (imports Keras)."""
    import platform

    import numpy

    keras = import_keras()
    import tensorflow as tf

    return {
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "backend": keras.backend.backend(),
    }


def device() -> str:
    """'GPU: name' when TensorFlow sees a GPU, else 'CPU (N cores)'."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return "GPU: " + ", ".join(gpu.name for gpu in gpus)
    return f"CPU ({os.cpu_count()} cores)"
