"""How one invocation ends, the same for every command: an error is one `error: ...` line on
stderr (Click's own usage errors too, followed by one usage line), and with `--json` stdout holds
exactly one JSON object, on success and on failure alike.

The object is the command's (`options.print_json` hands it over instead of printing it), with
`status` (a run's status where the command is about one run, else "ok", or "error" on failure),
`run_dir` absolute, and on failure `error` (the message of the stderr line) and `exit_code`. A
command that fails before it has an object to give (an unknown experiment, a bad --set, a run
that does not resume) still prints one: {"status": "error", "error": ..., "exit_code": ...}.
"""

from __future__ import annotations

import os

import click

from dlcli.cli.options import STATE

# What a failure says when the command ended by its exit code alone (a missed reference, Ctrl-C).
DEFAULT_ERRORS = {1: "the run failed", 2: "usage error", 3: "data or weights unavailable",
                  4: "the run did not reproduce its reference", 130: "interrupted"}


def json_asked(arguments: list[str]) -> bool:
    """Whether this invocation asked for --json: its option said so, or (when Click refused the
    command line before reading its options) the arguments hold it before any `--`."""
    if STATE["json"]:
        return True
    options = arguments[:arguments.index("--")] if "--" in arguments else arguments
    return "--json" in options


def report_error(lines: list[str]) -> None:
    """The error's lines on stderr, each `error: ...`, and its message for the JSON object."""
    lines = lines or ["unknown error"]
    for line in lines:
        click.echo(f"error: {line}", err=True)
    STATE["error"] = lines


def report_click_error(error: click.ClickException) -> None:
    """Click's own refusals (an unknown option, a missing argument, a bad value) in dlcli's words:
    `error: ...` on one line, lower-case, then the command's usage on one line."""
    message = " ".join(error.format_message().split())
    report_error([message[:1].lower() + message[1:]])
    context = getattr(error, "ctx", None)
    if isinstance(error, click.UsageError) and context is not None:
        pieces = " ".join(context.command.collect_usage_pieces(context))
        click.echo(f"usage: {context.command_path} {pieces} (see {context.command_path} --help)", err=True)


def print_outcome(exit_code: int) -> None:
    """Print the invocation's one JSON object, completed with the failure if there was one."""
    from dlcli.runs import dumps

    result = STATE["result"]
    if result is False or (result is None and exit_code == 0):
        return  # printed by another process, or a command that has no object (--help)
    shaped = dict(result) if isinstance(result, dict) else {"status": "interrupted" if exit_code == 130 else "error"}
    shaped.setdefault("status", "error" if exit_code else "ok")
    if isinstance(shaped.get("run_dir"), str):
        shaped["run_dir"] = os.path.abspath(shaped["run_dir"])
    if exit_code:
        lines = STATE["error"] or [DEFAULT_ERRORS.get(exit_code, f"exit code {exit_code}")]
        shaped["error"] = lines[0] if len(lines) == 1 else "; ".join(lines)
        shaped["exit_code"] = exit_code
    click.echo(dumps(shaped), nl=False)
