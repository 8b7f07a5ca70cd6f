"""`dlcli plot`, `compare` and `tensorboard`: reading runs (plot and compare import no TensorFlow)."""

from __future__ import annotations

import sys

import click

from dlcli.cli.options import cell, command, json_option, number, print_json, report_unreadable, table


@command()
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--metric", help="One metric (loss, accuracy, mae...; val_loss overlays validation curves).")
@click.option("--smooth", type=float, help="Exponential smoothing factor in [0, 1), e.g. 0.9 (listing 3.31).")
@click.option("--skip-first", type=int, default=0, show_default=True, help="Drop the first N epochs (listing 3.31).")
@click.option("--out", type=click.Path(), help="PNG file (or folder) to write; default: the first run's plots/ "
                                                "(for a history file: its folder).")
@click.option("--force", is_flag=True, help="Replace an existing --out file that is not this same plot.")
def plot(runs, metric, smooth, skip_first, out, force) -> None:
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

    for path in plot_runs(list(runs), metric=metric, smooth=smooth, skip_first=skip_first, out=out, force=force):
        click.echo(path)


@command()
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
def compare(runs, as_json: bool, as_csv: bool) -> None:
    """Final metrics of several runs side by side, with the spec values that differ."""
    from dlcli import api

    result = api.compare(list(runs))
    if as_json:
        print_json(result)
    else:
        _print_comparison(result, as_csv)
    report_unreadable(result["unreadable"])


def _print_comparison(result: dict, as_csv: bool) -> None:
    metrics = [m for m in result["metric_names"] if m.startswith(("test_", "val_", "best_", "final_val", "output"))
               and not m.startswith("fold_")] or result["metric_names"]
    headers = ["run", "experiment", "status", "check", *metrics, *result["differing_spec_keys"]]
    rows = [[r["run"], r["experiment"], r["status"], r["check"],
             *(number(r["metrics"].get(m, "")) for m in metrics),
             *(cell(r["spec"].get(k)) for k in result["differing_spec_keys"])] for r in result["runs"]]
    if as_csv:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(headers)
        writer.writerows(rows)
    else:
        click.echo(table(rows, headers))


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
