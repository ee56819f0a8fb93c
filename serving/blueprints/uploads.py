"""Resumable uploads: open a session, send chunks by index in any order, complete.

Completion streams the chunks, in index order, through the same ingest path as
``POST /api/v1/ingest/<entity>/`` with the session id as Idempotency-Key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from flask import Blueprint, Response, current_app, g, json, request

from ingestion import uploads
from serving.api import JSON_MIME, Body, Out, operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import tenant_id
from serving.blueprints.ingest import body_format, run_ingest
from serving.db import session_factory
from serving.errors import ApiError, FieldError
from serving.protection.bodylimit import accepts_large_body
from warehouse.contracts import CONTRACTS

bp = Blueprint("uploads", __name__, url_prefix="/api/v1/uploads")


class UploadCreate(Body):
    entity: str
    content_type: Literal["application/x-ndjson", "application/json"] = "application/x-ndjson"
    content_encoding: Literal["gzip"] | None = None
    total_chunks: int | None = None


class ChunkOut(Out):
    size: int
    sha256: str


class UploadOut(Out):
    upload_id: str
    entity: str
    status: str
    total_chunks: int | None
    chunks: dict[str, ChunkOut]
    missing: list[int]
    expires_at: datetime
    result: dict | None = None


def _store() -> uploads.UploadStore:
    settings = current_app.config["SHOPLAKE"]
    return uploads.UploadStore(
        settings.var_dir / "uploads", timedelta(hours=settings.upload_session_hours)
    )


def _out(upload) -> UploadOut:
    return UploadOut(
        upload_id=upload.id,
        entity=upload.entity,
        status=upload.status,
        total_chunks=upload.total_chunks,
        chunks=upload.chunks,
        missing=uploads.missing_chunks(upload),
        expires_at=upload.expires_at,
        result=upload.result,
    )


def _load(upload_id: str):
    return uploads.get(session_factory(), tenant_id(), upload_id)


@bp.post("/")
@require(Permission.DATA_INGEST)
@operation(body=UploadCreate, response=UploadOut, status=201)
def create_upload(body: UploadCreate) -> UploadOut:
    """Open a resumable upload session for one entity."""
    if body.entity not in CONTRACTS:
        raise ApiError(
            422,
            "Unprocessable Content",
            "Unknown entity.",
            "validation-failed",
            [FieldError("entity", f"choose from {', '.join(sorted(CONTRACTS))}")],
        )
    upload = uploads.create(
        session_factory(),
        _store(),
        tenant_id(),
        body.entity,
        body.content_type,
        body.content_encoding,
        body.total_chunks,
        g.principal.id,
    )
    return _out(upload)


@bp.get("/<upload_id>/")
@require(Permission.DATA_INGEST)
@operation(response=UploadOut)
def show_upload(upload_id: str) -> UploadOut:
    """Show which chunks of an upload are present and which are missing."""
    return _out(_load(upload_id))


@bp.put("/<upload_id>/chunks/<int:index>")
@accepts_large_body("max_ingest_bytes")
@require(Permission.DATA_INGEST)
@operation(response=ChunkOut)
def put_chunk(upload_id: str, index: int) -> ChunkOut:
    """Store (or replace) chunk ``index`` of an upload; the body is the chunk's raw bytes."""
    settings = current_app.config["SHOPLAKE"]
    upload = _load(upload_id)
    info = uploads.put_chunk(
        session_factory(), _store(), upload, index, request.stream, settings.max_ingest_bytes
    )
    return ChunkOut(**info)


@bp.post("/<upload_id>/complete")
@require(Permission.DATA_INGEST)
@operation(response=dict, errors=(404, 409, 413, 422))
def complete_upload(upload_id: str) -> Response:
    """Ingest every chunk in index order; completing again returns the same result."""
    upload = _load(upload_id)
    if upload.status == "completed":
        return Response(json.dumps(upload.result), mimetype=JSON_MIME)
    missing = uploads.missing_chunks(upload)
    if missing or not upload.chunks:
        raise ApiError(
            409,
            "Conflict",
            "Chunks are missing.",
            "upload-incomplete",
            [FieldError("chunks", f"missing {missing or 'all'}")],
            extra={"missing": missing},
        )
    fmt, gzipped = body_format(upload.content_type)
    gzipped = gzipped or upload.content_encoding == "gzip"
    response = run_ingest(
        upload.entity,
        uploads.chunk_stream(_store(), upload),
        fmt,
        gzipped,
        key=f"upload:{upload.id}",
        source="upload",
    )
    if response.status_code < 400:
        uploads.mark_completed(session_factory(), _store(), upload, response.get_json())
    return response
