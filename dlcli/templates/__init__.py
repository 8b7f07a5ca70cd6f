"""Starting specs from the chapter 9 templates of Deep Learning with Python (`dlcli new`).

Each template is a YAML file beside this module, commented, valid and trainable as written on a
dataset dlcli has; `render` gives it a name and `write_spec` writes it. Reading this module
imports neither pydantic nor Keras.
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


def write_spec(template: str, name: str, out: str | Path = ".", force: bool = False) -> dict[str, str]:
    """`dlcli new`: write `out/NAME.yaml` from the template (see dlcli.api.new_spec)."""
    from dlcli.atomic import write_text_atomic
    from dlcli.errors import UsageError
    from dlcli.runs import enclosing_run
    from dlcli.spec import MAX_NAME_LENGTH

    template = canonical(template)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name) or len(name) > MAX_NAME_LENGTH:
        stem = Path(name).stem if Path(name).suffix in (".yaml", ".yml") else None
        shown = name if len(name) <= 40 else f"{name[:37]}..."
        raise UsageError(f"NAME '{shown}' must be letters, digits, - and _, starting with a letter or digit, at "
                         f"most {MAX_NAME_LENGTH} characters" + (f" (the file stem: '{stem}')" if stem else ""))
    folder = Path(out)
    target = folder / f"{name}.yaml"
    try:  # a path too long for the file system fails here, not as a crash
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"--out {out}: not a folder")
        if enclosing_run(folder) is not None:  # a spec is no part of a run: dlcli writes into no run but its own
            raise UsageError(f"--out {out}: inside the run directory {enclosing_run(folder)}; choose a folder outside it")
        if target.exists() and not force:
            raise UsageError(f"{target} already exists (--force overwrites it)")
        write_text_atomic(target, render(template, name))
    except OSError as error:
        raise UsageError(f"{target}: cannot write it ({error.strerror or error})") from None
    return {"path": str(target), "template": template}
