"""`dlcli visualize` (chapter 5's pictures) and `dlcli predict`."""

from __future__ import annotations

import os

import click

from dlcli.cli.options import (backend_option, command, global_options, json_option, picture_force_option,
                               print_json, table)
from dlcli.cli.run_argument import model_reference


@click.group()
@global_options
def visualize() -> None:
    """Chapter 5's pictures: augmentation, activations, filter patterns, Grad-CAM heatmaps."""


MODEL_HELP = ("A run directory (or an experiment's name: its latest completed run; NAME@2 the one before), a "
              ".keras/.h5 file, or a pretrained network (vgg16, resnet50...).")


@command(visualize, "gradcam")
@backend_option
@click.argument("image", type=click.Path())
@click.option("--model", "model", callback=model_reference, help=MODEL_HELP + "  [default: vgg16 with ImageNet weights]")
@click.option("--layer", help="Convolution layer to explain  [default: the last one]")
@click.option("--class", "class_name", help="Class index or name to explain  [default: the top prediction]")
@click.option("--alpha", type=float, default=0.4, show_default=True, help="Heatmap intensity in the overlay.")
@click.option("--out", type=click.Path(dir_okay=False), help="Overlay file (the heatmap goes beside it).")
@picture_force_option
@json_option
def visualize_gradcam(image, model, layer, class_name, alpha, out, force, as_json) -> None:
    """Grad-CAM heatmap of IMAGE (5.40-5.44): the top-3 predictions, the heatmap and its overlay.

    With a run's model, the run's preprocessing and class names are used; the files go into the
    run's viz/ (listed in viz/index.json) unless --out is given, else into the current folder,
    named after the image, class, layer and alpha.
    """
    from dlcli import api

    result = api.visualize_gradcam(image, model, layer, class_name, alpha, out, force)
    if as_json:
        print_json(result)
        return
    for rank, row in enumerate(result["top"], start=1):
        click.echo(f"{rank}. {row['class']}: {row['probability']:.4f}")
    named = f" ({result['class']})" if result["class"] != str(result["class_index"]) else ""  # not "class 3 (3)"
    click.echo(f"explained: class {result['class_index']}{named} at layer {result['layer']}")
    click.echo(f"overlay: {result['overlay']}")
    click.echo(f"heatmap: {result['heatmap']}")
    if result.get("warning"):
        click.echo(f"warning: {result['warning']}", err=True)


@command(visualize, "activations")
@backend_option
@click.argument("image", type=click.Path())
@click.option("--model", "model", required=True, callback=model_reference,
              help="A run directory (or an experiment's name: its latest completed run), a .keras/.h5 file "
                   "(or vgg16...).")
@click.option("--layers", multiple=True, metavar="NAME", help="Only these layers (repeatable)  [default: every convolution and pooling layer]")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the PNGs.")
@picture_force_option
@json_option
def visualize_activations(image, model, layers, out, force, as_json) -> None:
    """The channels of every convolution and pooling layer's output for IMAGE (5.25-5.31), one PNG per layer."""
    from dlcli import api

    result = api.visualize_activations(image, model, list(layers), out, force)
    if as_json:
        print_json(result)
        return
    for layer, path in zip(result["layers"], result["files"]):
        click.echo(f"{layer}: {path}")


@command(visualize, "filters")
@backend_option
@click.option("--model", "model", callback=model_reference, help=MODEL_HELP + "  [default: vgg16 without its classifier]")
@click.option("--layer", help="Convolution layer  [default: block3_conv1 for VGG, else the last one]")
@click.option("--filters", "count", type=int, default=64, show_default=True, help="How many filters, from the first.")
@click.option("--size", type=int, default=64, show_default=True, help="Pattern size in pixels (a run's model uses its own input size).")
@click.option("--steps", type=int, default=40, show_default=True, help="Gradient-ascent steps (5.36).")
@click.option("--step", type=float, default=1.0, show_default=True,
              help="Step size of each ascent step, on 0-255 pixels (the book's 1).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the starting noise.")
@click.option("--out", type=click.Path(), help="The grid PNG, or a folder for it.")
@picture_force_option
@json_option
def visualize_filters(model, layer, count, size, steps, step, seed, out, force, as_json) -> None:
    """The input pattern each filter of a layer responds to most, as a grid (5.32-5.39).

    All the filters of the grid are optimised together as one batch."""
    from dlcli import api

    result = api.visualize_filters(model, layer, count, size, steps, out, seed, force, step=step)
    if as_json:
        print_json(result)
        return
    click.echo(f"{result['filters']} filters of {result['layer']}: {result['file']}")
    if result.get("warning"):
        click.echo(f"warning: {result['warning']}", err=True)


@command(visualize, "augmentation")
@backend_option
@click.argument("image", type=click.Path())
@click.option("--experiment", default="cats-dogs-augment", show_default=True,
              help="Experiment (name, YAML file or run directory) whose augmentation layers to use.")
@click.option("--count", type=int, default=8, show_default=True, help="How many random variants.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="The grid PNG.")
@picture_force_option
@json_option
def visualize_augmentation(image, experiment, count, seed, out, force, as_json) -> None:
    """IMAGE and random variants of it through an experiment's augmentation layers (5.12)."""
    from dlcli import api

    result = api.visualize_augmentation(image, experiment, count, seed, out, force)
    if as_json:
        print_json(result)
    else:
        click.echo(result["file"])


@command()
@backend_option
@click.argument("run", type=click.Path(), callback=model_reference)
@click.argument("inputs", nargs=-1)
@click.option("--csv", "csv_path", type=click.Path(), help="A series run: forecast from the last window of this CSV.")
@json_option
def predict(run, inputs, csv_path, as_json) -> None:
    """Predictions of RUN's model (a run directory, or a .keras file for images).

    \b
    dlcli predict RUN cat.jpg dog.png        an image classifier: class and probability
    dlcli predict RUN "a wonderful film"     a text model: tokenised with the run's vocabulary
    dlcli predict RUN --csv recent.csv       a series model: the forecast after the last window
    """
    from dlcli import api

    rows = api.predict(run, list(inputs), csv_path)
    if as_json:
        print_json({"run_dir": run if os.path.isdir(run) else None, "model": run, "predictions": rows})
        return
    if csv_path:
        row = rows[0]
        units = {k: v for k, v in row.items() if k.startswith("prediction_")}
        click.echo(f"{row['target']}, {row['rows_ahead']} rows after the last one: {row['prediction']:.4f} (normalised)"
                   + "".join(f", {v:.2f} {k.removeprefix('prediction_')}" for k, v in units.items()))
        return
    shown = [(r["input"] if len(r["input"]) <= 60 else r["input"][:57] + "...").replace("\n", " ") for r in rows]
    if any("heads" in row for row in rows):  # a model with several outputs: a line per output
        click.echo(table([[text, head, answer["class"], f"{answer['probability']:.4f}"]
                          for text, r in zip(shown, rows) for head, answer in r["heads"].items()],
                         ["INPUT", "OUTPUT", "CLASS", "PROBABILITY"]))
        return
    click.echo(table([[text, r["class"], f"{r['probability']:.4f}"] for text, r in zip(shown, rows)],
                      ["INPUT", "CLASS", "PROBABILITY"]))
