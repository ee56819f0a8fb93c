"""Real-time metrics: today so far in the tenant's time zone, fresh within a second of a write.

Orders are the entity reader's current rows (:mod:`warehouse.entities`), the same ones a CRUD
read sees: a base (the published snapshot, else the lake's compacted current state, else raw)
plus the raw tail landed after the base's watermark, where the tail's latest version of a key
replaces the base's and a delete drops it. An order created, changed or deleted a moment ago
therefore counts as it is now, before any build. Nothing here is cached.

Events by type are read from the raw zone only: an event that occurred today cannot have
landed before today began, so only the UTC ``date=`` partitions since local midnight are
opened (an event stamped in the future by a skewed client clock may be missed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from warehouse.analytics.periods import day_bounds, local_now
from warehouse.entities import reader
from warehouse.entities.sources import Source, Store, resolve
from warehouse.entities.specs import ORDERS, family
from warehouse.entities.sql import VERSION_ORDER, InstantSpan, Query, current_rows
from warehouse.lake import LakeReadError
from warehouse.lake.reader import list_files
from warehouse.publish import NoSnapshot, current_snapshot

COUNTED = ["paid", "fulfilled", "refunded", "partially_refunded"]  # as the sales marts count
ATTEMPTS = 5


@dataclass(frozen=True)
class Today:
    """The tenant-local day so far: its date, the UTC instants it spans, and now."""

    day: date
    start: datetime
    end: datetime
    now: datetime


def today(timezone: str, now: datetime | None = None) -> Today:
    """Return the tenant-local day containing ``now`` (default: the current instant)."""
    local = local_now(timezone, now)
    start, end = day_bounds(local.date(), timezone)
    return Today(local.date(), start, end, local.astimezone(UTC))


def _orders_sql(query: Query, window: Today, currency: str) -> str:
    start, end = query.bind("rt_start", window.start), query.bind("rt_end", window.end)
    counted = (
        f"list_contains({query.bind('rt_counted', COUNTED)}, o.status) "
        f"and o.currency = {query.bind('rt_currency', currency)}"
    )
    query.ctes.append(
        f'rt_orders as (select o.*, {counted} as counted from "orders" as o '
        f"where o.created_at >= {start} and o.created_at < {end})"
    )
    query.ctes.append(
        'rt_units as (select order_id, sum(quantity) as units from "order_items" '
        "where order_id in (select id from rt_orders) group by order_id)"
    )
    return """
        select count(*) filter (where counted) as orders,
            coalesce(sum(total_minor) filter (where counted), 0)::bigint as revenue_minor,
            coalesce(sum(u.units) filter (where counted), 0)::bigint as units,
            count(distinct customer_id) filter (where counted) as unique_customers,
            max(created_at) filter (where counted) as last_order_at,
            count(*) as orders_placed,
            histogram(status) as orders_by_status
        from rt_orders as o left join rt_units as u on u.order_id = o.id
    """


def order_metrics(
    store: Store, window: Today, currency: str
) -> tuple[dict[str, Any], dict[str, Source]]:
    """Return today's order figures and the sources (base and tail) they were read from."""
    # Only the day's rows: the snapshot's row groups of other days and tail keys with no
    # version today are skipped (a bulk import's tail is not ranked on every request).
    today_only = InstantSpan("created_at", window.start, window.end)
    for attempt in range(ATTEMPTS):
        # Plan from a fresh listing each time: compaction may move files away mid-read, or
        # swap the compacted current state (then DuckDB may fail on a half-seen file).
        sources = resolve(store, family(ORDERS))
        query = current_rows(Query(), sources, span=today_only)
        try:
            row = reader.run(query.sql(_orders_sql(query, window, currency)), query.params)[0]
        except (duckdb.Error, FileNotFoundError) as exc:
            moved = isinstance(exc, duckdb.IOException | FileNotFoundError) or _swapped(sources)
            if attempt == ATTEMPTS - 1 or not moved:
                raise
            continue
        if not _swapped(sources):
            return row, sources
    raise LakeReadError(f"orders/tenant_id={store.tenant_id}: files kept changing during read")


def _swapped(sources: dict[str, Source]) -> bool:
    return any(source.base_changed() for source in sources.values())


def event_counts(store: Store, window: Today) -> tuple[dict[str, int], int]:
    """Return today's events by type (latest version per id) and how many files were read."""
    first = window.start.date()
    days = [first + timedelta(days=n) for n in range((window.now.date() - first).days + 1)]
    files = [str(path) for path in list_files(store.lake_root, "events", store.tenant_id, days)]
    if not files:
        return {}, 0
    rows = reader.run(
        f"""
        select type, count(*) as n from (
            select type, _op
            from read_parquet($files, union_by_name = true, hive_partitioning = false)
            -- Filtered before deduplicating so row groups of other days are skipped by their
            -- statistics (a backfill lands years of events in today's partition).
            where occurred_at >= $start and occurred_at < $end
            qualify row_number() over (partition by id order by {VERSION_ORDER}) = 1
        )
        where _op <> 'delete'
        group by type
        order by type
        """,
        {"files": files, "start": window.start, "end": window.end},
    )
    return {row["type"]: row["n"] for row in rows}, len(files)


def _published(store: Store) -> dict[str, Any] | None:
    try:
        snapshot = current_snapshot(store.var_dir)
    except NoSnapshot:
        return None
    return {"build_id": snapshot.build_id, "watermark": _utc(snapshot.watermark)}


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def realtime(
    store: Store, timezone: str, currency: str, now: datetime | None = None
) -> dict[str, Any]:
    """Return the tenant's figures for today so far, and where they were read from."""
    window = today(timezone, now)
    orders, sources = order_metrics(store, window, currency)
    events, event_files = event_counts(store, window)
    source = sources[ORDERS.name]
    return {
        "date": window.day,
        "timezone": timezone,
        "currency": currency,
        "as_of": window.now,
        **orders,
        "last_order_at": _utc(orders["last_order_at"]),
        "orders_by_status": orders["orders_by_status"] or {},
        "events_by_type": events,
        "source": {
            "snapshot": _published(store),
            "orders_base": source.kind,
            "orders_base_files": len(source.base_files),
            "tail_since": _utc(source.since),
            "tail_files": len(source.tail_files),
            "event_files": event_files,
        },
    }
