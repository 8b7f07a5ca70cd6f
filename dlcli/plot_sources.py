"""Where `dlcli plot` draws from and where its pictures go: the runs and history files it is
given (a sweep folder is named as one), the folder they go into, and each picture's file and
identity (every source and option, so another plot never replaces it: dlcli.outputs)."""

from __future__ import annotations

from pathlib import Path

from dlcli.curves import Curves, file_curves
from dlcli.errors import UsageError
from dlcli.outputs import Placement, identity, picture_name, unusable_path
from dlcli.runs import Run, enclosing_run, layout


def opened_sources(paths: list[str]) -> tuple[list, Path | None, Path]:
    """Each path as an open Run or the Curves of a history file; the run the pictures may go into
    (the first path's) and their default folder."""
    sources = []
    for path in paths:
        if (Path(path) / "sweep.json").is_file() and not (Path(path) / layout.INFO.name).exists():
            raise UsageError(f"{path}: a sweep, not a run: overlay its trials with dlcli plot {Path(path) / 'trials'}/*"
                             f" (its report: dlcli report {path})")
        with unusable_path(path):
            sources.append(file_curves(Path(path)) if Path(path).is_file() else Run.open(path))
    first = sources[0]
    if isinstance(first, Run):
        return sources, first.path, first.file(layout.PLOTS)
    owner = enclosing_run(first.path)
    return sources, owner, (owner / layout.PLOTS.name) if owner is not None else first.path.parent


def picture_target(placement: Placement, sources: list[Curves], base: str, which: str | None, smooth: float | None,
            skip_first: int, count: int) -> tuple[Path, str]:
    """(file, identity) of one metric's figure, `which` curves of runs overlaid (None: one run's
    both): every source drawn and every option is in its identity; the name spells them out, with
    the identity's hash where it cannot (runs overlaid, or a figure outside its run's plots/)."""
    picture_identity = identity(kind="plot", runs=[placement.named(source.path) for source in sources], metric=base,
                                curves=which, smooth=smooth or None, skip_first=skip_first)
    options = [f"smooth{smooth:g}" if smooth else None, f"skip{skip_first}" if skip_first else None]
    if len(sources) > 1:
        others = "+".join(file_labels(sources)[1:])
        name = picture_name([base, which, *options, "vs", others], picture_identity)
    elif placement.is_run_folder(layout.PLOTS.name) and sources[0].time:
        name = picture_name([base, *options])  # the run's own plots/: the name says it all
    else:
        name = picture_name([sources[0].short, base, *options], picture_identity)
    path = placement.path(name)
    if placement.file is not None and count > 1:
        path = placement.beside(placement.file, base)
    return path, picture_identity


def file_labels(sources: list[Curves]) -> list[str]:
    """What an overlay's file name calls each source: its short name, with its folder's where two share it."""
    names = [source.short for source in sources]
    return [f"{name} ({source.path.name})" if names.count(name) > 1 else name for name, source in zip(names, sources)]
