"""RUN references (NAME, NAME@2) in every command taking a RUN, training again from a run's folder,
reads that keep a run directory's time, and what `train` says on stderr while it starts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest

from test_runs_listing import FINISHED, make_run

from dlcli.cli.run_argument import model_reference
from dlcli.errors import DataUnavailable, UsageError
from dlcli.runs import Run
from dlcli.runs.references import RESUMABLE


@pytest.fixture
def runs(workdir) -> dict[str, Path]:
    """Three runs of mnist-dense: completed, interrupted, completed (the latest), oldest first."""
    root = workdir / "runs"
    return {
        "first": make_run(root, "mnist-dense", "20261201-090000", metrics=FINISHED, epochs=3),
        "interrupted": make_run(root, "mnist-dense", "20261202-090000", status="interrupted", epochs=1),
        "latest": make_run(root, "mnist-dense", "20261203-090000", metrics=FINISHED, epochs=3),
    }


def test_a_name_is_its_latest_completed_run_and_name_at_n_the_one_before(runs, capsys):
    assert Run.find("mnist-dense", "RUN").path == runs["latest"]
    assert "mnist-dense: runs/mnist-dense/20261203-090000 (latest completed run)" in capsys.readouterr().err
    assert Run.find("mnist-dense@1", "RUN").path == runs["latest"]
    assert Run.find("mnist-dense@2", "RUN").path == runs["first"]  # the interrupted run is no completed one
    assert "(2nd latest completed run)" in capsys.readouterr().err
    with pytest.raises(DataUnavailable, match="has 2 completed runs"):
        Run.find("mnist-dense@3", "RUN")
    with pytest.raises(UsageError, match="counts from 1"):
        Run.find("mnist-dense@0", "RUN")


def test_resume_counts_the_runs_it_can_continue(runs, run_cli):
    assert Run.find("mnist-dense", "RUN", RESUMABLE).path == runs["interrupted"]
    with pytest.raises(DataUnavailable, match="no resumable run of 'imdb-dense'"):
        Run.find("imdb-dense", "RUN", RESUMABLE)
    resumed = run_cli("resume", "mnist-dense")  # the hand-made run has no spec.yaml: refused after naming it
    assert "mnist-dense: runs/mnist-dense/20261202-090000 (latest resumable run)" in resumed.stderr
    assert resumed.exit_code == 2


def test_commands_take_names_typos_get_did_you_mean_and_runless_experiments_exit_3(run_cli, runs):
    plotted = run_cli("plot", "mnist-dense@2", "--metric", "loss")
    assert plotted.exit_code == 0, plotted.stderr
    assert Path(plotted.stdout.strip()).parent == runs["first"] / "plots"
    compared = run_cli("compare", "mnist-dense", "mnist-dense@2", "--json")
    assert compared.exit_code == 0, compared.stderr
    assert "mnist-dense@2: runs/mnist-dense/20261201-090000" in compared.stderr
    typo = run_cli("check", "mnist-dens")
    assert typo.exit_code == 2 and "did you mean 'mnist-dense'" in typo.stderr
    never = run_cli("check", "imdb-dense")
    assert never.exit_code == 3 and "no completed run of 'imdb-dense'" in never.stderr


def test_a_name_is_a_name_inside_the_runs_folder_too(run_cli, runs, workdir, monkeypatch):
    """In the runs folder, where `dlcli runs` lists EXPERIMENT/TIME, the experiment's folder is no run:
    NAME still means its latest completed run (it said 'not a run directory', exit 2)."""
    monkeypatch.chdir(workdir / "runs")
    assert Run.find("mnist-dense", "RUN").path.resolve() == runs["latest"].resolve()
    assert Run.open("mnist-dense@2").path.resolve() == runs["first"].resolve()
    checked = run_cli("report", "mnist-dense")
    assert checked.exit_code == 0, checked.stderr
    assert (runs["latest"] / "report.html").is_file()
    option = click.Option(["--model"])
    assert Path(model_reference(None, option, "mnist-dense")).resolve() == runs["latest"].resolve()
    assert run_cli("report", "mnist-dense/20261201-090000").exit_code == 0  # a run directory's path as before


def test_a_name_without_a_completed_run_says_what_runs_it_has(run_cli, workdir):
    """'train it first' is wrong advice for an experiment whose run was interrupted: the message
    counts its runs by status and points at `dlcli runs`, and still says how to train it."""
    make_run(workdir / "runs", "imdb-dense", "20261201-090000", status="interrupted", epochs=1)
    make_run(workdir / "runs", "imdb-dense", "20261202-090000", status="failed", epochs=1)
    result = run_cli("report", "imdb-dense")
    assert result.exit_code == 3
    assert "1 interrupted" in result.stderr and "1 failed" in result.stderr and "dlcli runs imdb-dense" in result.stderr
    assert "dlcli resume imdb-dense" in result.stderr and "dlcli train imdb-dense" in result.stderr
    with pytest.raises(DataUnavailable, match="train it first: dlcli train mnist-dense$"):
        Run.find("mnist-dense", "RUN")  # no run at all: training is what is left


def test_model_options_take_names_but_leave_networks_and_files_alone(runs, workdir):
    option = click.Option(["--model"])
    assert model_reference(None, option, "mnist-dense@2") == str(runs["first"])
    assert model_reference(None, option, "vgg16") == "vgg16"
    assert model_reference(None, option, "my-model.keras") == "my-model.keras"
    with pytest.raises(DataUnavailable):
        model_reference(None, option, "imdb-dense")  # a named experiment without a completed run


def test_plot_leaves_the_run_directory_time_as_it_was(run_cli, runs):
    run, parent = runs["first"], runs["first"].parent
    for folder in (run, parent):
        os.utime(folder, (1_000_000_000, 1_000_000_000))
    result = run_cli("plot", str(run))
    assert result.exit_code == 0, result.stderr
    assert (run / "plots").is_dir()
    assert run.stat().st_mtime == parent.stat().st_mtime == 1_000_000_000


def test_show_reads_a_run_directory(run_cli, workdir, tiny_spec):
    run = make_run(workdir / "runs", "tiny", "20261203-090000", metrics=FINISHED)
    (run / "spec.yaml").write_text(tiny_spec.read_text().replace("epochs: 3", "epochs: 2"), encoding="utf-8")
    result = run_cli("show", str(run))
    assert result.exit_code == 0, result.stderr
    assert "epochs: 2" in result.stdout


def test_train_from_a_run_directory_says_where_it_writes_and_stays_comparable(run_cli, tiny_spec, workdir):
    first = run_cli("train", str(tiny_spec), "--json")
    assert first.exit_code == 0, first.stderr
    source = json.loads(first.stdout)["run_dir"]
    assert f"run directory: {source}" in first.stderr  # stderr: stdout holds the one JSON object
    assert "loading" not in first.stderr  # progress is for a terminal (see test_train_says_what_it_loads...)
    again = run_cli("train", source, "--json", "-q")
    assert again.exit_code == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["run_dir"] != source and Path(result["run_dir"]).parent == Path(source).parent
    assert result["check"]["status"] == "passed"  # its spec.yaml is the recipe unchanged: still comparable
    assert f"run directory: {result['run_dir']}" in again.stderr and "loading" not in again.stderr  # -q


def test_pictures_and_samples_added_to_a_run_keep_its_time(runs):
    import numpy as np

    from dlcli.outputs import write_image
    from dlcli.runs import layout

    run = runs["first"]
    os.utime(run, (1_000_000_000, 1_000_000_000))
    write_image(run / "viz" / "picture.png", np.zeros((4, 4), np.uint8), "identity")  # visualize's pictures
    Run.open(run, draws=True).write_text(layout.GENERATED_TEXT, "text", tag="tag")  # generate text's samples
    assert (run / "viz" / "picture.png").is_file() and (run / "samples" / "generate-tag.txt").is_file()
    assert run.stat().st_mtime == 1_000_000_000


def test_train_says_what_it_loads_on_a_terminal_only(run_cli, tiny_spec, monkeypatch):
    import dlcli.terminal

    monkeypatch.setattr(dlcli.terminal, "bars_shown", lambda: True)  # stderr a terminal, not --quiet nor --json
    shown = run_cli("train", str(tiny_spec))
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stderr.splitlines()
    loading = [i for i, line in enumerate(lines) if line.startswith("loading synthetic: ")]
    where = [i for i, line in enumerate(lines) if line.startswith("run directory: ")]
    assert loading and where and loading[0] < where[0]  # said before the load, the run directory after it


def test_the_tenth_run_of_one_second_is_later_than_the_ninth(run_cli, workdir, capsys):
    for suffix in ("", "-9", "-10"):
        make_run(workdir / "runs", "tiny", f"20261203-090000{suffix}", metrics=FINISHED)
    assert Run.find("tiny", "RUN").path.name == "20261203-090000-10"  # text order put -9 after -10
    assert Run.find("tiny@3", "RUN").path.name == "20261203-090000"
    listed = json.loads(run_cli("runs", "--json").stdout)["runs"]
    assert [Path(row["run_dir"]).name for row in listed] == ["20261203-090000-10", "20261203-090000-9",
                                                             "20261203-090000"]
