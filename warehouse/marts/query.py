"""Query one tenant's partition of the marts in one published snapshot.

A :class:`TenantMarts` resolves CURRENT once, so every query of a request reads the same
snapshot even while a newer build is published, and it names only the tenant's own partition
files: another tenant's rows are never opened, whatever the SQL says.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse import duck
from warehouse.publish import Snapshot, current_snapshot, mart_glob


@dataclass(frozen=True)
class TenantMarts:
    """One tenant's view of one snapshot."""

    snapshot: Snapshot
    tenant_id: int

    @classmethod
    def current(cls, var_dir: Path, tenant_id: int) -> TenantMarts:
        """Pin the snapshot CURRENT names now (raise NoSnapshot before the first publish)."""
        return cls(current_snapshot(var_dir), tenant_id)

    @property
    def build_id(self) -> str:
        return self.snapshot.build_id

    def source(self, mart: str) -> str:
        """Return a ``read_parquet(...)`` expression over this tenant's rows of ``mart``."""
        glob = mart_glob(self.snapshot, mart, self.tenant_id).replace("'", "''")
        return f"read_parquet('{glob}')"

    def rows(self, sql: str, params: Sequence[Any] = (), **marts: str) -> list[dict[str, Any]]:
        """Run ``sql`` with each ``{name}`` replaced by the source of the mart it names.

        Only mart names (ours) are formatted into the text; request values go in ``params``.
        """
        return duck.fetch_dicts(self._sql(sql, marts), list(params))

    def stream(
        self, sql: str, params: Sequence[Any] = (), batch_rows: int = 2048, **marts: str
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the result in batches of dicts without holding it all in memory."""
        with duck.cursor() as cur:
            result = cur.execute(self._sql(sql, marts), list(params))
            names = [column[0] for column in result.description]
            while batch := result.fetchmany(batch_rows):
                yield [dict(zip(names, row, strict=True)) for row in batch]

    def _sql(self, sql: str, marts: Mapping[str, str]) -> str:
        return sql.format(**{name: self.source(mart) for name, mart in marts.items()})
