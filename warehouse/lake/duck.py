"""Stream a DuckDB query over Parquet files into one new, durable, atomically published file.

DuckDB sorts and de-duplicates larger-than-memory inputs within a memory limit (spilling to
``<lake>/_tmp``); its Arrow batches are cast back to the inputs' own schema and written with
pyarrow, so types and key-value metadata stay exactly those of the raw zone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.lake import fsio

BATCH_ROWS = 256 * 1024
COMPRESSION = "zstd"


@contextmanager
def connect(
    root: Path, memory_limit: str = "1GB", threads: int = 2
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open an in-memory DuckDB connection that spills under the lake's ``_tmp`` folder."""
    spill = Path(root) / "_tmp" / "duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": memory_limit, "threads": threads, "temp_directory": str(spill)}
    conn = duckdb.connect(config=config)
    try:
        yield conn
    finally:
        conn.close()


def quote(name: str) -> str:
    """Quote an identifier taken from our own registry (never from a request)."""
    return '"' + name.replace('"', '""') + '"'


def unified_schema(files: Sequence[Path]) -> pa.Schema:
    """Return one schema covering all files (columns added later become nullable extras)."""
    schemas = [pq.read_schema(path).remove_metadata() for path in files]
    return pa.unify_schemas(schemas, promote_options="permissive")


def write_query(
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    params: Mapping[str, object],
    target: Path,
    schema: pa.Schema,
    metadata: Mapping[str, str],
) -> int:
    """Run ``sql`` and publish its rows to ``target`` (atomic replace); return the row count."""
    schema = schema.with_metadata({k.encode(): v.encode() for k, v in metadata.items()})
    rows = 0

    def write(temp: Path) -> None:
        nonlocal rows
        reader = conn.sql(sql, params=dict(params)).to_arrow_reader(BATCH_ROWS)
        with pq.ParquetWriter(temp, schema, compression=COMPRESSION) as out:
            for batch in reader:
                out.write_batch(batch.select(schema.names).cast(schema))
                rows += batch.num_rows

    fsio.publish(target, write)
    return rows
