"""The floor under a search page's memory: the same page read in a bare interpreter.

    python benchmarks/search_floor.py page LAKE_ROOT VAR_DIR TENANT [FIELDS] [--record FILE]
    python benchmarks/search_floor.py replay FILE

Run by ``search_memory.py`` once per shape, next to the server (:func:`bare_page`). ``page``
imports the search code and nothing else of the API (no Flask, gunicorn, auth or control-DB
sessions of its own), reads one page of up to 100,000 orders in the server's chunks and
batches, and encodes every record as the server does; its peak is the floor for this code.
With ``--record`` it also saves every chunk's statement and parameters, which ``replay`` then
runs in an interpreter that imports DuckDB and msgspec only: what a search process built on
DuckDB alone would hold (less the row-group statistics, which the page reads with pyarrow).
Each prints one JSON line: RSS at start, after the imports, and the peak (``VmHWM``), the rows
fetched (a replay counts each chunk's probe row too) and the large libraries imported.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

HEAVY = ("duckdb", "pyarrow", "numpy", "sqlalchemy", "pydantic", "flask", "cryptography")


def bare_page(lake_root: Path, var_dir: Path, tenant_id: int, fields: str | None) -> dict:
    """Read one page in a fresh interpreter, then replay its statements on DuckDB alone.

    Return the page's figures (MB) with the replay's under ``duckdb_only``.
    """
    with tempfile.TemporaryDirectory() as work:
        record = Path(work) / "statements.pickle"
        page = _child("page", str(lake_root), str(var_dir), str(tenant_id),
                      *([fields] if fields else []), "--record", str(record))  # fmt: skip
        return {**page, "duckdb_only": _child("replay", str(record))}


def _child(*arguments: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *arguments],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def _status_mb(field: str) -> float:
    # Not harness.memory_kb: the harness imports numpy, which would weigh on the bare figures,
    # and smaps_rollup has no high-water mark (VmHWM).
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return round(int(line.split()[1]) / 1024, 1)
    raise LookupError(field)


def _read_page(
    lake_root: Path, var_dir: Path, tenant_id: int, fields: str | None, record: Path | None
) -> None:
    started = _status_mb("VmRSS:")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import msgspec

    from warehouse import duck
    from warehouse.entities.sources import Store
    from warehouse.search import make_search, open_search

    imported = _status_mb("VmRSS:")
    libraries = sorted(name for name in HEAVY if name in sys.modules)
    statements: list[tuple[str, dict]] = []
    if record is not None:
        shared = duck.connection
        duck.connection = lambda: _Recording(shared(), statements)  # type: ignore[assignment]
    search = make_search("UTC", fields=fields.split(",") if fields else None)
    encode = msgspec.json.Encoder().encode
    page = open_search(Store(lake_root, var_dir, tenant_id), search, 100_000, None)
    rows = 0
    for batch in page.batches():
        b"".join(encode(record) + b"\n" for record in batch)
        rows += len(batch)
    if record is not None:
        record.write_bytes(pickle.dumps(statements))
    _report(rows, started, imported, libraries)


class _Recording:
    """A connection whose cursors note each statement and its parameters before running it."""

    def __init__(self, connection, statements: list) -> None:
        self.connection, self.statements = connection, statements

    def cursor(self):
        cursor, statements = self.connection.cursor(), self.statements

        class Cursor:
            def execute(self, sql, params):
                statements.append((sql, dict(params)))
                return cursor.execute(sql, params)

            def __getattr__(self, name):
                return getattr(cursor, name)

        return Cursor()


def _replay(record: Path) -> None:
    """Run the recorded statements as the server's connection would, with DuckDB alone."""
    started = _status_mb("VmRSS:")
    import duckdb
    import msgspec

    connection = duckdb.connect(config={"threads": 1, "memory_limit": "256MB"})
    for setting in ("allocator_background_threads = true", "global TimeZone = 'UTC'",
                    "global enable_external_file_cache = false"):  # fmt: skip
        connection.execute(f"set {setting}")
    imported = _status_mb("VmRSS:")
    libraries = sorted(name for name in HEAVY if name in sys.modules)
    encode = msgspec.json.Encoder().encode
    rows = 0
    for sql, params in pickle.loads(record.read_bytes()):
        cursor = connection.cursor()
        result = cursor.execute(sql, params)
        names = [column[0] for column in result.description][:-2]  # less the cursor key
        while batch := result.fetchmany(250):
            b"".join(encode(dict(zip(names, row, strict=False))) + b"\n" for row in batch)
            rows += len(batch)
        cursor.close()
    _report(rows, started, imported, libraries)


def _report(rows: int, started: float, imported: float, libraries: list[str]) -> None:
    print(json.dumps({"rows": rows, "start_rss_mb": started, "imported_rss_mb": imported,
                      "peak_rss_mb": _status_mb("VmHWM:"), "libraries": libraries}))  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    modes = parser.add_subparsers(dest="mode", required=True)
    page = modes.add_parser("page")
    page.add_argument("lake_root", type=Path)
    page.add_argument("var_dir", type=Path)
    page.add_argument("tenant_id", type=int)
    page.add_argument("fields", nargs="?")
    page.add_argument("--record", type=Path)
    modes.add_parser("replay").add_argument("record", type=Path)
    args = parser.parse_args()
    if args.mode == "page":
        _read_page(args.lake_root, args.var_dir, args.tenant_id, args.fields, args.record)
    else:
        _replay(args.record)
