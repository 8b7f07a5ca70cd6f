"""What a run keeps to describe its model: the Keras config (model.json), the layer table
(summary.txt) and a drawing of the graph (model.png, 7.9's plot_model, when pydot and Graphviz
are installed).

All three are optional parts of a run: whatever goes wrong while one is made (a model Keras cannot
serialise, a Graphviz that crashes, hangs or prints), the run goes on, and run.json's
`model_files` says in one line what is missing and why. Nothing they print reaches the terminal,
so `--json`'s stdout holds only the JSON object.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Callable

from dlcli.atomic import atomic_path

NO_DRAWING = "not drawn: keras.utils.plot_model needs pydot and Graphviz (pip install pydot; apt-get install graphviz)"
DRAW_TIMEOUT_S = 60  # Graphviz lays out a few hundred layers in seconds; past this it is stuck
# Whether a dot of this process already ran past DRAW_TIMEOUT_S: the next runs of a sweep skip it
# rather than wait as long again each.
STUCK: list[str] = []


class GraphvizFailed(Exception):
    """Graphviz's `dot` exited with an error; the message is what it said."""


SUMMARY_WIDTH = 150  # characters of summary.txt's table: long layer names and shapes whole


def summary_text(model) -> str:
    """model.summary() as text SUMMARY_WIDTH wide. Keras draws it with rich, whose console is as
    wide as the terminal (80 columns in a pipe): a wider table is cut at the console's edge
    ('Output Shap', no 'Param #'), so the console is given the table's width through COLUMNS."""
    from unittest import mock

    lines: list[str] = []
    with mock.patch.dict(os.environ, {"COLUMNS": str(SUMMARY_WIDTH + 4)}):
        model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=SUMMARY_WIDTH)
    return "\n".join(lines) + "\n"


def can_draw() -> bool:
    import importlib.util

    return importlib.util.find_spec("pydot") is not None and shutil.which("dot") is not None


def graph_source(model) -> str:
    """The DOT text of 7.9's `plot_model(model, show_shapes=True)` (model_to_dot runs no Graphviz)."""
    from dlcli.backend import import_keras

    keras = import_keras()
    return keras.utils.model_to_dot(model, show_shapes=True, show_layer_names=True, expand_nested=True,
                                    dpi=72).to_string()


def render(source: str, target: Path) -> None:
    """Graphviz's `dot` draws `source` as a PNG, within DRAW_TIMEOUT_S (plot_model would wait for
    ever and print what dot says); its output is kept for the error, never shown."""
    with atomic_path(target) as temporary:
        # Its own process group, so that a stuck dot is stopped with whatever it started.
        process = subprocess.Popen([shutil.which("dot") or "dot", "-Tpng", "-o", str(temporary)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = process.communicate(source, timeout=DRAW_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            STUCK.append(shutil.which("dot") or "dot")
            raise
        if process.returncode != 0:
            said = (stderr or stdout).strip().splitlines()
            raise GraphvizFailed(f"Graphviz's dot exited with code {process.returncode}"
                                 + (f": {said[0][:200]}" if said else ""))


def draw(model, target: Path) -> str | None:
    """model.png with shapes, as 7.9's `plot_model(model, show_shapes=True)`; None, or why not."""
    if not can_draw():
        return NO_DRAWING
    if STUCK:
        return f"not drawn: Graphviz's dot ran past {DRAW_TIMEOUT_S} s for an earlier model of this process"
    return _optional(lambda: render(_quietly(graph_source, model), target), "not drawn")


def describe(model, run) -> dict[str, str]:
    """Write model.json, summary.txt and model.png into the run (a writer `dlcli.runs.Run`): for
    each, its file name, or one line saying why it is missing."""
    from dlcli.runs.layout import MODEL_CONFIG, MODEL_PLOT, MODEL_SUMMARY

    config = _optional(lambda: run.write_text(MODEL_CONFIG, json.dumps(json.loads(model.to_json()), indent=1) + "\n"),
                       "not written")
    summary = _optional(lambda: run.write_text(MODEL_SUMMARY, _quietly(summary_text, model)), "not written")
    drawing = draw(model, run.output(MODEL_PLOT))
    return {"config": config or MODEL_CONFIG.name, "summary": summary or MODEL_SUMMARY.name,
            "plot": drawing or MODEL_PLOT.name}


def _quietly(function: Callable, *args):
    """`function(*args)` with whatever it prints on stdout or stderr swallowed."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return function(*args)


def _optional(make: Callable[[], None], missing: str) -> str | None:
    """Make an optional file: None when it worked, else `missing: why` in one line."""
    try:
        make()
    except subprocess.TimeoutExpired:
        return f"{missing}: Graphviz's dot ran past {DRAW_TIMEOUT_S} s and was stopped"
    except GraphvizFailed as error:
        return f"{missing}: {error}"
    except Exception as error:  # noqa: BLE001  an optional part: any failure is a note, never a failed run
        text = str(error).strip().splitlines()
        return f"{missing}: {type(error).__name__}: {text[0][:200]}" if text else f"{missing}: {type(error).__name__}"
    return None
