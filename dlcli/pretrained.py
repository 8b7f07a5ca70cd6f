"""Pretrained networks of keras.applications by name, with their weights in the dlcli data cache.

Keras downloads ImageNet weights into ~/.keras/models on first use. dlcli looks for the same files
in `<data dir>/weights/`, then in ~/.keras/models, and only then downloads them (into its cache,
with Keras' hashes). Offline, a missing file raises DataUnavailable naming the exact file, its
URL and `dlcli data import weights PATH`, which accepts the files as Keras caches them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlcli.datasets.base import RemoteFile
from dlcli.errors import DataUnavailable, SpecError
from dlcli.registry import name_key, unknown_name_message

BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class Application:
    keras_name: str  # the class in keras.applications
    module: str  # keras.applications.<module>: preprocess_input, decode_predictions
    size: int  # the input size its ImageNet classifier takes
    top: tuple[str, str | None]  # (file name, md5) of the weights with the classifier
    notop: tuple[str, str | None]  # ... without it (include_top=False)
    folder: str

    def weights(self, include_top: bool) -> RemoteFile:
        name, md5 = self.top if include_top else self.notop
        return RemoteFile(f"weights/{name}", f"{BASE}{self.folder}/{name}", md5)


def _tf(stem: str, top_hash: str, notop_hash: str) -> tuple[tuple[str, str], tuple[str, str]]:
    return (f"{stem}_weights_tf_dim_ordering_tf_kernels.h5", top_hash), \
           (f"{stem}_weights_tf_dim_ordering_tf_kernels_notop.h5", notop_hash)


APPLICATIONS = {
    "vgg16": Application("VGG16", "vgg16", 224, *_tf("vgg16", "64373286793e3c8b2b4e3219cbf3544b",
                                                     "6d6bbae143d832006294945121d1f1fc"), "vgg16"),
    "vgg19": Application("VGG19", "vgg19", 224, *_tf("vgg19", "cbe5617147190e668d6c5d5026f83318",
                                                     "253f8cb515780f3b799900260a226db6"), "vgg19"),
    "inceptionv3": Application("InceptionV3", "inception_v3", 299,
                               *_tf("inception_v3", "9a0d58056eeedaa3f26cb7ebd46da564",
                                    "bcbd6486424b2319ff4ef7d526e38f63"), "inception_v3"),
    "resnet50": Application("ResNet50", "resnet50", 224, *_tf("resnet50", "2cb95161c43110f7111970584f804107",
                                                              "4d473c1dd8becc155b73f8504c6f6626"), "resnet"),
    "xception": Application("Xception", "xception", 299, *_tf("xception", "0a58e3b7378bc2990ea3b43d5981f1f6",
                                                              "b0042744bf5b25fce3cb969f33bebb97"), "xception"),
    "mobilenetv2": Application("MobileNetV2", "mobilenet_v2", 224,
                               ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", None),
                               ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", None),
                               "mobilenet_v2"),
}
CLASS_INDEX = RemoteFile("weights/imagenet_class_index.json",
                         "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json",
                         "c2c37ea517e94d9795004a39431a14cb")
WEIGHT_FILES = {app.weights(top).path.split("/")[-1]: app.weights(top)
                for app in APPLICATIONS.values() for top in (True, False)}
WEIGHT_FILES[CLASS_INDEX.path.split("/")[-1]] = CLASS_INDEX


def network_key(name: str) -> str:
    """`VGG16`, `vgg-16`... -> the key of APPLICATIONS (`inception_v3` -> `inceptionv3`)."""
    return name_key(name)


def application(name: str) -> Application:
    key = network_key(name)
    if key not in APPLICATIONS:
        raise SpecError(unknown_name_message("pretrained network", name, APPLICATIONS))
    return APPLICATIONS[key]


def weights_path(app: Application, include_top: bool) -> Path:
    """The weights file: in the dlcli cache, in Keras' own cache, or downloaded (if allowed)."""
    return cached_file(app.weights(include_top))


def imagenet_class_names() -> list[str] | None:
    """The 1,000 ImageNet class names (decode_predictions' file), or None when unavailable."""
    import json

    try:
        index = json.loads(cached_file(CLASS_INDEX).read_text())
    except DataUnavailable:
        return None
    return [f"{index[str(i)][1]} ({index[str(i)][0]})" for i in range(len(index))]


def cached_copy(remote: RemoteFile) -> Path | None:
    """The file in the dlcli cache, else in Keras' own (~/.keras/models), else None."""
    from dlcli.datasets.cache import data_dir

    cached = data_dir() / remote.path
    keras_cache = Path.home() / ".keras" / "models" / cached.name
    return next((candidate for candidate in (cached, keras_cache) if candidate.is_file()), None)


def cached_file(remote: RemoteFile) -> Path:
    from dlcli.datasets.cache import data_dir, fetch, is_offline

    found = cached_copy(remote)
    if found is not None:
        return found
    cached = data_dir() / remote.path
    if is_offline():
        raise DataUnavailable(missing_weights(remote, "DLCLI_OFFLINE is set"))
    from dlcli.backend import import_keras

    try:
        fetch(import_keras(), remote, cached)
    except Exception as error:  # network errors come in many types; the message names the cause
        raise DataUnavailable(missing_weights(remote, f"the download failed ({error})")) from None
    return cached


def missing_weights(remote: RemoteFile, why: str) -> str:
    name = remote.path.split("/")[-1]
    return (f"{name} (keras.applications) is not in the cache and {why}. Bring {remote.url} onto this "
            f"machine (or ~/.keras/models/{name} from one where Keras downloaded it), then run: "
            f"dlcli data import weights PATH")


def build_application(name: str, include_top: bool = True, weights: str | None = "imagenet",
                      input_shape: tuple[int, ...] | None = None, **kwargs):
    """keras.applications.<Name> with weights from the dlcli cache (weights=None: random)."""
    from dlcli.backend import import_keras

    app = application(name)
    path = weights_path(app, include_top) if weights == "imagenet" else weights  # missing: one line, before Keras
    keras = import_keras()
    constructor = getattr(keras.applications, app.keras_name)
    try:
        return constructor(weights=None if path is None else str(path), include_top=include_top,
                           input_shape=None if input_shape is None else tuple(input_shape), **kwargs)
    except (TypeError, ValueError) as error:
        raise SpecError(f"{app.keras_name}: {error}") from None


def preprocess_input(name: str):
    """The pretrained network's own preprocess_input (caffe, tf or torch style)."""
    from dlcli.backend import import_keras

    return getattr(import_keras().applications, application(name).module).preprocess_input


def not_a_training_set(entry, params, root, **context):
    raise SpecError("data: 'weights' holds pretrained networks, not examples; use one as a layer: "
                    "`Pretrained: {network: vgg16}` (see vgg16-features-augment)")


def import_weights(source: Path, root: Path) -> list[str]:
    """`dlcli data import weights PATH`: weight files as Keras caches them (a file or a folder)."""
    import h5py

    from dlcli.datasets.cache import files_within, install_file
    from dlcli.datasets.files_io import file_md5

    files = files_within(source, "*", "weights") if source.is_dir() else [source]  # no link out of the folder
    known = [path for path in files if path.name in WEIGHT_FILES]
    if not known:
        raise DataUnavailable(
            f"{source}: no keras.applications weight file by its Keras name, e.g. "
            f"vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 (known: {len(WEIGHT_FILES)} files)"
        )
    for path in known:  # every file is checked before any is stored: a bad one stores nothing
        remote = WEIGHT_FILES[path.name]
        if remote.file_hash and file_md5(path) != remote.file_hash:
            raise DataUnavailable(f"{path}: its MD5 differs from Keras' {remote.file_hash}; the file is "
                                  "corrupt or another version; nothing was stored")
        try:
            if path.suffix == ".h5":
                with h5py.File(path, "r"):
                    pass
        except OSError as error:
            raise DataUnavailable(f"{path}: not an HDF5 weights file ({error}); nothing was stored") from None
    for path in known:
        install_file(path, root / WEIGHT_FILES[path.name].path)
    return [WEIGHT_FILES[path.name].path for path in known]
