"""A record of spec files that passed validation, so `dlcli validate` can skip pydantic.

Importing pydantic alone costs about as much as starting Python with Click and PyYAML, so a
cold `validate` cannot be quick. Like ruff's or mypy's caches, this one remembers successes
only, keyed by the SHA-256 of the spec's bytes, of every file the spec names (a custom
callback's `file.py`, whose absence is an error), of the bounds set in the environment
(DLCLI_MAX_LAYERS, DLCLI_MAX_MODEL_BYTES), of the source of dlcli itself and of the installed pydantic: editing the
spec or a file it names, deleting that file, changing a bound, upgrading dlcli or pydantic,
or changing any line of dlcli's code makes the entry stale. A spec with errors is never
cached, so its messages always come from a real validation. The cache lives in `$DLCLI_CACHE_DIR`, else
`$XDG_CACHE_HOME/dlcli`, else `~/.cache/dlcli`; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache
from pathlib import Path

MAX_ENTRIES = 2000


def cache_dir() -> Path:
    if os.environ.get("DLCLI_CACHE_DIR"):
        return Path(os.environ["DLCLI_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dlcli"


@lru_cache(maxsize=1)
def _code_fingerprint() -> bytes:
    """Hash of every line of dlcli and of the installed pydantic's identity."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    found = importlib.util.find_spec("pydantic")
    if found is not None and found.origin:
        stat = os.stat(found.origin)
        digest.update(f"{found.origin}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    return digest.digest()


# Environment variables whose value changes what validation says.
BOUNDS = ("DLCLI_MAX_LAYERS", "DLCLI_MAX_MODEL_BYTES")


def key(spec_path: Path) -> str:
    """The entry of the spec file as it is now, with the files it names (OSError if unreadable)."""
    spec_bytes = spec_path.read_bytes()
    digest = hashlib.sha256(_code_fingerprint() + hashlib.sha256(spec_bytes).digest())
    for name in BOUNDS:
        digest.update(f"{name}={os.environ.get(name, '')}".encode() + b"\0")
    for path in named_files(spec_bytes, spec_path.parent):
        try:
            digest.update(str(path).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(str(path).encode() + b"\0missing")  # a spec with a missing file never passes
    return digest.hexdigest()


def named_files(spec_bytes: bytes, folder: Path) -> list[Path]:
    """The files a spec names, as validation resolves them: a custom callback's `file.py:Class`,
    relative to the spec's folder. A spec that does not parse names none (it never passes)."""
    from dlcli.errors import SpecError
    from dlcli.spec.reading import parse_yaml

    try:
        raw = parse_yaml(spec_bytes.decode("utf-8"), "spec")
    except (SpecError, UnicodeDecodeError):
        return []
    callbacks = raw.get("callbacks") if isinstance(raw, dict) else None
    paths = [item["Custom"].get("path") for item in callbacks if isinstance(item, dict)
             and isinstance(item.get("Custom"), dict)] if isinstance(callbacks, list) else []
    return [(folder / path.rpartition(":")[0]).resolve() for path in paths if isinstance(path, str)]


def _entry(spec_key: str) -> Path:
    return cache_dir() / "valid-specs" / spec_key


def known_valid(spec_key: str) -> bool:
    return _entry(spec_key).is_file()


def remember_valid(spec_key: str) -> None:
    """Record a success; a cache that cannot be written is simply not used."""
    entry = _entry(spec_key)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.touch()
        entries = list(entry.parent.iterdir())
        if len(entries) > MAX_ENTRIES:  # forget the oldest half
            entries.sort(key=lambda path: path.stat().st_mtime)
            for stale in entries[: len(entries) // 2]:
                stale.unlink(missing_ok=True)
    except OSError:
        pass
