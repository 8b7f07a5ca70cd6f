"""Writing files so that a reader, or a crash, never sees half of one: a temporary file in the
same folder, then `os.replace`, which is atomic on POSIX and Windows."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path beside `target` to write to; it replaces `target` only if the block succeeds.

    The temporary name keeps the target's suffix, for writers that choose a format by it
    (`model.save('x.keras')`, `cv2.imwrite('x.png')`)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=f".part{target.suffix}")
    os.close(handle)
    os.chmod(name, 0o666 & ~umask())  # mkstemp's 0600 would make every run file private
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


@functools.cache
def umask() -> int:
    """The process's umask (read once: reading it means setting it for an instant)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(target: str | Path, text: str) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    with atomic_path(target) as temporary:
        temporary.write_bytes(data)
