"""Finding a run by what a RUN argument names (a run directory, NAME, NAME@N: dlcli.runs.references)
or by what it is for (the latest completed run of an experiment), and saying on stderr which run a
name was taken to mean. Run (dlcli.runs.directory) has these as its classmethods."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Self

from dlcli.errors import DataUnavailable, UsageError
from dlcli.runs import layout, references
from dlcli.runs.location import runs_root
from dlcli.runs.recipe import recipe_changes


class RunFinding:
    """Run's finders: `cls(path)` is a Run, `cls.open` opens one (see Run.open)."""

    @classmethod
    def latest_completed(cls, experiment: str, follows_recipe: bool = False) -> Self | None:
        """The newest completed run of an experiment under the runs root; with `follows_recipe`,
        the newest one that changed nothing of its spec but the seed (a baseline to judge by)."""
        for path in references.run_folders(experiment):
            if cls._status_or_none(path) == "completed":  # an unreadable run is no run to build on
                run = cls(path)
                if not (follows_recipe and recipe_changes(run.info)):
                    return run
        return None

    @classmethod
    def find(cls, reference: str, where: str, statuses: tuple[str, ...] = references.COMPLETED) -> Self:
        """The run a RUN argument names (dlcli.runs.references): a run directory as given, else
        NAME's latest run of one of `statuses` (completed, unless for resume), NAME@N the N-th latest."""
        return cls.open(cls.locate(reference, where, statuses))

    @classmethod
    def locate(cls, reference: str, where: str, statuses: tuple[str, ...] = references.COMPLETED) -> Path:
        """The directory of `find`'s run; a name resolved to a run is said on stderr (which run it took).
        A folder without run.json is no run: NAME is a name even where a folder has it (the runs folder's own)."""
        if (Path(reference) / layout.INFO.name).is_file() or not references.is_reference(reference):
            return Path(reference)
        name, nth = references.parse(reference, where)
        folders = references.run_folders(name)
        status_of = {path: cls._status_or_none(path) for path in folders}
        matching = [path for path in folders if status_of[path] in statuses]
        if len(matching) >= nth:
            path = matching[nth - 1]
            print(f"{reference}: {references.shown(path)} ({references.ordinal(nth)}latest "
                  f"{references.kind_of(statuses)} run)", file=sys.stderr)
            return path
        if not folders:
            from dlcli.catalog import experiment_files
            from dlcli.registry import did_you_mean

            names = set(experiment_files()) | {path.name for path in runs_root().glob("*") if path.is_dir()}
            if name not in names:  # a typo, or a path that is not there: nothing to train
                raise UsageError(f"{where}: '{reference}' is neither a run directory nor an experiment"
                                 f"{did_you_mean(name, sorted(names))} (see `dlcli list`)")
        raise DataUnavailable(references.none_left(where, reference, statuses, len(matching),
                                                   [status for status in status_of.values() if status]))

    @classmethod
    def _status_or_none(cls, path: Path) -> str | None:
        """A run's status, or None for a folder that is no readable run (a RUN never names it)."""
        try:
            return cls(path).status if (path / layout.INFO.name).is_file() else None
        except UsageError:
            return None
