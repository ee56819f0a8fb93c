"""Price events of a product (webhook style) and the price anomalies they raise.

``POST /api/v1/products/<id>/price-event/`` is idempotent by the event's ``id`` (or, without
one, the Idempotency-Key): a repeat returns the first answer and changes nothing. It is rate
limited per product and per tenant. A product the tenant does not have is a 404, whoever has it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, g, request

from ingestion import idempotency
from serving.api import JSON_MIME, operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import current_tenant, tenant_id
from serving.blueprints.stock import idempotency_key
from serving.db import session_factory, write_transaction
from serving.errors import ApiError, FieldError, bad_request, not_found, unprocessable
from serving.protection import by_principal, from_setting, rate_limit
from serving.protection.budgets import charged_tenant
from serving.schemas.prices import (
    AnomalyOut,
    AnomalyQuery,
    AnomalyReview,
    KnownPriceOut,
    PriceEventIn,
    PriceEventOut,
)
from warehouse import pricing
from warehouse.controldb.models import Tenant
from warehouse.controlplane.tenant_settings import effective_settings

bp = Blueprint("prices", __name__, url_prefix="/api/v1/products")

NDJSON_MIME = "application/x-ndjson"
SCOPE = "price_event"


def _tenant_key() -> str:
    tenant = charged_tenant()
    return f"tenant:{tenant.id}" if tenant is not None else by_principal()


def per_tenant() -> str:
    """Key a tenant's price-event budget."""
    return f"{_tenant_key()}:price-events"


def per_product() -> str:
    """Key one product's price-event budget (hashed: ids may hold any character)."""
    product = (request.view_args or {}).get("product_id", "")
    return f"{per_tenant()}:{hashlib.sha256(product.encode()).hexdigest()[:24]}"


@bp.post("/<product_id>/price-event/")
@rate_limit(
    from_setting("ratelimit_price_event_product"),
    key=per_product,
    scope="price-event-product",
    message="Too many price events for this product.",
)
@rate_limit(
    from_setting("ratelimit_price_event_tenant"),
    key=per_tenant,
    scope="price-event-tenant",
    message="Too many price events for this tenant.",
)
@require(Permission.DATA_WRITE)
@operation(body=PriceEventIn, response=PriceEventOut, status=201, errors=(404, 422))
def price_event(product_id: str, body: PriceEventIn) -> Response:
    """Record a price change of a product; flag it for review if it is an anomaly.

    The change is compared with the newer of the last price event and the catalogue price; it
    is an anomaly at or past the tenant's `price_anomaly_threshold_pct`, when it leaves zero, or
    when the currency changes. 201: recorded; 200: already recorded (a repeat).
    """
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    record = {**body.model_dump(exclude_none=True), "product_id": product_id}
    record["id"] = _event_id(tenant.id, product_id, body.id)
    product = _product(tenant.id, product_id)
    event, tables = pricing.validate_event(record)
    known = _catalog_price(product, event.variant_id)
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    stored = idempotency.start(session_factory(), tenant.id, SCOPE, event.id)
    if stored is not None:
        return _replay(stored, digest)
    outcome = _record(tenant, event, tables, known)
    status = 200 if outcome.status == "duplicate" else 201
    answer = _event_out(event, outcome).model_dump(mode="json")
    idempotency.finish(session_factory(), tenant.id, SCOPE, event.id, digest, answer, status)
    return Response(json.dumps(answer), status=status, mimetype=JSON_MIME)


@bp.get("/<product_id>/price-anomalies/")
@require(Permission.DATA_READ)
@operation(query=AnomalyQuery, response=list[AnomalyOut], errors=(404,))
def price_anomalies(product_id: str, query: AnomalyQuery) -> Response:
    """Stream a product's recent price anomalies, newest first.

    NDJSON when the client accepts `application/x-ndjson` (preferred over JSON), else one JSON
    array, written chunk by chunk as rows are read.
    """
    tenant = tenant_id()
    _product(tenant, product_id)
    spec = pricing.AnomalyFilter(query.limit, query.since, query.status, query.variant_id)
    rows = pricing.stream_anomalies(session_factory(), tenant, product_id, spec)
    items = (AnomalyOut.of(row).model_dump_json() for row in rows)
    if request.accept_mimetypes.best_match([JSON_MIME, NDJSON_MIME]) == NDJSON_MIME:
        return Response((item + "\n" for item in items), mimetype=NDJSON_MIME)
    return Response(_json_array(items), mimetype=JSON_MIME)


price_anomalies.openapi.content_types = (JSON_MIME, NDJSON_MIME)  # type: ignore[attr-defined]


@bp.patch("/<product_id>/price-anomalies/<int:anomaly_id>/")
@require(Permission.DATA_WRITE)
@operation(body=AnomalyReview, response=AnomalyOut, errors=(404,))
def review_anomaly(product_id: str, anomaly_id: int, body: AnomalyReview) -> AnomalyOut:
    """Mark a price anomaly reviewed (or open again), with an optional note."""
    with write_transaction() as session:
        anomaly = pricing.review(
            session,
            tenant_id(),
            product_id,
            anomaly_id,
            status=body.status,
            note=body.note,
            by=g.principal.id,
        )
        return AnomalyOut.of(anomaly)


def _event_id(tenant: int, product_id: str, given: str | None) -> str:
    if given is not None:
        return given
    key = idempotency_key()
    if key is None:
        raise bad_request(
            "A price event needs an id or an Idempotency-Key.",
            FieldError("id", "send the event's id, or an Idempotency-Key header"),
        )
    material = json.dumps([tenant, product_id, key], ensure_ascii=False).encode()
    return "pe_" + hashlib.sha256(material).hexdigest()[:32]


def _product(tenant: int, product_id: str) -> pricing.CatalogProduct:
    settings = current_app.config["SHOPLAKE"]
    product = pricing.find_product(settings.lake_root, settings.var_dir, tenant, product_id)
    if product is None:
        raise not_found("No such product.")
    return product


def _catalog_price(product: pricing.CatalogProduct, variant_id: str) -> pricing.KnownPrice:
    known = product.price_of(variant_id)
    if known is None:
        raise unprocessable(
            "No such variant.", FieldError("variant_id", "not a variant of this product")
        )
    return known


def _record(
    tenant: Tenant, event: pricing.PriceEvent, tables: dict, known: pricing.KnownPrice
) -> pricing.PriceOutcome:
    lake_root = current_app.config["SHOPLAKE"].lake_root
    pricing.land_event(lake_root, tenant.id, event, tables)
    threshold = effective_settings(tenant.settings).price_anomaly_threshold_pct
    return pricing.record_price(session_factory(), tenant.id, event, known, threshold)


def _event_out(event: pricing.PriceEvent, outcome: pricing.PriceOutcome) -> PriceEventOut:
    return PriceEventOut(
        id=event.id,
        product_id=event.product_id,
        variant_id=event.variant_id or None,
        price_minor=event.price_minor,
        currency=event.currency,
        occurred_at=event.occurred_at,
        status=outcome.status,
        previous=KnownPriceOut.of(outcome.previous),
        change_pct=outcome.verdict.change_pct if outcome.verdict else None,
        anomaly=AnomalyOut.of(outcome.anomaly) if outcome.anomaly else None,
    )


def _replay(stored: idempotency.StoredResponse, digest: str) -> Response:
    if stored.body_sha256 != digest:
        raise ApiError(
            422,
            "Unprocessable Content",
            "This event id was already used for a different price event.",
            "idempotency-key-reused",
            [FieldError("id", "already used with other content")],
        )
    response = Response(json.dumps(stored.response), status=stored.status, mimetype=JSON_MIME)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _json_array(items: Iterator[str]) -> Iterator[str]:
    yield "["
    for index, item in enumerate(items):
        yield ("," if index else "") + item
    yield "]"
