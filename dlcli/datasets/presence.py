"""What a spec's data needs on this machine, and whether it is here: answered without TensorFlow.

A spec needs its dataset's files in the cache (nothing for a dataset shipped with dlcli; the file
or folder itself when `data.path` names one), the ImageNet weights of every `Pretrained` layer and
of a `features` base, and the GloVe file an Embedding's `weights` names. `needs(spec)` lists them,
each with whether it is present; `missing(spec)` is one line per missing one, naming the command
that brings it; `require(spec)` refuses, before Keras is imported, what cannot be fetched now
(offline, or a file with no public URL) with the very line the loader would give (exit 3), and
lets a download that is allowed go on as it always did.

A spec is a validated ExperimentSpec, the mapping read from its YAML, or an experiment name or
spec path (read as YAML, not validated: fast enough for every row of `dlcli list`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlcli.errors import DataUnavailable

GLOVE_NAME = re.compile(r"glove\.6B\.(\d+)d")  # an Embedding's `weights: glove.6B.100d`


@dataclass(frozen=True)
class Need:
    """One thing a spec's data needs: what it is, whether it is here, and the line that says how to get it."""

    what: str  # "dataset mnist", "weights vgg16_..._notop.h5", "glove glove.6B.100d.txt", "data.path FILE"
    present: bool
    fetchable: bool  # downloaded when first used, unless DLCLI_OFFLINE is set
    advice: str  # one line: what is missing and the command that brings it
    refusal: str  # the line a command ends with when it is missing and cannot be fetched now


def needs(spec: Any) -> list[Need]:
    """Everything the spec's data needs, in the order a run loads it: dataset, features base, layers."""
    raw = _raw(spec)
    data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    found = [need for need in [_dataset_need(data)] if need is not None]
    features = data.get("features")
    if isinstance(features, dict) and features.get("weights", "imagenet") == "imagenet":
        found += _weights_needs(features.get("network"), include_top=False)
    for item in _mappings(raw.get("model")):
        pretrained = item.get("Pretrained")
        if isinstance(pretrained, dict) and pretrained.get("weights", "imagenet") == "imagenet":
            found += _weights_needs(pretrained.get("network"), bool(pretrained.get("include_top", False)))
        if isinstance(item.get("weights"), str) and GLOVE_NAME.fullmatch(item["weights"]):
            found.append(_glove_need(item["weights"]))
    unique = {need.what: need for need in found}  # two layers of one network need its file once
    return list(unique.values())


def missing(spec: Any) -> list[str]:
    """One line per thing the spec's data needs that is not on this machine (empty: all present)."""
    return [need.advice for need in needs(spec) if not need.present]


def present(spec: Any) -> bool:
    """Whether everything the spec's data needs is on this machine (downloads not counted)."""
    return not missing(spec)


def require(spec: Any) -> None:
    """Raise DataUnavailable (exit 3) for the first missing thing that cannot be fetched now; what
    can be downloaded (online, with a URL) is left to the loader, which downloads it."""
    from dlcli.datasets.cache import is_offline

    for need in needs(spec):
        if not need.present and (is_offline() or not need.fetchable):
            raise DataUnavailable(need.refusal)


def _raw(spec: Any) -> dict:
    """The spec as a plain mapping: a validated spec dumped, a name or path read as YAML."""
    if isinstance(spec, (str, Path)):
        from dlcli.catalog import resolve_spec_path
        from dlcli.spec.reading import read_yaml

        spec = read_yaml(resolve_spec_path(str(spec)))
    elif hasattr(spec, "model_dump"):
        spec = spec.model_dump(mode="json")
    return spec if isinstance(spec, dict) else {}


def _mappings(tree: Any):
    """Every mapping in a spec's section, nested ones included (wrapped layers, graph blocks)."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _mappings(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _mappings(value)


# What data.path names, in the words of each dataset's loader ("no such folder of images").
PATH_NAMES = {"image_folder": "folder of images", "csv_series": "CSV file", "text_file": "text file"}


def _dataset_need(data: dict) -> Need | None:
    """The dataset's files in the cache, or the file or folder data.path names; None for built-in data."""
    from dlcli.datasets import DATASETS
    from dlcli.datasets.cache import data_dir, missing_message, present_set

    if data.get("name") not in DATASETS:  # an unknown or absent name is validation's to report
        return None
    entry = DATASETS.get(data["name"])
    if entry.shipped or not entry.training_set:
        return None
    if data.get("path") is not None:
        path = Path(str(data["path"])).expanduser()
        named = PATH_NAMES.get(entry.name, "file or folder")
        line = f"{path}: no such {named} (data.path of dataset '{entry.name}')"
        return Need(f"data.path {path}", path.exists(), False, line, line)
    if entry.external:
        return None  # a spec without its required data.path is refused by validation
    root = data_dir()
    fetchable = any(item.url for item in entry.files)
    offline = missing_message(entry, root, "DLCLI_OFFLINE is set" if fetchable else "it cannot be downloaded")
    if fetchable:
        advice = (f"dataset '{entry.name}' is missing: dlcli data download {entry.name}"
                  + (f" (or, with the files at hand: dlcli data import {entry.name} PATH)" if entry.importer else ""))
    else:
        advice = f"dataset '{entry.name}' is missing: {entry.how_to_get or offline}"
    return Need(f"dataset {entry.name}", present_set(entry, root) is not None, fetchable, advice, offline)


def _weights_needs(network: Any, include_top: bool) -> list[Need]:
    """The ImageNet weight file of a keras.applications network (none for a name validation refuses)."""
    from dlcli.pretrained import APPLICATIONS, cached_copy, missing_weights, network_key

    key = network_key(str(network))
    if key not in APPLICATIONS:
        return []
    remote = APPLICATIONS[key].weights(include_top)
    name = remote.path.split("/")[-1]
    advice = (f"weights {name} are missing: downloaded on first use when online; "
              f"offline, bring them and run: dlcli data import weights PATH")
    return [Need(f"weights {name}", cached_copy(remote) is not None, True, advice,
                 missing_weights(remote, "DLCLI_OFFLINE is set"))]


def _glove_need(name: str) -> Need:
    """An Embedding's GloVe vectors: the .txt in the cache, or glove.6B.zip that holds it."""
    from dlcli.datasets import DATASETS
    from dlcli.datasets.cache import data_dir, missing_message

    entry, root = DATASETS.get("glove"), data_dir()
    here = (root / "glove" / f"{name}.txt").is_file() or all((root / item.path).is_file() for item in entry.files)
    advice = (f"glove {name}.txt is missing: dlcli data download glove "
              f"(or, with the files at hand: dlcli data import glove PATH)")
    return Need(f"glove {name}.txt", here, True, advice, missing_message(entry, root, "DLCLI_OFFLINE is set"))


__all__ = ["Need", "missing", "needs", "present", "require"]
