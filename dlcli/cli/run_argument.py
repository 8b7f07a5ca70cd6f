"""A --model or RUN that may also be a model file or a pretrained network (`visualize`, `predict`):
an experiment's name there means its run, as RUN does everywhere (dlcli.runs.references), and is
turned into that run's directory as Click parses it, so the command's own code sees a path."""

from __future__ import annotations

import os


def model_reference(ctx, param, value: str | None) -> str | None:
    """NAME or NAME@N of an experiment (a named one, or one with runs) -> its run's directory (NAME:
    the latest completed run, said on stderr); a path, a network's name (vgg16) or anything else
    is left as given, for the command to read or refuse."""
    from dlcli.runs.references import is_reference, parse

    if value is None or not is_reference(value):
        return value
    from dlcli.runs import layout

    if os.path.isfile(value) or os.path.isfile(os.path.join(value, layout.INFO.name)):
        return value  # a model file or a run directory; a folder without run.json (the runs folder's NAME) may be a name
    from dlcli.pretrained import APPLICATIONS, network_key

    if network_key(value) in APPLICATIONS:
        return value
    from dlcli.catalog import experiment_files
    from dlcli.runs import Run, runs_root

    name, _ = parse(value, param.name)
    if name not in experiment_files() and not os.path.isdir(runs_root() / name):  # False, not OSError, for a name
        return value  # too long to be a folder
    where = f"--{param.name}" if param.param_type_name == "option" else param.human_readable_name
    return str(Run.locate(value, where))
