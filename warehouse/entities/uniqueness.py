"""SKU and email uniqueness within a tenant, checked on every CRUD write.

A product's SKU and its variants' SKUs share one namespace and are compared exactly; emails are
compared lower-cased (the contract stores them so). Claims are taken first (see
:mod:`warehouse.entities.claims`), then the lake is asked who holds each value, so a concurrent
write of the same value is either finished and visible, or still waiting for our transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

from warehouse.entities.changes import Change
from warehouse.entities.claims import Claims
from warehouse.entities.resources import Resource, holders
from warehouse.entities.sources import Store


def check_unique(
    store: Store,
    resource: Resource,
    claims: Claims,
    upserts: Sequence[Change],
    tables: Mapping[str, pa.Table],
    deleting: set[str],
) -> None:
    """Fail (409/422) every change whose unique values another record holds or wants."""
    if resource.unique_kind is None:
        return
    rows = {row["id"]: row for row in tables[resource.name].to_pylist()}
    wanted = {c.id: resource.unique_fields(rows[c.id]) for c in upserts if c.pending}
    _refuse_repeats_within(upserts, wanted)
    kind = resource.unique_kind
    claims.acquire((kind, value, cid) for cid, pairs in wanted.items() for _f, value in pairs)
    taken = holders(store, resource, [value for pairs in wanted.values() for _f, value in pairs])
    for change in upserts:
        for field_name, value in wanted.get(change.id, []) if change.pending else []:
            others = taken.get(value, set()) - {change.id} - deleting
            if others:
                owner = sorted(others)[0]
                change.fail(409, field_name, f"already used by {resource.name} {owner!r}")
    _refuse_repeats_across(upserts, wanted)
    claims.forget(kind, [c.id for c in upserts if not c.pending])


def _refuse_repeats_within(upserts: Sequence[Change], wanted: dict[str, list[tuple[str, str]]]):
    """Refuse a value repeated inside one record (a variant SKU equal to another SKU)."""
    for change in upserts:
        seen: set[str] = set()
        for field_name, value in wanted.get(change.id, []) if change.pending else []:
            if value in seen:
                change.fail(422, field_name, "repeats another SKU of this product")
            seen.add(value)


def _refuse_repeats_across(upserts: Sequence[Change], wanted: dict[str, list[tuple[str, str]]]):
    """Refuse a value two records of one request want: the later one fails."""
    owner: dict[str, str] = {}
    for change in upserts:
        pairs = wanted.get(change.id, []) if change.pending else []
        for field_name, value in pairs:
            if owner.get(value, change.id) != change.id:
                change.fail(409, field_name, f"also set by {owner[value]!r} in this request")
        if change.pending:
            owner.update({value: change.id for _field, value in pairs})
