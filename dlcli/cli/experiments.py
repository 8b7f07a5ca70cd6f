"""`dlcli list`, `show`, `validate`, `new`: named experiments, specs and templates (no TensorFlow)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import click

from dlcli.cli.options import command, fail, json_option, print_json, set_option, table, terminal_width


DATA_CELLS = {True: "present", False: "missing", None: "?"}  # None: the spec cannot be read


@command(name="list")
@json_option
def list_command(as_json: bool) -> None:
    """List every named experiment: its dataset (marked missing when this machine lacks its data),
    the backends it runs on, its description and source, cut to the terminal's width."""
    from dlcli import api

    rows = api.list_experiments()
    if as_json:
        print_json({"experiments": rows})
        return
    shown = [[r["name"], r["dataset"], DATA_CELLS[r["data_present"]], ",".join(r["backends"]),
              r["description"] + (f" [{r['runtime']}]" if r["runtime"] else ""), r["source"]] for r in rows]
    # Narrow terminals keep the name, whether the data is here and the description longest.
    click.echo(table(shown, ["NAME", "DATASET", "DATA", "BACKENDS", "DESCRIPTION", "SOURCE"], terminal_width(),
                     shrink={"DESCRIPTION": 40, "SOURCE": 24, "DATASET": 8}, drop=("SOURCE", "BACKENDS", "DATASET")))
    lacking = sum(r["data_present"] is False for r in rows)
    if lacking:  # advice, on stderr: stdout is the table alone, a line an experiment, for `| grep` and `| sort`
        click.echo("\n" + textwrap.fill(f"{lacking} of {len(rows)} experiments lack data on this machine: `dlcli list "
                                        "--json` says what each needs; `dlcli data list` shows the cache",
                                        terminal_width() or 1_000_000), err=True)


@command()
@click.argument("experiment")
@set_option
@json_option
def show(experiment: str, overrides: tuple[str, ...], as_json: bool) -> None:
    """Print the resolved spec of EXPERIMENT (a name, a YAML file or a run directory), defaults filled in."""
    from dlcli import api

    text = api.show(experiment, overrides)
    if as_json:
        import yaml

        print_json({"experiment": experiment, "spec": yaml.safe_load(text)})
    else:
        click.echo(text, nl=False)


@command()
@click.argument("experiments", nargs=-1, required=True)
@click.option("--no-cache", is_flag=True, help="Validate every spec again, even one that passed before unchanged.")
@json_option
def validate(experiments: tuple[str, ...], no_cache: bool, as_json: bool) -> None:
    """Check specs (names or YAML files) without importing TensorFlow; exit 0 or 2.

    Layer and callback arguments are checked against Keras' own signatures. A spec file that
    already passed, unchanged, with this same dlcli and pydantic is not checked again (the
    record is in $DLCLI_CACHE_DIR, else ~/.cache/dlcli)."""
    from dlcli import api
    from dlcli.errors import SpecError

    results = api.validate(list(experiments), use_cache=not no_cache)
    if as_json:
        print_json({"specs": results})
    for result in results:
        if result["ok"] and not as_json:
            click.echo(f"ok: {result['name']}")
        for line in result["errors"]:
            click.echo(f"error: {line}", err=True)
    invalid = [result["name"] for result in results if not result["ok"]]
    if invalid:
        fail(f"{len(invalid)} of {len(results)} specs are not valid: {', '.join(invalid)}", SpecError.exit_code,
             echo=False)


@command()
@click.argument("template", required=False)
@click.argument("name", required=False)
@click.option("--out", "out", default=".", show_default="the current folder", metavar="DIR",
              help="The folder NAME.yaml is written into (made if missing).")
@click.option("--force", is_flag=True, help="Overwrite an existing NAME.yaml.")
@click.option("--list", "list_only", is_flag=True, help="List the templates and exit.")
@json_option
def new(template: str | None, name: str | None, out: str, force: bool, list_only: bool, as_json: bool) -> None:
    """Write NAME.yaml, a commented spec to start from, from one of the chapter 9 templates of
    Deep Learning with Python; with no TEMPLATE (or --list), list them.

    \b
    dlcli new multilabel my-tags         writes ./my-tags.yaml
    dlcli validate my-tags.yaml && dlcli train my-tags.yaml"""
    import shlex

    from dlcli import api
    from dlcli.errors import UsageError

    if list_only and template is not None:
        raise UsageError(f"--list lists the templates; it takes no TEMPLATE ('{template}'): dlcli new --list")
    if as_json and (list_only or template is None):
        print_json({"templates": api.list_templates()})
        return
    if list_only or template is None:
        click.echo(table([[row["name"], row["description"]] for row in api.list_templates()],
                         ["TEMPLATE", "DESCRIPTION"], terminal_width(), shrink={"DESCRIPTION": 20}))
        if not list_only:
            click.echo("\nwrite one: dlcli new TEMPLATE NAME [--out DIR]", err=True)  # stdout: the table alone
        return
    if name is None:
        raise UsageError(f"missing NAME: dlcli new {template} NAME writes NAME.yaml")
    written = api.new_spec(template, name, out, force)
    if as_json:
        print_json({**written, "path": str(Path(written["path"]).resolve())})
        return
    path = shlex.quote(written["path"])
    click.echo(f"wrote {written['path']} (template {written['template']})")
    click.echo(f"next: dlcli validate {path}")
    click.echo(f"      dlcli train {path}")
