"""Errors that reach the user as one line and a documented exit code (see README, "Exit codes")."""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_REFERENCE = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # stdout's reader went away (`dlcli list | head -1`): 128 + SIGPIPE, as a shell reports it


class DlcliError(Exception):
    """Base class: `str(error)` is the message shown to the user, `exit_code` the process status."""

    exit_code = EXIT_RUN_FAILED


class SpecError(DlcliError):
    """A malformed spec, a bad override, an unknown name or a bad command-line value."""

    exit_code = EXIT_USAGE


class UsageError(SpecError):
    """A command used the wrong way (a bad path, a non-empty --run-dir...)."""


class DataUnavailable(DlcliError):
    """A dataset or weights file that is missing, corrupt or cannot be downloaded."""

    exit_code = EXIT_DATA


class RunFailed(DlcliError):
    """Training or evaluation failed after the run directory was created."""

    exit_code = EXIT_RUN_FAILED

    def __init__(self, message: str, run_dir: str | None = None, error: str | None = None):
        super().__init__(message)
        self.run_dir, self.error = run_dir, error

