"""Reading zip, tar and gzip files within bounds: what an archive inflates to is counted as it is read.

A member's declared size is checked before it is read, and its bytes are then read in chunks and
counted, since a header may lie. One member inflates to at most DLCLI_MAX_MEMBER_BYTES, one archive
(with the archives inside it) to at most DLCLI_MAX_ARCHIVE_BYTES, and archives nest at most
MAX_NESTING deep. Past a bound, DataUnavailable (exit 3) names the archive, the member and the bound.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

from dlcli.errors import DataUnavailable, UsageError

# The largest file of a dataset here is glove.6B.300d.txt (1.0 GB); glove.6B.zip inflates to 2.1 GB.
DEFAULT_MAX_MEMBER_BYTES = 2 * 2**30
DEFAULT_MAX_ARCHIVE_BYTES = 8 * 2**30
MAX_NESTING = 3  # Kaggle's dogs-vs-cats.zip holds train.zip: one level
CHUNK = 1 << 20


def _bound(variable: str, default: int) -> int:
    try:
        value = int(os.environ.get(variable) or default)
    except ValueError:
        raise UsageError(f"{variable} must be a whole number of bytes") from None
    if value <= 0:
        raise UsageError(f"{variable} must be a positive number of bytes")
    return value


class Inflation:
    """The bytes one archive, and the archives inside it, inflated so far, against the bounds."""

    def __init__(self, archive: str | Path):
        self.archive = str(archive)
        self.member_limit = _bound("DLCLI_MAX_MEMBER_BYTES", DEFAULT_MAX_MEMBER_BYTES)
        self.total_limit = _bound("DLCLI_MAX_ARCHIVE_BYTES", DEFAULT_MAX_ARCHIVE_BYTES)
        self.total = 0

    def _too_large(self, member: str, how: str, whole_archive: bool) -> DataUnavailable:
        limit, variable, what = (self.total_limit, "DLCLI_MAX_ARCHIVE_BYTES", "one archive") if whole_archive \
            else (self.member_limit, "DLCLI_MAX_MEMBER_BYTES", "one archive member")
        return DataUnavailable(f"{self.archive}: {member} {how} more than {limit:,} bytes, the most dlcli inflates "
                               f"from {what} ({variable}); raise it if the file is genuine")

    def declared(self, member: str, size: int, offset: int = 0) -> None:
        """Refuse a member whose header declares more than the bounds allow, before reading it;
        `offset`: the member's place in a stream that is inflated up to it (a tar.gz)."""
        if size > self.member_limit:
            raise self._too_large(member, f"declares {size:,} bytes,", whole_archive=False)
        if self.total + size > self.total_limit or offset + size > self.total_limit:
            raise self._too_large(member, "would take the archive to", whole_archive=True)

    def _count(self, member: str, so_far: int, added: int) -> None:
        self.total += added
        if so_far > self.member_limit:
            raise self._too_large(member, "inflates to", whole_archive=False)
        if self.total > self.total_limit:
            raise self._too_large(member, "takes the archive to", whole_archive=True)

    def copy(self, handle: BinaryIO, out: BinaryIO, member: str, declared: int = 0, advance=None) -> int:
        """Copy an open member into `out` in chunks, counting; the bytes copied. `advance(n)` is told
        each chunk's size (a progress bar)."""
        self.declared(member, declared)
        done = 0
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            done += len(chunk)
            self._count(member, done, len(chunk))
            out.write(chunk)
            if advance:
                advance(len(chunk))
        return done

    def read(self, handle: BinaryIO, member: str, declared: int = 0) -> bytes:
        """An open member's bytes, read in chunks and counted (never one read of a declared size)."""
        buffer = io.BytesIO()
        self.copy(handle, buffer, member, declared)
        return buffer.getvalue()

    def reader(self, handle: BinaryIO, member: str, declared: int = 0) -> io.BufferedReader:
        """A file object over an open member that counts as it is read (for pandas.read_csv)."""
        self.declared(member, declared)
        return io.BufferedReader(_Counted(handle, self, member), CHUNK)


class _Counted(io.RawIOBase):
    def __init__(self, handle: BinaryIO, inflation: Inflation, member: str):
        self.handle, self.inflation, self.member, self.done = handle, inflation, member, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.handle.read(min(len(buffer), CHUNK))
        self.done += len(data)
        self.inflation._count(self.member, self.done, len(data))
        buffer[: len(data)] = data
        return len(data)


def check_nesting(depth: int, where: str) -> None:
    """Refuse an archive found `depth` archives deep (0: the file itself)."""
    if depth > MAX_NESTING:
        raise DataUnavailable(f"{where}: archives nested more than {MAX_NESTING} deep; dlcli opens archives "
                              f"inside archives only {MAX_NESTING} levels down: unpack it first")
