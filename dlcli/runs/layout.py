"""The layout of a run directory (a **contract**): every file and folder a run may hold.

`Run.file` and `Run.output` take their names from here and refuse any other, so a reader (the
`runs` listing, a report, a worker's log) finds every file of a run in this one list. A name is
a path relative to the run directory; `{fold}`, `{phase}`, `{epoch}`, `{index}` stand for one
path component each (`FOLD_HISTORY.at(fold=2)` is `folds/fold-2/history.json`). What an *open*
folder holds beyond the entries listed under it belongs to its writer (Keras' TensorBoard logs,
a resume snapshot's files, pictures); a closed folder (folds/, state/) holds only its entries.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass(frozen=True)
class Entry:
    """One file or folder of a run: its name (a path, maybe with {placeholders}), whether it is a
    folder, what writes it, what it holds, whether every run has it, and whether (a folder) it
    holds files the layout does not name."""

    name: str
    folder: bool
    writer: str
    description: str
    optional: bool = True
    open: bool = False

    def at(self, **parts: object) -> str:
        """The name with its placeholders filled in."""
        return self.name.format(**parts)

    @functools.cached_property
    def _pattern(self) -> re.Pattern:
        return re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(self.name)))

    def matches(self, name: str) -> bool:
        return self._pattern.fullmatch(name) is not None

    def __str__(self) -> str:
        return self.name


def _file(name: str, writer: str, description: str, optional: bool = True) -> Entry:
    return Entry(name, False, writer, description, optional)


def _folder(name: str, writer: str, description: str, open: bool = True) -> Entry:
    return Entry(name, True, writer, description, open=open)


SPEC = _file("spec.yaml", "training.lifecycle (start; resume --epochs)", "the resolved, validated spec", False)
INFO = _file("run.json", "runs.records through Run (start, resume, close, failure)",
             "status, times, command, versions, backend, device, process, data, resumes, error", False)
LOCK = _file(".lock", "Run.create / Run.lock (dlcli.locking)", "names the process that holds the run for writing", False)
VOCABULARY = _file("vocabulary.txt", "training.lifecycle (text runs, at start)",
                   "the tokens evaluate and predict must reuse, one a line")
VOCABULARY_JSON = _file("vocabulary.json", "training.lifecycle (text runs whose tokens hold a line break, at start)",
                        "the tokens as one JSON list of strings, for a vocabulary vocabulary.txt cannot hold "
                        "(a character model's: a newline is one of its tokens)")
MODEL_CONFIG = _file("model.json", "models.describing (at start)", "the model's Keras config")
MODEL_SUMMARY = _file("summary.txt", "models.describing (at start)", "the model's Keras summary")
MODEL_PLOT = _file("model.png", "models.describing (at start, when Graphviz is installed)", "the model's graph")
CALLBACKS = _folder("callbacks", "training.callback_copies (at start)", "copies of the spec's custom callback files",
                    open=False)
CALLBACK_COPY = _file("callbacks/{index}-{file}", "training.callback_copies (at start)", "one custom callback's code")
HISTORY = _file("history.json", "training.fit_callbacks (after every completed epoch)",
                "per-epoch metrics of the fit (of k-fold runs: the mean over folds)")
HISTORY_CSV = _file("history.csv", "training.fit_callbacks (after every completed epoch)", "history.json as Keras' CSVLogger writes it")
RETRAIN_HISTORY = _file("retrain_history.json", "training.fit_callbacks (retrain phase)", "per-epoch metrics of fit.retrain")
RETRAIN_HISTORY_CSV = _file("retrain_history.csv", "training.fit_callbacks (retrain phase)", "retrain_history.json as CSV")
FOLDS = _folder("folds", "training.trainer (k-fold runs)", "one folder per fold", open=False)
FOLD = _folder("folds/fold-{fold}", "training.trainer (k-fold runs)", "one fold's history and result", open=False)
FOLD_HISTORY = _file("folds/fold-{fold}/history.json", "training.fit_callbacks (k-fold runs)", "one fold's per-epoch metrics")
FOLD_HISTORY_CSV = _file("folds/fold-{fold}/history.csv", "training.fit_callbacks (k-fold runs)", "one fold's history as CSV")
FOLD_RESULT = _file("folds/fold-{fold}/result.json", "training.trainer (k-fold runs)",
                    "a finished fold's history and scores; resume skips the fold")
STATE = _folder("state", "training.state (after every completed epoch)", "what `dlcli resume` continues from",
                open=False)
STATE_LATEST = _file("state/latest.json", "training.state", "the phase, epoch and snapshot to resume from")
STATE_SNAPSHOT = _folder("state/{phase}-epoch-{epoch}", "training.state",
                         "weights.weights.h5 (weights, optimizer) and arrays.npz (callbacks', seeds' states)")
METRICS = _file("metrics.json", "training.lifecycle (close); dlcli check (checking) rewrites its verdict",
                "final metrics and the reference verdict")
MODEL = _file("model.keras", "training.lifecycle (close)", "the model of the last completed epoch")
CONFUSION = _file("confusion.json", "training.confusion (after the test evaluation of a single-output classifier)",
                  "the test split's confusion matrix: class names, counts by true and predicted class")
CHECKPOINTS = _folder("checkpoints", "Keras' ModelCheckpoint (spec callback)", "the checkpoints the spec asks for")
BEST_MODEL = _file("checkpoints/best.keras", "Keras' ModelCheckpoint (spec callback)", "the best model by its monitor")
LOGS = _folder("logs", "Keras' TensorBoard and training.monitoring (spec callback)",
               "TensorBoard event files and the embedding projector")
ACTIVATIONS = _folder("activations", "training.monitoring ActivationLogger (spec callback)",
                      "layer outputs on validation samples, one file an epoch")
ACTIVATION_FILE = _file("activations/{phase}-epoch-{epoch}.npz", "training.monitoring ActivationLogger (spec callback)",
                        "every layer's output after one epoch, one array per layer name")
PLOTS = _folder("plots", "dlcli plot (plotting)", "curves drawn from the run's history")
VIZ = _folder("viz", "dlcli visualize (viz.jobs)", "pictures drawn from the run's model")
VIZ_INDEX = _file("viz/index.json", "Run.record_viz (viz.jobs)", "what drew each picture in viz/")
VIZ_INDEX_LOCK = _file("viz/.index.lock", "Run.record_viz", "one writer of viz/index.json at a time")
WORKERS = _folder("workers", "dlcli.workers (when the workers of a --workers run end)",
                  "the logs of the workers other than process 0")
WORKER_LOG = _file("workers/{index}.log", "dlcli.workers (when the workers end)",
                   "what worker I printed (process 0's output is the command's own)")
SAMPLES = _folder("samples", "training callbacks of chapter 8's models; dlcli generate", "generated text and images")
TEXT_SAMPLE = _file("samples/epoch_{epoch}.txt", "training.monitoring TextSampler (spec callback, after every epoch)",
                    "text sampled from the model after epoch {epoch} (001, 002...) at each temperature, from one seed")
GENERATED_TEXT = _file("samples/generate-{tag}.txt", "dlcli generate text (generation.text)",
                       "text generated from the run's model; the name says the seed and a hash of every option")
SAMPLES_GENERATED = _file("samples/generated-step-{step}.png", "generation.images (a gan's training, every "
                          "model.samples_every steps)", "the generator's images for fixed latent points at that step")
SAMPLES_REAL = _file("samples/real-step-{step}.png", "generation.images (a gan's training, beside the generated grid)",
                     "training images drawn at that step, for comparison")
GENERATED_IMAGES = _file("samples/images-seed-{seed}-count-{count}.png", "dlcli generate images (generation.images)",
                         "a grid of a gan's images from latent points drawn from the seed")
LATENT_GRID = _file("samples/latent-grid-{n}.png", "dlcli generate latent-grid (generation.latent_grid)",
                    "figure 8.14: a vae's decoder over an n x n grid of latent points")
REPORT = _file("report.html", "dlcli report (report.writing); training.lifecycle (close or failure; not with report: false)",
                 "the run's self-contained HTML page")

LAYOUT: tuple[Entry, ...] = (
    SPEC, INFO, LOCK, VOCABULARY, VOCABULARY_JSON, MODEL_CONFIG, MODEL_SUMMARY, MODEL_PLOT, CALLBACKS, CALLBACK_COPY,
    HISTORY, HISTORY_CSV, RETRAIN_HISTORY, RETRAIN_HISTORY_CSV, FOLDS, FOLD, FOLD_HISTORY, FOLD_HISTORY_CSV, FOLD_RESULT,
    STATE, STATE_LATEST, STATE_SNAPSHOT, METRICS, MODEL, CONFUSION, CHECKPOINTS, BEST_MODEL, LOGS, ACTIVATIONS, ACTIVATION_FILE,
    PLOTS, VIZ, VIZ_INDEX, VIZ_INDEX_LOCK, WORKERS, WORKER_LOG, SAMPLES, TEXT_SAMPLE, GENERATED_TEXT,
    SAMPLES_GENERATED, SAMPLES_REAL, GENERATED_IMAGES, LATENT_GRID, REPORT,
)


def entries() -> Iterator[Entry]:
    return iter(LAYOUT)


def entry_of(name: str | Entry) -> Entry | None:
    """The entry a name (relative to the run directory) is, or lies in; None outside the layout."""
    if isinstance(name, Entry):
        return name
    parts = Path(name).parts
    if not parts or ".." in parts or Path(name).is_absolute():  # never a path out of the run
        return None
    exact = next((entry for entry in LAYOUT if entry.matches(name)), None)
    if exact is not None:
        return exact
    for depth in range(len(parts) - 1, 0, -1):  # the innermost folder it lies in, if that one is open
        folder = next((entry for entry in LAYOUT if entry.folder and entry.matches("/".join(parts[:depth]))), None)
        if folder is not None:
            return folder if folder.open else None
    return None


def describe(name: str | Entry) -> str:
    """One line on a file or folder of a run: what it holds and what writes it."""
    entry = entry_of(name)
    if entry is None:
        raise ValueError(f"{name}: not in the run directory layout (dlcli.runs.layout)")
    return f"{entry.name}{'/' if entry.folder else ''}: {entry.description} (written by {entry.writer})"


def present(run_path: Path) -> list[tuple[Entry, list[Path]]]:
    """The entries a run directory holds, each with the paths that are it, in layout order."""
    found: list[tuple[Entry, list[Path]]] = []
    for entry in LAYOUT:
        pattern = re.sub(r"\{\w+\}", "*", entry.name)
        paths = sorted(path for path in run_path.glob(pattern) if path.is_dir() == entry.folder)
        if paths:
            found.append((entry, paths))
    return found
