"""``shoplake export``: start a report export and wait for it, download one, clean up old ones.

``create`` and ``download`` talk to a running API with an API key (``read`` scope or any
scope granting ``exports:create``). ``download`` writes to ``FILE.part`` and, when that exists
from an interrupted run, asks only for the missing bytes (``Range`` with ``If-Range`` on the
export's ETag, so a changed file is fetched whole); it then checks the SHA-256 the API reports
and renames the file into place. ``cleanup`` removes expired exports from this machine's
``var/`` (for a cron next to ``shoplake jobs run``).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from shoplake.commands.common import settings_of
from warehouse.controldb import make_engine, make_session_factory
from warehouse.exports import FORMATS, REPORTS, remove_expired

PATH = "/api/v1/reports/export/"
BLOCK = 64 * 1024


class ExportClientError(click.ClickException):
    """The API refused, or the download could not be completed or verified."""


@dataclass
class Downloaded:
    """What one download run did."""

    path: Path
    bytes: int
    resumed_from: int
    sha256: str


@contextlib.contextmanager
def _call(
    method: str, url: str, api_key: str, body: Any = None, headers: dict[str, str] | None = None
) -> Iterator[http.client.HTTPResponse]:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=60)
    sent = {"X-API-Key": api_key, **(headers or {})}
    payload = None
    if body is not None:
        payload, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=payload, headers=sent)
        yield connection.getresponse()
    finally:
        connection.close()


def _json(method: str, url: str, api_key: str, body: Any = None, ok=(200,)) -> dict:
    with _call(method, url, api_key, body) as response:
        data = response.read()
        if response.status not in ok:
            raise ExportClientError(f"{method} {url}: {response.status} {data[:500]!r}")
        return json.loads(data)


def status_url(base: str, ref: str) -> str:
    """Return the status URL of an export given its URL (status or download) or its id."""
    if ref.startswith(("http://", "https://")):
        url = ref.removesuffix("/download")
        return url if url.endswith("/") else url + "/"
    return f"{base.rstrip('/')}{PATH}{ref}/"


def wait_for(url: str, api_key: str, timeout: float, poll: float = 0.5) -> dict:
    """Poll an export until it has finished; return its final state."""
    deadline = time.monotonic() + timeout
    while True:
        export = _json("GET", url, api_key)
        if export["status"] in ("succeeded", "failed"):
            return export
        if time.monotonic() > deadline:
            raise ExportClientError(f"export still {export['status']} after {timeout:.0f}s")
        click.echo(f"{export['status']}: {export['progress']}/{export['total']} rows", err=True)
        time.sleep(poll)


def download(url: str, api_key: str, out: Path, stop_after: int | None = None) -> Downloaded:
    """Download a finished export to ``out``, resuming from ``out.part``; verify its SHA-256."""
    export = _json("GET", url, api_key)
    if export["status"] != "succeeded":
        raise ExportClientError(f"the export is {export['status']}: {export.get('error') or ''}")
    expected = export["file"]
    part = out.with_name(out.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > expected["bytes"]:
        have = 0  # not a prefix of this file
    start = have
    if have < expected["bytes"]:
        base = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
        have = _fetch(base + export["download_url"], api_key, part, have, expected, stop_after)
    if have < expected["bytes"]:
        raise ExportClientError(
            f"stopped after {have} of {expected['bytes']} bytes in {part}; run again to resume"
        )
    digest = _sha256(part)
    if digest != expected["sha256"]:
        part.unlink()
        raise ExportClientError(f"SHA-256 mismatch ({digest}); the partial file was removed")
    part.replace(out)
    return Downloaded(out, have, start, digest)


def _fetch(
    url: str, api_key: str, part: Path, have: int, expected: dict, stop_after: int | None
) -> int:
    headers = {}
    if have:
        headers = {"Range": f"bytes={have}-", "If-Range": f'"{expected["sha256"]}"'}
    with _call("GET", url, api_key, headers=headers) as response:
        if response.status == 200:
            have = 0  # the server sent the whole file (no range, or the file changed)
        elif response.status != 206:
            raise ExportClientError(f"download: {response.status} {response.read(500)!r}")
        with open(part, "r+b" if have else "wb") as sink:
            sink.seek(have)
            sink.truncate()
            written = 0
            while block := response.read(BLOCK):
                if stop_after is not None and written + len(block) >= stop_after:
                    block = block[: stop_after - written]
                sink.write(block)
                written += len(block)
                if stop_after is not None and written >= stop_after:
                    break
    return have + written


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _base(ctx: click.Context, url: str | None) -> str:
    settings = settings_of(ctx)
    return url or f"http://{settings.host}:{settings.port}"


api_options = [
    click.option("--url", default=None, help="API base URL (default http://<host>:<port>)."),
    click.option(
        "--api-key",
        envvar="SHOPLAKE_API_KEY",
        required=True,
        help="An API key granting exports:create, e.g. the read scope (or SHOPLAKE_API_KEY).",
    ),
]


def with_api(function: Any) -> Any:
    """Add the API connection options to a command."""
    for option in reversed(api_options):
        function = option(function)
    return function


@click.group("export")
def export_group() -> None:
    """Report exports: create one and wait, download with resume, remove expired ones."""


@export_group.command("create")
@click.argument("report", type=click.Choice(sorted(REPORTS)))
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="csv", show_default=True)
@click.option("--gzip", "gzipped", is_flag=True, help="gzip the file (csv and json).")
@click.option("--column", "columns", multiple=True, help="Only these columns, in this order.")
@click.option("--start-date", default=None, help="First tenant-local day, YYYY-MM-DD.")
@click.option("--end-date", default=None, help="Last tenant-local day, YYYY-MM-DD.")
@click.option("--status", multiple=True, help="Order or refund status (repeatable).")
@click.option("--category", multiple=True, help="Category path or its prefix (repeatable).")
@click.option("--segment", multiple=True, help="RFM segment (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Download it here.")
@click.option("--timeout", type=float, default=3600, show_default=True, help="Seconds to wait.")
@with_api
@click.pass_context
def create_command(ctx, report, fmt, gzipped, columns, out, timeout, url, api_key, **filters):
    """Start an export of REPORT, wait until it is written, optionally download it."""
    chosen = {name: list(v) if isinstance(v, tuple) else v for name, v in filters.items() if v}
    body = {"report": report, "format": fmt, "compression": "gzip" if gzipped else "none"}
    body |= {"filters": chosen} | ({"columns": list(columns)} if columns else {})
    created = _json("POST", _base(ctx, url) + PATH, api_key, body, ok=(202,))
    click.echo(f"export {created['id']}: {created['total']} rows, snapshot {created['build_id']}")
    location = status_url(_base(ctx, url), created["id"])
    export = wait_for(location, api_key, timeout)
    if export["status"] == "failed":
        raise ExportClientError(f"export failed: {export['error']}")
    click.echo(f"succeeded: {export['file']['name']} ({export['file']['bytes']} bytes)")
    click.echo(location)
    if out is not None:
        done = download(location, api_key, out)
        click.echo(f"wrote {done.path} (sha256 {done.sha256})")


@export_group.command("download")
@click.argument("export_ref", metavar="EXPORT_URL_OR_ID")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Where to save it.")
@click.option("--stop-after", type=int, default=None, hidden=True, help="Stop after N bytes.")
@with_api
@click.pass_context
def download_command(ctx, export_ref, out, stop_after, url, api_key):
    """Download a finished export, resuming a partial FILE.part, and verify its SHA-256."""
    done = download(status_url(_base(ctx, url), export_ref), api_key, out, stop_after)
    resumed = f", resumed at byte {done.resumed_from}" if done.resumed_from else ""
    click.echo(f"wrote {done.path}: {done.bytes} bytes{resumed}, sha256 {done.sha256} verified")


@export_group.command("cleanup")
@click.pass_context
def cleanup_command(ctx):
    """Remove exports past export_retention_hours from this machine's var/ and the control DB."""
    settings = settings_of(ctx)
    engine = make_engine(settings.control_db_url)
    try:
        sessions = make_session_factory(engine)
        removed = remove_expired(sessions, settings.var_dir, settings.export_retention_hours)
    finally:
        engine.dispose()
    click.echo(f"Removed {len(removed)} expired export(s).")
