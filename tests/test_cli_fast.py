"""The command line without TensorFlow: help, list, show, validate, exit codes, import cost."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import HANG_GUARD_S, TINY_SPEC, write

COMMANDS = [[], ["list"], ["show"], ["validate"], ["new"], ["train"], ["resume"], ["evaluate"], ["check"], ["plot"], ["compare"],
            ["ensemble"], ["data"], ["data", "list"], ["data", "download"], ["data", "import"], ["data", "split"],
            ["predict"], ["visualize"], ["visualize", "gradcam"], ["visualize", "activations"],
            ["visualize", "filters"], ["visualize", "augmentation"], ["generate"], ["generate", "images"], ["dream"],
            ["style-transfer"], ["completion"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "dlcli")
def test_every_command_has_help(run_cli, command):
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert "Usage: dlcli" in result.stdout


def test_list_json_names_every_experiment_with_its_source(run_cli):
    result = run_cli("list", "--json")
    rows = json.loads(result.stdout)["experiments"]
    names = {row["name"] for row in rows}
    assert {"mnist-dense", "boston-kfold", "fashion-mnist-convnet", "conv-vertical-line-detector",
            "mnist-tf-layers-cnn", "cifar10-convnet-augmented", "lenet5-mnist", "digits-convnet"} <= names
    assert all(row["description"] and row["source"] for row in rows)


def test_show_prints_the_resolved_spec(run_cli, tiny_spec):
    result = run_cli("show", str(tiny_spec), "--set", "fit.epochs=9")
    assert result.exit_code == 0
    assert "epochs: 9" in result.stdout and "precision: float32" in result.stdout


def test_validate_exit_codes(run_cli, tiny_spec, workdir):
    assert run_cli("validate", str(tiny_spec), "mnist-dense").exit_code == 0
    bad = write(workdir / "bad.yaml", TINY_SPEC.replace("epochs: 3", "epochs: -3"))
    result = run_cli("validate", str(tiny_spec), str(bad))
    assert result.exit_code == 2
    assert "ok: " in result.stdout
    assert "error: " in result.stderr and "fit.epochs: must be >= 0 (got -3)" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_experiment_exit_2_one_line(run_cli):
    result = run_cli("train", "mnist-convnt")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        result.stderr.strip().splitlines()[0]] and "did you mean 'mnist-convnet'" in result.stderr


def test_set_without_equals(run_cli, tiny_spec):
    result = run_cli("show", str(tiny_spec), "--set", "fit.epochs")
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.stderr


def test_not_a_run_directory(run_cli, workdir):
    (workdir / "plain").mkdir()
    for command in (["evaluate"], ["check"], ["plot"], ["compare"]):
        result = run_cli(*command, str(workdir / "plain"))
        assert result.exit_code == 2, command
        assert "not a run directory" in result.stderr


def test_missing_dataset_offline_exits_3_and_names_the_file(run_cli):
    result = run_cli("train", "mnist-dense")
    assert result.exit_code == 3
    assert "mnist.npz" in result.stderr and "dlcli data import mnist" in result.stderr


def test_data_list_table_and_the_weights_kind(run_cli):
    result = run_cli("data", "list")
    assert result.exit_code == 0, result.stderr
    assert "digits" in result.stdout and "weights" in result.stdout
    refused = run_cli("data", "download", "weights")
    assert refused.exit_code == 3 and "dlcli data import weights PATH" in refused.stderr
    assert run_cli("data", "import", "weights", "nowhere.h5").exit_code == 2  # names no file: usage


def test_names_ignore_hyphens_and_underscores(run_cli, workdir):
    result = run_cli("data", "download", "fashion-mnist")  # = fashion_mnist; offline, so exit 3
    assert result.exit_code == 3 and "dataset 'fashion_mnist'" in result.stderr
    assert "unknown split" not in run_cli("data", "split", "cats_vs_dogs", str(workdir / "nowhere.zip")).stderr


def test_debug_and_options_after_the_subcommand(run_cli, tiny_spec):
    from dlcli.errors import SpecError

    with pytest.raises(SpecError):  # --debug after the command still shows the error itself
        run_cli("show", "nowhere/x.yaml", "--debug")
    result = run_cli("show", "nowhere/x.yaml")  # and the next command is not in debug mode
    assert result.exit_code == 2 and result.stderr == "error: nowhere/x.yaml: no such spec file\n"
    assert run_cli("show", str(tiny_spec), "--set", "fit.epochs=4").exit_code == 0


def test_typos_under_every_model_kind_get_their_own_line(run_cli, workdir):
    spec = write(workdir / "tune.yaml", """
        description: fine-tuning
        data: {name: synthetic}
        model:
          type: from_run
          runn: some-experiment
        compile: {loss: mse}
        fit: {epochs: 1}
        """)
    result = run_cli("validate", str(spec))
    assert result.exit_code == 2
    line = next(i for i, text in enumerate(spec.read_text().splitlines(), 1) if "runn:" in text)
    assert f"tune.yaml:{line}: model.runn: unknown key 'runn' (did you mean 'run'?)" in result.stderr
    unknown = run_cli("validate", str(write(workdir / "kind.yaml", spec.read_text().replace("from_run", "from_runs"))))
    assert "unknown model type 'from_runs' (did you mean 'from_run'?)" in unknown.stderr


def test_data_list_json(run_cli):
    rows = {row["name"]: row for row in json.loads(run_cli("data", "list", "--json").stdout)["datasets"]}
    assert rows["digits"]["present"] and rows["digits"]["shipped"]
    assert not rows["mnist"]["present"] and rows["mnist"]["urls"]


@pytest.mark.parametrize("args", [["--help"], ["list"], ["validate", "mnist-dense"], ["show", "mnist-dense"],
                                  ["data", "list"], ["new", "--list"], ["new", "binary", "fast"]])
def test_light_commands_import_no_tensorflow(args):
    code = (
        "import sys\nfrom dlcli.cli import main\nsys.argv = ['dlcli', *%r]\n"
        "code = 0\ntry:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY', heavy, code)\n" % (args,)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "HEAVY [] 0" in out, out


def _validate_in_subprocess(*args: str) -> tuple[int, bool]:
    """Exit code of `dlcli validate ARGS` in a fresh interpreter, and whether it imported pydantic."""
    code = (
        "import sys\nfrom dlcli.cli import main\nsys.argv = ['dlcli', 'validate', *%r]\ncode = 0\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
        "print('RESULT', code, 'pydantic' in sys.modules)\n" % (args,)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    _, code, imported = out.strip().splitlines()[-1].split()
    return int(code), imported == "True"


def test_validate_remembers_only_unchanged_valid_specs(tiny_spec):
    assert _validate_in_subprocess(str(tiny_spec)) == (0, True)  # cold: a real validation
    assert _validate_in_subprocess(str(tiny_spec)) == (0, False)  # same bytes: no pydantic
    assert _validate_in_subprocess("--no-cache", str(tiny_spec)) == (0, True)
    tiny_spec.write_text(tiny_spec.read_text().replace("epochs: 3", "epochs: -3"))
    assert _validate_in_subprocess(str(tiny_spec)) == (2, True)  # edited: validated again
    assert _validate_in_subprocess(str(tiny_spec)) == (2, True)  # failures are never cached


def test_validate_without_a_writable_cache(run_cli, tiny_spec, workdir, monkeypatch):
    (workdir / "not-a-dir").write_text("")
    monkeypatch.setenv("DLCLI_CACHE_DIR", str(workdir / "not-a-dir"))
    for _ in range(2):
        assert run_cli("validate", str(tiny_spec)).exit_code == 0


def test_validate_cache_sees_the_files_a_spec_names(workdir):
    folder = workdir / "specs"
    callback = write(folder / "my_callback.py", "import keras\n\n\nclass Hello(keras.callbacks.Callback):\n    pass\n")
    spec = write(folder / "custom.yaml", TINY_SPEC.replace("callbacks:\n", "callbacks:\n  - Custom: {path: my_callback.py:Hello}\n"))
    assert _validate_in_subprocess(str(spec)) == (0, True)
    assert _validate_in_subprocess(str(spec)) == (0, False)  # unchanged: remembered
    callback.write_text(callback.read_text() + "# edited\n")
    assert _validate_in_subprocess(str(spec)) == (0, True)  # the file it names changed: validated again
    callback.unlink()
    assert _validate_in_subprocess(str(spec)) == (2, True)  # deleted: the error, not a remembered "ok"


@pytest.mark.parametrize("name", ["../../escape", "a/b", ".hidden", "n" * 101])
def test_an_experiment_name_that_is_not_one_folder_is_refused(run_cli, workdir, name):
    spec = write(workdir / "named.yaml", f"name: '{name}'\n" + TINY_SPEC)
    result = run_cli("train", str(spec))
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert "named.yaml:1: name:" in result.stderr and "not a folder name" in result.stderr
    assert not (workdir / "runs").exists() and not (workdir.parent / "escape").exists()


THREE_LAYER_GRAPH = TINY_SPEC.replace(
    "  type: sequential\n  layers:\n    - Dense: {units: 8, activation: relu}\n    - Dense: {units: 3, activation: softmax}\n",
    "  type: graph\n  inputs: {x: {shape: [6]}}\n  nodes:\n    - {name: a, layer: Dense, args: {units: 8}, inputs: [x]}\n"
    "    - {name: y, layer: Dense, args: {units: 3, activation: softmax}, inputs: [a]}\n  outputs: {y: }\n")


@pytest.mark.parametrize("variable,spec,refused,allowed", [
    ("DLCLI_MAX_LAYERS", THREE_LAYER_GRAPH, "1", "2"),
    ("DLCLI_MAX_MODEL_BYTES", TINY_SPEC, "100", str(2**30)),  # 35 weights known before the data: 140 bytes
])
def test_validate_cache_sees_the_bounds_it_checks(run_cli, workdir, monkeypatch, variable, spec, refused, allowed):
    path = write(workdir / "bounded.yaml", spec)
    monkeypatch.setenv(variable, allowed)
    assert run_cli("validate", str(path)).exit_code == 0
    monkeypatch.setenv(variable, refused)
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and variable in result.stderr  # not the remembered "ok"


def test_list_reads_every_spec_within_the_same_bounds(run_cli, workdir, monkeypatch):
    import time

    folder = workdir / "experiments"
    write(folder / "bomb.yaml", "a0: &a0 [x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)) + "description: *a9\n")
    write(folder / "a-list.yaml", "- a\n- b\n")
    write(folder / "odd-reference.yaml", "description: fine\nreference: just a string\n")
    write(folder / "twice.yaml", "description: one\ndescription: two\n")
    monkeypatch.setenv("DLCLI_EXPERIMENTS_DIR", str(folder))
    started = time.perf_counter()
    result = run_cli("list", "--json")
    assert time.perf_counter() - started < HANG_GUARD_S  # the bomb expands to 1.7e9 values if constructed
    assert result.exit_code == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["experiments"]}
    assert "unreadable" in rows["bomb"]["description"] and "unreadable" in rows["a-list"]["description"]
    assert "unreadable" in rows["twice"]["description"] and rows["odd-reference"]["description"] == "fine"
