"""Look up one product of a tenant: does it exist, and what does the catalogue say it costs?

Reads through the entities' read path (:mod:`warehouse.entities`: published snapshot plus raw
tail, only that tenant's partitions), so a product created a moment ago is found, and a
deleted one, or another tenant's, is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from warehouse.entities.resources import PRODUCTS, fetch_one
from warehouse.entities.sources import Store
from warehouse.pricing.compare import KnownPrice


@dataclass(frozen=True)
class CatalogProduct:
    """A product's current catalogue price, and its variants' own prices (None: the product's)."""

    product_id: str
    price_minor: int
    currency: str
    updated_at: datetime
    variants: dict[str, int | None] = field(default_factory=dict)

    def price_of(self, variant_id: str) -> KnownPrice | None:
        """Return the catalogue price of the product ('') or a variant; None for no such variant."""
        if variant_id and variant_id not in self.variants:
            return None
        own = self.variants.get(variant_id) if variant_id else None
        price = own if own is not None else self.price_minor
        return KnownPrice(price, self.currency, self.updated_at, "catalog")


def find_product(
    lake_root: Path, var_dir: Path, tenant_id: int, product_id: str
) -> CatalogProduct | None:
    """Return a tenant's product as it is now, or None if it does not exist (or was deleted)."""
    record = fetch_one(Store(Path(lake_root), Path(var_dir), tenant_id), PRODUCTS, product_id)
    return _catalog_product(record) if record is not None else None


def _catalog_product(record: dict[str, Any]) -> CatalogProduct:
    variants = {v["id"]: v.get("price_minor") for v in record.get("variants") or []}
    return CatalogProduct(
        record["id"], record["price_minor"], record["currency"], record["updated_at"], variants
    )
