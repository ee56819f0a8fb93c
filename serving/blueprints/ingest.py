"""Bulk ingest over HTTP: ``POST /api/v1/ingest/<entity>/`` streams a body into the lake.

The view only works out the body's format, applies backpressure and idempotency, and hands the
stream to :mod:`ingestion.service`, the one write path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from flask import Blueprint, Response, current_app, json, request
from werkzeug.exceptions import RequestEntityTooLarge

from ingestion import idempotency
from ingestion.backpressure import Busy, IngestSlots
from ingestion.body import BLOCK_BYTES, BodyError
from ingestion.service import IngestSpec, PartialIngest, body_sha256, ingest
from serving.api import JSON_MIME, operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import tenant_id
from serving.db import session_factory
from serving.errors import ApiError, FieldError
from serving.protection.bodylimit import accepts_large_body, body_limit
from serving.schemas.ingest import IngestResponse

bp = Blueprint("ingest", __name__, url_prefix="/api/v1/ingest")

IDEMPOTENCY_HEADER = "Idempotency-Key"
NDJSON_TYPES = {"application/x-ndjson", "application/jsonl", "application/ndjson"}
JSON_TYPES = {"application/json"}
GZIP_TYPES = {"application/gzip", "application/x-gzip"}


def slots() -> IngestSlots:
    """Return this app's ingest slots (created on first use)."""
    if "shoplake.ingest_slots" not in current_app.extensions:
        settings = current_app.config["SHOPLAKE"]
        current_app.extensions["shoplake.ingest_slots"] = IngestSlots(
            settings.var_dir / "run" / "ingest-slots", settings.ingest_max_in_flight
        )
    return current_app.extensions["shoplake.ingest_slots"]


def body_format(mimetype: str, filename: str = "") -> tuple[str, bool]:
    """Map a content type (or upload file name) to (format, gzipped)."""
    name = filename.lower()
    gzipped = (
        mimetype in GZIP_TYPES
        or name.endswith(".gz")
        or (request.headers.get("Content-Encoding", "").lower() == "gzip")
    )
    name = name.removesuffix(".gz")
    if mimetype in JSON_TYPES or name.endswith(".json"):
        return "json", gzipped
    if mimetype in NDJSON_TYPES | GZIP_TYPES or name.endswith((".ndjson", ".jsonl")):
        return "ndjson", gzipped
    raise ApiError(
        415,
        "Unsupported Media Type",
        "Send NDJSON, JSON, gzip or a multipart file.",
        "unsupported-media-type",
        [FieldError("Content-Type", f"{mimetype or 'missing'} is not accepted")],
    )


def body_blocks() -> tuple[Iterator[bytes], str, bool]:
    """Return the body as blocks plus its format, for a plain or multipart request."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(
                422,
                "Unprocessable Content",
                "Attach the records as a file part.",
                "validation-failed",
                [FieldError("file", "missing file part")],
            )
        fmt, gzipped = body_format(upload.mimetype, upload.filename or "")
        return _read_blocks(upload.stream), fmt, gzipped
    fmt, gzipped = body_format(request.mimetype)
    return _read_blocks(request.stream), fmt, gzipped


def _read_blocks(stream: IO[bytes]) -> Iterator[bytes]:
    # An overrun found mid-stream must reach the ingest service as a body error, so it can
    # report the batches that landed before it.
    try:
        while block := stream.read(BLOCK_BYTES):
            yield block
    except RequestEntityTooLarge:
        raise BodyError(413, "body", f"at most {body_limit()} bytes") from None


@bp.post("/<entity>/")
@accepts_large_body("max_ingest_bytes")
@require(Permission.DATA_INGEST)
@operation(response=IngestResponse, errors=(400, 404, 409, 413, 415, 422))
def ingest_records(entity: str) -> Response:
    """Ingest records of one entity from NDJSON, JSON, gzip or a multipart file.

    Valid rows land; invalid rows are reported by row number and field. With an Idempotency-Key,
    a retry of the same body returns the first response and lands nothing new.
    """
    key = _idempotency_key()
    blocks, fmt, gzipped = body_blocks()
    return run_ingest(entity, blocks, fmt, gzipped, key, source="api")


def run_ingest(
    entity: str, blocks: Iterator[bytes], fmt: str, gzipped: bool, key: str | None, source: str
) -> Response:
    """Ingest a body for the current tenant with backpressure and idempotency; answer it."""
    settings = current_app.config["SHOPLAKE"]
    tenant = tenant_id()
    scope = f"ingest:{entity}"
    if key is not None:
        stored = idempotency.start(session_factory(), tenant, scope, key)
        if stored is not None:
            return _replay(stored, blocks, settings.max_ingest_bytes)
    spec = IngestSpec(
        settings.lake_root,
        tenant,
        entity,
        fmt,
        gzipped,
        key,
        source,
        settings.max_ingest_bytes,
        settings.ingest_chunk_rows,
    )
    try:
        with slots().acquire():
            result, digest = ingest(spec, blocks)
    except Busy as busy:
        raise _busy(busy) from None
    except PartialIngest as partial:
        raise _partial(partial) from None
    body, status = result.as_dict(), 200 if result.rows_inserted or not result.rows_failed else 422
    if key is not None:
        idempotency.finish(session_factory(), tenant, scope, key, digest, body, status)
    return Response(json.dumps(body), status=status, mimetype=JSON_MIME)


def _idempotency_key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > idempotency.MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400,
            "Bad Request",
            "Invalid Idempotency-Key.",
            "bad-request",
            [FieldError(IDEMPOTENCY_HEADER, "1-255 printable characters")],
        )
    return key.strip()


def _replay(stored: idempotency.StoredResponse, blocks: Iterator[bytes], limit: int) -> Response:
    if body_sha256(blocks, limit) != stored.body_sha256:
        raise ApiError(
            422,
            "Unprocessable Content",
            "This Idempotency-Key was used with a different body.",
            "idempotency-key-reused",
            [FieldError(IDEMPOTENCY_HEADER, "body differs")],
        )
    response = Response(json.dumps(stored.response), status=stored.status, mimetype=JSON_MIME)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _busy(busy: Busy) -> ApiError:
    return ApiError(
        429,
        "Too Many Requests",
        "Ingest capacity is full; retry after the given delay.",
        "ingest-busy",
        headers={"Retry-After": str(busy.retry_after_s)},
        extra={"queue_length": busy.in_flight, "expected_delay_s": busy.retry_after_s},
    )


def _partial(partial: PartialIngest) -> ApiError:
    error = partial.error
    title = "Content Too Large" if error.status == 413 else "Bad Request"
    return ApiError(
        error.status,
        title,
        f"{error.reason}; the batches listed in batch_ids landed before the error and are kept.",
        "payload-too-large" if error.status == 413 else "bad-request",
        [FieldError(error.field, error.reason)],
        extra=partial.result.as_dict(),
    )
