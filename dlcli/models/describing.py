"""What a run keeps to describe its model: the Keras config (model.json), the layer table
(summary.txt) and a drawing of the graph (model.png, 7.9's plot_model, when pydot and Graphviz
are installed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dlcli.atomic import atomic_path, write_text_atomic

NO_DRAWING = "not drawn: keras.utils.plot_model needs pydot and Graphviz (pip install pydot; apt-get install graphviz)"


def summary_text(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=150)
    return "\n".join(lines) + "\n"


def can_draw() -> bool:
    import importlib.util

    return importlib.util.find_spec("pydot") is not None and shutil.which("dot") is not None


def draw(model, target: Path) -> str | None:
    """model.png with shapes, as 7.9's `plot_model(model, show_shapes=True)`; None, or why not."""
    if not can_draw():
        return NO_DRAWING
    from dlcli.keras_backend import import_keras

    keras = import_keras()
    try:
        with atomic_path(target) as temporary:
            keras.utils.plot_model(model, to_file=str(temporary), show_shapes=True, show_layer_names=True,
                                   expand_nested=True, dpi=72)
    except (ImportError, OSError, ValueError) as error:  # a Graphviz that fails, a disk that is full
        return f"not drawn: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
    return None


def describe(model, folder: Path) -> dict[str, str]:
    """Write model.json, summary.txt and model.png into `folder`; what was written, or why not."""
    write_text_atomic(folder / "model.json", json.dumps(json.loads(model.to_json()), indent=1) + "\n")
    write_text_atomic(folder / "summary.txt", summary_text(model))
    why_not = draw(model, folder / "model.png")
    return {"config": "model.json", "summary": "summary.txt", "plot": why_not or "model.png"}
