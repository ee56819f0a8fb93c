"""Map an element of a (possibly nested) column back to its row and dotted field path.

Checks run on whole columns; only for the few elements that fail do we need to know which
request row they came from and where inside it (``items.2.quantity``). Levels answer that
lazily, turning Arrow index arrays into Python lists only when an error is actually reported.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from warehouse.contracts.arrowutil import list_positions
from warehouse.contracts.errors import join_path

Reason = str | Callable[[int], str]


class Level:
    """The top level: element ``i`` is table row ``i``."""

    def row(self, index: int) -> int:
        """Return the table row an element belongs to."""
        return index

    def path(self, index: int, name: str) -> str:
        """Return the dotted path of field ``name`` of element ``index``."""
        return name


class ObjectLevel(Level):
    """The members of a nested object: same elements as the parent, one name deeper."""

    def __init__(self, parent: Level, name: str) -> None:
        self.parent = parent
        self.name = name

    def row(self, index: int) -> int:
        return self.parent.row(index)

    def path(self, index: int, name: str) -> str:
        return join_path(self.parent.path(index, self.name), name)


class ListLevel(Level):
    """The flattened elements of a list column: element ``i`` is ``name.<pos>`` of a parent."""

    def __init__(self, parent: Level, name: str, lists: pa.Array) -> None:
        self.parent = parent
        self.name = name
        self._lists = lists
        self._parents: list[int] | None = None
        self._positions: list[int] | None = None

    def _resolve(self) -> tuple[list[int], list[int]]:
        if self._parents is None or self._positions is None:
            parents, positions = list_positions(self._lists)
            self._parents, self._positions = parents.to_pylist(), positions.to_pylist()
        return self._parents, self._positions

    def row(self, index: int) -> int:
        parents, _ = self._resolve()
        return self.parent.row(parents[index])

    def element_path(self, index: int) -> str:
        """Return the dotted path of the element itself (``items.2``)."""
        parents, positions = self._resolve()
        return self.parent.path(parents[index], f"{self.name}.{positions[index]}")

    def path(self, index: int, name: str) -> str:
        return join_path(self.element_path(index), name)


class Findings:
    """Errors found column-wise, keyed by table row index, and the set of bad rows."""

    def __init__(self) -> None:
        self.errors: list[tuple[int, str, str]] = []
        self.bad_rows: set[int] = set()

    def add(self, row: int, path: str, reason: str) -> None:
        """Record one error for table row ``row``."""
        self.errors.append((row, path, reason))
        self.bad_rows.add(row)

    def flag(self, indices: list[int], level: Level, name: str, reason: Reason) -> None:
        """Record an error for each flagged element of ``level`` (``name`` '' = the element)."""
        for index in indices:
            row = level.row(index)
            if name or not isinstance(level, ListLevel):
                path = level.path(index, name)
            else:
                path = level.element_path(index)
            self.add(row, path, reason(index) if callable(reason) else reason)
