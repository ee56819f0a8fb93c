"""Stock levels: conflict-checked bulk updates and reads of current levels with versions.

``PUT /api/v1/stock/bulk_update/`` answers 200 when every product applied, 207 when some were
refused, and a problem (409 if a refusal was a conflict with the current level, else 422) when
none applied; every answer lists each product's result. With an Idempotency-Key a retry returns
the stored answer, and a retry after a crash changes no product twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

from flask import Blueprint, Response, current_app, request

from ingestion import idempotency
from serving.api import JSON_MIME, operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import tenant_id
from serving.db import db, session_factory
from serving.errors import (
    PROBLEM_MIME,
    ApiError,
    FieldError,
    bad_request,
    problem_response,
    unprocessable,
)
from serving.schemas.stock import (
    BulkStockResult,
    BulkStockUpdate,
    ChangeError,
    LevelOut,
    LevelsOut,
    LevelsQuery,
    ProductResultOut,
)
from warehouse import inventory

bp = Blueprint("stock", __name__, url_prefix="/api/v1/stock")

IDEMPOTENCY_HEADER = "Idempotency-Key"
SCOPE = "stock:bulk_update"


@bp.put("/bulk_update/")
@require(Permission.DATA_WRITE)
@operation(body=BulkStockUpdate, response=BulkStockResult, errors=(409, 422))
def bulk_update(body: BulkStockUpdate) -> Response:
    """Apply stock changes, atomically per product, under a conflict mode.

    Modes: `last_write_wins` sets `quantity`; `merge` adds `delta` and refuses a level below
    zero; `reject` sets `quantity` only if `expected_version` is the SKU's version (0 if never
    set). 200: all applied; 207: some products refused; 409/422 problem: none applied.
    """
    settings = current_app.config["SHOPLAKE"]
    changes = _changes(body, settings.stock_bulk_max_changes)
    tenant, key = tenant_id(), idempotency_key()
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    if key is not None and (stored := idempotency.start(session_factory(), tenant, SCOPE, key)):
        return _replay(stored, digest)
    results = inventory.bulk_update(
        session_factory(),
        settings.lake_root,
        tenant,
        body.mode,
        changes,
        _request_key(tenant, key),
        redeliver_after=timedelta(seconds=settings.stock_event_redeliver_seconds),
    )
    response = _answer(body.mode, results)
    if key is not None:
        stored_body = json.loads(response.get_data())
        idempotency.finish(
            session_factory(), tenant, SCOPE, key, digest, stored_body, response.status_code
        )
    return response


@bp.get("/levels/")
@require(Permission.DATA_READ)
@operation(query=LevelsQuery, response=LevelsOut)
def levels(query: LevelsQuery) -> LevelsOut:
    """Read the current stock levels and versions of some products."""
    stored = inventory.read_levels(db(), tenant_id(), query.product_id)
    return LevelsOut(data=[LevelOut.of(level) for level in stored])


def idempotency_key() -> str | None:
    """Return the request's Idempotency-Key, refusing an unusable one."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > idempotency.MAX_KEY_LENGTH or not key.isprintable():
        raise bad_request(
            "Invalid Idempotency-Key.", FieldError(IDEMPOTENCY_HEADER, "1-255 printable characters")
        )
    return key.strip()


def _changes(body: BulkStockUpdate, limit: int) -> list[inventory.Change]:
    if len(body.changes) > limit:
        raise unprocessable(
            "Too many changes in one request.", FieldError("changes", f"at most {limit} changes")
        )
    changes = [item.to_change(index) for index, item in enumerate(body.changes)]
    errors = [FieldError(f, r) for c in changes for f, r in inventory.shape_errors(body.mode, c)]
    if errors:
        raise unprocessable("Some changes do not fit the mode.", *errors)
    return changes


def _request_key(tenant: int, key: str | None) -> str:
    if key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(json.dumps([tenant, SCOPE, key]).encode()).hexdigest()


def _answer(mode: inventory.Mode, results: list[inventory.ProductResult]) -> Response:
    applied = sum(1 for r in results if r.ok)
    outcome = BulkStockResult(
        mode=mode,
        applied=applied,
        refused=len(results) - applied,
        results=[_result_out(r) for r in results],
    )
    if applied:
        status = 200 if applied == len(results) else 207
        return Response(outcome.model_dump_json(), status=status, mimetype=JSON_MIME)
    conflict = any(r.conflict for r in results)
    error = ApiError(
        409 if conflict else 422,
        "Conflict" if conflict else "Unprocessable Content",
        "No product was changed.",
        "stock-conflict" if conflict else "validation-failed",
        [FieldError(f, reason) for r in results for f, reason in r.errors],
        extra=outcome.model_dump(mode="json"),
    )
    return problem_response(error)


def _result_out(result: inventory.ProductResult) -> ProductResultOut:
    return ProductResultOut(
        product_id=result.product_id,
        status=result.status,
        levels=[LevelOut.of(level) for level in result.levels],
        errors=[ChangeError(field=f, reason=reason) for f, reason in result.errors],
    )


def _replay(stored: idempotency.StoredResponse, digest: str) -> Response:
    if stored.body_sha256 != digest:
        raise ApiError(
            422,
            "Unprocessable Content",
            "This Idempotency-Key was used with a different body.",
            "idempotency-key-reused",
            [FieldError(IDEMPOTENCY_HEADER, "body differs")],
        )
    mimetype = PROBLEM_MIME if stored.status >= 400 else JSON_MIME
    response = Response(json.dumps(stored.response), status=stored.status, mimetype=mimetype)
    response.headers["Idempotent-Replayed"] = "true"
    return response
