"""The contract registry: one versioned :class:`Contract` per ingest entity."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import msgspec
import pyarrow as pa

from warehouse.contracts import entities, rules, shape
from warehouse.contracts.fields import (
    ID_MAX_CHARS,
    Field,
    columnar_readable,
    struct_type,
    wire_schema,
)
from warehouse.contracts.levels import Findings

CONTRACT_VERSION = 1

Shaper = Callable[[pa.Table], dict[str, pa.Table]]
Rules = Callable[[pa.Table, Findings], None]


@dataclass(frozen=True)
class LakeEntity:
    """A raw-zone entity: its Arrow schema (without the ``_`` metadata columns) and its key.

    ``parent`` names the entity whose rows own these (``order_items`` -> ``("orders",
    "order_id")``): a child row belongs to the parent version landed in the same batch.
    """

    name: str
    key: tuple[str, ...]
    schema: pa.Schema
    contract: str
    parent: tuple[str, str] | None = None


class Contract:
    """One ingest entity's versioned contract: fields, rules, and the lake tables it feeds."""

    def __init__(
        self,
        name: str,
        fields: tuple[Field, ...],
        shaper: Shaper,
        keys: Mapping[str, tuple[str, ...]],
        check: Rules | None = None,
        parents: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self.name = name
        self.version = CONTRACT_VERSION
        self.fields = fields
        self.shape = shaper
        self.rules = check
        self.wire_schema = wire_schema(fields)
        self.columnar = columnar_readable(fields)
        self.struct = struct_type(name.title().replace("_", ""), fields)
        self.decoder = msgspec.json.Decoder(self.struct)
        self.metadata = {b"shoplake.contract": name.encode(), b"shoplake.contract_version": b"1"}
        empty = shaper(self.wire_schema.empty_table())
        self.lake: dict[str, LakeEntity] = {
            entity: LakeEntity(
                entity, keys[entity], table.schema, name, (parents or {}).get(entity)
            )
            for entity, table in empty.items()
        }
        self.entity = next(iter(self.lake))
        """The main lake entity (``orders`` for ``order``); it holds deletes."""

    def __repr__(self) -> str:
        return f"Contract({self.name!r}, version={self.version}, lake={list(self.lake)})"

    def delete_tables(self, ids: Sequence[str]) -> dict[str, pa.Table]:
        """Return the tables that record deletes of ``ids`` (land them with ``op="delete"``)."""
        for value in ids:
            if not isinstance(value, str) or not 0 < len(value) <= ID_MAX_CHARS:
                raise ValueError(f"invalid {self.name} id: {value!r}")
        schema = self.lake[self.entity].schema
        arrays = [
            pa.array(ids, f.type) if f.name == "id" else pa.nulls(len(ids), f.type) for f in schema
        ]
        return {self.entity: pa.Table.from_arrays(arrays, schema=schema)}


def _single(
    name: str, fields: tuple[Field, ...], entity: str, check: Rules | None = None
) -> Contract:
    return Contract(name, fields, shape.records(fields, entity), {entity: ("id",)}, check)


CONTRACTS: Mapping[str, Contract] = MappingProxyType(
    {
        "product": _single("product", entities.PRODUCT, "products"),
        "customer": Contract(
            "customer",
            entities.CUSTOMER,
            shape.customers(entities.CUSTOMER),
            {"customers": ("id",)},
        ),
        "order": Contract(
            "order",
            entities.ORDER,
            shape.orders(entities.ORDER),
            {"orders": ("id",), "order_items": ("order_id", "line_number")},
            rules.order_rules,
            {"order_items": ("orders", "order_id")},
        ),
        "event": _single("event", entities.EVENT, "events"),
        "stock_event": _single(
            "stock_event", entities.STOCK_EVENT, "stock_events", rules.stock_event_rules
        ),
        "price_event": _single("price_event", entities.PRICE_EVENT, "price_events"),
        "refund": _single("refund", entities.REFUND, "refunds"),
        "customer_note": _single("customer_note", entities.CUSTOMER_NOTE, "customer_notes"),
        "payment": _single("payment", entities.PAYMENT, "payments"),
        "dispute": _single("dispute", entities.DISPUTE, "disputes"),
        "payment_event": _single("payment_event", entities.PAYMENT_EVENT, "payment_events"),
    }
)
"""Contracts keyed by ingest entity name (``order``, ``stock_event`` ...)."""

LAKE_ENTITIES: Mapping[str, LakeEntity] = MappingProxyType(
    {name: lake for contract in CONTRACTS.values() for name, lake in contract.lake.items()}
)
"""Raw-zone entities keyed by lake folder name (``orders``, ``order_items`` ...)."""
