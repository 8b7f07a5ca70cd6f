"""dlcli in the shell: missing data refused before TensorFlow loads, completion, colour and progress."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write

# Stand-ins for the heavy libraries, first on PYTHONPATH: importing one, in the command or in any
# process it starts (--workers), leaves a file named after it. Refusing early is the point of not
# paying for TensorFlow (or Keras, or JAX, which the workers train on).
HEAVY = ("tensorflow", "keras", "jax")
STAND_IN = """
import os, pathlib
pathlib.Path(os.environ["IMPORTED_DIR"], __name__).touch()
raise ImportError(__name__ + " was imported")
"""


def probe(*args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`dlcli ARGS` run in a fresh process, and the heavy libraries it (or a process it started) imported."""
    cwd = Path.cwd()
    for name in HEAVY:
        write(cwd / "stand-ins" / name / "__init__.py", STAND_IN)
    (cwd / "imported").mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "dlcli", *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "HOME": str(cwd), "PYTHONPATH": str(cwd / "stand-ins"),
                               "IMPORTED_DIR": str(cwd / "imported"), **(env or {})})
    return done, sorted(path.name for path in (cwd / "imported").iterdir())


def refused(*args: str, env: dict | None = None) -> tuple[int, str, list[str]]:
    """The exit code, stderr and heavy imports of a command expected to refuse."""
    done, imported = probe(*args, env=env)
    return done.returncode, done.stderr.strip(), imported


def interrupted_mnist_run(workdir: Path) -> Path:
    """A hand-made interrupted run of mnist-dense (its spec as `show` writes it, a model file)."""
    from dlcli.api import show
    from dlcli.runs.records import FORMAT

    run = workdir / "runs" / "mnist-dense" / "20261203-101500"
    write(run / "spec.yaml", show("mnist-dense"))
    write(run / "run.json", json.dumps({"status": "interrupted", "experiment": "mnist-dense", "backend": "tensorflow",
                                      "format": FORMAT}))
    write(run / "model.keras", "stand-in: never read, the data is refused first")
    return run


@pytest.mark.parametrize("args", [
    ["train", "mnist-dense"],
    ["train", "mnist-dense", "--workers", "2"],
    ["sweep", "mnist-dense", "--param", "fit.batch_size=64,128", "--metric", "test_accuracy"],
    ["visualize", "filters", "--model", "vgg16"],
])
def test_missing_data_or_weights_offline_is_one_line_before_tensorflow(args, workdir):
    code, stderr, imported = refused(*args)
    assert (code, imported) == (3, [])
    assert stderr.startswith("error: ") and len(stderr.splitlines()) == 1
    assert "DLCLI_OFFLINE is set" in stderr and "dlcli data import" in stderr
    assert not (workdir / "runs").exists() and not (workdir / "sweeps").exists()  # nothing half-made


@pytest.mark.parametrize("command", [["resume"], ["resume", "--workers", "2"]])
def test_a_run_whose_data_is_gone_is_refused_before_tensorflow(command, workdir):
    run = interrupted_mnist_run(workdir)
    code, stderr, imported = refused(command[0], str(run), *command[1:])
    assert (code, imported) == (3, []), stderr
    assert "dataset 'mnist' is not in the cache" in stderr
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"


def test_a_pretrained_layer_without_its_weights_is_refused_before_tensorflow(workdir):
    spec = write(workdir / "frozen.yaml", """
        data: {name: digits}
        model: {type: sequential, layers: [{Pretrained: {network: mobilenetv2}}, Flatten, {Dense: {units: 10}}]}
        compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
        fit: {epochs: 1, batch_size: 8}
        """)
    code, stderr, imported = refused("train", str(spec))
    assert (code, imported) == (3, [])
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in stderr


def test_online_a_dataset_without_a_url_is_still_refused_before_tensorflow(workdir):
    code, stderr, imported = refused("train", "cats-dogs-scratch", env={"DLCLI_OFFLINE": "0"})
    assert (code, imported) == (3, []) and "dlcli data split cats-vs-dogs" in stderr


# --------------------------------------------------------------------------- completion

MODEL_CONFIG = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
    {"class_name": "InputLayer", "config": {"name": "input_layer"}},
    {"class_name": "Functional", "name": "vgg16", "config": {"name": "vgg16", "layers": [
        {"class_name": "Conv2D", "config": {"name": "block1_conv1"}}]}},
    {"class_name": "Dense", "config": {"name": "dense", "dtype": {"class_name": "DTypePolicy",
                                                                  "config": {"name": "float32"}}}}]}}


def completed_run(workdir: Path, experiment: str, stamp: str) -> Path:
    from dlcli.runs.records import FORMAT

    run = workdir / "runs" / experiment / stamp
    write(run / "run.json", json.dumps({"status": "completed", "experiment": experiment, "format": FORMAT}))
    write(run / "model.json", json.dumps(MODEL_CONFIG))
    return run


def completions(run_cli, monkeypatch, line: str) -> list[tuple[str, str]]:
    """(type, value) of what `dlcli` answers bash for the command line `line` (its last word incomplete)."""
    words = line.split(" ")
    monkeypatch.setenv("_DLCLI_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", line)
    monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    result = run_cli()
    assert result.exit_code == 0 and result.stderr == ""
    return [tuple(item.split(",", 1)) for item in result.stdout.splitlines()]


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F"), ("zsh", "compdef"),
                                           ("fish", "complete --no-files --command dlcli")])
def test_completion_prints_each_shells_script(run_cli, shell, marker):
    result = run_cli("completion", shell)
    assert result.exit_code == 0 and marker in result.stdout and f"_DLCLI_COMPLETE={shell}_complete" in result.stdout


@pytest.mark.parametrize("shell, script", [
    ("bash", 'eval "$(dlcli completion bash)"; COMP_WORDS=(dlcli train digits-c); COMP_CWORD=2; '
             '_dlcli_completion dlcli 2>/dev/null; printf "%s\\n" "${COMPREPLY[@]}"'),  # compopt: only inside Tab
    ("fish", 'dlcli completion fish | source; complete -C "dlcli train digits-c"'),
])
def test_a_real_shell_completes_a_name_with_the_script_dlcli_prints(shell, script, workdir):
    """The script runs in the shell itself (Click 8.4.0 and 8.4.1 printed a fish script that breaks)."""
    import shutil

    if shutil.which(shell) is None or shutil.which("dlcli") is None:
        pytest.skip(f"{shell} or the dlcli command is not installed here")
    done = subprocess.run([shell, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DLCLI_RUNS_DIR": str(workdir / "runs")})
    assert "digits-convnet" in done.stdout.split(), (done.stdout, done.stderr)
    assert done.stderr == "", done.stderr


def test_completing_imports_no_tensorflow_and_answers_names(workdir):
    done, imported = probe(env={"_DLCLI_COMPLETE": "bash_complete", "COMP_WORDS": "dlcli train mnist-d",
                                "COMP_CWORD": "2"})
    assert imported == [] and done.returncode == 0
    assert done.stdout.splitlines() == ["file,mnist-d", "plain,mnist-dense"]


def test_spec_paths_complete_as_file_names(run_cli, monkeypatch):
    assert completions(run_cli, monkeypatch, "dlcli train ./sp") == [("file", "./sp")]
    assert completions(run_cli, monkeypatch, "dlcli validate lenet")[0] == ("file", "lenet")  # first: bash's rule
    assert ("file", "") in completions(run_cli, monkeypatch, "dlcli visualize gradcam ")  # an image


def test_dataset_names_complete_for_download_and_import(run_cli, monkeypatch):
    assert completions(run_cli, monkeypatch, "dlcli data download fa") == [("plain", "fashion_mnist")]
    importable = completions(run_cli, monkeypatch, "dlcli data import ")
    assert ("plain", "weights") in importable and ("plain", "digits") not in importable  # shipped: nothing to import


def test_runs_complete_as_experiment_names_then_run_directories(run_cli, monkeypatch, workdir):
    completed_run(workdir, "tiny", "20261203-101500")
    completed_run(workdir, "tiny", "20261203-111500")
    assert completions(run_cli, monkeypatch, "dlcli compare ti") == [("dir", "ti"), ("plain", "tiny")]
    assert completions(run_cli, monkeypatch, "dlcli report runs/tiny/") == [
        ("dir", "runs/tiny/"), ("plain", "runs/tiny/20261203-101500"), ("plain", "runs/tiny/20261203-111500")]
    absolute = completions(run_cli, monkeypatch, f"dlcli evaluate {workdir}/runs/tiny/2026120")
    assert [value for kind, value in absolute if kind == "plain"] == [
        f"{workdir}/runs/tiny/20261203-101500", f"{workdir}/runs/tiny/20261203-111500"]


def test_plot_completes_history_files_too(run_cli, monkeypatch, workdir):
    """plot reads Keras' history JSON and CSVLogger files as well as runs: bash completes file names
    (a 'file' item), not folders alone (a 'dir' item)."""
    completed_run(workdir, "tiny", "20261203-101500")
    assert completions(run_cli, monkeypatch, "dlcli plot ti") == [("file", "ti"), ("plain", "tiny")]
    assert completions(run_cli, monkeypatch, "dlcli plot runs/tiny/")[0] == ("file", "runs/tiny/")


def test_predict_completes_model_files_and_networks_as_model_does(run_cli, monkeypatch, workdir):
    completed_run(workdir, "tiny", "20261203-101500")
    assert completions(run_cli, monkeypatch, "dlcli predict ti") == [("file", "ti"), ("plain", "tiny")]
    assert ("plain", "vgg16") in completions(run_cli, monkeypatch, "dlcli predict vg")


def test_layer_names_come_from_the_runs_model_json_nested_ones_included(run_cli, monkeypatch, workdir):
    run = completed_run(workdir, "tiny", "20261203-101500")
    assert completions(run_cli, monkeypatch, f"dlcli visualize filters --model {run} --layer ") == [
        ("plain", "block1_conv1"), ("plain", "dense")]
    by_name = completions(run_cli, monkeypatch, "dlcli visualize gradcam x.png --model tiny --layer bl")
    assert by_name == [("plain", "block1_conv1")]  # the run it took is not said mid-line (stderr is empty)


def test_layer_names_come_from_a_keras_files_config(run_cli, monkeypatch, workdir):
    import zipfile

    with zipfile.ZipFile(workdir / "model.keras", "w") as archive:
        archive.writestr("config.json", json.dumps(MODEL_CONFIG))
    assert completions(run_cli, monkeypatch, "dlcli visualize activations x.png --model model.keras --layers d") == [
        ("plain", "dense")]


# --------------------------------------------------------------------------- colour and progress


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def on_a_terminal(command: list[str], env: dict) -> bytes:
    """What `dlcli COMMAND` writes to a real terminal (a pseudo-terminal for stdout and stderr)."""
    import pty

    main, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "dlcli", *command], stdin=secondary, stdout=secondary,
                               stderr=secondary, env={**os.environ, **env})
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=120) == 0, output
    os.close(main)
    return output


@pytest.mark.training
def test_no_color_takes_the_colour_out_of_keras_progress_bar_on_a_terminal(tiny_spec):
    output = on_a_terminal(["train", str(tiny_spec), "--epochs", "1"], {"NO_COLOR": "1"})
    assert "━".encode() in output  # Keras' bar was drawn (verbose 1: a terminal)...
    assert b"\x1b[" not in output  # ...without its bold and green


def test_colour_is_allowed_only_on_a_terminal_without_no_color(monkeypatch):
    from dlcli.terminal import colour_allowed

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert colour_allowed(Terminal()) and not colour_allowed(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_allowed(Terminal())
    monkeypatch.setenv("NO_COLOR", "")  # present but empty: no-color.org says colour stays
    assert colour_allowed(Terminal())
    monkeypatch.setenv("TERM", "dumb")
    assert not colour_allowed(Terminal())


def test_a_pipe_gets_no_colour_codes(monkeypatch):
    from dlcli.terminal import session

    piped = io.StringIO()
    monkeypatch.setattr(sys, "stdout", piped)
    with session():
        print("\x1b[1m5/5\x1b[0m \x1b[32m━━\x1b[0m")
    assert piped.getvalue() == "5/5 ━━\n"


def test_progress_bars_only_on_a_terminal_and_not_when_silenced(monkeypatch):
    from dlcli import terminal

    cases = ((Terminal(), False, True), (io.StringIO(), False, False), (Terminal(), True, False))
    for stream, silenced, drawn in cases:
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.setattr(sys, "stdout", io.StringIO())
        monkeypatch.setattr(terminal, "_silenced", silenced)
        with terminal.progress("importing", 4) as advance:
            for _ in range(4):
                advance(1)
        assert ("importing" in stream.getvalue()) == drawn and sys.stdout.getvalue() == ""


def test_quiet_and_json_silence_the_bars(run_cli, tiny_spec, monkeypatch):
    from dlcli import terminal

    seen = []
    monkeypatch.setattr(terminal, "silence", lambda: seen.append(True))
    from dlcli.cli import options

    monkeypatch.setattr(options, "silence", terminal.silence)
    run_cli("show", str(tiny_spec))
    assert seen == []
    run_cli("validate", str(tiny_spec), "--json")
    run_cli("train", "no-such-experiment", "-q")  # refused at once, after the options were read
    assert seen == [True, True]


def test_a_long_import_draws_its_bar_on_stderr_only(monkeypatch, workdir):
    from dlcli.datasets.glove import _count_lines

    vectors = write(workdir / "glove.6B.1d.txt", "the 0.5\nof 0.25\n")
    monkeypatch.setattr(sys, "stderr", Terminal())
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert _count_lines(vectors) == 2
    assert "counting the words of glove.6B.1d.txt" in sys.stderr.getvalue() and sys.stdout.getvalue() == ""
