"""Helpers for export tests: expected rows read straight from the mart Parquet, and how each
format renders a value - written here independently of the code under test."""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet as pq

from tests.factories import Factory
from tests.published import Served
from warehouse.controldb.models import Tenant

URL = "/api/v1/reports/export/"
SLUG_A, SLUG_B = "kaffeehaus-berlin", "pacific-outfitters"


def tenant(served: Served, slug: str) -> Tenant:
    with served.app.extensions["shoplake.sessions"]() as session:
        return session.get(Tenant, served.tenant_ids[slug])


def key_headers(served: Served, slug: str, *scopes: str) -> dict[str, str]:
    return Factory(served.app).key_headers(tenant(served, slug), *(scopes or ("read",)))


def mart_rows(served: Served, mart: str, slug: str) -> list[dict[str, Any]]:
    """Return the tenant's rows of a mart in file order, read with pyarrow (no DuckDB).

    A mart split by period has several files; a glob reads them in the order of their names.
    """
    snapshot = served.var_dir / "marts" / "snapshots" / served.published.snapshot.build_id
    folder = snapshot / mart / f"tenant_id={served.tenant_ids[slug]}"
    return [row for part in sorted(folder.iterdir()) for row in pq.read_table(part).to_pylist()]


def project(rows: list[dict[str, Any]], columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Keep ``columns`` (default: every column not starting with an underscore), in order."""
    names = columns or [n for n in rows[0] if not n.startswith("_")]
    return [{name: row[name] for name in names} for row in rows]


def create(client, headers: dict[str, str], **body: Any):
    return client.post(URL, json=body, headers=headers)


def wait(client, headers: dict[str, str], url: str, timeout: float = 60) -> dict[str, Any]:
    """Poll an export until it has finished; return its final state."""
    deadline = time.monotonic() + timeout
    while True:
        export = client.get(url, headers=headers).get_json()
        if export["status"] in ("succeeded", "failed"):
            return export
        assert time.monotonic() < deadline, f"export still {export['status']}"
        time.sleep(0.05)


def export_bytes(client, headers: dict[str, str], **body: Any) -> tuple[dict[str, Any], bytes]:
    """Create an export, wait for it and download it."""
    response = create(client, headers, **body)
    assert response.status_code == 202, response.get_json()
    export = wait(client, headers, response.get_json()["url"])
    assert export["status"] == "succeeded", export
    download = fetch(client, export["download_url"], headers)
    assert download.status_code == 200
    return export, download.data


def fetch(client, url: str, headers: dict[str, str]):
    """GET a file and close the response (send_file holds the file open until then)."""
    with client.get(url, headers=headers) as response:
        response.get_data()
        return response


def iso(value: datetime) -> str:
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{value.microsecond:06d}" if value.microsecond else "") + "Z"


def _plain(value: Any) -> Any:
    """Nested values as JSON sees them (pyarrow gives maps as lists of pairs)."""
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def as_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)
    return str(value)


def as_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return _plain(value)


def as_xlsx(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def read_ndjson(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line, parse_float=Decimal) for line in data.decode().splitlines()]


def read_parquet(data: bytes) -> list[dict[str, Any]]:
    return pq.read_table(io.BytesIO(data)).to_pylist()


def read_xlsx(data: bytes) -> list[dict[str, Any]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    rows = [row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    book.close()
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:] if row != header]


def expected_in(fmt: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Render expected rows the way ``fmt`` reads back."""
    render = {"csv": as_csv, "json": as_json, "xlsx": as_xlsx, "parquet": lambda v: v}[fmt]
    return [{k: render(v) for k, v in row.items()} for row in rows]


def read_back(fmt: str, data: bytes, compression: str = "none") -> list[dict[str, Any]]:
    if compression == "gzip":
        data = gzip.decompress(data)
    reader = {"csv": read_csv, "json": read_ndjson, "xlsx": read_xlsx, "parquet": read_parquet}
    return reader[fmt](data)


def files_under(var_dir: Path, tenant_id: int) -> list[str]:
    folder = var_dir / "exports" / str(tenant_id)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
