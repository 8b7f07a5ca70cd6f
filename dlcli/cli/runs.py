"""`dlcli plot`, `compare` and `tensorboard`: reading runs (plot and compare import no TensorFlow)."""

from __future__ import annotations

import sys
import textwrap

import click

from dlcli.cli.options import (MIN_COLUMN, cell, command, json_option, number, print_json, report_unreadable, table,
                               terminal_width)


@command()
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--metric", help="One metric (loss, accuracy, mae...; val_loss overlays validation curves).")
@click.option("--smooth", type=float, help="Exponential smoothing factor in [0, 1), e.g. 0.9 (listing 3.31).")
@click.option("--skip-first", type=int, default=0, show_default=True, help="Drop the first N epochs (listing 3.31).")
@click.option("--out", type=click.Path(), help="PNG file (or folder) to write; default: the first run's plots/ "
                                                "(for a history file: its folder).")
@click.option("--force", is_flag=True, help="Replace an existing --out file that is not this same plot.")
@json_option
def plot(runs, metric, smooth, skip_first, out, force, as_json) -> None:
    """Learning curves of one run (training vs validation) or several runs overlaid.

    \b
    dlcli plot RUN                         training and validation, one PNG per metric
    dlcli plot RUN1 RUN2 --metric val_acc  overlaid, labelled by the settings that differ
    dlcli plot history.json                Keras' history.history saved with json.dump
    dlcli plot training.csv                a keras.callbacks.CSVLogger file (epoch 0 is epoch 1)

    Each file is named after what it shows (metric, options, the runs overlaid), so another plot
    never replaces it; nothing is written into a run other than the first one. A run without the
    metric is named on stderr and in the legend."""
    from dlcli.plotting import plot_runs

    files = [str(path) for path in plot_runs(list(runs), metric=metric, smooth=smooth, skip_first=skip_first, out=out,
                                              force=force)]
    if as_json:
        print_json({"files": files})
    else:
        click.echo("\n".join(files))


@command()
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
def compare(runs, as_json: bool, as_csv: bool) -> None:
    """What differs between several runs: their final metrics, verdicts and spec values side by
    side, the values every run shares left out (a line counts them); --json keeps every metric."""
    from dlcli import api
    from dlcli.errors import UsageError

    if as_json and as_csv:  # as `dlcli runs` says
        raise UsageError("--json and --csv: choose one")
    result = api.compare(list(runs))
    if as_json:
        print_json(result)
    else:
        _print_comparison(result, as_csv)
    report_unreadable(result["unreadable"])


INTERESTING = ("test_", "val_", "best_", "final_val", "output")  # the metrics a comparison's table shows


def _shown_metrics(names: list[str]) -> list[str]:
    return [m for m in names if m.startswith(INTERESTING) and not m.startswith("fold_")] or names


def _print_comparison(result: dict, as_csv: bool) -> None:
    if as_csv:  # every run's columns, equal or not: a script reads them by name
        _write_csv(result)
        return
    runs = result["runs"]
    same = {key: {str(_plain(r[key])) for r in runs} for key in ("experiment", "status", "check")}
    columns = [key for key, values in same.items() if len(values) > 1 or len(runs) == 1]
    metrics = ([m for m in result["differing_metric_names"] if not m.startswith("fold_")]  # per fold: in --json
               if len(runs) > 1 else _shown_metrics(result["metric_names"]))  # one run: its metrics
    spec_keys = result["differing_spec_keys"]
    headers = ["run", *columns, *metrics, *spec_keys]
    rows = [[r["run"], *(_plain(r[key]) for key in columns), *(number(r["metrics"].get(m, "")) for m in metrics),
             *(cell(r["spec"].get(k)) for k in spec_keys)] for r in runs]
    width = terminal_width()
    if width and max(map(len, table(rows, headers).splitlines())) > width:
        click.echo(_transposed(rows, headers, width))  # a value a line, a run a column
    else:
        click.echo(table(rows, headers, width))
    if len(runs) > 1:
        click.echo(textwrap.fill(_equal_line(result, same, metrics), width or 1_000_000, subsequent_indent="  "))


def _transposed(rows: list[list[str]], headers: list[str], width: int) -> str:
    """The comparison turned: one line per value that differs, one column per run (#1, #2...), the
    runs named below it, so many differing values fit a narrow terminal. Runs that do not fit beside
    each other go on in another block under it: values are never cut (a number cut to '0.…' says
    nothing), only the names of the values, down to a third of the width."""
    runs = [[f"#{index}", *row[1:]] for index, row in enumerate(rows, start=1)]  # each: its label, its values
    names = headers[1:]
    name_width = min(max(map(len, names)), max(MIN_COLUMN, width // 3))
    blocks, used = [[]], [name_width]  # the runs of each block, and the width they take
    for run in runs:
        needed = 2 + max(map(len, run))
        if blocks[-1] and used[-1] + needed > width:
            blocks.append([])
            used.append(name_width)
        blocks[-1].append(run)
        used[-1] += needed
    # A run too wide alone keeps its values whole and its names at name_width: the line overflows.
    shown = [table([[name, *(run[position] for run in block)] for position, name in enumerate(names, start=1)],
                   ["", *(run[0] for run in block)], max(width, taken), shrink={"": name_width})
             for block, taken in zip(blocks, used)]
    return "\n\n".join(shown) + "\n" + "\n".join(f"{run[0]} {row[0]}" for run, row in zip(runs, rows))


def _equal_line(result: dict, same: dict, metrics: list[str]) -> str:
    """What the table left out: the values every run shares, and the differing metrics not shown."""
    common = [f"{key} {_cut_text(next(iter(values)))}" for key, values in same.items() if len(values) == 1]
    counts = result["equal_counts"]
    line = (f"equal in all {len(result['runs'])} runs: " + "".join(f"{text}, " for text in common)
            + f"{_count(counts['spec'], 'spec value')}, {_count(counts['metrics'], 'metric')}")
    hidden = len(result["differing_metric_names"]) - len(metrics)
    return line + (f"; {_count(hidden, 'per-fold metric')} that differ in --json" if hidden > 0 else "")


def _count(number_of: int, noun: str) -> str:
    return f"{number_of} {noun}" + ("" if number_of == 1 else "s")


def _cut_text(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"


def _plain(value) -> str:
    """A row's value as a cell: a verdict by its status."""
    return value.get("status", "none") if isinstance(value, dict) else str(value)


def _write_csv(result: dict) -> None:
    import csv

    metrics = result["metric_names"]  # all of them, the training ones too: a script picks by name
    writer = csv.writer(sys.stdout)
    writer.writerow(["run", "experiment", "status", "check", *metrics, *result["differing_spec_keys"]])
    writer.writerows([[r["run"], r["experiment"], r["status"], _plain(r["check"]),
                       *(r["metrics"].get(m, "") for m in metrics),  # every digit: scripts read them
                       *(cell(r["spec"].get(k)) for k in result["differing_spec_keys"])] for r in result["runs"]])


@command()
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve on; 0.0.0.0 serves every network (anyone who can reach it sees the runs).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port; 0 picks a free one  [default: 6006, or the next free]")
def tensorboard(runs, host: str, port: int | None) -> None:
    """Serve TensorBoard on the logs of RUNS (the TensorBoard callback's) until Ctrl-C.

    \b
    dlcli tensorboard runs/imdb-conv1d-tensorboard/20261122-101500
    dlcli tensorboard RUN1 RUN2 --port 6007       two runs side by side
    """
    import time

    from dlcli.tensorboard_server import Server

    server = Server(list(runs), host, port)
    try:
        click.echo(f"TensorBoard at {server.url} ({len(runs)} run{'s' if len(runs) > 1 else ''}); Ctrl-C stops it")
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("TensorBoard stopped", err=True)
    finally:
        server.close()
