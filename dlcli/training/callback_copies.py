"""A run keeps the code of its spec's custom callbacks: each file is copied into callbacks/ and
spec.yaml names the copy relative to the run directory, so the run resumes with the code it
started with (Run.spec refuses one from outside) and the run directory may move."""

from __future__ import annotations

from pathlib import Path

from dlcli.runs import Run, layout


def with_callback_copies(run: Run, spec):
    """The spec as the run keeps it: each custom callback's file copied into callbacks/ and named
    there (relative to the run directory), so the run resumes with the code it started with."""
    from dataclasses import replace

    from dlcli.atomic import write_bytes_atomic

    kept = spec.model_copy(deep=True)
    for index, entry in enumerate(spec.callbacks):
        if entry.name == "Custom":
            file, _, class_name = entry.arguments["path"].rpartition(":")
            copy = layout.CALLBACK_COPY.at(index=index, file=Path(file).name)
            write_bytes_atomic(run.output(copy), Path(file).read_bytes())
            kept.callbacks[index] = replace(entry, arguments={**entry.arguments, "path": f"{copy}:{class_name}"})
    return kept


def relative_to_run(run: Run, spec):
    """The spec with its custom callbacks' paths relative to the run directory (their copies), as
    spec.yaml keeps them, so the run directory may move."""
    from dataclasses import replace

    kept = spec.model_copy(deep=True)
    for index, entry in enumerate(spec.callbacks):
        if entry.name == "Custom":
            file, _, class_name = entry.arguments["path"].rpartition(":")
            if Path(file).is_relative_to(run.path.resolve()):
                relative = Path(file).relative_to(run.path.resolve())
                kept.callbacks[index] = replace(entry, arguments={**entry.arguments, "path": f"{relative}:{class_name}"})
    return kept
