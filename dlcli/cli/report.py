"""`dlcli report`: one self-contained HTML page of a run, of several runs, or of a sweep (no TensorFlow)."""

from __future__ import annotations

import click

from dlcli.cli.options import command, json_option, print_json


@command()
@click.argument("runs", nargs=-1, type=click.Path())
@click.option("--out", type=click.Path(),
              help="The .html file to write, or a folder to write it into under its default name; default: the "
                   "run's report.html (one run), report-<runs>.html in the current folder (several), the sweep's "
                   "report.html (a sweep).")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the web browser once written.")
@click.option("--book", is_flag=True,
              help="The book's reproduction table instead: every named experiment's quoted result beside this "
                   "machine's latest comparable run (no RUN; default --out: book-report.html in the runs folder).")
@json_option
def report(runs, out, open_page: bool, book: bool, as_json: bool) -> None:
    """An HTML page of RUNS (run directories, or experiments for their latest completed run) or of a
    sweep directory: verdict, metrics, curves, spec, pictures. It embeds everything and loads
    nothing from the network, so it can be mailed or opened offline.

    \b
    dlcli report runs/mnist-dense/20261203-101500      writes that run's report.html
    dlcli report imdb-l1 imdb-l2 --out l1-vs-l2.html   two runs side by side
    dlcli report sweeps/imdb-dense/20261203-120000     a sweep's trials
    dlcli report --book                                the book's reproduction table
    """
    from dlcli import api

    if book and runs:
        from dlcli.errors import UsageError

        raise UsageError("--book reports every named experiment: give it no RUN (or drop --book)")
    result = api.book_report(out) if book else api.report(list(runs), out)
    if open_page:
        import webbrowser
        from pathlib import Path

        opened = webbrowser.open(Path(result["path"]).as_uri())
        result["opened"] = bool(opened)
        if not opened:
            click.echo("no web browser could be started; open the file yourself", err=True)
    if as_json:
        print_json(result)
    else:
        click.echo(result["path"])
        if book:
            click.echo(result["summary"]["line"])
