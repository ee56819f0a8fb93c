"""Current state: the latest version of every business key of one tenant's entity.

``current/<entity>/tenant_id=<id>/current.parquet`` holds, per key, the row landed last (by
``_ingested_at``, then ``_batch_id``, then ``_seq``), without keys whose latest version is a
delete, sorted by key. A child entity (``order_items``) keeps the rows that belong to the current
version of their parent (same parent key and same ``_batch_id``), so an order re-sent with fewer
items loses the old lines and a deleted order loses all of them.

The file is swapped with an atomic rename, so readers see the old or the new file, never a mix.
It is rebuilt only when a raw file of the entity (or of its parent) changed since the listing
the last build was made from (``shoplake.as_of`` in its footer vs. the files' ctime).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from warehouse.lake import duck
from warehouse.lake.layout import current_file
from warehouse.lake.reader import list_files

AS_OF_KEY = b"shoplake.as_of"
_LATEST = (
    "row_number() over (partition by {key} order by _ingested_at desc, _batch_id desc, _seq desc)"
)


def refresh(
    conn, root: Path, spec: Any, tenant_id: int, parent_key: tuple[str, ...] = ("id",)
) -> int | None:
    """Rebuild one tenant's current state if its inputs changed; return its rows (None: skipped).

    ``spec`` is a :class:`warehouse.contracts.LakeEntity` (name, key, parent); ``parent_key`` is
    the key of its parent entity, if it has one.
    """
    target = current_file(root, spec.name, tenant_id)
    as_of = time.time_ns()
    files = list_files(root, spec.name, tenant_id)
    parent_files = list_files(root, spec.parent[0], tenant_id) if spec.parent else []
    if not files or (spec.parent and not parent_files) or not _stale(target, files + parent_files):
        return None
    if spec.parent:
        sql, params = _child_sql(spec, parent_key, files, parent_files)
    else:
        sql, params = _latest_sql(spec.key), {"files": [str(f) for f in files]}
    metadata = {AS_OF_KEY.decode(): str(as_of), "shoplake.current_of": spec.name}
    return duck.write_query(conn, sql, params, target, duck.unified_schema(files), metadata)


def _stale(target: Path, inputs: list[Path]) -> bool:
    try:
        as_of = int((pq.read_schema(target).metadata or {}).get(AS_OF_KEY, b"0"))
    except FileNotFoundError:
        return True
    # ctime, not mtime: a rename (how every file is published) updates ctime.
    return any(os.stat(path).st_ctime_ns >= as_of for path in inputs)


def _keys(key: tuple[str, ...]) -> str:
    return ", ".join(duck.quote(c) for c in key)


def _latest_sql(key: tuple[str, ...]) -> str:
    latest = _LATEST.format(key=_keys(key))
    return (
        f"select * exclude (_rn) from (select *, {latest} as _rn "
        "from read_parquet($files, union_by_name = true)) "
        f"where _rn = 1 and _op <> 'delete' order by {_keys(key)}"
    )


def _child_sql(spec: Any, parent_key: tuple[str, ...], files: list[Path], parent_files: list[Path]):
    (single_key,) = parent_key  # a parent is referenced by one column
    key = duck.quote(single_key)
    link = duck.quote(spec.parent[1])
    latest_parent = _LATEST.format(key=key)
    sql = (
        "with parent as (select _key, _batch from ("
        f"select {key} as _key, _batch_id as _batch, _op, {latest_parent} as _rn "
        "from read_parquet($parents, union_by_name = true)) where _rn = 1 and _op <> 'delete') "
        "select c.* from read_parquet($files, union_by_name = true) as c "
        f"join parent on c.{link} = parent._key and c._batch_id = parent._batch "
        f"qualify row_number() over (partition by {_keys(spec.key)} order by c._seq desc) = 1 "
        f"order by {_keys(spec.key)}"
    )
    return sql, {"files": [str(f) for f in files], "parents": [str(f) for f in parent_files]}
