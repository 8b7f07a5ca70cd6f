"""A record of spec files that passed validation, so `dlcli validate` can skip pydantic.

Importing pydantic alone costs about as much as starting Python with Click and PyYAML, so a
cold `validate` cannot be quick. Like ruff's or mypy's caches, this one remembers successes
only, keyed by the SHA-256 of the spec's bytes together with the source of dlcli itself and
the installed pydantic: editing the spec, upgrading dlcli or pydantic, or changing any
line of dlcli's code makes the entry stale. A spec with errors is never cached, so its
messages always come from a real validation. The cache lives in `$DLCLI_CACHE_DIR`, else
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


def key(spec_bytes: bytes) -> str:
    return hashlib.sha256(_code_fingerprint() + spec_bytes).hexdigest()


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
