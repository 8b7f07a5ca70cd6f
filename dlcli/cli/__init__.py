"""The dlcli command line: parse, call one function of dlcli.api, print.

Command groups live in their own modules and are imported only when used (Click's "lazily
loading subcommands"), so `dlcli --help` imports neither TensorFlow nor any command's code.
Exit codes: 0 ok, 1 run failed, 2 usage or spec error, 3 data or weights unavailable,
4 reference not reproduced (--check, check), 130 interrupted, 141 stdout's reader went away.
"""

from __future__ import annotations

import errno
import os
import signal
import sys

import click

from dlcli import __version__
from dlcli.cli.options import STATE, global_options
from dlcli.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_RUN_FAILED, EXIT_USAGE, DlcliError
from dlcli.terminal import session

COMMANDS = {
    "list": "dlcli.cli.experiments:list_command",
    "show": "dlcli.cli.experiments:show",
    "validate": "dlcli.cli.experiments:validate",
    "new": "dlcli.cli.experiments:new",
    "train": "dlcli.cli.training:train",
    "resume": "dlcli.cli.training:resume",
    "evaluate": "dlcli.cli.training:evaluate",
    "check": "dlcli.cli.training:check",
    "plot": "dlcli.cli.runs:plot",
    "compare": "dlcli.cli.runs:compare",
    "runs": "dlcli.cli.listing:runs_command",
    "report": "dlcli.cli.report:report",
    "tensorboard": "dlcli.cli.runs:tensorboard",
    "sweep": "dlcli.cli.sweep:sweep",
    "ensemble": "dlcli.cli.ensemble:ensemble",
    "data": "dlcli.cli.data:data",
    "visualize": "dlcli.cli.visualize:visualize",
    "predict": "dlcli.cli.visualize:predict",
    "generate": "dlcli.cli.generate:generate",
    "dream": "dlcli.cli.dream:dream",
    "style-transfer": "dlcli.cli.dream:style_transfer",
    "completion": "dlcli.cli.completion:completion",
}


class LazyGroup(click.Group):
    """A group whose subcommands are `module:attribute` strings, imported on first use."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx, name: str):
        if name in self.lazy:
            from dlcli.registry import resolve

            return resolve(self.lazy[name])
        return super().get_command(ctx, name)

    def resolve_command(self, ctx, args):
        """Click's, with its did-you-mean drawn from the lazy commands too (Click looks only at the
        commands it holds, none here)."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as error:
            raise click.exceptions.NoSuchCommand(error.command_name, possibilities=self.list_commands(ctx),
                                                 ctx=ctx) from None


def _normalise(token: str) -> str:
    """`run_dir` and `run-dir` are the same option, `fashion_mnist`-style commands the same command."""
    return token.replace("_", "-") if token.startswith("-") or token.isidentifier() else token


@click.group(cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100,
                               "token_normalize_func": _normalise})
@click.version_option(__version__, prog_name="dlcli")
@global_options
def cli(**_) -> None:
    """Run the experiments of Deep Learning with Python as named, reproducible Keras 3 runs.

    \b
    dlcli list                       the named experiments
    dlcli train digits-convnet       train one; writes runs/digits-convnet/<time>/
    dlcli resume runs/digits-convnet/<time>     continue an interrupted run
    dlcli plot runs/digits-convnet/<time>
    dlcli runs                       every run, newest first
    dlcli plot digits-convnet        a RUN may be a name: its latest completed run (NAME@2 the one before)
    """


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main(fast_exit: bool = True) -> None:
    """Console entry point: every error becomes one `error: ...` line on stderr (Click's usage errors
    add the command's usage line) and its exit code; with --json, stdout gets one object (cli.outcome).

    Once TensorFlow is loaded, the process ends with os._exit after flushing its output: what
    TensorFlow's teardown does takes over a second and leaves a window where a late Ctrl-C would
    end the process by signal. Every file dlcli writes is closed by then. (`fast_exit=False` for
    calling it in-process, as the tests do.)"""
    try:
        code = _run()
        sys.stdout.flush()
    except BrokenPipeError:  # what is left to print has no reader: say nothing more, and exit as a shell would
        code = EXIT_BROKEN_PIPE
    if code == EXIT_BROKEN_PIPE:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own flush at exit fails no more
    sys.stderr.flush()
    if fast_exit and "tensorflow" in sys.modules:
        os._exit(code)
    sys.exit(code)


def _run() -> int:
    """The command's exit code; with --json, its one JSON object printed (see cli.outcome)."""
    from dlcli.cli.outcome import json_asked, print_outcome

    if os.environ.get("_DLCLI_COMPLETE"):  # a shell asking what to complete (the script of `dlcli completion`)
        from dlcli.cli.completion import complete

        return complete(cli)
    STATE.update(debug=False, json=False, result=None, error=None)  # set again by this command's options
    with session():  # no colour where it is not wanted (NO_COLOR, a pipe), Keras' progress bar's included
        code = _invoke()
    if json_asked(sys.argv[1:]):
        print_outcome(code)
    return code


def _invoke() -> int:
    from dlcli.cli.outcome import report_click_error, report_error

    signal.signal(signal.SIGTERM, _terminate)  # SIGTERM at any moment ends like Ctrl-C: exit 130
    try:
        cli.main(prog_name="dlcli", standalone_mode=False)
        return 0
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.exceptions.NoArgsIsHelpError as error:  # `dlcli` alone: its help
        error.show()
        return error.exit_code
    except click.ClickException as error:
        report_click_error(error)
        return error.exit_code
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except DlcliError as error:
        if STATE["debug"]:
            raise
        report_error(str(error).splitlines() or [type(error).__name__])
        return error.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    except SystemExit as exit_:
        if _stdout_reader_gone():
            return EXIT_BROKEN_PIPE
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BrokenPipeError:
        return EXIT_BROKEN_PIPE
    except Exception as error:  # a bug: one line, the traceback only with --debug
        if STATE["debug"]:
            raise
        if isinstance(error, OSError) and error.errno == errno.ENAMETOOLONG:  # pathlib's is_dir() raises it
            report_error([f"{_shortened(error.filename)}: file name too long (a name may have 255 bytes at most)"])
            return EXIT_USAGE
        message = " ".join(str(error).split())  # one line, whatever the library's message spans
        report_error([f"unexpected {type(error).__name__}: {message} (rerun with --debug for the traceback)"])
        return EXIT_RUN_FAILED


def _shortened(name) -> str:
    text = str(name)
    return text if len(text) <= 60 else f"{text[:40]}…{text[-15:]}"


def _stdout_reader_gone() -> bool:
    """Whether Click met a closed stdout (EPIPE) and exited 1 for it: it then wraps stdout so that
    later flushes stay quiet (click.utils._PacifyFlushWrapper; without that class, never)."""
    import click.utils

    wrapper = getattr(click.utils, "_PacifyFlushWrapper", None)
    return wrapper is not None and isinstance(sys.stdout, wrapper)
