"""Where the pictures a command makes go, and what they may replace.

A picture's file name says what it shows: readable parts (the image, class, layer, metric,
options) and, where those do not spell out every input, a short hash of all of them, its
*identity* (the inputs' paths, relative to the run the pictures go into, and every option; see
`Placement.named`). Each PNG also keeps its identity inside
(a tEXt chunk), so a file is replaced only by the same picture of the same inputs and options, or
with --force: a file dlcli did not make, or made of other inputs, is never replaced silently.
Nothing is written inside a run directory other than the command's own run, and inside that
only into its picture folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlcli.atomic import atomic_path
from dlcli.errors import UsageError
from dlcli.runs import enclosing_run, layout
from dlcli.runs.location import run_times_kept

IDENTITY_KEY = "dlcli-identity"  # the PNG text chunk that says which inputs and options made a picture
PICTURE_FORMATS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")  # Pillow writes them all
PLOT_FORMATS = (".png", ".svg", ".pdf", ".jpg", ".jpeg")  # matplotlib's Agg writes these
PICTURE_FOLDERS = (layout.PLOTS.name, layout.VIZ.name, layout.SAMPLES.name)  # the folders of its own run a command writes pictures into
READABLE_LENGTH = 100  # characters of a name's readable part: file names stay far below 255 bytes


def identity(**inputs: Any) -> str:
    """A hash of everything that makes a picture: the same inputs and options, the same identity."""
    text = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def picture_name(parts: list[Any], picture_identity: str | None = None, suffix: str = ".png") -> str:
    """`part-part-part[-hash].png`: each part in letters, digits and `._+=` (others become `_`), the
    readable part bounded, then the identity's first 8 hex digits when given."""
    slugs = [re.sub(r"[^A-Za-z0-9._+=]+", "_", str(part)).strip("._") or "_"
             for part in parts if part not in (None, "")]
    readable = "-".join(slugs)[:READABLE_LENGTH].rstrip("-")
    return f"{readable}-{picture_identity[:8]}{suffix}" if picture_identity else f"{readable}{suffix}"


def read_identity(path: Path) -> str | None:
    """The identity a PNG that dlcli wrote keeps inside; None for any other file (or a link)."""
    from PIL import Image

    if path.is_symlink() or not path.is_file():
        return None
    try:
        with Image.open(path) as image:  # reads the header and the chunks before the pixels only
            return image.info.get(IDENTITY_KEY) if image.format == "PNG" else None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def run_problem(target: Path, own_run: Path | None) -> str | None:
    """Why a file may not go to `target` because of the run directory it would be in, or None."""
    owner = enclosing_run(target.parent)
    if owner is None:
        return None
    if own_run is None or owner != Path(own_run).resolve():
        return f"inside the run directory {owner}; dlcli never writes into another run (choose a path outside it)"
    inside = target.parent.resolve().relative_to(owner).parts
    if not inside or inside[0] not in PICTURE_FOLDERS:
        return f"inside run {owner} but not in its {' or '.join(f'{name}/' for name in PICTURE_FOLDERS)} folder"
    return None


@dataclass(frozen=True)
class Placement:
    """Where one command's pictures go: `file` when --out named one, else named files in `folder`."""

    folder: Path
    file: Path | None = None
    own_run: Path | None = None  # the run the command writes into (its plots/ or viz/), if any
    force: bool = False  # replace existing files whatever made them

    def named(self, path: str | Path) -> str:
        """An input file (an image, a model, a run) as a picture's identity names it, links resolved:
        relative to the own run when the picture goes into it, so that a run moved or copied keeps
        the identities of its pictures; else absolute."""
        full = Path(path).resolve()
        if self.own_run is not None and enclosing_run(self.folder) == Path(self.own_run).resolve():
            return os.path.relpath(full, Path(self.own_run).resolve())
        return str(full)

    def path(self, name: str) -> Path:
        """The file for a picture whose own name is `name`: --out FILE, else `folder/name`."""
        return self.file if self.file is not None else self.folder / name

    def beside(self, main: Path, tag: str) -> Path:
        """A companion of `main` (Grad-CAM's heatmap, one of several plots): `main-tag.suffix`."""
        return main.with_name(f"{main.stem}-{tag}{main.suffix}")

    def in_run(self, path: Path, folder: str) -> bool:
        """Whether `path` lies in the own run's `folder` (viz/), where its index lists it."""
        return self.own_run is not None and path.parent.resolve() == (Path(self.own_run) / folder).resolve()

    def is_run_folder(self, folder: str) -> bool:
        """Whether the pictures go, under their own names, into the own run's `folder` (plots/)."""
        return self.file is None and self.in_run(self.folder / "picture.png", folder)

    def check(self, targets: dict[Path, str]) -> None:
        """Before anything is written: every target ({path: identity}) lies outside other runs, and
        is new, or the same picture of the same inputs (its identity), or --force was given."""
        for target, picture_identity in targets.items():
            with unusable_path(str(target)):
                self._check_one(target, picture_identity)

    def _check_one(self, target: Path, picture_identity: str) -> None:
        """One target of `check`."""
        problem = run_problem(target, self.own_run)
        if problem:
            raise UsageError(f"{target}: {problem}")
        if target.is_dir():
            raise UsageError(f"{target}: is a folder; choose a file name for --out")
        if os.path.lexists(target) and not self.force and read_identity(target) != picture_identity:
            raise UsageError(f"{target}: already exists and is not this picture of the same inputs and "
                             "options; pass --force to replace it, or choose another --out")


@contextlib.contextmanager
def unusable_path(label: str):
    """A path the system refuses to look at (a name too long, a loop of links) is one line."""
    try:
        yield
    except OSError as error:
        raise UsageError(f"{label}: cannot use this path ({error.strerror or error})") from None


def place(out: str | None, default_folder: Path, own_run: Path | None = None, force: bool = False,
          formats: tuple[str, ...] = PICTURE_FORMATS, folder_only: bool = False) -> Placement:
    """Check --out at once, before any work: a folder (one that exists, a name without extension,
    or any path for `folder_only` commands) or a file with a picture extension, outside every run
    but the command's own; an existing file that dlcli did not make is refused unless --force."""
    if out is None:
        return Placement(default_folder, None, own_run, force)
    with unusable_path(f"--out {out}"):
        return _checked_out(out, own_run, force, formats, folder_only)


def _checked_out(out: str, own_run: Path | None, force: bool, formats: tuple[str, ...], folder_only: bool) -> Placement:
    """`place` for a given --out."""
    path = Path(out)
    if folder_only or path.is_dir() or not path.suffix:
        problem = run_problem(path / "picture.png", own_run)
        if problem:
            raise UsageError(f"--out {out}: {problem}")
        return Placement(path, None, own_run, force)
    if path.suffix.lower() not in formats:
        raise UsageError(f"--out {out}: '{path.suffix}' is not a picture format dlcli writes here "
                         f"(use {', '.join(formats)})")
    problem = run_problem(path, own_run)
    if problem:
        raise UsageError(f"--out {out}: {problem}")
    if os.path.lexists(path) and not force and read_identity(path) is None:
        raise UsageError(f"--out {out}: already exists and dlcli did not make it; pass --force to replace it")
    return Placement(path.parent, path, own_run, force)


def write_image(path: Path, image, picture_identity: str) -> Path:
    """An RGB (h, w, 3) or grey (h, w) uint8 array in the format of `path`'s extension, atomically;
    a PNG keeps `picture_identity` inside."""
    from PIL import Image, PngImagePlugin

    image_format = Image.registered_extensions().get(path.suffix.lower(), "PNG")
    options: dict[str, Any] = {}
    if image_format == "PNG":
        options["pnginfo"] = PngImagePlugin.PngInfo()
        options["pnginfo"].add_text(IDENTITY_KEY, picture_identity)
    try:
        with run_times_kept(path), atomic_path(path) as temporary:  # a reader leaves the run's times as they were
            Image.fromarray(image).save(temporary, format=image_format, **options)
    except (OSError, ValueError, KeyError) as error:  # a full disk, a format that cannot hold the image
        raise UsageError(f"{path}: cannot write the picture ({error})") from None
    return path


def save_figure(figure, path: Path, picture_identity: str) -> Path:
    """A matplotlib figure in the format of `path`'s extension, atomically; a PNG keeps its identity."""
    image_format = path.suffix.lstrip(".").lower() or "png"
    metadata = {IDENTITY_KEY: picture_identity} if image_format == "png" else None
    try:
        with run_times_kept(path), atomic_path(path) as temporary:  # a reader leaves the run's times as they were
            figure.savefig(temporary, dpi=100, format=image_format, metadata=metadata)
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: cannot write the plot ({error})") from None
    return path
