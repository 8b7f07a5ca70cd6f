"""The visualisation commands: read an image and a model, call dlcli.viz, write the PNG files.

Files go into the run's viz/ (listed in viz/index.json) when the model is a run's, else where
--out says, else into the current folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlcli.errors import UsageError
from dlcli.runs import Run


def _place(run: Run | None, out: str | None, name: str) -> Path:
    """Where one picture goes: --out (a file, or a folder to put `name` in), else the run's viz/,
    else the current folder."""
    if out:
        return Path(out) / name if Path(out).is_dir() or not Path(out).suffix else Path(out)
    return (run.file("viz") if run is not None else Path.cwd()) / name


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
                      class_name: str | None = None, alpha: float = 0.4, out: str | None = None) -> dict[str, Any]:
    """Grad-CAM over a photo (5.40-5.44): top-3 predictions, heatmap and overlay at the photo's size."""
    import numpy as np

    from dlcli.viz.gradcam import gradcam_heatmap, overlay
    from dlcli.viz.images import read_image, write_png
    from dlcli.viz.sources import load_source

    if not 0 <= alpha <= 1:
        raise UsageError(f"--alpha {alpha}: must be between 0 and 1 (the book uses 0.4)")
    image = read_image(image_path)  # a missing or unreadable image fails before any model loads
    source = load_source(model)
    batch = source.preprocess(image)
    top = source.top(batch, 3)
    wanted = _class_index(class_name, source.class_names)
    heatmap, chosen, layer_used = gradcam_heatmap(source.model, batch, layer, wanted)
    coloured, blended = overlay(image, heatmap, alpha)
    main = _place(source.run, out, f"{Path(image_path).stem}-gradcam.png")
    companion = main.with_name(f"{main.stem}-heatmap.png")
    write_png(main, blended)
    write_png(companion, coloured)
    names = source.class_names
    result = {
        "image": str(Path(image_path).resolve()), "model": source.label, "layer": layer_used,
        "top": [{"index": i, "class": name, "probability": p} for i, name, p in top],
        "class_index": chosen, "class": names[chosen] if names and chosen < len(names) else str(chosen),
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
    if source.run is not None and not out:
        source.run.record_viz({"kind": "gradcam", "files": [main.name, companion.name],
                                **{k: result[k] for k in ("image", "layer", "class_index", "class")}})
    return result


def visualize_activations(image_path: str, model: str, layers: list[str] | None = None,
                          out: str | None = None) -> dict[str, Any]:
    """One PNG per convolution/pooling layer: its channels for IMAGE as a viridis grid (5.25-5.31)."""
    import cv2

    from dlcli.viz.activations import activation_grids
    from dlcli.viz.images import read_image, write_png
    from dlcli.viz.sources import load_source

    image = read_image(image_path)
    source = load_source(model, include_top=False)
    grids = activation_grids(source.model, source.preprocess(image), list(layers or []) or None)
    stem = Path(image_path).stem
    folder = Path(out) if out else (source.run.file("viz") if source.run else Path.cwd() / f"{stem}-activations")
    files = []
    for number, (name, tiles) in enumerate(grids.items(), start=1):
        coloured = cv2.cvtColor(cv2.applyColorMap(tiles, cv2.COLORMAP_VIRIDIS), cv2.COLOR_BGR2RGB)
        files.append(str(write_png(folder / f"{stem}-activations-{number:02d}-{name}.png", coloured)))
    if source.run is not None and not out:
        source.run.record_viz({"kind": "activations", "image": str(Path(image_path).resolve()),
                                "layers": list(grids), "files": [Path(f).name for f in files]})
    return {"image": str(Path(image_path).resolve()), "model": source.label, "layers": list(grids), "files": files}


def visualize_filters(model: str | None = None, layer: str | None = None, filters: int = 64, size: int = 64,
                      steps: int = 40, out: str | None = None, seed: int = 0) -> dict[str, Any]:
    """A grid of the patterns that maximise a layer's filters, by batched gradient ascent (5.32-5.39)."""
    import numpy as np

    from dlcli.viz.filters import check_filters, filter_patterns
    from dlcli.viz.gradcam import conv_layers
    from dlcli.viz.images import grid, write_png
    from dlcli.viz.sources import load_source

    if size < 8 or steps < 0:
        raise UsageError("--size must be at least 8 pixels and --steps at least 0")
    source = load_source(model, include_top=False)
    names = conv_layers(source.model)
    layer = layer or ("block3_conv1" if "block3_conv1" in names else (names[-1] if names else None))
    if layer is None:
        raise UsageError("this model has no convolution layer to show")
    indices = check_filters(source.model, layer, filters)
    fixed = tuple(source.model.input_shape[1:3])
    shape = (size, size) if None in fixed else (int(fixed[0]), int(fixed[1]))  # a run's model has one size
    patterns = filter_patterns(source.model, layer, indices, shape, steps=steps, seed=seed)
    columns = int(np.ceil(np.sqrt(len(indices))))
    picture = grid(patterns if patterns.shape[-1] == 3 else np.repeat(patterns, 3, axis=-1), columns,
                   margin=5, fill=0)
    name = f"filters-{source.label}-{layer}.png"
    target = _place(source.run, out, name)
    write_png(target, picture)
    if source.run is not None and not out:
        source.run.record_viz({"kind": "filters", "layer": layer, "filters": len(indices), "files": [target.name]})
    return {"model": source.label, "layer": layer, "filters": len(indices), "size": list(shape),
            "steps": steps, "file": str(target)}


def visualize_augmentation(image_path: str, experiment: str = "cats-dogs-augment", count: int = 8,
                           seed: int = 0, out: str | None = None) -> dict[str, Any]:
    """The original image beside `count` random variants through a spec's augmentation layers (5.12)."""
    import numpy as np

    from dlcli.spec.loading import load_spec
    from dlcli.viz.augmentation import augmentation_layers, augmented_variants
    from dlcli.viz.images import grid, read_image, resize, to_uint8, write_png

    if count < 1:
        raise UsageError("--count must be at least 1")
    image = read_image(image_path)
    run = Run.open(experiment) if Path(experiment).is_dir() else None
    spec = run.spec() if run else load_spec(experiment)[0]
    size = getattr(spec.data, "image_size", None)
    original = resize(image, tuple(size), getattr(spec.data, "interpolation", "bilinear")) if size else image
    variants = augmented_variants(original, augmentation_layers(spec), count, seed)
    tiles = to_uint8(np.concatenate([original[None], variants]))
    name = f"{Path(image_path).stem}-augmented.png"
    target = _place(run, out, name)
    write_png(target, grid(tiles, min(len(tiles), 3 if count <= 5 else 5), margin=4, fill=255))
    return {"image": str(Path(image_path).resolve()), "experiment": spec.name, "variants": count,
            "file": str(target)}
