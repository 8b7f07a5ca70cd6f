"""The command line as scripts and terminals meet it: one JSON object per command (failures
included), one exit code per kind of problem, Click's refusals in dlcli's words, tables that fit
the terminal, compare showing what differs, and advice that works."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import click
import pytest

from conftest import TINY_SPEC
from dlcli.runs import Run


def hand_made_run(experiment: str = "tiny", spec: str = TINY_SPEC, status: str = "completed",
                  metrics: dict | None = None, info: dict | None = None) -> Path:
    """A run directory written as training writes one (run.json, spec.yaml, history.json, metrics.json)."""
    run = Run.create(experiment)
    run.write_text("spec.yaml", spec)
    run.write_json("run.json", {"status": status, "experiment": experiment, **(info or {})})
    run.publish()
    run.write_json("history.json", {"epoch": [1, 2], "loss": [1.0, 0.5]})
    run.write_json("metrics.json", {"metrics": metrics or {}, "check": {"status": "none", "checks": []}})
    run.release()
    return run.path


def json_commands() -> set[str]:
    """Every command (and subcommand) that has a --json option, by its path: 'visualize gradcam'."""
    from dlcli.cli import cli

    found = set()

    def walk(group, prefix):
        context = click.Context(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            path = f"{prefix} {name}".strip()
            if isinstance(command, click.Group):
                walk(command, path)
            elif any("--json" in getattr(param, "opts", ()) for param in command.params):
                found.add(path)

    walk(cli, "")
    return found


# A failing invocation of every command that has --json: each must still print its one object.
FAILURES = {
    "list": (["list", "--bogus", "--json"], 2),
    "data list": (["data", "list", "--no-such-option", "--json"], 2),
    "train": (["train", "nosuch", "--json"], 2),
    "resume": (["resume", "{completed}", "--json"], 2),
    "evaluate": (["evaluate", "nowhere/run", "--json"], 2),
    "check": (["check", "{missed}", "--json"], 4),
    "compare": (["compare", "nowhere/run", "--json"], 2),
    "sweep": (["sweep", "--json"], 2),
    "ensemble": (["ensemble", "{completed}", "--json"], 2),
    "predict": (["predict", "nowhere/run", "cat.png", "--json"], 2),
    "visualize gradcam": (["visualize", "gradcam", "missing.png", "--model", "nowhere.keras", "--json"], 2),
    "visualize activations": (["visualize", "activations", "missing.png", "--model", "nowhere.keras", "--json"], 2),
    "visualize filters": (["visualize", "filters", "--model", "nowhere.keras", "--json"], 2),
    "generate text": (["generate", "text", "nosuch", "--json"], 2),
    "generate images": (["generate", "images", "nosuch", "--json"], 2),
    "generate latent-grid": (["generate", "latent-grid", "nosuch", "--json"], 2),
    "dream": (["dream", "missing.png", "--weights", "none", "--json"], 2),
    "style-transfer": (["style-transfer", "missing.png", "missing2.png", "--weights", "none", "--json"], 2),
    "data split": (["data", "split", "cats-vs-dogs", "nowhere", "--json"], 2),
    "runs": (["runs", "--status", "nosuch", "--json"], 2),
    "report": (["report", "nowhere/run", "--json"], 2),
    "validate": (["validate", "nosuch", "--json"], 2),
    "plot": (["plot", "nowhere/run", "--json"], 2),
    "data download": (["data", "download", "weights", "--json"], 3),
    "visualize augmentation": (["visualize", "augmentation", "missing.png", "--json"], 2),
    # Commands without --json today: their case runs once they have one.
    "data import": (["data", "import", "mnist", "nowhere.npz", "--json"], 2),
    "show": (["show", "nosuch", "--json"], 2),
    "new": (["new", "nosuch", "mine", "--json"], 2),
}


def test_every_json_command_has_a_failure_case():
    assert json_commands() <= set(FAILURES), f"add a failing case for: {json_commands() - set(FAILURES)}"


def _one_object(result) -> dict:
    """stdout holds exactly one JSON object (json.loads refuses a second document after the first)."""
    data = json.loads(result.stdout)
    assert isinstance(data, dict), result.stdout
    assert "status" in data
    if data.get("run_dir") is not None:
        assert os.path.isabs(data["run_dir"])
    return data


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_json_failure_is_one_object_with_error_and_exit_code(run_cli, workdir, tiny_spec, name):
    if name not in json_commands():
        pytest.skip(f"`dlcli {name}` has no --json here")
    runs = {"completed": str(hand_made_run()),
            "missed": str(hand_made_run(metrics={"test_accuracy": 0.5},
                                        spec=TINY_SPEC.replace("value: 0.0", "value: 0.99")))}
    args, code = FAILURES[name]
    result = run_cli(*(arg.format(**runs) for arg in args))
    assert result.exit_code == code, result.stderr
    data = _one_object(result)
    assert data["exit_code"] == code and (data["status"] == "error" or "run_dir" in data)
    assert data["error"] and "\n" not in data["error"]
    assert result.stderr.startswith("error: ") or code == 4, result.stderr


def test_json_successes_are_objects(run_cli, workdir):
    first = hand_made_run(metrics={"test_accuracy": 0.8})
    second = hand_made_run(metrics={"test_accuracy": 0.9})
    listed = _one_object(run_cli("list", "--json"))
    assert listed["status"] == "ok" and {"name", "data_present", "data_missing"} <= set(listed["experiments"][0])
    assert "error" not in listed and "exit_code" not in listed
    datasets = _one_object(run_cli("data", "list", "--json"))
    assert {row["name"] for row in datasets["datasets"]} >= {"digits", "mnist"}
    compared = _one_object(run_cli("compare", str(first), str(second), "--json"))
    assert [row["run_dir"] for row in compared["runs"]] == [str(first.resolve()), str(second.resolve())]
    assert compared["runs"][0]["check"] == {"status": "none", "checks": []}  # an object, as train's
    shown = _one_object(run_cli("show", "digits-convnet", "--set", "fit.epochs=2", "--json"))
    assert shown["spec"]["fit"]["epochs"] == 2 and shown["status"] == "ok"
    written = _one_object(run_cli("new", "binary", "mine", "--json"))
    assert Path(written["path"]).is_absolute() and Path(written["path"]).is_file()
    checked = _one_object(run_cli("check", str(first), "--json"))
    assert checked["run_dir"] == str(first.resolve()) and checked["status"] == "completed"
    assert checked["check"]["status"] == "passed"


def test_check_that_fails_its_reference_prints_one_object(run_cli):
    missed = hand_made_run(metrics={"test_accuracy": 0.5}, spec=TINY_SPEC.replace("value: 0.0", "value: 0.99"))
    result = run_cli("check", str(missed), "--json")
    assert result.exit_code == 4
    data = json.loads(result.stdout)  # one document: the verdict and the failure together
    assert data["check"]["status"] == "differs" and data["exit_code"] == 4 and "reference" in data["error"]


def test_train_json_and_the_advice_for_a_completed_run(run_cli, tiny_spec, workdir):
    trained = run_cli("train", str(tiny_spec), "--epochs", "1", "--set", "fit.batch_size=8", "--json", "-q")
    assert trained.exit_code == 0, trained.stderr
    data = _one_object(trained)
    assert data["status"] == "completed" and isinstance(data["check"], dict)
    run_dir = data["run_dir"]
    refused = run_cli("resume", run_dir, "--json")
    assert refused.exit_code == 2
    assert "--epochs N" in refused.stderr and f"dlcli train {run_dir}/spec.yaml --epochs N" in refused.stderr
    assert "train tiny --epochs" not in refused.stderr  # that would drop fit.batch_size=8
    assert json.loads(refused.stdout)["exit_code"] == 2
    advised = run_cli("train", f"{run_dir}/spec.yaml", "--epochs", "2", "--json", "-q")  # the advice, followed
    assert advised.exit_code == 0, advised.stderr
    again = Run.open(json.loads(advised.stdout)["run_dir"])
    assert again.experiment == "tiny" and again.spec().fit.batch_size == 8 and again.spec().fit.epochs == 2


DIVERGED_ERROR = ("training diverged: the loss is not a finite number from epoch 2 on; lower "
                  "compile.optimizer.learning_rate, or check the data for NaN")


def test_a_diverged_run_is_not_told_to_resume(run_cli):
    run = hand_made_run(status="failed", info={"error": DIVERGED_ERROR})
    for args in (["resume", str(run)], ["check", str(run)], ["evaluate", str(run)]):
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "dlcli resume" not in result.stderr, args
        assert f"dlcli train {run}/spec.yaml --set compile.optimizer.learning_rate=0.001" in result.stderr, args
    failed = hand_made_run(status="failed", info={"error": "OSError: disk full"})
    assert f"dlcli resume {failed}" in run_cli("check", str(failed)).stderr  # another failure resumes


TWO_HEADS = """
description: two outputs
data:
  name: random
  num_samples: 64
  inputs: {x: {shape: [6]}}
  targets: {first: {onehot: 3}, second: {onehot: 3}}
model:
  type: graph
  inputs: {x: {shape: [6]}}
  nodes:
    - {name: hidden, layer: Dense, args: {units: 4}, inputs: [x]}
    - {name: first, layer: Dense, args: {units: 3, activation: softmax}, inputs: [hidden]}
    - {name: second, layer: Dense, args: {units: 3, activation: softmax}, inputs: [hidden]}
  outputs:
    first: {loss: categorical_crossentropy}
    second: {loss: categorical_crossentropy}
compile: {optimizer: adam}
fit: {epochs: 1, batch_size: 16}
"""


def test_an_ensemble_of_two_output_runs_names_the_outputs(run_cli):
    runs = [str(hand_made_run("heads", spec=TWO_HEADS)) for _ in range(2)]
    result = run_cli("ensemble", *runs)
    assert result.exit_code == 2
    assert "2 outputs (first, second)" in result.stderr and "None" not in result.stderr


@pytest.mark.parametrize("args", [
    ["visualize", "gradcam", "missing.png", "--model", "vgg16"],
    ["visualize", "activations", "missing.png", "--model", "nowhere.keras"],
    ["visualize", "augmentation", "missing.png"],
    ["predict", "nowhere.keras", "missing.png"],
    ["dream", "missing.png", "--weights", "none"],
    ["style-transfer", "missing.png", "missing2.png", "--weights", "none"],
    ["evaluate", "nowhere/run"],
    ["check", "nowhere/run"],
    ["compare", "nowhere/run"],
    ["plot", "nowhere/run"],
    ["resume", "nowhere/run"],
    ["train", "nowhere.yaml"],
    ["show", "nowhere.yaml"],
    ["data", "import", "mnist", "nowhere.npz"],
    ["data", "split", "cats-vs-dogs", "nowhere"],
], ids=lambda args: " ".join(args[:2]))
def test_a_path_that_names_nothing_is_a_usage_error_everywhere(run_cli, args):
    result = run_cli(*args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1, result.stderr
    assert "nowhere" in result.stderr or "missing" in result.stderr


def test_predict_names_the_missing_run_not_its_input(run_cli):
    result = run_cli("predict", "nowhere/run", "a film")
    assert result.exit_code == 2 and "nowhere/run" in result.stderr and "a film" not in result.stderr


@pytest.mark.parametrize("args", [["list", "--bogus"], ["compare"], ["train", "--epochs", "-1", "x"], ["trian"]])
def test_clicks_refusals_in_dlclis_words(run_cli, args):
    result = run_cli(*args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) <= 2 and lines[0].startswith("error: ") and lines[0][7].islower(), lines
    assert "Error" not in result.stderr
    if len(lines) == 2:
        assert lines[1].startswith("usage: dlcli ") and "--help" in lines[1]


def test_list_fits_the_terminal_and_says_whether_data_is_here(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("list")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and max(map(len, lines)) <= 80
    assert "…" in result.stdout  # descriptions cut, not dropped
    rows = {line.split()[0]: line.split()[1] for line in lines[1:] if line.strip() and len(line.split()) > 1}
    assert rows["digits-convnet"] == "present" and rows["mnist-dense"] == "missing"
    monkeypatch.setenv("COLUMNS", "250")
    wide = run_cli("list").stdout.splitlines()
    assert "SOURCE" in wide[0] and max(map(len, wide)) <= 250


def test_list_json_says_what_data_is_missing(run_cli):
    rows = {row["name"]: row for row in json.loads(run_cli("list", "--json").stdout)["experiments"]}
    assert rows["digits-convnet"]["data_present"] and rows["digits-convnet"]["data_missing"] == []
    assert not rows["mnist-dense"]["data_present"]
    assert any("dlcli data download mnist" in line for line in rows["mnist-dense"]["data_missing"])


def test_compare_shows_only_what_differs(run_cli, monkeypatch):
    first = hand_made_run(metrics={"test_accuracy": 0.8, "test_loss": 0.5})
    second = hand_made_run(metrics={"test_accuracy": 0.9, "test_loss": 0.5},
                           spec=TINY_SPEC.replace("epochs: 3", "epochs: 5"))
    monkeypatch.setenv("COLUMNS", "200")
    result = run_cli("compare", str(first), str(second))
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header == ["run", "test_accuracy", "fit.epochs"]  # test_loss, seed, status... are equal
    assert "equal in all 2 runs: experiment tiny, status completed, check none" in result.stdout
    assert "1 metric" in result.stdout
    data = json.loads(run_cli("compare", str(first), str(second), "--json").stdout)
    assert data["differing_metric_names"] == ["test_accuracy"] and data["equal_counts"]["metrics"] == 1
    assert data["runs"][0]["metrics"]["test_loss"] == 0.5  # the JSON keeps every metric


def test_compare_fits_a_narrow_terminal(run_cli, monkeypatch):
    spec = TINY_SPEC.replace("units: 8", "units: 16").replace("learning_rate: 0.01", "learning_rate: 0.001")
    runs = [hand_made_run(metrics={"test_accuracy": 0.8}), hand_made_run(metrics={"test_accuracy": 0.9}, spec=spec)]
    monkeypatch.setenv("COLUMNS", "60")
    result = run_cli("compare", *map(str, runs))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines if not line.startswith("#")) <= 60, result.stdout
    assert lines[0].split() == ["#1", "#2"]  # turned: a value a line, a run a column
    assert any(line.startswith("compile.optimizer.learning_rate") for line in lines)


def test_list_imports_no_pydantic_nor_keras():
    """`dlcli list` reads YAML and the dataset registry only: the data models (pydantic, 120 ms to
    import) are loaded when a spec is validated, so listing stays near a bare `import click, yaml`."""
    import subprocess
    import sys

    code = ("import sys\nfrom dlcli.cli import main\nsys.argv = ['dlcli', 'list']\ntry:\n    main()\n"
            "except SystemExit:\n    pass\nprint('HEAVY', sorted(m for m in ('pydantic', 'keras', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "HEAVY []" in out, out


def test_a_diverged_run_without_a_learning_rate_is_told_to_choose_one(run_cli):
    spec = TINY_SPEC.replace("{name: adam, learning_rate: 0.01}", "rmsprop")
    run = hand_made_run(status="failed", info={"error": DIVERGED_ERROR}, spec=spec)
    result = run_cli("resume", str(run))
    assert result.exit_code == 2
    assert "--set compile.optimizer.learning_rate=LR (LR below rmsprop's default)" in result.stderr


def test_compare_of_one_run_shows_its_metrics(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = run_cli("compare", str(hand_made_run(metrics={"test_accuracy": 0.8})))
    assert result.exit_code == 0 and "test_accuracy" in result.stdout and "0.8000" in result.stdout


@pytest.mark.parametrize("args", [["data", "list"], ["new", "--list"]])
def test_other_tables_fit_the_terminal(run_cli, monkeypatch, args):
    monkeypatch.setenv("COLUMNS", "60")
    result = run_cli(*args)
    assert result.exit_code == 0 and max(map(len, result.stdout.splitlines())) <= 60 and "…" in result.stdout


def test_compare_shows_a_small_metric_as_small_and_its_csv_whole(run_cli, monkeypatch):
    """A training loss of 4e-05 (an overfitting model's) is not shown as 0.0000, and --csv, which
    scripts read, keeps every digit."""
    first = hand_made_run(metrics={"final_val_loss": 0.5, "test_loss": 0.00004123})
    second = hand_made_run(metrics={"final_val_loss": 0.25, "test_loss": 0.123456789})
    monkeypatch.setenv("COLUMNS", "200")
    shown = run_cli("compare", str(first), str(second)).stdout
    assert "4.12e-05" in shown and "0.1235" in shown and "0.0000" not in shown
    rows = list(csv.DictReader(io.StringIO(run_cli("compare", str(first), str(second), "--csv").stdout)))
    assert [float(row["test_loss"]) for row in rows] == [0.00004123, 0.123456789]


def test_a_misspelt_command_is_told_the_nearest(run_cli):
    result = run_cli("trian", "x")  # dlcli's commands are loaded lazily: Click alone suggests none
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert "'train'" in result.stderr.splitlines()[0]


def test_compare_refuses_json_and_csv_together(run_cli):
    result = run_cli("compare", str(hand_made_run()), "--json", "--csv")
    assert result.exit_code == 2 and json.loads(result.stdout)["exit_code"] == 2  # one object, not CSV after it


def test_an_unexpected_error_is_one_line_even_when_its_message_has_several(run_cli, monkeypatch):
    from dlcli import api

    def broken():
        raise ValueError("\nfirst line\n     ^\nsecond line")  # as pyparsing's errors read

    monkeypatch.setattr(api, "list_experiments", broken)
    result = run_cli("list", "--json")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "first line ^ second line" in result.stderr and json.loads(result.stdout)["exit_code"] == 1


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["show", "digits-convnet"]])
def test_a_reader_that_goes_away_is_exit_141_not_a_failed_run(args, workdir):
    """`dlcli list | head -1`: stdout's reader closes; exit 128 + SIGPIPE as a shell says it, nothing
    on stderr (1 means a run failed)."""
    import subprocess
    import sys

    reader, writer = os.pipe()
    os.close(reader)  # gone before the first write
    try:
        done = subprocess.run([sys.executable, "-m", "dlcli", *args], stdout=writer, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(writer)
    assert done.returncode == 141 and done.stderr == "", (done.returncode, done.stderr)
