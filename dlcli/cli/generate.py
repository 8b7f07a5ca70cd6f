"""`dlcli generate`: chapter 8's generations over a trained run (text, a VAE's latent grid, a GAN's images).

Each subcommand reads a run (or an experiment's latest run) and writes into its `samples/`
folder unless told `--out`; the work is done by a module of `dlcli.generation`, called through
`dlcli.api`.
"""

from __future__ import annotations

import click

from dlcli.cli.options import global_options


@click.group()
@global_options
def generate() -> None:
    """Chapter 8's generations from a trained run: text, a VAE's latent grid, a GAN's images."""
