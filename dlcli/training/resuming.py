"""What must not change between a run's start and its resume: the spec and the libraries."""

from __future__ import annotations

from pathlib import Path

from dlcli.runs import Run


def differences(run: Run, spec, epochs: int | None) -> list[str]:
    """Why resuming may not continue the same experiment: the spec file changed since the run
    started, or dlcli, Keras, TensorFlow, NumPy or Python is another version."""
    from dlcli import __version__
    from dlcli.errors import SpecError
    from dlcli.keras_backend import versions
    from dlcli.spec.loading import dump_spec, load_spec

    info = run.info
    found = []
    recorded = info.get("versions") or {}
    current = {"dlcli": __version__, **versions()}
    for name, version in current.items():
        if name in recorded and recorded[name] != version:
            found.append(f"{name} is {version}, the run started with {recorded[name]}")
    spec_path = info.get("spec_path")
    if spec_path and Path(spec_path).is_file():
        try:
            now_spec, _ = load_spec(spec_path, info.get("overrides") or [])
        except SpecError as error:
            found.append(f"{spec_path} no longer validates ({str(error).splitlines()[0]})")
        else:
            earlier = [resumed["epochs"] for resumed in info.get("resumes") or [] if resumed.get("recipe_changes")]
            if epochs is not None or earlier:  # a resume to N epochs in all is a change of its own, recorded
                now_spec.fit.epochs = epochs if epochs is not None else earlier[-1]
            changed = _changed_keys(dump_spec(now_spec), dump_spec(spec))
            if changed:
                found.append(f"{spec_path} changed since the run started ({', '.join(changed)})")
    return found


def _changed_keys(new: str, old: str) -> list[str]:
    import yaml

    def flat(tree, prefix=""):
        if isinstance(tree, dict):
            return {k: v for key, value in tree.items() for k, v in flat(value, f"{prefix}{key}.").items()}
        return {prefix.rstrip("."): tree}

    a, b = flat(yaml.safe_load(new)), flat(yaml.safe_load(old))
    return sorted(key for key in set(a) | set(b) if a.get(key) != b.get(key) and key not in ("description", "notes", "runtime"))
