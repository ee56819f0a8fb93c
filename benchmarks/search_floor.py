"""The floor under a search page's memory: the same page read in a bare interpreter.

    python benchmarks/search_floor.py LAKE_ROOT VAR_DIR TENANT [FIELDS]

Run by ``search_memory.py`` once per shape, next to the server. The child imports the search
code and nothing else of the API (no Flask, gunicorn, auth or control-DB sessions of its own),
reads one page of up to 100,000 orders in the server's chunks and batches, and encodes every
record as the server does, then prints one JSON line: its RSS at start, after the imports, and
its peak (``VmHWM``), plus the large libraries the search code pulled in. What this process
needs is what any process serving the page needs, so its peak is a floor for the server's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("duckdb", "pyarrow", "numpy", "sqlalchemy", "pydantic", "flask", "cryptography")


def bare_page(lake_root: Path, var_dir: Path, tenant_id: int, fields: str | None) -> dict:
    """Read one page in a fresh interpreter; return its memory figures (MB)."""
    command = [sys.executable, __file__, str(lake_root), str(var_dir), str(tenant_id)]
    done = subprocess.run([*command, *([fields] if fields else [])],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return round(int(line.split()[1]) / 1024, 1)
    raise LookupError(field)


def _read_page(lake_root: Path, var_dir: Path, tenant_id: int, fields: str | None) -> None:
    started = _status_mb("VmRSS:")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import msgspec

    from warehouse.entities.sources import Store
    from warehouse.search import make_search, open_search

    imported = _status_mb("VmRSS:")
    libraries = sorted(name for name in HEAVY if name in sys.modules)
    search = make_search("UTC", fields=fields.split(",") if fields else None)
    encode = msgspec.json.Encoder().encode
    page = open_search(Store(lake_root, var_dir, tenant_id), search, 100_000, None)
    rows = 0
    for batch in page.batches():
        b"".join(encode(record) + b"\n" for record in batch)
        rows += len(batch)
    print(json.dumps({"rows": rows, "start_rss_mb": started, "imported_rss_mb": imported,
                      "peak_rss_mb": _status_mb("VmHWM:"), "libraries": libraries}))  # fmt: skip


if __name__ == "__main__":
    lake, var, tenant, *rest = sys.argv[1:]
    _read_page(Path(lake), Path(var), int(tenant), rest[0] if rest else None)
