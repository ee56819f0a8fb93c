"""Where published mart snapshots live, and the few file operations that make them atomic.

```
<var_dir>/marts/CURRENT                      the build id readers use (switched by rename)
<var_dir>/marts/history.json                 when each build became CURRENT (for retention)
<var_dir>/marts/snapshots/<build_id>/        one immutable snapshot:
    manifest.json
    _empty/<mart>.parquet                    zero rows, the mart's schema
    <mart>/tenant_id=<id>/part-00000.parquet   one file of the tenant's rows, or, for a mart
                                             split by period, part-<YYYY-MM>.parquet per month
                                             or part-<YYYY>.parquet per year with the
                                             tenant's newest month apart in its
                                             part-<YYYY-MM>.parquet (and
                                             part-undated.parquet for rows without one)
<var_dir>/marts/snapshots/.staging-<build_id>/  a snapshot being written (never read)
<var_dir>/marts/answers/<build_id>/          API answers computed from that snapshot, shared by
                                             the node's workers (warehouse.marts.answers)
```
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

CURRENT = "CURRENT"
HISTORY = "history.json"
MANIFEST = "manifest.json"
STAGING_PREFIX = ".staging-"
EMPTY_DIR = "_empty"
PART_FILE = "part-00000.parquet"

# Build ids sort by creation time; the suffix keeps two builds in one microsecond apart.
BUILD_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{6}$")
MART_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def marts_root(var_dir: Path) -> Path:
    """Return the directory holding CURRENT and all snapshots."""
    path = Path(var_dir)
    return (_resolved(path) if path.is_absolute() else path.resolve()) / "marts"


@lru_cache(maxsize=16)
def _resolved(var_dir: Path) -> Path:
    # Every mart read asks for it, and resolving costs a few system calls each time; an
    # absolute var dir of a running process does not move (a relative one follows the cwd).
    return var_dir.resolve()


def snapshots_dir(var_dir: Path) -> Path:
    """Return the directory that holds one folder per published build."""
    return marts_root(var_dir) / "snapshots"


def answers_dir(var_dir: Path) -> Path:
    """Return the directory holding, per build, the API answers computed from its snapshot."""
    return marts_root(var_dir) / "answers"


def new_build_id(now: datetime | None = None) -> str:
    """Return a fresh build id such as ``20261031T120000123456Z-a1b2c3``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(3)}"


def check_build_id(build_id: str) -> str:
    """Return ``build_id`` if it has the build-id shape (so it is safe inside a path)."""
    if not isinstance(build_id, str) or not BUILD_ID.match(build_id):
        raise ValueError(f"not a build id: {build_id!r}")
    return build_id


def check_mart_name(name: str) -> str:
    """Return ``name`` if it is a plain lower-case identifier (so it is safe inside a path)."""
    if not isinstance(name, str) or not MART_NAME.match(name):
        raise ValueError(f"not a mart name: {name!r}")
    return name


def partition_dir(snapshot_path: Path, mart: str, tenant_id: int) -> Path:
    """Return the folder of one tenant's rows of one mart."""
    return snapshot_path / check_mart_name(mart) / f"tenant_id={_tenant(tenant_id)}"


def empty_file(snapshot_path: Path, mart: str) -> Path:
    """Return the zero-row file carrying a mart's schema."""
    return snapshot_path / EMPTY_DIR / f"{check_mart_name(mart)}.parquet"


def _tenant(tenant_id: int) -> int:
    # bool is an int subclass; a str would let a caller smuggle path text into the glob.
    if isinstance(tenant_id, bool) or not isinstance(tenant_id, int) or tenant_id < 0:
        raise TypeError(f"tenant_id must be a non-negative int, not {tenant_id!r}")
    return tenant_id


def fsync_dir(path: Path) -> None:
    """Flush a directory entry so a rename inside it survives a crash."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(root: Path) -> None:
    """Flush every file and directory under ``root`` (children before parents)."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(Path(folder))


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: write a temp file, fsync, rename, fsync the folder."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
