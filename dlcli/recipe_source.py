"""Which experiment a spec reproduces, and how it differs from it: run.json's record of how a run's
resolved spec differs from its source's recipe (the verdicts, dlcli.reference, and runs.recipe read it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


# What a spec may change and still follow its source's recipe: its words and name, another draw
# of the same recipe (the seed), op determinism and XLA (the same arithmetic, in another order),
# the sweep defaults `train` ignores, and whether a report page is written.
NOT_RECIPE = ("name", "description", "notes", "runtime", "seed", "deterministic", "compile.jit_compile", "sweep",
              "report")


def recipe_record(spec, spec_path: Path) -> dict:
    """run.json's record, taken when a run starts, of how its resolved spec differs from its
    source's recipe: {'recipe_source': the spec file it was compared with, or None; 'recipe_changes':
    ['fit.epochs=3 (source: 20)', ...]}. Readers (check, compare, baselines) use this record.

    Whatever path the spec came by (a named experiment, a copy, a run's spec.yaml, --set), its
    source is the named experiment (experiments/NAME.yaml, found as `dlcli train NAME` finds it)
    that carries the same `reference` block: the one of the spec's name, else another one.
    A spec file whose reference no named experiment carries is its own experiment: its recipe is
    the file as written, and only --set changes it. A run's spec.yaml is no such file: it is
    compared with the spec its run was compared with; where that is unknown or gone, the run
    records that there is no source to compare with, so its verdict is 'not comparable' and it
    claims no reproduction."""
    spec_path = Path(spec_path)
    found = _named_source(spec)
    if found is not None:
        return {"recipe_source": str(found[0].resolve()), "recipe_changes": found[1]}
    own = _earlier_source(spec_path.parent) if _is_run_spec(spec_path) else spec_path
    source = _spec_with_reference(own, None) if own is not None else None
    if source is None:
        return {"recipe_source": None, "recipe_changes": [
            f"{spec_path} is a run's copy whose source is unknown or gone, and no named experiment carries its "
            "reference: train the experiment by its name or from its own spec file"]}
    record = {"recipe_source": str(own.resolve()), "recipe_changes": recipe_differences(spec, source)}
    if spec.reference is not None:  # said with the verdict: the reference is the file's own claim
        record["recipe_note"] = f"no named experiment carries this reference: the recipe is {own.name}'s own"
    return record


def _named_source(spec) -> tuple[Path, list[str]] | None:
    """(file, changes) of the named experiment with the spec's reference that differs least from
    it: the experiment of the spec's own name first; None when no named experiment carries it."""
    from dlcli.catalog import experiment_files

    named = experiment_files()
    candidates = [named[spec.name]] if spec.name in named else []
    if spec.reference is not None:  # a copy under another name: look for its reference
        candidates += [path for name, path in named.items() if name != spec.name]
    best = None
    for path in candidates:
        source = _spec_with_reference(path, spec.reference)
        if source is None:
            continue
        changes = recipe_differences(spec, source)
        if best is None or len(changes) < len(best[1]):
            best = (path, changes)
        if not changes:
            break
    return best


def _spec_with_reference(path: Path, reference):
    """The spec at `path`, as written (no overrides), if it validates and, unless `reference` is
    None, carries that very reference; else None. The reference is compared before the whole
    spec is validated, so looking through every named experiment stays cheap."""
    from dlcli.errors import SpecError
    from dlcli.spec import Reference
    from dlcli.spec.loading import load_spec
    from dlcli.spec.reading import read_yaml

    try:
        if reference is not None:
            raw = read_yaml(path)
            written = raw.get("reference") if isinstance(raw, dict) else None
            if not isinstance(written, dict) or Reference.model_validate(written) != reference:
                return None
        return load_spec(str(path))[0]
    except (SpecError, ValueError, OSError):  # a broken file is no one's source; `dlcli validate` says why
        return None


def _is_run_spec(spec_path: Path) -> bool:
    """Whether a spec file is a run's own copy (its spec.yaml, beside its run.json)."""
    from dlcli.runs import layout

    return spec_path.name == layout.SPEC.name and (spec_path.parent / layout.INFO.name).is_file()


def _earlier_source(run_dir: Path) -> Path | None:
    """The spec file an earlier run was compared with (its run.json's record), if it still exists."""
    from dlcli.errors import DlcliError
    from dlcli.runs import Run

    try:
        recorded = Run(run_dir).info.get("recipe_source")
    except DlcliError:  # unreadable or damaged: no source to compare with
        return None
    return Path(recorded) if isinstance(recorded, str) and Path(recorded).is_file() else None


def recipe_differences(spec, source) -> list[str]:
    """'key=value (source: value)' for every leaf of the resolved specs that differs, NOT_RECIPE aside."""
    ours, theirs = _leaves(_recipe_tree(spec)), _leaves(_recipe_tree(source))
    changes = []
    for key in [*ours, *(key for key in theirs if key not in ours)]:
        if any(key == skipped or key.startswith(skipped + ".") for skipped in NOT_RECIPE):
            continue
        if ours.get(key, _ABSENT) != theirs.get(key, _ABSENT):
            changes.append(f"{key}={_shown(ours.get(key, _ABSENT))} (source: {_shown(theirs.get(key, _ABSENT))})")
    return changes


_ABSENT = "(absent)"


def _shown(value: Any) -> str:
    """A value on one short line: YAML scalars as written, lists and mappings as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _recipe_tree(spec) -> dict:
    """The resolved spec as plain data; a custom callback's file by its content, not its path
    (a run keeps a copy of it, and a copy is the same code)."""
    import hashlib

    tree = spec.model_dump(mode="json", exclude_none=True, exclude={"data", "callbacks"})
    tree["data"] = spec.data.model_dump(mode="json", exclude_none=True)
    tree["callbacks"] = []
    for entry in spec.callbacks:
        written = entry.to_yaml()
        if entry.name == "Custom":
            file, _, class_name = entry.arguments["path"].rpartition(":")
            try:
                content = hashlib.sha256(Path(file).read_bytes()).hexdigest()[:12]
            except OSError:
                content = "unreadable"
            written = {"Custom": {**entry.arguments, "path": f"(file sha256 {content}):{class_name}"}}
        tree["callbacks"].append(written)
    return tree


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    """{'fit.epochs': 20, 'model.layers.0.Dense.units': 32, ...}: every leaf by its dotted path."""
    if isinstance(data, dict) and data:
        items = data.items()
    elif isinstance(data, list) and data:
        items = enumerate(data)
    else:
        return {prefix: data}
    leaves: dict[str, Any] = {}
    for key, value in items:
        leaves.update(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
    return leaves
