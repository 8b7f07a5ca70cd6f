"""`dlcli dream` and `dlcli style-transfer`: read the photos, build the pretrained network, call
dlcli.viz.dream or dlcli.viz.style_transfer, write the pictures.

Every option is checked, and every file that will be written, before the network is built (its
ImageNet weights missing offline is exit 3, naming the file), but for what only the network can
tell: a layer it does not have, an octave too small for it. The files go where --out says, else
into the current folder, named as visualize names its pictures (dlcli.outputs): readable parts and
a hash of every input and option, so the same command replaces its own files and nothing else
without --force. `progress(steps, text)` is told as the work advances.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable

from dlcli.errors import SpecError, UsageError
from dlcli.outputs import Placement, identity, picture_name, place, unusable_path, write_image

Progress = Callable[[int, str], None]

MAX_OCTAVES = 10  # each octave is iterations of forward and backward passes at a new size
MAX_ITERATIONS = 10_000
MIN_STYLE_SIDE = 16  # VGG19 halves the image four times before block5's layers
MAX_STYLE_SIDE = 4096  # rows or columns of the result: VGG19's first layers hold 64 channels per pixel
RANDOM_WEIGHTS_SEED = 0  # --weights none draws the same weights every time (on one backend)


def _network(name: str, weights: str):
    """The network without its classifier: ImageNet weights from the cache (`imagenet`), random
    ones (`none`, for trying it offline: the pictures are noise), or a weights FILE."""
    from dlcli.backend import import_keras
    from dlcli.pretrained import build_application

    if weights.lower() == "none":
        import_keras().utils.set_random_seed(RANDOM_WEIGHTS_SEED)  # the same command, the same pictures
    if weights.lower() in ("imagenet", "none"):
        return build_application(name, include_top=False, weights=None if weights.lower() == "none" else "imagenet")
    with unusable_path(f"--weights {weights}"):
        if not Path(weights).is_file():
            raise UsageError(f"--weights {weights}: no such weights file (or say imagenet, or none for random weights)")
    try:
        return build_application(name, include_top=False, weights=weights)
    except OSError as error:  # h5py's refusal of a file that is not HDF5
        raise UsageError(f"--weights {weights}: not a weights file of {name} ({error})") from None
    except SpecError:  # Keras' list of every layer it could not load, hundreds of lines
        raise UsageError(f"--weights {weights}: Keras cannot load it into {name} without its classifier "
                         "(the weights of another network, or of the network with its classifier?)") from None


def _weights_identity(placement: Placement, weights: str) -> str:
    return weights.lower() if weights.lower() in ("imagenet", "none") else placement.named(weights)


def _random_backend(weights: str) -> dict[str, str]:
    """Random weights (`none`) differ by backend: they name the pictures too, so a JAX picture never
    replaces a TensorFlow one of the same name."""
    if weights.lower() != "none":
        return {}
    from dlcli.backend import wanted

    return {"backend": wanted()}


def dream(image_path: str, layers: str = "mixed2=0.2,mixed3=3,mixed4=2,mixed5=1.5", octaves: int = 3,
          octave_scale: float = 1.4, iterations: int = 20, step: float = 0.01, max_loss: float = 10.0,
          weights: str = "imagenet", out: str | None = None, force: bool = False,
          progress: Progress | None = None) -> dict[str, Any]:
    """DeepDream on InceptionV3 (8.8-8.13): each octave's picture, and the last at the photo's size."""
    from dlcli.pretrained import preprocess_input
    from dlcli.viz.dream import deep_dream, deprocess, feature_extractor, layers_left_out, octave_shapes, parse_layers
    from dlcli.viz.images import read_image

    _check_dream_options(octaves, octave_scale, iterations, step, max_loss)
    coefficients = parse_layers(layers)
    placement = place(out, Path.cwd(), None, force)
    image = read_image(image_path)  # a missing file is exit 3, a non-image exit 2, before any network
    shapes = octave_shapes(image.shape[:2], octaves, octave_scale)
    if min(shapes[0]) < 1:
        raise UsageError(f"{image_path}: {image.shape[1]}x{image.shape[0]} pixels shrink to nothing at "
                         f"--octaves {octaves} and --octave-scale {octave_scale:g}")
    weights_named = _weights_identity(placement, weights)
    main_identity = identity(kind="dream", image=placement.named(image_path), weights=weights_named,
                             **_random_backend(weights),
                             layers=coefficients, octaves=octaves, octave_scale=octave_scale,
                             iterations=iterations, step=step, max_loss=max_loss)
    pictures = _dream_pictures(placement, Path(image_path).stem, shapes, iterations, main_identity)
    placement.check(dict(pictures))
    extractor = feature_extractor(_network("inceptionv3", weights), coefficients)
    left_out = layers_left_out(extractor, shapes)
    preprocessed = preprocess_input("inceptionv3")(image.astype("float32"))
    steps = (lambda count: progress(count, "")) if progress else None
    done = deep_dream(extractor, preprocessed, coefficients, octaves, octave_scale, iterations, step,
                      None if math.isinf(max_loss) else max_loss, steps)
    for (path, picture_identity), octave in zip(pictures, done):
        write_image(path, deprocess(octave.image), picture_identity)
    result = {"image": str(Path(image_path).resolve()), "size": list(image.shape[:2]), "network": "InceptionV3",
              "weights": weights_named, "layers": coefficients, "final": str(pictures[-1][0]),
              "octaves": [{"shape": list(octave.shape), "file": str(path), "losses": octave.losses,
                           "stopped_at": octave.stopped_at} for (path, _), octave in zip(pictures, done)]}
    if left_out:
        result["warning"] = "; ".join(
            f"at {w}x{h} pixels layers {', '.join(names)} add nothing (their output is at most "
            f"4 pixels across and the loss leaves out 2 at each border)" for (h, w), names in left_out.items())
    return result


def _check_dream_options(octaves: int, octave_scale: float, iterations: int, step: float, max_loss: float) -> None:
    if not 1 <= octaves <= MAX_OCTAVES:
        raise UsageError(f"--octaves {octaves}: must be from 1 to {MAX_OCTAVES} (the book uses 3)")
    if not (octave_scale >= 1 and math.isfinite(octave_scale)):
        raise UsageError(f"--octave-scale {octave_scale}: must be at least 1 (the book uses 1.4)")
    if not 0 <= iterations <= MAX_ITERATIONS:
        raise UsageError(f"--iterations {iterations}: must be from 0 to {MAX_ITERATIONS:,} (the book uses 20)")
    if not (step > 0 and math.isfinite(step)):
        raise UsageError(f"--step {step}: must be a positive number (the book uses 0.01)")
    if math.isnan(max_loss):
        raise UsageError("--max-loss nan: must be a number (inf: never stop early)")


def _dream_pictures(placement: Placement, stem: str, shapes: list[tuple[int, int]], iterations: int,
                    main_identity: str) -> list[tuple[Path, str]]:
    """(path, identity) of each octave's picture, the last one the final dream (--out FILE, or named
    after the photo and options); the others beside it, named after their octave and size (width x
    height, as image sizes are said)."""
    final = placement.path(picture_name([stem, "dream", "inceptionv3", f"{len(shapes)}octaves",
                                         f"{iterations}iterations"], main_identity))
    octaves = [(placement.beside(final, f"octave{number}-{w}x{h}"), identity(dream=main_identity, octave=number))
               for number, (h, w) in enumerate(shapes[:-1], start=1)]
    return [*octaves, (final, main_identity)]


def style_transfer(content_path: str, style_path: str, height: int = 400, iterations: int = 20,
                   content_weight: float = 0.025, style_weight: float = 1.0, tv_weight: float = 1e-4,
                   weights: str = "imagenet", out: str | None = None, force: bool = False,
                   progress: Progress | None = None) -> dict[str, Any]:
    """Neural style transfer on VGG19 (8.14-8.22): each iteration's picture and the losses file,
    rewritten after every iteration so that a command stopped early lists the pictures it wrote
    (a later run of fewer iterations leaves the earlier run's later pictures unlisted)."""
    from dlcli.pretrained import preprocess_input
    from dlcli.viz.images import read_image, resize
    from dlcli.viz.style_transfer import MAXFUN, Weights, deprocess, feature_extractor, target_size, transfer_style

    _check_style_options(height, iterations, content_weight, style_weight, tv_weight)
    loss_weights = Weights(content_weight, style_weight, tv_weight)
    placement = place(out, Path.cwd(), None, force, folder_only=True)
    content, style = read_image(content_path), read_image(style_path)
    size = target_size(content.shape[:2], height)
    if not MIN_STYLE_SIDE <= size[1] <= MAX_STYLE_SIDE:
        raise UsageError(f"{content_path}: at --height {height} it is {size[1]} pixels wide; VGG19 needs "
                         f"{MIN_STYLE_SIDE} to {MAX_STYLE_SIDE} ({'raise' if size[1] < MIN_STYLE_SIDE else 'lower'} "
                         "--height, or crop the photo)")
    set_identity = identity(kind="style-transfer", content=placement.named(content_path),
                            style=placement.named(style_path), weights=_weights_identity(placement, weights),
                            **_random_backend(weights),
                            size=list(size), loss_weights=vars(loss_weights))
    stems = [Path(content_path).stem, "styled", Path(style_path).stem, f"{size[1]}x{size[0]}"]  # width x height
    pictures = [placement.folder / picture_name([*stems, f"iteration{number:02d}"], set_identity)
                for number in range(1, iterations + 1)]
    identities = [identity(style_transfer=set_identity, iteration=number) for number in range(1, iterations + 1)]
    record = placement.folder / picture_name([*stems, "losses"], set_identity, suffix=".json")
    placement.check(dict(zip(pictures, identities)))
    _check_record(record, set_identity, force)
    extractor = feature_extractor(_network("vgg19", weights))
    preprocess = preprocess_input("vgg19")
    summary = {"identity": set_identity, "content": str(Path(content_path).resolve()),
               "style": str(Path(style_path).resolve()), "network": "VGG19", "weights": _weights_identity(placement, weights),
               "size": list(size), "content_weight": content_weight, "style_weight": style_weight,
               "tv_weight": tv_weight, "maxfun": MAXFUN, "iterations": []}

    def finished(iteration) -> None:
        number = len(summary["iterations"]) + 1
        write_image(pictures[number - 1], deprocess(iteration.image), identities[number - 1])
        summary["iterations"].append({"iteration": number, "loss": iteration.loss, "seconds": iteration.seconds,
                                      "file": pictures[number - 1].name})
        _write_record(record, summary)
        if progress:
            progress(1, f"loss {iteration.loss:.4g}")

    transfer_style(extractor, preprocess(resize(content, size)), preprocess(resize(style, size)), loss_weights,
                   iterations, progress=finished)
    return {**{key: value for key, value in summary.items() if key != "identity"}, "losses": str(record),
            "final": str(pictures[-1])}


def _check_style_options(height: int, iterations: int, *weights: float) -> None:
    if not MIN_STYLE_SIDE <= height <= MAX_STYLE_SIDE:
        raise UsageError(f"--height {height}: must be from {MIN_STYLE_SIDE} to {MAX_STYLE_SIDE} (the book uses 400)")
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise UsageError(f"--iterations {iterations}: must be from 1 to {MAX_ITERATIONS:,} (the book uses 20)")
    for name, value in zip(("--content-weight", "--style-weight", "--tv-weight"), weights):
        if not (value >= 0 and math.isfinite(value)):
            raise UsageError(f"{name} {value}: must be a number >= 0")


def _check_record(path: Path, set_identity: str, force: bool) -> None:
    """The losses file may replace only the one this same command wrote (its identity), or --force."""
    if not os.path.lexists(path) or force:
        return
    try:
        same = json.loads(path.read_text(encoding="utf-8")).get("identity") == set_identity
    except (OSError, ValueError, AttributeError):
        same = False
    if not same or path.is_symlink():
        raise UsageError(f"{path}: already exists and is not the losses of this same style transfer; pass "
                         "--force to replace it, or choose another --out")


def _write_record(path: Path, summary: dict[str, Any]) -> None:
    from dlcli.atomic import write_text_atomic
    from dlcli.runs import dumps

    try:
        write_text_atomic(path, dumps(summary))
    except OSError as error:
        raise UsageError(f"{path}: cannot write the losses ({error})") from None
