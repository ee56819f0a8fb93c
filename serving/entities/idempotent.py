"""Idempotency-Key on entity POSTs: a retry gets the first response and lands nothing new.

Uses the same control-DB records as bulk ingest (:mod:`ingestion.idempotency`), scoped to the
method and path, so one key can serve different records without their answers mixing. Only
successful answers are stored: a refused request changed nothing, so retrying it simply runs
again. The key also fixes the request's batch ids and generated ids (see
:mod:`warehouse.entities.landing`), so a retry after a crash between landing and answering
finds its records instead of writing them twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Response, json, request
from pydantic import BaseModel

from ingestion import idempotency
from serving.api import JSON_MIME
from serving.auth.tenancy import tenant_id
from serving.db import session_factory
from serving.errors import ApiError, FieldError, bad_request

HEADER = "Idempotency-Key"

Run = Callable[[str, str | None], tuple[Any, int]]


def request_key() -> str | None:
    """Return the request's Idempotency-Key (None without one); 400 if it is malformed."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > idempotency.MAX_KEY_LENGTH or not key.isprintable():
        reason = "1-255 printable characters"
        raise bad_request("Invalid Idempotency-Key.", FieldError(HEADER, reason))
    return key


def idempotent(body: BaseModel | None, run: Run) -> Response:
    """Run a POST at most once per Idempotency-Key; ``run(scope, key)`` returns (model, status)."""
    scope = f"{request.method} {request.path}"
    record_scope = "crud:" + hashlib.sha256(scope.encode()).hexdigest()[:40]
    digest = hashlib.sha256(body.model_dump_json().encode() if body else b"").hexdigest()
    key = request_key()
    if key is not None:
        stored = idempotency.start(session_factory(), tenant_id(), record_scope, key)
        if stored is not None:
            return _replay(stored, digest)
    result, status = run(scope, key)
    payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    if key is not None and status < 300:
        idempotency.finish(
            session_factory(), tenant_id(), record_scope, key, digest, payload, status
        )
    return Response(json.dumps(payload), status=status, mimetype=JSON_MIME)


def _replay(stored: idempotency.StoredResponse, digest: str) -> Response:
    if stored.body_sha256 != digest:
        raise ApiError(
            422,
            "Unprocessable Content",
            "This Idempotency-Key was used with a different body.",
            "idempotency-key-reused",
            [FieldError(HEADER, "body differs")],
        )
    response = Response(json.dumps(stored.response), status=stored.status, mimetype=JSON_MIME)
    response.headers["Idempotent-Replayed"] = "true"
    return response
