"""`--workers N`: N local processes of one data-parallel run, started, watched and stopped together.

Each worker is `python -m dlcli train|resume ... --coordinator 127.0.0.1:PORT --num-processes N
--process-id I` (training.distribution): JAX's coordinator on a free loopback port, and the run
directory chosen here (process 0 makes it there). Process 0 writes the run and prints its outcome
on this command's stdout and stderr; the others' output goes to a temporary log, copied into the
run's `workers/I.log` once every worker has ended. Only then does this launcher write into the run
(the logs; a failure process 0 could not record), holding its lock: while the workers run, process
0 is its only writer.

The workers share a process group of their own, so a Ctrl-C reaches this launcher only, which
passes it on as SIGINT: they agree on the batch to stop at, and process 0 closes the run
`interrupted` (exit 130). A second Ctrl-C kills them all. One worker that fails fails the run:
the others get GRACE_S to end, then SIGKILL; run.json names the worker and its log's last lines
(exit 1). Each worker also dies with this launcher (Linux PR_SET_PDEATHSIG), so none is left
behind however it ends. Nothing here imports Keras.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dlcli.errors import EXIT_DATA, EXIT_INTERRUPTED, EXIT_USAGE, RunFailed
from dlcli.runs import Run, layout
from dlcli.runs.location import new_run_names, runs_root
from dlcli.runs.records import LAUNCHER_COMMAND, command_line

GRACE_S = 3.0  # how long the other workers have to end by themselves once one has failed
STOP_WAIT_S = 60.0  # how long a Ctrl-C waits for the workers to close the run before killing them
LOG_LINES = 5  # the last lines of a failed worker's log that run.json keeps
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A loopback port free now, for JAX's coordinator (process 0 binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def planned_run_dir(experiment: str, explicit: str | None) -> Path:
    """Where process 0 will make the run: --run-dir, else a new runs/<experiment>/<time>[-N]."""
    if explicit is not None:
        Run.check_writable(experiment, explicit)
        return Path(explicit)
    Run.check_writable(experiment)
    return next(path for path in new_run_names(runs_root() / experiment) if not path.exists())


def _dying_with(parent: int):
    """What a child runs before exec: SIGKILL when the launcher dies (Linux; elsewhere nothing),
    and an end at once if it died already, before the request was made."""
    def request() -> None:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:
            os._exit(1)

    return request


def _environment() -> dict[str, str]:
    """The launcher's environment, with this very dlcli importable by `python -m dlcli`."""
    package_root = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else ""),
            LAUNCHER_COMMAND: json.dumps(command_line())}  # what the run records as its command


class Workers:
    """N worker processes in one process group; worker 0's output is this process's own."""

    def __init__(self, commands: list[list[str]], log_folder: Path):
        self.commands, self.log_folder = commands, log_folder
        self.processes: list[subprocess.Popen] = []
        self.codes: dict[int, int] = {}
        self.signals = 0

    def log(self, index: int) -> Path:
        return self.log_folder / f"{index}.log"

    def start(self) -> None:
        environment = _environment()
        for index, command in enumerate(self.commands):
            group = {"process_group": 0} if index == 0 else {"process_group": self.processes[0].pid}
            output = None if index == 0 else open(self.log(index), "wb")
            try:
                self.processes.append(subprocess.Popen(command, env=environment, stdout=output, stderr=output,
                                                       stdin=subprocess.DEVNULL, preexec_fn=_dying_with(os.getpid()),
                                                       **group))
            finally:
                if output is not None:
                    output.close()

    def _signal_all(self, signum: int) -> None:
        try:
            os.killpg(self.processes[0].pid, signum)
        except ProcessLookupError:  # every worker has ended
            pass

    def _on_signal(self, signum, frame) -> None:
        self.signals += 1
        self._signal_all(signal.SIGINT if self.signals == 1 else signal.SIGKILL)

    def watch(self) -> int | None:
        """Wait for every worker; return the index of the first that failed (None: none did). The
        others are stopped GRACE_S after a failure, and all after a second Ctrl-C."""
        handlers = {signum: signal.signal(signum, self._on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
        failed, failed_at, stopped_at = None, None, None
        try:
            while len(self.codes) < len(self.processes):
                ended = [index for index, process in enumerate(self.processes)
                         if index not in self.codes and process.poll() is not None]
                for index in ended:
                    self.codes[index] = self.processes[index].returncode
                if failed is None and not self.signals:
                    failed = _first_failure(ended, self.codes)
                    failed_at = time.monotonic() if failed is not None else None
                now = time.monotonic()
                if failed_at is not None and now - failed_at > GRACE_S or \
                        self.signals and (stopped_at := stopped_at or now) and now - stopped_at > STOP_WAIT_S:
                    self._signal_all(signal.SIGKILL)
                time.sleep(0.05)
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            self._signal_all(signal.SIGKILL)  # a worker's own children, if any were left
        return failed

    def last_lines(self, index: int) -> str:
        """The end of a worker's log, one line (worker 0's went to the terminal: its exit code only)."""
        if index == 0 or not self.log(index).is_file():
            return ""
        lines = [line.strip() for line in self.log(index).read_text(errors="replace").splitlines() if line.strip()]
        return " | ".join(lines[-LOG_LINES:])[-600:]


def _first_failure(ended: list[int], codes: dict[int, int]) -> int | None:
    """Of the workers found ended at one look, the one whose failure came first: a worker killed by a
    signal before one that exited with an error, which is most often the others noticing it."""
    failures = [index for index in ended if codes[index] not in (0, EXIT_INTERRUPTED)]
    return min(failures, key=lambda index: (codes[index] >= 0, index), default=None)


def _worker_commands(action: list[str], count: int, run_dir: Path, options: list[str]) -> list[list[str]]:
    coordinator = f"127.0.0.1:{free_port()}"
    return [[sys.executable, "-m", "dlcli", *action, "--backend", "jax", "--coordinator", coordinator,
             "--num-processes", str(count), "--process-id", str(index),
             *(["--run-dir", str(run_dir)] if action[0] == "train" else []),
             *(options if index == 0 else ["--json"])]  # a log ends with its worker's whole result
            for index in range(count)]


def launch_train(name_or_path: str, spec, count: int, overrides: list[str], run_dir: str | None,
                 options: list[str]) -> dict[str, Any]:
    """`dlcli train NAME --workers N`: see the module docstring."""
    from dlcli.training.distribution import check_backend, check_batches

    check_batches(spec, count)
    check_backend()
    target = planned_run_dir(spec.name, run_dir)
    action = ["train", str(name_or_path), *(part for text in overrides for part in ("--set", text))]
    return _launch(_worker_commands(action, count, target, options), target)


def launch_resume(run: Run, spec, count: int, epochs: int | None, force: bool, options: list[str]) -> dict[str, Any]:
    """`dlcli resume RUN --workers N`: see the module docstring."""
    from dlcli.training.distribution import check_backend, check_batches
    from dlcli.training.resuming import resumable_status

    resumable_status(run, force)  # a run that does not resume is refused before any process starts
    check_batches(spec, count)
    check_backend()
    action = ["resume", str(run.path), *(["--epochs", str(epochs)] if epochs is not None else []),
              *(["--force"] if force else [])]
    return _launch(_worker_commands(action, count, run.path, options), run.path)


def _launch(commands: list[list[str]], run_dir: Path) -> dict[str, Any]:
    log_folder = Path(tempfile.mkdtemp(prefix="dlcli-workers-"))
    workers = Workers(commands, log_folder)
    try:
        workers.start()
        failed = workers.watch()
        return _conclude(workers, failed, run_dir)
    finally:
        shutil.rmtree(log_folder, ignore_errors=True)


def _conclude(workers: Workers, failed: int | None, run_dir: Path) -> dict[str, Any]:
    """Keep the logs in the run, record what the workers could not, and say how it ended."""
    run = Run.open(run_dir, writer=True) if (run_dir / layout.INFO.name).is_file() else None
    try:
        if run is not None:
            for index in range(1, len(workers.processes)):
                if workers.log(index).is_file():
                    shutil.copyfile(workers.log(index), run.output(layout.WORKER_LOG, index=index))
        chief = workers.codes.get(0)
        if chief in (EXIT_USAGE, EXIT_DATA):  # process 0 refused the command and said why; the others followed
            return {"run_dir": None, "status": None, "exit_code": chief}
        if failed is not None:
            return _failed(workers, failed, run)
        if workers.signals and run is not None and run.info.get("status") == "running":
            run.update(status="interrupted", signal="SIGINT")  # process 0 was killed before it closed the run
        status = run.info.get("status") if run is not None else None
        code = EXIT_INTERRUPTED if workers.signals and chief in (0, EXIT_INTERRUPTED, -signal.SIGKILL) else chief
        return {"run_dir": str(run_dir) if run is not None else None, "status": status, "exit_code": code}
    finally:
        if run is not None:
            run.release()


def _failed(workers: Workers, index: int, run: Run | None) -> dict[str, Any]:
    """One worker failed: the run failed, naming it and the end of its log (exit 1)."""
    from dlcli.runs.records import failure_fields

    code = workers.codes[index]
    how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    lines = workers.last_lines(index)
    why = f"worker {index} {how}" + (f": {lines}" if lines else "")
    if run is not None and (index != 0 or run.info.get("status") == "running"):
        run.record_failure(**failure_fields(why, run.info.get("duration_s"), None), failed_worker=index)
    where = f" (run directory: {run})" if run is not None else ""
    raise RunFailed(f"run failed: {why}{where}", str(run) if run is not None else None, why)
