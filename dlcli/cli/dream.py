"""`dlcli dream` and `dlcli style-transfer` (chapter 8's pictures made from photos)."""

from __future__ import annotations

import contextlib
import sys

import click

from dlcli.cli.options import (backend_option, command, json_option, picture_force_option, print_json,
                               quiet_option, table)

WEIGHTS_HELP = ("imagenet (from dlcli's cache: dlcli data import weights), none (random weights: noise, "
                "for trying it offline), or a weights FILE of the network without its classifier.")


@contextlib.contextmanager
def _progress(total: int, label: str, quiet: bool):
    """A progress bar on stderr, told (steps, text), shown from the first step on (a command that
    fails before any work shows only its error); nothing with --json or -q."""
    if quiet:
        yield None
        return
    with contextlib.ExitStack() as stack:
        bars = []

        def advance(steps: int, text: str) -> None:
            if not bars:
                bars.append(stack.enter_context(click.progressbar(
                    length=total, label=label, file=sys.stderr, item_show_func=lambda item: item)))
            bars[0].update(steps, text)

        yield advance


@command(name="dream")
@backend_option
@click.argument("image", type=click.Path())
@click.option("--layers", default="mixed2=0.2,mixed3=3,mixed4=2,mixed5=1.5", show_default=True,
              help="InceptionV3 layers and their weights in the loss, LAYER=COEFFICIENT,...")
@click.option("--octaves", type=int, default=3, show_default=True, help="How many sizes, each --octave-scale smaller.")
@click.option("--octave-scale", type=float, default=1.4, show_default=True)
@click.option("--iterations", type=int, default=20, show_default=True, help="Gradient-ascent steps per octave.")
@click.option("--step", type=float, default=0.01, show_default=True, help="Gradient-ascent step size.")
@click.option("--max-loss", type=float, default=10.0, show_default=True,
              help="An octave stops when its loss passes this (inf: never).")
@click.option("--weights", default="imagenet", show_default=True, help=WEIGHTS_HELP)
@click.option("--out", type=click.Path(), help="The final picture (the octaves go beside it), or a folder.")
@picture_force_option
@json_option
@quiet_option
def dream(image, layers, octaves, octave_scale, iterations, step, max_loss, weights, out, force, as_json, quiet) -> None:
    """DeepDream of IMAGE on InceptionV3 (8.8-8.13): each octave's picture and the final one at the
    photo's size, into the current folder unless --out says where."""
    from dlcli import api

    with _progress(octaves * iterations, "dreaming", quiet or as_json) as progress:
        result = api.dream(image, layers, octaves, octave_scale, iterations, step, max_loss, weights, out, force,
                           progress)
    if as_json:
        print_json(result)
        return
    rows = [[f"{number}", f"{octave['shape'][1]}x{octave['shape'][0]}", str(len(octave["losses"])),  # width x height
             f"{octave['losses'][0]:.4g}" if octave["losses"] else "-",
             f"{octave['losses'][-1]:.4g}" if octave["losses"] else "-",
             "" if octave["stopped_at"] is None else f"{octave['stopped_at']:.4g}", octave["file"]]
            for number, octave in enumerate(result["octaves"], start=1)]
    click.echo(table(rows, ["OCTAVE", "SIZE", "STEPS", "FIRST LOSS", "LAST LOSS", "STOPPED AT", "FILE"]))
    click.echo(f"final: {result['final']}")
    if result.get("warning"):
        click.echo(f"warning: {result['warning']}", err=True)


@command(name="style-transfer")
@backend_option
@click.argument("content", type=click.Path())
@click.argument("style", type=click.Path())
@click.option("--height", type=int, default=400, show_default=True, help="Rows of the result; the width follows CONTENT.")
@click.option("--iterations", type=int, default=20, show_default=True, help="L-BFGS runs of at most 20 evaluations each.")
@click.option("--content-weight", type=float, default=0.025, show_default=True)
@click.option("--style-weight", type=float, default=1.0, show_default=True,
              help="Shared by the 5 style layers; their Gram distances are divided by 4*3^2*(height*width)^2 "
                   "as the book prints it (3 channels and the image's size for every layer).")
@click.option("--tv-weight", type=float, default=1e-4, show_default=True, help="Weight of the total variation loss.")
@click.option("--weights", default="imagenet", show_default=True, help=WEIGHTS_HELP)
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the pictures and the losses file.")
@picture_force_option
@json_option
@quiet_option
def style_transfer(content, style, height, iterations, content_weight, style_weight, tv_weight, weights, out, force,
                   as_json, quiet) -> None:
    """CONTENT painted in the style of STYLE on VGG19 (8.14-8.22): each iteration's picture and a
    JSON file of the loss per iteration, into the current folder unless --out says where."""
    from dlcli import api

    with _progress(iterations, "styling", quiet or as_json) as progress:
        result = api.style_transfer(content, style, height, iterations, content_weight, style_weight, tv_weight,
                                    weights, out, force, progress)
    if as_json:
        print_json(result)
        return
    click.echo(table([[str(row["iteration"]), f"{row['loss']:.6g}", f"{row['seconds']:.1f}", row["file"]]
                      for row in result["iterations"]], ["ITERATION", "LOSS", "SECONDS", "FILE"]))
    click.echo(f"losses: {result['losses']}")
    click.echo(f"final: {result['final']}")
