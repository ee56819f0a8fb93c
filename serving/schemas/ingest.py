"""Response models of the ingest endpoints."""

from __future__ import annotations

from serving.api import Out


class RowErrorOut(Out):
    row: int
    field: str
    reason: str


class IngestResponse(Out):
    """Outcome of one ingest request; ``errors`` holds the first 100 row errors in full."""

    idempotency_key: str
    rows_received: int
    rows_inserted: int
    rows_failed: int
    errors: list[RowErrorOut]
    error_counts: dict[str, int]
    batch_ids: list[str]
    processing_ms: float
