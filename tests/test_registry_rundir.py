"""Registry names, the run-directory contract and atomic writes (no TensorFlow)."""

from __future__ import annotations

import json
import os

import pytest

from dlcli.errors import SpecError, UsageError
from dlcli.registry import Registry
from dlcli.runs import Run


def test_registry_refuses_duplicates_and_suggests():
    registry = Registry("thing")
    registry.add("alpha", 1)
    with pytest.raises(ValueError, match="registered twice"):
        registry.add("alpha", 2)
    with pytest.raises(SpecError, match=r"unknown thing 'alpah' \(did you mean 'alpha'\?\); choices: alpha"):
        registry.get("alpah")


def made(experiment: str = "exp", explicit=None) -> Run:
    """A run directory as `train` makes one: staged, then published under its name."""
    run = Run.create(experiment, explicit)
    run.publish()
    return run


def test_run_directories_are_never_reused(workdir):
    first, second = made(), made()
    assert first.path != second.path
    assert first.path.parent == second.path.parent == workdir / "runs" / "exp"
    assert second.path.name.startswith(first.path.name)


def test_explicit_run_dir_must_be_new_or_empty(workdir):
    (workdir / "full").mkdir()
    (workdir / "full" / "x").write_text("x")
    with pytest.raises(UsageError, match="exists and is not empty"):
        Run.create("exp", workdir / "full")
    (workdir / "empty").mkdir()
    assert made("exp", workdir / "empty").path == workdir / "empty"
    assert made("exp", workdir / "new").path == workdir / "new"


def test_a_run_directory_is_invisible_until_published(workdir):
    """Everything a run holds before training is written in a hidden staging folder: a reader (or
    a shell glob) never sees a run directory without its run.json."""
    run = Run.create("exp")
    run.write_json("run.json", {"status": "running"})
    assert [p.name.startswith(".") for p in (workdir / "runs" / "exp").iterdir()] == [True]
    run.publish()
    assert [p.name for p in (workdir / "runs" / "exp").iterdir()] == [run.path.name]
    assert sorted(p.name for p in run.path.iterdir()) == [".lock", "run.json"]


def test_an_abandoned_staging_folder_is_removed_and_a_live_one_kept(workdir):
    import subprocess
    import sys

    live = Run.create("exp")
    code = "import os; from dlcli.runs import Run; Run.create('exp'); os._exit(9)"  # killed before publishing
    assert subprocess.run([sys.executable, "-c", code], env={**os.environ}).returncode == 9
    assert len(list((workdir / "runs" / "exp").iterdir())) == 2
    later = made()
    assert sorted(p.name for p in (workdir / "runs" / "exp").iterdir()) == sorted([live.path.name, later.path.name])


def test_a_second_writer_is_refused_at_once_naming_the_first(workdir):
    run = made()
    run.write_json("run.json", {"status": "running", "process": {"pid": os.getpid()}})
    with pytest.raises(UsageError, match=rf"in use by .*pid {os.getpid()}"):
        Run.open(run.path).lock("resume")
    assert Run.open(run.path).status == "running"  # its lock is held
    run.release()
    assert Run.open(run.path).status == "crashed"  # a `running` run whose lock is free lost its writer
    second = Run.open(run.path)
    second.lock("resume")
    second.release()


def test_open_refuses_what_is_not_a_run(workdir):
    with pytest.raises(UsageError, match="no such run directory"):
        Run.open(workdir / "missing")
    (workdir / "plain").mkdir()
    with pytest.raises(UsageError, match="not a run directory"):
        Run.open(workdir / "plain")


def test_json_is_written_atomically_and_plainly(workdir):
    import numpy as np

    run = Run.create("exp")
    run.write_json("metrics.json", {"a": np.float32(0.5), "b": float("nan"), "c": [np.int64(3)]})
    assert json.loads(run.file("metrics.json").read_text()) == {"a": 0.5, "b": None, "c": [3]}
    assert [p.name for p in run.path.iterdir() if p.name != ".lock"] == ["metrics.json"]  # no temporary file left
    mask = os.umask(0o022)
    os.umask(mask)
    assert run.file("metrics.json").stat().st_mode & 0o777 == 0o666 & ~mask  # as readable as open() makes it


def test_leftovers_of_a_killed_writer_are_removed(workdir):
    run = made()
    run.write_json("run.json", {"status": "crashed"})
    (run.path / "checkpoints").mkdir()
    (run.path / "checkpoints" / ".best.part123.keras").write_bytes(b"half")
    (run.path / ".model.x1y2.part.keras").write_bytes(b"half")
    (run.path / "state" / ".fit-epoch-0003.part").mkdir(parents=True)
    (run.path / "state" / ".fit-epoch-0003.part" / "weights.weights.h5").write_bytes(b"half")
    assert len(run.remove_leftovers()) == 3
    assert sorted(p.name for p in run.path.rglob("*")) == [".lock", "checkpoints", "run.json", "state"]


def test_latest_completed_run(workdir):
    old, new, broken = made(), made(), made()
    old.write_json("run.json", {"status": "completed"})
    new.write_json("run.json", {"status": "completed"})
    broken.write_json("run.json", {"status": "failed"})
    assert Run.latest_completed("exp").path == new.path
    assert Run.latest_completed("other") is None


def test_a_run_reference_that_names_nothing_is_a_usage_error_and_a_known_one_without_runs_data(workdir):
    from dlcli.errors import DataUnavailable

    failed = made()
    failed.write_json("run.json", {"status": "failed"})
    with pytest.raises(UsageError, match="did you mean 'vae-mnist'"):
        Run.find("vae-mnsit", "RUN")  # a typo: exit 2, not "train it first"
    with pytest.raises(UsageError):
        Run.find("runs/nothere/20260101-000000", "RUN")
    for known in ("vae-mnist", "exp"):  # a named experiment, or runs of a spec file, none completed
        with pytest.raises(DataUnavailable, match=f"dlcli train {known}"):  # exp's failed run: or resume it
            Run.find(known, "RUN")


def test_no_import_cycle_between_modules():
    """Module imports, at the top or inside functions, form no cycle (architecture review, point 1)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "dlcli"
    modules = {}
    for path in root.rglob("*.py"):
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    edges = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dlcli"):
                targets = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                           for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            edges[name] |= {target for target in targets if target in modules and target != name}

    def path_back(start, node, seen):
        for target in edges[node]:
            if target == start:
                return [node, target]
            if target not in seen:
                seen.add(target)
                found = path_back(start, target, seen)
                if found:
                    return [node, *found]
        return None

    for name in modules:
        cycle = path_back(name, name, set())
        assert cycle is None, " -> ".join(cycle)
    assert {name for name, targets in edges.items() if "dlcli.api" in targets} <= {
        name for name in modules if name.startswith("dlcli.cli")}, "only the command line imports dlcli.api"
