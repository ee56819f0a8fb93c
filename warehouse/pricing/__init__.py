"""Price events: the last known price per SKU, and anomalies flagged for review.

Public API::

    from warehouse.pricing import find_product, validate_event, land_event, record_price

    product = find_product(lake_root, tenant_id, "p1")        # None: not in the tenant's catalogue
    event, tables = validate_event(record)                   # Invalid(field, reason) if refused
    land_event(lake_root, tenant_id, event, tables)          # idempotent by event id
    outcome = record_price(factory, tenant_id, event, product.price_of(event.variant_id),
                           threshold_pct)                    # PriceOutcome(status, previous, ...)

* :mod:`.compare` - the verdict: a change of at least the threshold (exact arithmetic), a price
  leaving zero, or a currency switch is an anomaly. The previous price is the newer of the last
  price event (``price_points``) and the catalogue price (as of the product's ``updated_at``).
* :mod:`.anomalies` - ``stream_anomalies`` (newest first, ``since``/``status``/``variant_id``,
  fetched in chunks) and ``review`` (status open/reviewed with a note).
"""

from warehouse.pricing.anomalies import STATUSES, AnomalyFilter, review, stream_anomalies
from warehouse.pricing.catalog import CatalogProduct, find_product
from warehouse.pricing.compare import KnownPrice, Verdict, change_pct, judge
from warehouse.pricing.events import (
    PriceEvent,
    PriceOutcome,
    land_event,
    record_price,
    validate_event,
)

__all__ = [
    "STATUSES",
    "AnomalyFilter",
    "CatalogProduct",
    "KnownPrice",
    "PriceEvent",
    "PriceOutcome",
    "Verdict",
    "change_pct",
    "find_product",
    "judge",
    "land_event",
    "record_price",
    "review",
    "stream_anomalies",
    "validate_event",
]
