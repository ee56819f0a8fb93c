"""SQL of one chunk of a search page over the current orders (snapshot plus raw tail).

One top-N: filters and the keyset condition, then the first ``limit + 1`` matches in
``(created_at, id)`` order (the extra row tells whether more follow), projected. Whatever is
not an order column is fetched for the chunk's orders only, after the top-N, so its cost follows
the chunk and not the tenant: a customer field joins (left: guests have none) the customers the
chunk's orders name, and ``items`` aggregates those orders' lines. ``q`` is a semi-join on the
customers that match it. Every value is a bound parameter; only names from the allow-list in
:mod:`warehouse.search.spec` are spliced into the text.
"""

from __future__ import annotations

from datetime import datetime

from warehouse.entities.records import items_of
from warehouse.entities.sql import InstantSpan, Query
from warehouse.search.spec import FIELDS, OrderSearch
from warehouse.search.window import Frontier

KEY_COLUMNS = ("__key_created_at", "__key_id")
OPEN = Frontier()
# Only the page's orders and customers: the semi-joins keep the hash tables as small as the page.
CUSTOMERS_JOIN = (
    "left join (select id, email, first_name, last_name from customers "
    "where id in (select customer_id from search_page)) as c on c.id = o.customer_id"
)
ITEMS_JOIN = f"left join {items_of('search_page')} as i on i.order_id = o.id"
NAME = "lower(concat_ws(' ', c.first_name, c.last_name))"


def page_sql(
    query: Query,
    search: OrderSearch,
    limit: int,
    after: tuple[datetime, str] | None,
    frontier: Frontier = OPEN,
) -> str:
    """Return the select of up to ``limit + 1`` rows: projected fields, then the cursor key.

    ``query`` already holds the current-rows CTEs (orders, order_items, and customers when
    :attr:`OrderSearch.needs_customers`), the orders' base narrowed to :func:`span`. A
    customer field or ``items`` adds the chunk's orders as a CTE of their own (``search_page``)
    to join them to. ``frontier`` limits the chunk to part of the timeline
    (:mod:`warehouse.search.window`).
    """
    clauses = _filters(query, search)
    if after is not None:
        clauses.append(_after(query, search.descending, after))
    clauses += _frontier(query, search.descending, frontier)
    direction = "desc" if search.descending else "asc"
    order = f"o.created_at {direction}, o.id {direction}"
    where = " and ".join(clauses) or "true"
    # A literal, not a parameter: DuckDB plans ORDER BY + LIMIT as a top-N (memory bounded by
    # the limit) only when it knows the limit; a bound $limit makes it sort every match.
    top = f"from orders as o where {where} order by {order} limit {int(limit) + 1:d}"
    joins = []
    if search.projects_customers:
        joins.append(CUSTOMERS_JOIN)
    if "items" in search.fields:
        joins.append(ITEMS_JOIN)
    if not joins:
        return f"select {_projection(search)} {top}"
    query.ctes.append(f"search_page as materialized (select o.* {top})")
    rows = f"search_page as o {' '.join(joins)}"
    return f"select {_projection(search)} from {rows} order by {order}"


def span(
    search: OrderSearch, after: tuple[datetime, str] | None, frontier: Frontier
) -> InstantSpan:
    """Return the instants a chunk can need: its filters, position and frontier, loosely."""
    lows = [search.start]
    highs = [search.end]
    position = after[0] if after is not None else None
    if search.descending:
        highs += [position, frontier.beyond]
        lows.append(frontier.reach)
    else:
        lows += [position, frontier.beyond]
        highs.append(frontier.reach)
    low = max((v for v in lows if v is not None), default=None)
    high = min((v for v in highs if v is not None), default=None)
    return InstantSpan("created_at", low, high)


def _frontier(query: Query, descending: bool, frontier: Frontier) -> list[str]:
    clauses = []
    if frontier.reach is not None:
        reach = query.bind("frontier_reach", frontier.reach)
        clauses.append(f"o.created_at {'>=' if descending else '<='} {reach}")
    if frontier.beyond is not None:
        beyond = query.bind("frontier_beyond", frontier.beyond)
        clauses.append(f"o.created_at {'<' if descending else '>'} {beyond}")
    return clauses


def _projection(search: OrderSearch) -> str:
    columns = [f'{FIELDS[name]} as "{name}"' for name in search.fields]
    columns += [f"o.created_at as {KEY_COLUMNS[0]}", f"o.id as {KEY_COLUMNS[1]}"]
    return ", ".join(columns)


def _filters(query: Query, search: OrderSearch) -> list[str]:
    clauses = []
    if search.start is not None:
        clauses.append(f"o.created_at >= {query.bind('f_start', search.start)}")
    if search.end is not None:
        clauses.append(f"o.created_at < {query.bind('f_end', search.end)}")
    if search.min_total_minor is not None:
        clauses.append(f"o.total_minor >= {query.bind('f_min_total', search.min_total_minor)}")
    if search.max_total_minor is not None:
        clauses.append(f"o.total_minor <= {query.bind('f_max_total', search.max_total_minor)}")
    if search.statuses is not None:
        statuses = query.bind("f_statuses", list(search.statuses))
        clauses.append(f"list_contains({statuses}, o.status)")
    if search.product_ids is not None:
        ids = query.bind("f_product_ids", list(search.product_ids))
        clauses.append(
            f"o.id in (select order_id from order_items where list_contains({ids}, product_id))"
        )
    if search.q is not None:
        q = query.bind("f_q", search.q)
        clauses.append(
            f"o.customer_id in (select c.id from customers as c where contains({NAME}, lower({q}))"
            f" or contains(lower(coalesce(c.email, '')), lower({q})))"
        )
    return clauses


def _after(query: Query, descending: bool, after: tuple[datetime, str]) -> str:
    created, key = query.bind("after_created_at", after[0]), query.bind("after_id", after[1])
    past = "<" if descending else ">"
    return f"(o.created_at {past} {created} or (o.created_at = {created} and o.id {past} {key}))"
