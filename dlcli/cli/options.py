"""Options shared by many commands, defined once, and the ways commands print: one JSON object
(`print_json`, printed by main() when the command ends: see cli.outcome), a failure with its exit
code (`fail`), tables cut to the terminal's width (`table`, `terminal_width`). `--debug` and
`--verbose` are accepted before or after the subcommand (`dlcli --debug train x` = `dlcli train x --debug`)."""

from __future__ import annotations

import json as _json
import os
import shutil
import sys

import click

from dlcli.terminal import silence

# What one invocation's options and outcome say, set again by main() for each: --debug; --json and the
# one object the command answers with, which main() prints once the exit code is known (see
# cli.outcome); the message of a failure a command reported itself (`fail`).
STATE = {"debug": False, "json": False, "result": None, "error": None}


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
def _json_flag(ctx, param, value):
    if value:
        STATE["json"] = True
        silence()  # no progress bars: a script reads the object
    return value


def _quiet_flag(ctx, param, value):
    if value:
        silence()
    return value


json_option = click.option("--json", "as_json", is_flag=True, callback=_json_flag,
                           help="One JSON object on stdout, nothing else (with error and exit_code on failure).")
set_option = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                          help="Override a spec value, e.g. fit.epochs=3 (repeatable).")
quiet_option = click.option("-q", "--quiet", is_flag=True, callback=_quiet_flag,
                            help="No progress (per epoch, or a bar) on stderr.")
# Pictures keep the identity of their inputs and options inside (dlcli.outputs): only another one needs --force.
picture_force_option = click.option("--force", is_flag=True,
                                    help="Replace an existing file that is not this same picture of the same inputs.")


def print_json(data: dict) -> None:
    """The command's one JSON object: main() prints it when the command ends, with `error` and
    `exit_code` added if it ends in a failure, so a script gets one object whatever happens."""
    STATE["result"] = data


def json_printed_elsewhere() -> None:
    """Another process (process 0 of --workers) printed this command's JSON object itself."""
    STATE["result"] = False


def record_error(message: str) -> None:
    """What went wrong, for --json's object, when the command says it on stderr in its own words."""
    STATE["error"] = [message]


def fail(message: str, exit_code: int, echo: bool = True) -> None:
    """End the command with this exit code and `error: MESSAGE` on stderr (`echo=False`: the
    command's output already said it); the message also goes into --json's object."""
    if echo:
        click.echo(f"error: {message}", err=True)
    record_error(message)
    raise SystemExit(exit_code)


def terminal_width() -> int | None:
    """The width a table must fit: $COLUMNS, else the terminal's; None when stdout is not a terminal
    and COLUMNS is unset (a pipe or a file gets whole lines; scripts read --json)."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def table(rows: list[list[str]], headers: list[str], width: int | None = None, shrink: dict[str, int] | None = None,
          drop: tuple[str, ...] = ()) -> str:
    """Rows under headers, two spaces apart. Given a `width`, the table is made to fit it: the
    columns named in `shrink` are cut with "…" (the widest first, none below the width `shrink`
    gives it, nor its header's), and if that is not enough the columns named in `drop` are left
    out, in that order, until it fits; failing that, the `shrink` columns are cut down to their headers.
    Without a `width` (a pipe, a file) every column is shown whole."""
    rows = [[printable(cell) for cell in row] for row in rows]
    natural = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    shown, widths = list(range(len(headers))), natural
    if width:
        shown, widths = _fitted(natural, headers, width, shrink or {}, drop)
    lines = [[str(headers[i]) for i in shown], *([row[i] for i in shown] for row in rows)]
    return "\n".join("  ".join(_cut(text, widths[i]).ljust(widths[i]) for text, i in zip(line, shown)).rstrip()
                     for line in lines)


def printable(cell) -> str:
    """A cell as text a terminal shows as it is: control characters (an escape sequence in a hostile
    run.json, a line break in a name) written as Python writes them in a string (\\x1b, \\n)."""
    text = str(cell)
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


MIN_COLUMN = 10  # what a shrunk column keeps when nothing more is to be said


def _fitted(natural: list[int], headers: list[str], width: int, shrink: dict[str, int],
            drop: tuple[str, ...]) -> tuple[list[int], list[int]]:
    """The columns shown and their widths, for a table that must fit `width` (see `table`)."""
    shown = list(range(len(headers)))
    for dropped in (None, *drop):
        if dropped in headers and len(shown) > 1:
            shown.remove(headers.index(dropped))
        widths = _shrunk(natural, headers, shown, width, shrink)
        if _table_width(widths, shown) <= width:
            return shown, widths
    # Still too wide with every column it may lose gone: cut what may be cut down to its header.
    return shown, _shrunk(natural, headers, shown, width, dict.fromkeys(shrink, 0))


def _table_width(widths: list[int], shown: list[int]) -> int:
    return sum(widths[i] for i in shown) + 2 * (len(shown) - 1)


def _shrunk(natural: list[int], headers: list[str], shown: list[int], width: int, shrink: dict[str, int]) -> list[int]:
    """Column widths with the shrinkable columns cut, the widest first, until the table fits."""
    widths = list(natural)
    floors = {i: min(natural[i], max(len(str(headers[i])), shrink[headers[i]])) for i in shown if headers[i] in shrink}
    excess = _table_width(widths, shown) - width
    while excess > 0:
        candidates = [i for i in floors if widths[i] > floors[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return widths


def _cut(text: str, width: int) -> str:
    """TEXT within WIDTH characters, its end replaced by "…" when it is longer."""
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


def number(value) -> str:
    """A number for a table: four decimals, or three significant digits where four decimals would
    show a small value as 0.0000 (an overfitting model's training loss of 4e-05)."""
    if not isinstance(value, float):
        return str(value)
    return f"{value:.3g}" if 0 < abs(value) < 0.00005 else f"{value:.4f}"


def cell(value) -> str:
    return value if isinstance(value, str) else _json.dumps(value)


def report_unreadable(unreadable: list[dict]) -> None:
    """After a command read what it could of several runs: one line per run it could not read, and
    exit 2, so a script sees that its input was not whole."""
    for item in unreadable[:-1]:
        click.echo(f"error: {item['error']}", err=True)
    if unreadable:
        fail(unreadable[-1]["error"], 2)
