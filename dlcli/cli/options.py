"""Options shared by many commands, defined once. `--debug` and `--verbose` are accepted before
or after the subcommand (`dlcli --debug train x` = `dlcli train x --debug`)."""

from __future__ import annotations

import json as _json

import click

STATE = {"debug": False}


def _debug(ctx, param, value):
    if value:
        STATE["debug"] = True
    return value


def _verbose(ctx, param, value):
    if value:
        from dlcli.backend import set_verbose

        set_verbose(True)
    return value


def global_options(function):
    """--debug and --verbose: on the group and on every command."""
    function = click.option("--verbose", is_flag=True, expose_value=False, callback=_verbose, is_eager=True,
                            help="Keep TensorFlow's and Keras' own logs and warnings.")(function)
    return click.option("--debug", is_flag=True, expose_value=False, callback=_debug, is_eager=True,
                        help="Show the traceback of an error.")(function)


def command(group_or_cli=click, *args, **kwargs):
    """`@command()` = `@click.command()` with the global options."""
    def decorator(function):
        return (group_or_cli.command(*args, **kwargs))(global_options(function))

    return decorator


def _backend(ctx, param, value):
    from dlcli.backend import choose

    choose(value)
    return value


# Eager, so the choice is made before any other option's callback could import Keras.
backend_option = click.option(
    "--backend", type=click.Choice(["tensorflow", "jax", "torch"]), expose_value=False, callback=_backend,
    is_eager=True, help="Keras' backend (default: the run's own for a run, else $KERAS_BACKEND, else tensorflow).")
json_option = click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout, nothing else.")
set_option = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                          help="Override a spec value, e.g. fit.epochs=3 (repeatable).")
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress (per epoch, or a bar) on stderr.")
# Pictures keep the identity of their inputs and options inside (dlcli.outputs): only another one needs --force.
picture_force_option = click.option("--force", is_flag=True,
                                    help="Replace an existing file that is not this same picture of the same inputs.")


def print_json(data) -> None:
    from dlcli.runs import dumps

    click.echo(dumps(data), nl=False)


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def number(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def cell(value) -> str:
    return value if isinstance(value, str) else _json.dumps(value)


def report_unreadable(unreadable: list[dict]) -> None:
    """After a command read what it could of several runs: one line per run it could not read, and
    exit 2, so a script sees that its input was not whole."""
    for item in unreadable:
        click.echo(f"error: {item['error']}", err=True)
    if unreadable:
        raise SystemExit(2)
