"""`dlcli tensorboard`: the real TensorBoard server on the logs of one or more runs (7.7-7.9's
`tensorboard --logdir=my_log_dir`), each run shown as `<experiment>/<run directory>/train|validation`.

TensorBoard reads one folder (its embedding projector works only with `--logdir`, not with
`--logdir_spec`): the runs' log folders are linked into a temporary folder, removed on exit."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from dlcli.errors import UsageError
from dlcli.runs import Run, layout


def link_logs(run_paths: list[str], folder: Path) -> int:
    """Link each run's logs/ into `folder` as <experiment>/<run>; how many were linked."""
    seen: set[Path] = set()
    for path in run_paths:
        run = Run.open(path)
        logs = run.file(layout.LOGS)
        if not logs.is_dir():
            raise UsageError(f"{run}: no TensorBoard logs; add `- TensorBoard: {{histogram_freq: 1}}` to the spec's "
                             f"callbacks and train it again")
        if not logs.resolve().is_relative_to(run.path.resolve()):  # a link out of the run: never served
            raise UsageError(f"{logs}: leads out of the run directory (to {logs.resolve()}); TensorBoard serves a "
                             f"run's own logs only")
        if logs.resolve() in seen:
            raise UsageError(f"{run}: given twice")
        seen.add(logs.resolve())
        link = folder / re.sub(r"[^\w.-]", "-", run.experiment) / re.sub(r"[^\w.-]", "-", run.path.name)
        name, number = link.name, 1
        while link.exists():  # two runs in folders of the same name (trial 0000 of two sweeps)
            number += 1
            link = link.with_name(f"{name}-{number}")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(logs.resolve(), target_is_directory=True)
    return len(run_paths)


class Server:
    """TensorBoard serving the runs' logs in this process (its own threads) until `close`."""

    def __init__(self, run_paths: list[str], host: str = "127.0.0.1", port: int | None = None):
        self.folder = Path(tempfile.mkdtemp(prefix="dlcli-tensorboard-"))
        try:
            link_logs(run_paths, self.folder)
            self.url = self._launch(host, port)
        except BaseException:
            self.close()
            raise

    def _launch(self, host: str, port: int | None) -> str:
        try:
            from dlcli.backend import import_keras

            import_keras()  # TensorFlow, imported quietly, before TensorBoard imports it loudly
            from tensorboard import program
        except ImportError:
            raise UsageError("dlcli tensorboard needs the tensorboard package: pip install tensorboard") from None
        server = program.TensorBoard()
        argv = [None, "--logdir", str(self.folder), "--host", host, "--load_fast", "false"]
        server.configure(argv=argv + (["--port", str(port)] if port is not None else []))
        try:
            return server.launch()
        except program.TensorBoardServerException as error:
            raise UsageError(f"TensorBoard cannot start: {error.msg} (choose another --port)") from None

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
