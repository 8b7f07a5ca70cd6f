"""--workers N: local processes of data-parallel training on JAX (dlcli.workers, training.distribution).

The launcher runs in a subprocess (its workers are subprocesses on JAX anyway); the refusals run
in-process. The spec's sizes divide by nothing: 900 training samples (4 left out of each pass of
global batches of 16), 300 validation and 30 test samples (partial last batches)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import TINY_SPEC, write

pytestmark = pytest.mark.training
REPOSITORY = Path(__file__).resolve().parents[1]
SPEC = TINY_SPEC.replace("num_samples: 96, num_test: 32", "num_samples: 1200, num_test: 30")


def _environment(root: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    environment.update(DLCLI_DATA_DIR=str(root / "data"), DLCLI_RUNS_DIR=str(root / "runs"), DLCLI_OFFLINE="1",
                       DLCLI_CACHE_DIR=str(root / "cache"), PYTHONPATH=str(REPOSITORY))
    return environment


def _dlcli(root: Path, *args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcli", *args], cwd=root, env=_environment(root),
                          capture_output=True, text=True, timeout=timeout)


def _start(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dlcli", *args], cwd=root, env=_environment(root),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _weights(run: Path) -> list[np.ndarray]:
    """The model weights of a run's last resume snapshot, in file order."""
    latest = json.loads((run / "state" / "latest.json").read_text())
    arrays = []
    with h5py.File(run / "state" / latest["snapshot"] / "weights.weights.h5") as stored:
        stored.visititems(lambda name, item: arrays.append(np.asarray(item)) if isinstance(item, h5py.Dataset) else None)
    return arrays


def _last_document(text: str) -> dict:
    """The JSON object that ends a log (a worker's --json result, after its progress lines)."""
    return json.loads(text[text.rindex("\n{\n") + 1:])


def _metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())["metrics"]


def _wait_for(condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def _epochs_done(run: Path) -> int:
    try:
        return len(json.loads((run / "history.json").read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The same spec trained by two workers and by one (the same global batches, in the same order)."""
    root = tmp_path_factory.mktemp("workers")
    write(root / "tiny.yaml", SPEC)
    runs = {}
    for count in (2, 1):
        result = _dlcli(root, "train", "tiny.yaml", "--workers", str(count), "--run-dir", f"runs/w{count}", "--json")
        assert result.returncode == 0, result.stderr[-2000:]
        assert json.loads(result.stdout)["status"] == "completed"  # process 0's document, nothing else on stdout
        runs[count] = root / "runs" / f"w{count}"
    return root, runs


def test_two_workers_train_as_one_process_would(trained):
    root, runs = trained
    for first, second in zip(_weights(runs[2]), _weights(runs[1])):
        np.testing.assert_allclose(first, second, rtol=0, atol=1e-6)
    two, one = _metrics(runs[2]), _metrics(runs[1])
    assert two.keys() == one.keys()
    for key in two:
        assert two[key] == pytest.approx(one[key], rel=1e-5, abs=1e-6), key
    info = json.loads((runs[2] / "run.json").read_text())
    assert info["workers"] == {"processes": 2, "coordinator": info["workers"]["coordinator"], "global_batch": 16,
                               "per_worker_batch": 8, "dropped_per_pass": 4, "steps_per_epoch": 56}
    assert info["backend"] == "jax"
    # the command the user typed, not process 0's own (which names a coordinator port that is gone)
    assert info["command"][1:] == ["train", "tiny.yaml", "--workers", "2", "--run-dir", "runs/w2", "--json"]
    # process 1 ends its log with its own result: the same metrics, from its own copy of the weights
    own = _last_document((runs[2] / "workers" / "1.log").read_text())
    assert own["metrics"] == pytest.approx(two, rel=1e-12)
    assert not (runs[1] / "workers").exists()  # one process writes no worker log


def test_validation_and_test_metrics_count_every_sample_once(trained):
    """300 validation and 30 test samples in batches of 16: the reported metrics are those of the
    saved model on the whole splits, one process, Keras' own evaluate (TensorFlow here)."""
    import keras

    from dlcli import datasets
    from dlcli.spec.loading import load_spec
    from dlcli.training.data import validation_split

    root, runs = trained
    spec, _ = load_spec(str(runs[2] / "spec.yaml"))
    bundle = datasets.load(spec.data)
    _, validation = validation_split(bundle, spec.fit.validation)
    model = keras.models.load_model(runs[2] / "model.keras")
    metrics = _metrics(runs[2])
    assert len(validation) % 16 and len(bundle.test) % 16
    for prefix, split in (("final_val_", validation), ("test_", bundle.test)):
        scores = model.evaluate(split.x, split.y, batch_size=len(split), return_dict=True, verbose=0)
        assert metrics[f"{prefix}loss"] == pytest.approx(scores["loss"], rel=1e-5)
        assert metrics[f"{prefix}accuracy"] == pytest.approx(scores["accuracy"], abs=1e-7)


def test_interrupted_multi_worker_run_resumes_with_another_count_as_if_never_stopped(trained, workdir):
    root, runs = trained
    run = root / "runs" / "stopped"
    launcher = _start(root, "train", "tiny.yaml", "--workers", "2", "--run-dir", "runs/stopped", "-q")
    _wait_for(lambda: _epochs_done(run) >= 1)
    launcher.send_signal(signal.SIGINT)
    _, err = launcher.communicate(timeout=120)
    assert launcher.returncode == 130, err[-2000:]
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "interrupted" and _epochs_done(run) < 3
    resumed = _dlcli(root, "resume", str(run), "--workers", "1", "--json")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    for first, second in zip(_weights(run), _weights(runs[2])):
        np.testing.assert_allclose(first, second, rtol=0, atol=1e-6)
    for key, value in _metrics(runs[2]).items():
        assert _metrics(run)[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    assert json.loads((run / "run.json").read_text())["resumes"][-1]["workers"]["processes"] == 1


def test_a_killed_worker_fails_the_run_and_leaves_no_process(trained):
    root, _ = trained
    run = root / "runs" / "killed"
    launcher = _start(root, "train", "tiny.yaml", "--workers", "2", "--run-dir", "runs/killed", "--epochs", "50", "-q")
    _wait_for(lambda: _epochs_done(run) >= 1)
    workers = _children(launcher.pid)
    assert len(workers) == 2
    second = next(pid for pid in workers if "--process-id\x001\x00" in Path(f"/proc/{pid}/cmdline").read_text())
    os.kill(second, signal.SIGKILL)
    _, err = launcher.communicate(timeout=60)
    assert launcher.returncode == 1
    assert "worker 1" in err.strip().splitlines()[-1]
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "failed" and info["failed_worker"] == 1 and "worker 1" in info["error"]
    assert not any(_alive(pid) for pid in workers)
    assert (run / "workers" / "1.log").is_file()


def test_a_completed_run_is_refused_before_any_worker_starts(trained):
    root, runs = trained
    result = _dlcli(root, "resume", str(runs[2]), "--workers", "2", timeout=60)
    assert result.returncode == 2 and "completed" in result.stderr
    assert json.loads((runs[2] / "run.json").read_text())["status"] == "completed"


def test_workers_die_with_their_launcher(trained):
    root, _ = trained
    launcher = _start(root, "train", "tiny.yaml", "--workers", "2", "--run-dir", "runs/orphans", "-q")
    _wait_for(lambda: len(_children(launcher.pid)) == 2, timeout=30)
    workers = _children(launcher.pid)
    launcher.kill()  # SIGKILL: the launcher can do nothing about it
    launcher.wait()
    _wait_for(lambda: not any(_alive(pid) and _state(pid) != "Z" for pid in workers), timeout=10)


def _state(pid: int) -> str:
    """A process's state letter (Z: a zombie, ended and waiting for its parent to read its status)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_workers_on_tensorflow_exit_2(run_cli, tiny_spec, workdir):
    result = run_cli("train", str(tiny_spec), "--workers", "2", "--backend", "tensorflow")
    assert result.exit_code == 2
    assert "jax" in result.stderr.lower()
    assert not (workdir / "runs").exists()


def test_a_global_batch_that_does_not_divide_among_the_workers_exits_2(run_cli, tiny_spec, workdir):
    result = run_cli("train", str(tiny_spec), "--workers", "3")
    assert result.exit_code == 2
    assert "16" in result.stderr and "3" in result.stderr
    assert not (workdir / "runs").exists()


def test_one_worker_flags_go_together(run_cli, tiny_spec, workdir):
    result = run_cli("train", str(tiny_spec), "--coordinator", "127.0.0.1:1234", "--num-processes", "2")
    assert result.exit_code == 2 and "--process-id" in result.stderr
    result = run_cli("train", str(tiny_spec), "--workers", "2", "--coordinator", "127.0.0.1:1234",
                     "--num-processes", "2", "--process-id", "0")
    assert result.exit_code == 2
    assert not (workdir / "runs").exists()


def test_a_worker_finds_its_cluster_in_options_then_keras_variables_then_slurm():
    from dlcli.errors import UsageError
    from dlcli.training.distribution import Cluster, cluster_from

    assert cluster_from(environ={}) is None  # one process
    assert cluster_from("10.0.0.1:1234", 4, 3, environ={}) == Cluster("10.0.0.1:1234", 4, 3)
    assert cluster_from(environ={"KERAS_DISTRIBUTION_NUM_PROCESSES": "2"}) == Cluster()  # Keras reads them
    assert cluster_from(environ={"SLURM_STEP_NUM_TASKS": "4"}) == Cluster()  # JAX reads SLURM's
    assert cluster_from(environ={"SLURM_STEP_NUM_TASKS": "1"}) is None  # one task of srun: one process
    with pytest.raises(UsageError, match="between 0 and 3"):
        cluster_from("10.0.0.1:1234", 4, 4, environ={})


def test_the_failure_blamed_is_the_worker_killed_not_the_one_that_noticed():
    # worker 0 exits with an error because worker 1 was killed; one look at the processes finds both
    from dlcli.workers import _first_failure

    assert _first_failure([0, 1], {0: 1, 1: -signal.SIGKILL}) == 1
    assert _first_failure([0, 1], {0: 1, 1: 3}) == 0
    assert _first_failure([0, 1], {0: 0, 1: 130}) is None
    assert _first_failure([1], {0: 1, 1: 0}) is None
