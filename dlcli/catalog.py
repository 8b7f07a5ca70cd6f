"""Where named experiments live, and their rows for `dlcli list`; reading this module imports
neither pydantic nor Keras."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dlcli.errors import SpecError
from dlcli.registry import unknown_name_message

PACKAGE_EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def experiment_dirs() -> list[Path]:
    """Where named experiments are looked up: $DLCLI_EXPERIMENTS_DIR, ./experiments, the project's."""
    dirs = []
    if os.environ.get("DLCLI_EXPERIMENTS_DIR"):
        dirs.append(Path(os.environ["DLCLI_EXPERIMENTS_DIR"]))
    dirs += [Path.cwd() / "experiments", PACKAGE_EXPERIMENTS]
    unique: list[Path] = []
    for directory in dirs:
        if directory.is_dir() and directory.resolve() not in [d.resolve() for d in unique]:
            unique.append(directory)
    return unique


def experiment_files() -> dict[str, Path]:
    """Every named experiment, the first directory winning on a name clash."""
    found: dict[str, Path] = {}
    for directory in experiment_dirs():
        for path in sorted(directory.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def resolve_spec_path(name_or_path: str) -> Path:
    """A YAML path as given, a run directory's spec.yaml (its run trains again from its folder), or
    the file of a named experiment; unknown names suggest."""
    path = Path(name_or_path)
    if path.is_dir():
        from dlcli.runs import layout

        if (path / layout.INFO.name).is_file():
            if not (path / layout.SPEC.name).is_file():
                raise SpecError(f"{name_or_path}: a run directory without its {layout.SPEC.name}; it is damaged")
            return path / layout.SPEC.name
    if path.suffix in (".yaml", ".yml") or os.sep in name_or_path:
        if not path.is_file():
            raise SpecError(f"{name_or_path}: no such spec file")
        return path
    files = experiment_files()
    if name_or_path in files:
        return files[name_or_path]
    raise SpecError(unknown_name_message("experiment", name_or_path, files) + " (see `dlcli list`)")


def experiment_rows(lacking: Callable[[dict], list[str]] | None = None) -> list[dict]:
    """Every named experiment's row for `dlcli list`, from its YAML only (no validation, no Keras;
    parsed again only where the file changed: dlcli.parsed_specs);
    given `lacking` (what a spec's data needs that this machine lacks, from its YAML mapping: e.g.
    dlcli.datasets.presence.missing), also `data_missing` (those lines) and `data_present` (None,
    like `backends` [], for a spec that cannot be read)."""
    from dlcli.backend.limits import backends_for
    from dlcli.parsed_specs import parsed_specs

    files = experiment_files()
    parsed = parsed_specs(list(files.values()))  # read as every spec is (an alias bomb: None), changed ones only
    rows = []
    for name, path in files.items():
        raw = parsed[path]
        readable = isinstance(raw, dict)  # else nothing is known of its data and backends
        raw = raw if readable else {}
        reference = raw["reference"] if isinstance(raw.get("reference"), dict) else {}
        source = reference.get("source", "")
        if reference.get("listing"):
            source = f"{source}, listing {reference['listing']}" if source else f"listing {reference['listing']}"
        row = {
            "name": name,
            "description": raw.get("description", "(unreadable spec: run dlcli validate)"),
            "source": source,
            "dataset": (raw.get("data") or {}).get("name", "") if isinstance(raw.get("data"), dict) else "",
            "runtime": raw.get("runtime", ""),
            "backends": backends_for(raw) if readable else [],
            "path": str(path),
        }
        if lacking is not None:
            row["data_missing"] = lacking(raw) if readable else []
            row["data_present"] = not row["data_missing"] if readable else None
        rows.append(row)
    return rows
