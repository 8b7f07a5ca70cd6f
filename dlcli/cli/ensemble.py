"""`dlcli ensemble`: several runs' models averaged (7.3.3)."""

from __future__ import annotations

import click

from dlcli.cli.options import backend_option, command, json_option, number, print_json, table


@command()
@backend_option
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--weights", metavar="auto|W1,W2,...",
              help="Also a weighted average: one non-negative weight per run (normalised to sum 1), or auto: "
                   "fitted on the validation split by Nelder-Mead on its log loss (MSE for regression). "
                   "Default: the plain mean only.")
@json_option
def ensemble(runs, weights, as_json: bool) -> None:
    """Average the predictions of several runs' models: each member, their plain mean and, with
    --weights, a weighted average, scored on the validation and test splits the runs were trained
    with (accuracy, or MAE for an mse/mae loss). Weights are never fitted on the test split.

    \b
    dlcli ensemble RUN1 RUN2 RUN3 RUN4                  0.25 * (a + b + c + d), as in the book
    dlcli ensemble RUN1 RUN2 RUN3 RUN4 --weights 0.5,0.25,0.1,0.15
    dlcli ensemble RUN1 RUN2 RUN3 --weights auto        weights fitted on validation, judged on test
    """
    from dlcli import api

    result = api.ensemble(list(runs), weights)
    if as_json:
        print_json(result)
        return
    weighted = result["weighted"]
    keys = list(result["mean"]["metrics"])
    headers = ["model", *(["weight"] if weighted else []), *keys]
    weights = weighted["weights"] if weighted else result["mean"]["weights"]
    rows = [[member["run"], *([f"{weight:.3f}"] if weighted else []), *(number(member["metrics"][k]) for k in keys)]
            for member, weight in zip(result["members"], weights)]
    rows.append(["mean", *(["equal"] if weighted else []), *(number(result["mean"]["metrics"][k]) for k in keys)])
    if weighted:
        rows.append([f"weighted ({weighted['source']})", "", *(number(weighted["metrics"][k]) for k in keys)])
    splits = ", ".join(f"{name}: {count} samples" for name, count in result["splits"].items())
    click.echo(f"metric: {result['metric_description']} ({splits})")
    click.echo(table(rows, headers))
    for name, why in result["skipped"].items():
        click.echo(f"{name} split skipped: {why}")
    if weighted and weighted["normalised"]:
        click.echo("the weights given were normalised to sum 1")
    if weighted and weighted.get("fit"):
        fit = weighted["fit"]
        click.echo(f"weights fitted on the {fit['split']} split ({fit['method']} on {fit['objective']}): "
                   f"members {', '.join(number(v) for v in fit['members'])}; mean {number(fit['mean'])}; "
                   f"weighted {number(fit['weighted'])}")
