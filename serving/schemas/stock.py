"""Request and response models for /api/v1/stock/ (bulk stock updates and current levels)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from serving.api import Body, Out, Query
from warehouse.contracts.entities import STOCK_REASONS
from warehouse.contracts.fields import ID_MAX_CHARS
from warehouse.inventory import MAX_QUANTITY, Change, Mode, SkuLevel

Reason = Literal[STOCK_REASONS]  # type: ignore[valid-type]
ProductId = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX_CHARS)]


class StockChangeIn(Body):
    product_id: str = Field(min_length=1, max_length=ID_MAX_CHARS)
    variant_id: str | None = Field(
        None, min_length=1, max_length=ID_MAX_CHARS, description="Omit for a product's own stock."
    )
    quantity: int | None = Field(
        None, ge=0, le=MAX_QUANTITY, description="New absolute level (last_write_wins, reject)."
    )
    delta: int | None = Field(
        None, ge=-MAX_QUANTITY, le=MAX_QUANTITY, description="Units to add or remove (merge)."
    )
    expected_version: int | None = Field(
        None, ge=0, description="reject mode: the version the level must have (0: never set)."
    )
    reason: Reason = Field(description="Why the stock changed (the stock_event reasons).")

    def to_change(self, index: int) -> Change:
        """Return the domain change at position ``index`` of the request."""
        return Change(
            index,
            self.product_id,
            self.variant_id or "",
            self.reason,
            self.quantity,
            self.delta,
            self.expected_version,
        )


class BulkStockUpdate(Body):
    """A batch of stock changes; all changes of one product apply together or not at all."""

    mode: Mode = Field(description="last_write_wins, merge (additive deltas) or reject.")
    changes: list[StockChangeIn] = Field(min_length=1)


class LevelOut(Out):
    product_id: str
    variant_id: str | None
    quantity: int
    version: int
    updated_at: datetime | None = None

    @classmethod
    def of(cls, level: SkuLevel) -> LevelOut:
        """Serialise a level; the product's own stock has ``variant_id`` null."""
        return cls(
            product_id=level.product_id,
            variant_id=level.variant_id or None,
            quantity=level.quantity,
            version=level.version,
            updated_at=level.updated_at,
        )


class ChangeError(Out):
    field: str = Field(description="The request field at fault, e.g. changes.3.expected_version.")
    reason: str


class ProductResultOut(Out):
    product_id: str
    status: Literal["applied", "replayed", "refused"] = Field(
        description="replayed: an earlier attempt with the same Idempotency-Key applied it."
    )
    levels: list[LevelOut] = Field(description="The changed SKUs after the update (or now).")
    errors: list[ChangeError]


class BulkStockResult(Out):
    mode: Mode
    applied: int = Field(description="Products whose changes were applied (or replayed).")
    refused: int = Field(description="Products left unchanged.")
    results: list[ProductResultOut]


class LevelsQuery(Query):
    product_id: list[ProductId] = Field(
        min_length=1, max_length=500, description="Products to read (repeat the parameter)."
    )


class LevelsOut(Out):
    data: list[LevelOut] = Field(description="Stored levels; a SKU never set is absent.")
