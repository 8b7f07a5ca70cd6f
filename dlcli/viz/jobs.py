"""The visualisation commands: read an image and a model, call dlcli.viz, write the pictures.

Files go into the run's viz/ (listed in viz/index.json) when the model is a run's, else where
--out says, else into the current folder. Each file is named after everything that made it (the
image, model, class, layer and options, see dlcli.outputs), so the same command replaces its own
picture and another command never does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlcli.errors import UsageError
from dlcli.outputs import Placement, identity, picture_name, place, unusable_path, write_image
from dlcli.runs import Run, layout

# Bounds on what one command draws: a filter pattern of --size pixels is optimised for --filters
# images at once (64 of 1024x1024x3 float32 are 800 MB), every --steps is a forward and backward
# pass, and every augmented variant a copy of the image.
MAX_PATTERN_SIZE = 1024
MAX_STEPS = 10_000
MAX_STEP = 1_000.0  # pixel values move this much per step at most: far past any image's 0-255
MAX_VARIANTS = 100


def _run_path(reference: str | None) -> Path | None:
    """The run a --model or --experiment names (the only run a command writes into), else None."""
    return Path(reference) if reference and Path(reference).is_dir() else None


def _placement(out: str | None, reference: str | None, force: bool, fallback: Path, folder_only: bool = False) -> Placement:
    """Where the pictures go (checked before any work): --out, else the run's viz/, else `fallback`."""
    with unusable_path(str(reference)):
        run_path = _run_path(reference)
    default = Run(run_path).file(layout.VIZ) if run_path is not None else fallback
    return place(out, default, run_path, force, folder_only=folder_only)


def _model_identity(placement: Placement, model: str | None) -> str:
    """What --model names, as a picture's identity keeps it: a file or run by its path, a network by name."""
    model = model or "vgg16"
    return placement.named(model) if Path(model).exists() else model.lower()


def _write_all(placement: Placement, pictures: list[tuple[Path, Any, str]], run: Run | None = None) -> list[Path]:
    """Check every (path, array, identity) first, and the index of the run's viz/ they will be listed
    in, then write them: no half-made set of files, no picture left out of a damaged index."""
    placement.check({path: picture_identity for path, _, picture_identity in pictures})
    if run is not None and run.has(layout.VIZ_INDEX) and all(placement.in_run(path, layout.VIZ.name)
                                                              for path, _, _ in pictures):
        if not isinstance(run.read_json(layout.VIZ_INDEX), list):  # unreadable JSON: read_json names the file
            raise UsageError(f"{run.file(layout.VIZ_INDEX)}: not a JSON list of pictures; the run directory is "
                             "damaged (move the file away and draw again)")
    return [write_image(path, image, picture_identity) for path, image, picture_identity in pictures]


def _record(run: Run | None, placement: Placement, files: list[Path], entry: dict[str, Any]) -> None:
    """List the pictures in the run's viz/index.json when they went into its viz/ (as a command that
    draws into the run: it may write there only)."""
    if run is not None and all(placement.in_run(path, layout.VIZ.name) for path in files):
        Run.open(run.path, draws=True).record_viz({**entry, "files": [path.name for path in files]})


def _class_index(wanted: str | None, class_names: list[str] | None) -> int | None:
    if wanted is None:
        return None
    if wanted.isdigit():
        return int(wanted)
    names = class_names or []
    exact = [i for i, name in enumerate(names) if name.lower() == wanted.lower()]
    close = exact or [i for i, name in enumerate(names) if wanted.lower() in name.lower()]
    if len(close) == 1:
        return close[0]
    if not names:
        raise UsageError(f"--class {wanted}: this model has no class names; give a class index")
    hint = f" (matches: {', '.join(names[i] for i in close[:5])})" if close else ""
    raise UsageError(f"--class {wanted}: not one class name of this model{hint}")


def visualize_gradcam(image_path: str, model: str | None = None, layer: str | None = None,
                      class_name: str | None = None, alpha: float = 0.4, out: str | None = None,
                      force: bool = False) -> dict[str, Any]:
    """Grad-CAM over a photo (5.40-5.44): top-3 predictions; the photo beside its overlay, at least
    256 pixels on their shorter side, titled with the class explained and its probability, with a
    colour bar; the heatmap at the photo's size."""
    import numpy as np

    from dlcli.viz.gradcam import gradcam_heatmap, gradcam_picture, model_view, overlay
    from dlcli.viz.images import read_image
    from dlcli.viz.sources import load_source

    if not 0 <= alpha <= 1:
        raise UsageError(f"--alpha {alpha}: must be between 0 and 1 (the book uses 0.4)")
    placement = _placement(out, model, force, Path.cwd())
    image = read_image(image_path)  # a missing or unreadable image fails before any model loads
    source = load_source(model)
    batch = source.preprocess(image)
    ranked = source.top(batch, count=2**31)  # every class: the one explained may not be in the top 3
    top = ranked[:3]
    wanted = _class_index(class_name, source.class_names)
    if wanted is None:  # the class predict gives, from probabilities (a logit's own sign, not 0.5)
        wanted = ranked[0][0]
    heatmap, chosen, layer_used = gradcam_heatmap(source.model, batch, layer, wanted)
    coloured, blended = overlay(image, heatmap, alpha)
    names = source.class_names
    explained = names[chosen] if names and chosen < len(names) else str(chosen)
    probability = next((p for index, _, p in ranked if index == chosen), None)
    picture = gradcam_picture(image, blended, explained, probability, layer_used, Path(image_path).name,
                              model_view(image, batch))
    inputs = dict(image=placement.named(image_path), model=_model_identity(placement, model), layer=layer_used,
                  class_index=chosen)
    overlay_identity = identity(kind="gradcam", alpha=alpha, **inputs)
    main = placement.path(picture_name([Path(image_path).stem, "gradcam", explained if names else f"class{chosen}",
                                        layer_used, f"alpha{alpha:g}"], overlay_identity))
    companion = placement.beside(main, "heatmap")
    _write_all(placement, [(main, picture, overlay_identity),
                           (companion, coloured, identity(kind="gradcam-heatmap", **inputs))], source.run)
    result = {
        "image": str(Path(image_path).resolve()), "model": source.label, "run_dir": _run_dir(source.run),
        "layer": layer_used, "top": [{"index": i, "class": name, "probability": p} for i, name, p in top],
        "class_index": chosen, "class": explained, "probability": probability, "alpha": alpha,
        "overlay": str(main), "heatmap": str(companion),
        "heatmap_peak": [int(v) for v in np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)],
        "heatmap_shape": list(heatmap.shape), "heatmap_empty": not bool(np.any(heatmap > 0)),
    }
    warnings = []
    if result["heatmap_empty"]:  # no peak to speak of: say so rather than point at pixel (0, 0)
        result["heatmap_peak"] = None
        warnings.append(f"the heatmap is all zeros: no activation of layer {layer_used} raises the score of "
                        f"class {result['class']} (try another --layer or --class)")
    if source.info.get("class_names_missing"):
        warnings.append("ImageNet class names unavailable offline: dlcli data import weights imagenet_class_index.json")
    if warnings:
        result["warning"] = "; ".join(warnings)
    _record(source.run, placement, [main, companion],
            {"kind": "gradcam", **{k: result[k] for k in ("image", "layer", "class_index", "class", "alpha")}})
    return result


def visualize_activations(image_path: str, model: str, layers: list[str] | None = None,
                          out: str | None = None, force: bool = False) -> dict[str, Any]:
    """One PNG per convolution/pooling layer: its channels for IMAGE as a viridis grid (5.25-5.31),
    numbered, scaled up to a readable size and titled with the layer (dlcli.viz.labelled).

    A layer's file is numbered by its place in the model, so it is the same whichever --layers
    were asked for."""
    from dlcli.viz.activations import activation_sheet, activation_tiles, feature_map_layers
    from dlcli.viz.images import read_image
    from dlcli.viz.sources import load_source

    stem = Path(image_path).stem
    placement = _placement(out, model, force, Path.cwd() / f"{stem}-activations", folder_only=True)
    image = read_image(image_path)
    source = load_source(model, include_top=False)
    grids = activation_tiles(source.model, source.preprocess(image), list(layers or []) or None)
    positions = {name: number for number, name in enumerate(feature_map_layers(source.model), start=1)}
    pictures = []
    for name, tiles in grids.items():
        coloured = activation_sheet(tiles, name, positions[name], Path(image_path).name)
        picture_identity = identity(kind="activations", image=placement.named(image_path),
                                    model=_model_identity(placement, model), layer=name)
        path = placement.folder / picture_name([stem, "activations", f"{positions[name]:02d}", name], picture_identity)
        pictures.append((path, coloured, picture_identity))
    files = _write_all(placement, pictures, source.run)
    _record(source.run, placement, files, {"kind": "activations", "image": str(Path(image_path).resolve()),
                                           "layers": list(grids)})
    return {"image": str(Path(image_path).resolve()), "model": source.label, "run_dir": _run_dir(source.run),
            "layers": list(grids), "files": [str(path) for path in files]}


def visualize_filters(model: str | None = None, layer: str | None = None, filters: int = 64, size: int = 64,
                      steps: int = 40, out: str | None = None, seed: int = 0, force: bool = False,
                      step: float = 1.0) -> dict[str, Any]:
    """A grid of the patterns that maximise a layer's filters, by batched gradient ascent (5.32-5.39):
    labelled with the layer and the filters' numbers, the filters whose activation did not rise
    marked on it and named in the result's warning, with what to try."""
    from dlcli.viz.filters import ascend_filters, check_filters, filter_sheet
    from dlcli.viz.gradcam import conv_layers
    from dlcli.viz.sources import load_source

    if not 8 <= size <= MAX_PATTERN_SIZE:
        raise UsageError(f"--size {size}: must be from 8 to {MAX_PATTERN_SIZE} pixels (the book uses 200)")
    if not 0 <= steps <= MAX_STEPS:
        raise UsageError(f"--steps {steps}: must be from 0 to {MAX_STEPS:,} (default 40)")
    if not 0 < step <= MAX_STEP:  # NaN fails too
        raise UsageError(f"--step {step}: must be above 0 and at most {MAX_STEP:g} (the book's is 1)")
    placement = _placement(out, model, force, Path.cwd())
    source = load_source(model, include_top=False)
    names = conv_layers(source.model)
    layer = layer or ("block3_conv1" if "block3_conv1" in names else (names[-1] if names else None))
    if layer is None:
        raise UsageError("this model has no convolution layer to show")
    indices = check_filters(source.model, layer, filters)
    fixed = tuple(source.model.input_shape[1:3])
    shape = (size, size) if None in fixed else (int(fixed[0]), int(fixed[1]))  # a run's model has one size
    ascent = ascend_filters(source.model, layer, indices, shape, steps=steps, step=step, seed=seed)
    picture = filter_sheet(ascent, indices, layer, source.label, steps, step)
    picture_identity = identity(kind="filters", model=_model_identity(placement, model), layer=layer, filters=len(indices),
                                size=list(shape), steps=steps, seed=seed, **({"step": step} if step != 1 else {}))
    target = placement.path(picture_name(["filters", source.label, layer, f"{len(indices)}filters",
                                          f"{shape[0]}x{shape[1]}", f"{steps}steps", f"step{step:g}" if step != 1 else None,
                                          f"seed{seed}"], picture_identity))
    _write_all(placement, [(target, picture, picture_identity)], source.run)
    _record(source.run, placement, [target], {"kind": "filters", "layer": layer, "filters": len(indices),
                                              "size": list(shape), "steps": steps, "seed": seed})
    stalled = [indices[position] for position in ascent.stalled()]
    result = {"model": source.label, "run_dir": _run_dir(source.run), "layer": layer, "filters": len(indices),
              "size": list(shape), "steps": steps, "step": step, "file": str(target), "stalled": stalled}
    if stalled:
        why = ("no --steps were run: give some (the book runs 40)" if steps == 0 else
               f"{'its' if len(stalled) == 1 else 'their'} activation did not rise in {steps} steps (a filter silent "
               "on the starting noise gets no gradient): try another --seed or another --layer; if it fell, a "
               "smaller --step")
        result["warning"] = f"{_numbers(stalled)} of {layer} stayed noise (crossed on the grid): {why}"
    return result


def _numbers(filters: list[int]) -> str:
    """`filter 3`, `filters 3, 7, 9`, `12 filters (3, 7, 9...)`: a short list for a message."""
    if len(filters) == 1:
        return f"filter {filters[0]}"
    shown = ", ".join(map(str, filters[:8])) + ("..." if len(filters) > 8 else "")
    return f"filters {shown}" if len(filters) <= 8 else f"{len(filters)} filters ({shown})"


def _run_dir(run: Run | None) -> str | None:
    """The run whose model drew the picture, as every command's JSON names a run; None for another model."""
    return str(run.path.resolve()) if run is not None else None


def visualize_augmentation(image_path: str, experiment: str = "cats-dogs-augment", count: int = 8,
                           seed: int = 0, out: str | None = None, force: bool = False) -> dict[str, Any]:
    """The original image beside `count` random variants through a spec's augmentation layers (5.12),
    labelled and titled with the experiment and its layers."""
    import numpy as np

    from dlcli.spec.loading import load_spec
    from dlcli.viz.augmentation import augmentation_layers, augmentation_sheet, augmented_variants
    from dlcli.viz.images import read_image, resize, to_uint8

    if not 1 <= count <= MAX_VARIANTS:
        raise UsageError(f"--count {count}: must be from 1 to {MAX_VARIANTS} variants")
    placement = _placement(out, experiment, force, Path.cwd())
    image = read_image(image_path)
    run = Run.open(experiment) if _run_path(experiment) is not None else None
    spec = run.spec() if run else load_spec(experiment)[0]
    size = getattr(spec.data, "image_size", None)
    original = resize(image, tuple(size), getattr(spec.data, "interpolation", "bilinear")) if size else image
    layers = augmentation_layers(spec, seed)
    variants = augmented_variants(original, layers, count, seed)
    tiles = to_uint8(np.concatenate([original[None], variants]))
    picture_identity = identity(kind="augmentation", image=placement.named(image_path),
                                experiment=placement.named(experiment) if Path(experiment).exists() else experiment,
                                count=count, seed=seed)
    target = placement.path(picture_name([Path(image_path).stem, "augmented", spec.name, f"{count}variants",
                                          f"seed{seed}"], picture_identity))
    picture = augmentation_sheet(tiles, layers, spec.name, Path(image_path).name, seed)
    _write_all(placement, [(target, picture, picture_identity)], run)
    _record(run, placement, [target], {"kind": "augmentation", "image": str(Path(image_path).resolve()),
                                       "variants": count, "seed": seed})
    return {"image": str(Path(image_path).resolve()), "experiment": spec.name, "variants": count,
            "file": str(target)}
