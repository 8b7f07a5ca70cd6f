"""What dlcli draws on a terminal: progress bars for long work, and colour only where it is wanted.

Progress goes to stderr, never stdout (which may carry --json), and only when stderr is a terminal:
a log file or a pipe gets no bar. The command line turns bars off for --quiet and --json
(`silence`). Colour (Keras' progress bar is bold and green) is removed from what is written to a
stream that is not a terminal, or to any stream when NO_COLOR is set (https://no-color.org) or
TERM is dumb. `session` sets both up for one command. Importing this module imports neither NumPy
nor Keras.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator

_silenced = False


def silence() -> None:
    """No progress bars in this process (--quiet, --json)."""
    global _silenced
    _silenced = True


def bars_shown() -> bool:
    return not _silenced and sys.stderr.isatty()


@contextlib.contextmanager
def progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """`advance(n)` as n more of `total` steps are done: a bar on stderr (Click's, redrawn in place,
    with its time left) when `bars_shown()`, else nothing at all."""
    if not bars_shown() or total <= 0:
        yield lambda steps=1: None
        return
    import click

    with click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True) as bar:
        yield lambda steps=1: bar.update(steps)


def colour_allowed(stream) -> bool:
    """Whether colour may be written to `stream`: a terminal, NO_COLOR unset or empty, TERM not dumb."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


# Keras' progress bar draws its done and remaining parts with one character, green then grey
# (\33[37m): once the colour is gone the remaining part is drawn light, or every bar looks full.
_KERAS_BAR_REMAINING = re.compile("\x1b\\[37m(━+)")


class PlainStream:
    """A text stream that writes through to another with colour and style codes (ANSI SGR) removed
    (the remaining part of Keras' progress bar drawn light instead of grey)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        import click

        light = _KERAS_BAR_REMAINING.sub(lambda match: "─" * len(match.group(1)), text)
        self._stream.write(click.unstyle(light))
        return len(text)

    def __getattr__(self, name: str):  # flush, isatty, fileno, encoding...: the stream's own
        return getattr(self._stream, name)


@contextlib.contextmanager
def session() -> Iterator[None]:
    """One command: bars shown until `silence`d, and sys.stdout and sys.stderr dropping colour where
    `colour_allowed` says no."""
    global _silenced
    _silenced = False
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (stream if colour_allowed(stream) else PlainStream(stream) for stream in saved)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
