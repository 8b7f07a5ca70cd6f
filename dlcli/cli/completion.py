"""Shell completion for bash, zsh and fish, through Click's own mechanism, and `dlcli completion SHELL`.

At each Tab the script `dlcli completion SHELL` prints runs `dlcli` with `_DLCLI_COMPLETE` set;
`main` then calls `complete`, which gives each argument what it can name (COMPLETERS: experiments,
runs, datasets, layers...) and lets Click answer. A file or folder item comes first in every answer
where a path is valid too: Click's bash script clears what came before such an item and falls back to
the shell's own file names when no name matched, and zsh and fish list the files beside the names.
Completing reads file names and small JSON files only, never TensorFlow; a command's messages on
stderr (a RUN named by its experiment says which run it took) are not shown mid-line.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from pathlib import Path

import click
from click.shell_completion import CompletionItem, get_completion_class

from dlcli.cli.options import command

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_DLCLI_COMPLETE"


@command(name="completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL; it completes commands, options, experiment and dataset
    names, runs, layers and file names.

    \b
    bash   eval "$(dlcli completion bash)"     in ~/.bashrc
    zsh    eval "$(dlcli completion zsh)"      in ~/.zshrc, after compinit
    fish   dlcli completion fish > ~/.config/fish/completions/dlcli.fish
    """
    root = click.get_current_context().find_root().command  # dlcli's group, whichever module defines it
    click.echo(get_completion_class(shell)(root, {}, "dlcli", COMPLETE_VAR).source())


def complete(cli: click.Group) -> int:
    """Answer the shell's request in `_DLCLI_COMPLETE` (Click's protocol), every argument completing."""
    attach(cli, click.Context(cli))
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):
        try:
            cli.main(prog_name="dlcli", complete_var=COMPLETE_VAR)
        except SystemExit as exit_:
            return exit_.code if isinstance(exit_.code, int) else 0
    return 0


def attach(group: click.Group, ctx: click.Context, path: str = "") -> None:
    """Give every parameter of the group's commands, at any depth, its completer from COMPLETERS."""
    for name in group.list_commands(ctx):
        command_ = group.get_command(ctx, name)
        where = f"{path} {name}".strip()
        if isinstance(command_, click.Group):
            attach(command_, ctx, where)
            continue
        for param in command_.params:
            completer = COMPLETERS.get(f"{where} {param.name}") or COMPLETERS.get(param.name)
            if completer is not None:
                param._custom_shell_complete = completer  # Click's own slot for `shell_complete=`


# --------------------------------------------------------------------------- what a word can be


def _matching(words, incomplete: str, kind: str = "plain") -> list[CompletionItem]:
    return [CompletionItem(word, type=kind) for word in sorted(set(words)) if word.startswith(incomplete)]


def _files(incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(incomplete, type="file")]


def _folders(incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(incomplete, type="dir")]


def _looks_like_a_path(incomplete: str) -> bool:
    return incomplete.startswith((".", "/", "~")) or os.sep in incomplete


def experiments(ctx, param, incomplete: str) -> list[CompletionItem]:
    """Named experiments, and spec files."""
    from dlcli.catalog import experiment_files

    if _looks_like_a_path(incomplete):
        return _files(incomplete)
    return _files(incomplete) + _matching(experiment_files(), incomplete)


def experiments_with_runs() -> list[str]:
    from dlcli.runs import runs_root

    root = runs_root()
    return [path.name for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")] \
        if root.is_dir() else []


def runs(ctx, param, incomplete: str) -> list[CompletionItem]:
    """A RUN: the name of an experiment with runs (its latest completed run), or a run directory:
    once the runs folder's path is typed (runs/...), the run directories under it; other paths are
    the shell's to complete."""
    from dlcli.runs import references, runs_root

    root = runs_root().absolute()
    tops = [str(root), *([os.path.relpath(root)] if root.is_relative_to(Path.cwd()) else [])]  # as typed
    if not incomplete.startswith(tuple(tops)):  # a name, or a path the shell completes
        return _folders(incomplete) + ([] if _looks_like_a_path(incomplete) else
                                       _matching(experiments_with_runs(), incomplete))
    folders = [path for name in experiments_with_runs() for path in references.run_folders(name)]
    directories = [os.path.join(top, path.parent.name, path.name) for top in tops for path in folders]
    return _folders(incomplete) + _matching(directories, incomplete)


def plot_inputs(ctx, param, incomplete: str) -> list[CompletionItem]:
    """plot's inputs: runs (as RUN), and the history files it reads too (Keras' JSON, a CSVLogger
    file): a file item first, so the shell completes file names, not folders alone."""
    return _files(incomplete) + runs(ctx, param, incomplete)[1:]


def models(ctx, param, incomplete: str) -> list[CompletionItem]:
    """--model: a run (as RUN), a .keras/.h5 file, or a keras.applications network."""
    from dlcli.pretrained import APPLICATIONS

    found = runs(ctx, param, incomplete)  # its folder item first, then the files the shell adds
    names = [] if _looks_like_a_path(incomplete) else _matching(APPLICATIONS, incomplete)
    return _files(incomplete) + found[1:] + names


def layers(ctx, param, incomplete: str) -> list[CompletionItem]:
    """--layer(s): the layers of --model's network as its run's model.json (or the .keras file's
    config.json) lists them, nested models' layers included; nothing for a keras.applications name."""
    from dlcli.errors import DlcliError
    from dlcli.runs import Run

    source = ctx.params.get("model")
    if not source:
        return []
    path = Path(source)
    if not path.exists():  # an experiment's name (NAME@N): its run
        try:
            path = Run.find(source, "--model").path
        except DlcliError:
            return []
    return _matching(layer_names(path), incomplete)


def layer_names(source: Path) -> list[str]:
    """The layer names in a run's model.json or a .keras file's config, depth first; [] if unreadable."""
    from dlcli.runs import layout

    try:
        if source.is_dir():
            config = json.loads((source / layout.MODEL_CONFIG.name).read_text(encoding="utf-8"))
        elif zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                config = json.loads(archive.read("config.json"))
        else:
            return []
    except (OSError, KeyError, ValueError):
        return []
    return list(_walk_layers(config))


def _walk_layers(config):
    inner = config.get("config") if isinstance(config, dict) else None
    for layer in (inner or {}).get("layers", []) if isinstance(inner, dict) else []:
        settings = layer.get("config") if isinstance(layer, dict) else None
        if not isinstance(settings, dict):
            continue
        if "layers" in settings:
            yield from _walk_layers(layer)
        elif layer.get("class_name") != "InputLayer" and isinstance(settings.get("name"), str):
            yield settings["name"]


def datasets(wanted):
    """The datasets for which `wanted(entry)` holds (downloadable, importable...)."""
    def complete_datasets(ctx, param, incomplete: str) -> list[CompletionItem]:
        from dlcli.datasets import DATASETS

        return _matching([name for name, entry in DATASETS.items() if wanted(entry)], incomplete)

    return complete_datasets


def templates(ctx, param, incomplete: str) -> list[CompletionItem]:
    from dlcli.templates import TEMPLATES

    return _matching(TEMPLATES, incomplete)


def splits(ctx, param, incomplete: str) -> list[CompletionItem]:
    return _matching(["cats-vs-dogs"], incomplete)


def picture_weights(ctx, param, incomplete: str) -> list[CompletionItem]:
    """dream/style-transfer --weights: imagenet, none, or a weights file."""
    return _files(incomplete) + _matching(["imagenet", "none"], incomplete)


# "COMMAND PARAM" first, then PARAM alone; a parameter of a Click path type completes file names
# by itself (Click's own), so only what names something dlcli knows is listed here.
COMPLETERS = {
    "experiment": experiments,
    "experiments": experiments,
    "runs experiment": lambda ctx, param, incomplete: _matching(experiments_with_runs(), incomplete),
    "run": runs,
    "runs": runs,
    "plot runs": plot_inputs,
    "predict run": models,  # a run, a .keras file or a network, as --model
    "model": models,
    "layer": layers,
    "visualize activations layers": layers,
    "data download name": datasets(lambda entry: any(item.url for item in entry.files)),
    "data import name": datasets(lambda entry: entry.importer is not None),
    "data split name": splits,
    "new template": templates,
    "predict inputs": lambda ctx, param, incomplete: _files(incomplete),
    "dream weights": picture_weights,
    "style-transfer weights": picture_weights,
}
