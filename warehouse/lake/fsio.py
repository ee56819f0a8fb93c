"""Durable, atomic file publication on a local (POSIX) filesystem.

A file is written under a dot-prefixed temporary name in its final folder, flushed and fsynced,
then renamed (or hard-linked, to create only if absent) to its final name, and the folder is
fsynced so the new name itself survives a crash. Folders created on the way are fsynced into
their parents too. Readers therefore see either nothing or the whole file.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

TEMP_MARK = ".tmp-"
_NO_HARDLINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def fsync_dir(path: Path) -> None:
    """Make the entries of a folder (creations, renames, removals) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush a file's data and metadata to stable storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(path: Path) -> None:
    """Create a folder and its missing parents, each made durable in its parent."""
    path = Path(path)
    if path.is_dir():
        return
    missing = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue  # a concurrent writer created it; it fsyncs it too
        fsync_dir(folder.parent)


def temp_path(final: Path) -> Path:
    """Return a unique hidden temporary name beside ``final`` (never matches ``*.parquet``)."""
    return final.parent / f".{final.name}{TEMP_MARK}{uuid.uuid4().hex[:12]}"


def is_temp(name: str) -> bool:
    """Return whether a file name is one of our temporaries."""
    return name.startswith(".") and TEMP_MARK in name


def publish(final: Path, write: Callable[[Path], None], *, exclusive: bool = False) -> bool:
    """Write a file atomically and durably via ``write(temp_path)``.

    With ``exclusive`` an existing ``final`` is kept and False returned (the first writer wins);
    otherwise ``final`` is replaced. The temporary is removed whatever happens.
    """
    final = Path(final)
    ensure_dir(final.parent)
    temp = temp_path(final)
    try:
        write(temp)
        fsync_file(temp)
        created = _link(temp, final) if exclusive else _replace(temp, final)
        fsync_dir(final.parent)
    finally:
        temp.unlink(missing_ok=True)
    return created


def publish_bytes(final: Path, data: bytes, *, exclusive: bool = False) -> bool:
    """Write ``data`` to ``final`` atomically and durably (see :func:`publish`)."""
    return publish(final, lambda temp: temp.write_bytes(data), exclusive=exclusive)


def _replace(temp: Path, final: Path) -> bool:
    os.replace(temp, final)
    return True


def _link(temp: Path, final: Path) -> bool:
    try:
        os.link(temp, final)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARDLINKS:
            raise
        # No hard links here (some network filesystems): check-then-rename is racy but only
        # between writers of the same batch, which the ingest idempotency records serialise.
        if final.exists():
            return False
        os.replace(temp, final)
    return True


def published_since(path: Path | str, instant: datetime) -> bool:
    """Tell whether ``path`` was renamed into place at or after ``instant`` (its ctime).

    A landed batch stamps its rows before its file is renamed into place, so a file published
    before ``instant`` holds no row stamped at or after it.
    """
    cutoff_ns = (instant - _EPOCH) // timedelta(microseconds=1) * 1000
    return os.stat(path).st_ctime_ns >= cutoff_ns


def move(source: Path, target: Path) -> None:
    """Rename a file into another folder of the same filesystem (caller fsyncs both folders)."""
    ensure_dir(target.parent)
    os.rename(source, target)
