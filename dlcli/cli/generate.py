"""`dlcli generate`: chapter 8's generations over a trained run (text, a VAE's latent grid, a GAN's images).

Each subcommand reads a run (or an experiment's latest run) and writes into its `samples/`
folder unless told `--out`; the work is done by a module of `dlcli.generation`, called through
`dlcli.api`.
"""

from __future__ import annotations

import click

from dlcli.cli.options import (backend_option, command, global_options, json_option, picture_force_option,
                               print_json)


@click.group()
@global_options
def generate() -> None:
    """Chapter 8's generations from a trained run: text, a VAE's latent grid, a GAN's images."""


def _temperatures(ctx, param, values) -> tuple[float, ...] | None:
    """--temperature 0.2 --temperature 0.5, --temperature 0.2,0.5 or --temperature "0.2 0.5"; None
    when the option is not given (the book's four)."""
    parts = [part for value in values for part in value.replace(",", " ").split()]
    if values and not parts:
        raise click.BadParameter("give at least one temperature, e.g. 0.5")
    try:
        return tuple(float(part) for part in parts) or None
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@command(generate, "text")
@backend_option
@click.argument("run")
@click.option("--seed-text", help="Text to continue (at least the model's window, maxlen characters; lower-cased "
                                  "when training was)  [default: a random window of the training text]")
@click.option("--temperature", "temperatures", multiple=True, callback=_temperatures, metavar="T[,T...]",
              help="Sampling temperature, repeatable, comma- or space-separated  [default: 0.2,0.5,1.0,1.2]")
@click.option("--length", type=int, default=400, show_default=True, help="Characters to generate at each temperature.")
@click.option("--seed", type=int, help="Seed of the random seed window and of the draws  [default: a new one, printed]")
@click.option("--out", type=click.Path(dir_okay=False), help="Text file  [default: the run's samples/]")
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
@json_option
def generate_text(run, seed_text, temperatures, length, seed, out, force, as_json) -> None:
    """Text from a character model (8.6-8.7): LENGTH characters at each temperature, all in one batch.

    RUN is a run directory of a text_file experiment (text-generation-lstm), or an experiment whose
    latest completed run is used. The text is printed and written into the run's samples/ unless
    --out names a file.
    """
    from dlcli import api

    result = api.generate_text(run, seed_text, temperatures, length, seed, out, force)
    if as_json:
        print_json(result)
        return
    click.echo(f'--- seed {result["seed"]}: "{result["seed_text"]}"')
    for sample in result["samples"]:
        click.echo(f"\n------ temperature: {sample['temperature']:g}\n{result['seed_text']}{sample['text']}")
    click.echo(f"written: {result['file']}", err=True)


@command(generate, "images")
@backend_option
@click.argument("run")
@click.option("--count", type=int, default=16, show_default=True, help="Images in the grid.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the latent points.")
@click.option("--out", type=click.Path(dir_okay=False), help="Picture file  [default: the run's samples/]")
@picture_force_option
@json_option
def generate_images(run, count, seed, out, force, as_json) -> None:
    """A grid of a GAN's images (8.32) from COUNT latent points drawn from SEED.

    RUN is a run directory of a model of type gan, or an experiment whose latest completed run is
    used. The grid goes into the run's samples/ unless --out names a file.
    """
    from dlcli import api

    result = api.generate_images(run, count, seed, out, force)
    if as_json:
        print_json(result)
        return
    click.echo(f"{result['count']} images of {result['image_size'][0]}x{result['image_size'][1]}: {result['file']}")


@command(generate, "latent-grid")
@backend_option
@click.argument("run")
@click.option("--n", "n", type=int, default=15, show_default=True, help="Latent points per side of the grid.")
@click.option("--out", type=click.Path(dir_okay=False), help="Picture file  [default: the run's samples/]")
@picture_force_option
@json_option
def generate_latent_grid(run, n, out, force, as_json) -> None:
    """A VAE's decoder over an N x N grid of latent points (8.28, figure 8.14).

    The points are the N(0, 1) quantiles of linspace(0.05, 0.95, N) on each axis. RUN is a run
    directory of a model of type vae, or an experiment whose latest completed run is used. The
    picture goes into the run's samples/ unless --out names a file.
    """
    from dlcli import api

    result = api.generate_latent_grid(run, n, out, force)
    if as_json:
        print_json(result)
        return
    if result["latent_dim"] > 2:
        click.echo(f"a latent space of {result['latent_dim']} dimensions: gridded over {result['gridded']}", err=True)
    height, width = result["grid_size"]
    click.echo(f"{n} x {n} decoded images, {width}x{height} pixels: {result['file']}")
