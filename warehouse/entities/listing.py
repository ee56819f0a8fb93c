"""List records: filters, sort and keyset pagination over an entity's current rows.

Filters are fixed SQL templates per resource with the client's value bound as a parameter;
``id`` narrows every scan (snapshot, compacted state and tail) to those keys. Paging is by
keyset over ``(sort column, id)``: the caller passes the last row's position back (signed by
the API as an opaque cursor), so pages stay correct while records are added or removed.

A page sorted by ``created_at`` first reads only as far as the base's row-group statistics
say holds its rows (a *reach*, as order search chunks do: :mod:`warehouse.search.window`);
without it the top-N read every base row (2,000,000 orders of one large tenant: ~1 s). Every
row within the reach, base or tail, is still considered, so a full page from it is exactly
the true page. A short one (filters matched few rows there) is asked again without the bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from warehouse.entities import reader
from warehouse.entities.records import items_of, to_api
from warehouse.entities.resources import ORDERS, Resource
from warehouse.entities.sources import Store, resolve
from warehouse.entities.specs import SPECS, family
from warehouse.entities.sql import InstantSpan, Query, quote
from warehouse.search.window import base_reach

BOUNDED_SORT = "created_at"

SKUS = "list_transform(coalesce(variants, []), lambda v: v.sku)"
NAME = "lower(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))"
TIME_RANGE = {
    "created_after": "created_at >= {}",
    "created_before": "created_at < {}",
    "updated_after": "updated_at >= {}",
}
FILTERS: Mapping[str, Mapping[str, str]] = {
    "products": {
        "sku": f"(sku = {{0}} or list_contains({SKUS}, {{0}}))",
        "category": "category = {}",
        "subcategory": "subcategory = {}",
        "is_active": "is_active = {}",
        "tag": "list_contains(tags, {})",
        "currency": "currency = {}",
        "q": "(contains(lower(name), lower({0})) or contains(lower(sku), lower({0})))",
        "min_price_minor": "price_minor >= {}",
        "max_price_minor": "price_minor <= {}",
        **TIME_RANGE,
    },
    "customers": {
        "email": "email = lower({})",
        "q": f"(contains({NAME}, lower({{0}})) or contains(email, lower({{0}})))",
        "tag": "list_contains(tags, {})",
        "country": "address_country = {}",
        "accepts_email_marketing": "accepts_email_marketing = {}",
        **TIME_RANGE,
    },
    "orders": {
        "status": "list_contains({}, status)",
        "customer_id": "customer_id = {}",
        "order_number": "order_number = {}",
        "currency": "currency = {}",
        "min_total_minor": "total_minor >= {}",
        "max_total_minor": "total_minor <= {}",
        **TIME_RANGE,
    },
}
SORTS: Mapping[str, tuple[str, ...]] = {
    "products": ("id", "name", "sku", "price_minor", "stock_quantity", "created_at", "updated_at"),
    "customers": ("id", "email", "created_at", "updated_at"),
    "orders": ("id", "order_number", "total_minor", "created_at", "updated_at"),
}


def sort_names(resource: str) -> tuple[str, ...]:
    """Return every accepted ``sort`` value of a resource (each column, ascending and ``-``)."""
    return tuple(name for column in SORTS[resource] for name in (column, f"-{column}"))


@dataclass(frozen=True)
class ListRequest:
    """One page request: filters by name (None = not given), sort, size and position."""

    filters: Mapping[str, Any] = field(default_factory=dict)
    ids: Sequence[str] | None = None
    sort: str = "id"  # a column of SORTS, "-" first for descending
    limit: int = 50
    after: tuple[Any, str] | None = None  # (sort value, id) of the previous page's last row


@dataclass(frozen=True)
class Page:
    """One page of API records and, when more follow, the last row's position."""

    records: list[dict[str, Any]]
    last: tuple[Any, str] | None


def sort_column(resource: Resource, sort: str) -> tuple[str, bool]:
    """Return (column, descending) for a sort name; raise ValueError for an unknown one."""
    column = sort.removeprefix("-")
    if column not in SORTS[resource.name]:
        raise ValueError(f"cannot sort {resource.name} by {column!r}")
    return column, sort.startswith("-")


def list_records(store: Store, resource: Resource, request: ListRequest) -> Page:
    """Return one page of a resource's current records."""
    column, descending = sort_column(resource, request.sort)
    wanted = int(request.limit) + 1  # one more tells whether another page follows
    rows, sources = None, None
    if column == BOUNDED_SORT and request.ids is None:
        sources = resolve(store, family(SPECS[resource.name]))
        rows = _bounded_page(store, resource, request, descending, wanted, sources)
    if rows is None:
        unbounded = _page_sql(resource, request, column, descending, wanted, None)
        rows = reader.select(store, resource.name, unbounded, request.ids, resolved=sources)
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    last = (rows[-1][column], rows[-1]["id"]) if more else None
    return Page([to_api(resource.name, row) for row in rows], last)


def _bounded_page(store, resource, request, descending, wanted, sources) -> list | None:
    """Return the page read only as far as its reach, or None when that may not be the page."""
    start = request.after[0] if request.after is not None else None
    reach = base_reach(sources[resource.name], BOUNDED_SORT, wanted, descending, start)
    if reach is None:
        return None
    low, high = (reach, start) if descending else (start, reach)
    build = _page_sql(resource, request, BOUNDED_SORT, descending, wanted, reach)
    span = InstantSpan(BOUNDED_SORT, low, high)
    rows = reader.select(store, resource.name, build, None, span, sources)
    return rows if len(rows) == wanted else None  # short: the bound may have cut it


def _page_sql(resource, request, column, descending, wanted, reach):
    def build(query: Query) -> str:
        clauses = _filters(query, resource, request.filters)
        if request.after is not None:
            clauses.append(_after(query, column, descending, request.after))
        if reach is not None:
            clauses.append(f"{quote(column)} {'>=' if descending else '<='} "
                           f"{query.bind('reach', reach)}")  # fmt: skip
        direction = "desc" if descending else "asc"
        order = f"{quote(column)} {direction}, id {direction}"
        # A literal (an int we validated) lets DuckDB plan a bounded top-N instead of a full
        # sort; a bound parameter makes it sort every matching row.
        page = (
            f"select * from {quote(resource.name)} where {' and '.join(clauses) or 'true'} "
            f"order by {order} limit {int(wanted)}"
        )
        return _with_items(query, page, order) if resource is ORDERS else page

    return build


def _with_items(query: Query, page: str, order: str) -> str:
    """Return the page's orders with their lines nested, read for those orders only.

    In the same query, so a page bounded in time reads only that stretch of the lines (they
    keep their order's ``created_at``); a second query by order ids would scan them all.
    """
    query.ctes.append(f"list_page as materialized ({page})")
    return (
        f"select p.*, coalesce(i.items, []) as items from list_page as p "
        f"left join {items_of('list_page')} as i on i.order_id = p.id order by {order}"
    )


def _filters(query: Query, resource: Resource, values: Mapping[str, Any]) -> list[str]:
    clauses = []
    for name, template in FILTERS[resource.name].items():
        value = values.get(name)
        if value is not None:
            clauses.append(template.format(query.bind(f"f_{name}", value)))
    return clauses


def _after(query: Query, column: str, descending: bool, after: tuple[Any, str]) -> str:
    sort_value, id_value = query.bind("after_sort", after[0]), query.bind("after_id", after[1])
    past = "<" if descending else ">"
    return (
        f"({quote(column)} {past} {sort_value} or "
        f"({quote(column)} = {sort_value} and id {past} {id_value}))"
    )
