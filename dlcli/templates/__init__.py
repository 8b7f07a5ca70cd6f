"""Starting specs from the chapter 9 templates of Deep Learning with Python (`dlcli new`).

Each template is a YAML file beside this module, commented, valid and trainable as written on a
dataset dlcli has; `render` gives it a name. Reading this module imports neither pydantic nor Keras.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from dlcli.errors import SpecError
from dlcli.registry import name_key, unknown_name_message

FOLDER = Path(__file__).resolve().parent

TEMPLATES = {
    "binary": "Dense layers, one sigmoid unit: two classes (IMDB reviews, multi-hot)",
    "multiclass": "Dense layers, softmax: one label out of N (Reuters topics, multi-hot)",
    "multilabel": "Dense layers, N sigmoid units: several labels per sample (synthetic, offline)",
    "regression": "Dense layers, linear output: numbers (Boston house prices, 4-fold)",
    "separable-convnet": "SeparableConv2D image classifier (CIFAR-10)",
    "lstm": "Embedding and one LSTM: sequence classifier (IMDB reviews as word ids)",
    "stacked-lstm": "Embedding and three stacked LSTMs: sequence classifier (IMDB word ids)",
}


def canonical(template: str) -> str:
    """The template's name as listed (`stacked_lstm` = `stacked-lstm`); unknown names suggest."""
    for known in TEMPLATES:
        if name_key(known) == name_key(template):
            return known
    raise SpecError(unknown_name_message("template", template, TEMPLATES) + " (see `dlcli new --list`)")


def path(template: str) -> Path:
    return FOLDER / f"{canonical(template)}.yaml"


def render(template: str, name: str) -> str:
    """The template's text for a spec called `name`: a first comment line saying how it was
    made, and `name` in its description; the rest, comments included, as the template has it."""
    template = canonical(template)
    text = path(template).read_text(encoding="utf-8")
    description = json.dumps(f"{name} (template {template}): {TEMPLATES[template]}")
    text, found = re.subn(r"^description:.*$", lambda _: f"description: {description}", text, count=1, flags=re.M)
    if not found:
        raise ValueError(f"{path(template)} has no description line")
    return f"# {name}.yaml: written by `dlcli new {template} {name}`.\n{text}"
