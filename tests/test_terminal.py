"""dlcli.terminal: what a progress bar looks like once its colour is taken out."""

from __future__ import annotations

import io
import sys


def test_keras_progress_bar_without_colour_still_shows_how_far_it_is(monkeypatch):
    """Keras draws a bar's done and remaining parts with one character, green then grey: with the
    colour taken out (NO_COLOR, a pipe) the remaining part must still look different, or every bar
    looks full from its first step."""
    from keras.utils import Progbar

    from dlcli.terminal import PlainStream

    written = io.StringIO()
    monkeypatch.setattr(sys, "stdout", PlainStream(written))
    bar = Progbar(target=10, width=20)
    bar.update(3)
    text = written.getvalue()
    assert "\x1b[" not in text
    assert text.count("━") == 6 and text.count("─") == 14, text  # 3 of 10: 6 of 20 drawn heavy
