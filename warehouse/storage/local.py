"""Objects as files under one directory (the default: ``<var_dir>/media``).

Writes are atomic (temporary file in the same folder, fsync, rename), so a reader sees the whole
object or none. Content types are not kept on disk: callers record them with the object's
metadata (the image catalog does).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from warehouse.storage.base import ObjectMissing, Storage, StorageError

TEMP_PREFIX = ".tmp-"


class LocalStorage(Storage):
    """Storage in a local directory; keys map to relative paths."""

    scheme = "file"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        temp = path.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise StorageError(f"cannot write {key}: {exc}") from exc

    def _get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectMissing(key) from None

    def _delete(self, keys: list[str]) -> None:
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            self._prune(path.parent)

    def _prune(self, folder: Path) -> None:
        # Empty folders left by deletes are removed up to the root, so nothing of a deleted
        # image remains; a folder another writer just filled is left alone (rmdir refuses).
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _list(self, prefix: str) -> Iterable[str]:
        folder = self._path(prefix.rstrip("/"))
        if not folder.is_dir():
            return []
        return [
            path.relative_to(self.root).as_posix()
            for path in folder.rglob("*")
            if path.is_file() and not path.name.startswith(TEMP_PREFIX)
        ]
