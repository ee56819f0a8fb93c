"""``shoplake push``: send NDJSON files to the ingest API in chunks, safely resumable.

Each chunk is a fixed number of lines, and its Idempotency-Key derives from the entity, chunk
index and chunk content, so re-running a push (after a crash of either side) re-sends the same
keys and lands nothing twice. A small state file beside the input remembers acknowledged chunks
so a resumed push skips them without re-sending. 429 and 5xx answers and network errors are
retried with exponential backoff, honouring Retry-After.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger("shoplake.push")

RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class PushOptions:
    base_url: str
    api_key: str
    entity: str
    lines_per_chunk: int = 20_000
    gzip_level: int | None = 1
    max_attempts: int = 20
    max_backoff_s: float = 30.0
    timeout_s: float = 300.0


@dataclass
class PushStats:
    chunks_sent: int = 0
    chunks_skipped: int = 0
    rows_inserted: int = 0
    rows_failed: int = 0
    retries: int = 0
    bytes_sent: int = 0
    started: float = field(default_factory=time.perf_counter)

    def summary(self) -> dict:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        return {
            **{k: v for k, v in vars(self).items() if k != "started"},
            "seconds": round(elapsed, 2),
            "rows_per_s": round(self.rows_inserted / elapsed),
            "mb_per_s": round(self.bytes_sent / elapsed / 1e6, 2),
        }


class PushError(RuntimeError):
    """The server refused a chunk for good (not a retryable condition)."""


def read_chunks(path: Path, lines_per_chunk: int) -> Iterator[tuple[int, bytes]]:
    """Yield (index, bytes) chunks of whole lines from an NDJSON file (optionally .gz)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as source:
        index, lines = 0, []
        for line in source:
            if line.strip():
                lines.append(line if line.endswith(b"\n") else line + b"\n")
            if len(lines) >= lines_per_chunk:
                yield index, b"".join(lines)
                index, lines = index + 1, []
        if lines:
            yield index, b"".join(lines)


def chunk_key(entity: str, index: int, data: bytes) -> str:
    """Return the deterministic Idempotency-Key of a chunk."""
    return f"push:{entity}:{index}:{hashlib.sha256(data).hexdigest()[:32]}"


class PushState:
    """Acknowledged chunk keys, persisted beside the input so a push can resume."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[str] = set(json.loads(path.read_text())) if path.exists() else set()

    def mark(self, key: str) -> None:
        self.done.add(key)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(sorted(self.done)))
        temp.replace(self.path)


def push_file(path: Path, options: PushOptions, stats: PushStats | None = None) -> PushStats:
    """Push one NDJSON file; return the running statistics."""
    stats = stats or PushStats()
    state = PushState(path.with_name(path.name + ".push-state.json"))
    for index, data in read_chunks(path, options.lines_per_chunk):
        key = chunk_key(options.entity, index, data)
        if key in state.done:
            stats.chunks_skipped += 1
            continue
        result = send_chunk(data, key, options, stats)
        stats.chunks_sent += 1
        stats.rows_inserted += result.get("rows_inserted", 0)
        stats.rows_failed += result.get("rows_failed", 0)
        state.mark(key)
        log.info("chunk acknowledged", extra={"file": str(path), "chunk": index, **stats.summary()})
    return stats


def send_chunk(data: bytes, key: str, options: PushOptions, stats: PushStats) -> dict:
    """POST one chunk until the server answers for good; return its JSON body."""
    body = gzip.compress(data, options.gzip_level) if options.gzip_level else data
    headers = {
        "Content-Type": "application/x-ndjson",
        "X-API-Key": options.api_key,
        "Idempotency-Key": key,
    }
    if options.gzip_level:
        headers["Content-Encoding"] = "gzip"
    url = urlsplit(options.base_url.rstrip("/") + f"/api/v1/ingest/{options.entity}/")
    for attempt in range(1, options.max_attempts + 1):
        try:
            status, reply_headers, payload = _post(url, body, headers, options.timeout_s)
        except (OSError, http.client.HTTPException) as exc:
            delay = _backoff(attempt, options.max_backoff_s)
            log.warning("network error; retrying", extra={"error": str(exc), "delay_s": delay})
        else:
            if status < 400 or status == 422:
                stats.bytes_sent += len(body)
                return json.loads(payload or b"{}")
            if status not in RETRY_STATUSES:
                raise PushError(f"chunk refused with {status}: {payload[:500]!r}")
            delay = float(
                reply_headers.get("retry-after") or _backoff(attempt, options.max_backoff_s)
            )
            log.warning("server busy; retrying", extra={"status": status, "delay_s": delay})
        stats.retries += 1
        time.sleep(delay)
    raise PushError(f"chunk {key} failed after {options.max_attempts} attempts")


def _post(url, body: bytes, headers: dict, timeout: float) -> tuple[int, dict, bytes]:
    connection_class = (
        http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(url.hostname, url.port, timeout=timeout)
    try:
        connection.request("POST", url.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _backoff(attempt: int, cap: float) -> float:
    # Exponential with full jitter, so many clients do not retry in lockstep.
    return random.uniform(0, min(cap, 0.2 * 2**attempt))
