"""Which files of a mart its trusted change log says may differ from the previous snapshot.

An ``apply_changes`` run leaves beside its mart a log of the rows it replaced and the rows it
inserted (dbt_project/macros/incremental.sql), and a marker saying which run it was. When the
previous snapshot was published from the very build before this one and the mart's marker says
this build's run wrote that log (the caller checks both), a file that none of the logged rows
falls in holds what it held in the previous snapshot: it is linked without being read, and only
the touched files are fingerprinted. Publishing a fact after a few new orders then reads this
month's rows, not the fact's whole history.

A mart split by year keeps each tenant's newest month in a file of its own, so which file holds
a row depends on that month too: a tenant whose newest month moved (or that is new) has every
file touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import duckdb

from warehouse.publish.spans import (
    TENANT_COLUMN,
    PartFile,
    newest_month_of,
    newest_months_sql,
    quote,
    spans_sql,
)

NEWEST_TABLE = "publish_newest"
TOUCHED_TABLE = "publish_touched"


class LoggedMart(Protocol):
    """What this module needs of a MartSpec (export.py)."""

    relation: str
    period_column: str | None
    period: str
    change_log: str | None


@dataclass(frozen=True)
class Marker:
    """What a mart's latest ``apply_changes`` run left beside it (``<table>__changed``)."""

    changed_keys: int
    invocation_id: str
    change_logged: bool  # False in markers from before runs logged their changes


def read_marker(con: duckdb.DuckDBPyConnection, relation: str | None) -> Marker | None:
    """Return the marker in ``relation``, or None when there is none (never run incrementally)."""
    if relation is None:
        return None
    try:
        result = con.execute(f"select * from {relation}")
    except duckdb.CatalogException:
        return None
    names = [column[0] for column in result.description]
    rows = result.fetchall()
    if len(rows) != 1:
        return None
    row = dict(zip(names, rows[0], strict=True))
    return Marker(int(row["changed_keys"]), row["invocation_id"], bool(row.get("change_logged")))


@dataclass(frozen=True)
class Touched:
    """The files logged rows fall in, per tenant, and the tenants all of whose files count."""

    spans: dict[int, dict[str, Any]] = field(default_factory=dict)  # tenant -> name -> start
    whole: frozenset[int] = frozenset()
    newest: str | None = None  # a relation of each tenant's newest month (year split only)

    def untouched(self, tenant_id: int, name: str) -> bool:
        """Whether the previous snapshot's file ``name`` of ``tenant_id`` is still as it was."""
        return tenant_id not in self.whole and name not in self.spans.get(tenant_id, {})

    def filter_sql(self, con: duckdb.DuckDBPyConnection, start: str, column: str | None):
        """Return a condition on rows ``t`` keeping the touched files' rows, and its parameters.

        ``start`` is the SQL of a row's span start (spans.py); ``column`` the period column,
        whose plain lower bound lets DuckDB skip older row groups when no whole tenant is read.
        """
        con.execute(
            f"create or replace temp table {TOUCHED_TABLE} "
            "(tenant_id bigint, start timestamptz, whole boolean)"
        )
        rows = [(t, None, True) for t in sorted(self.whole)] + [
            (t, begin, False) for t, names in self.spans.items() for begin in names.values()
        ]
        if rows:
            con.executemany(f"insert into {TOUCHED_TABLE} values (?, ?, ?)", rows)
        tenant = quote(TENANT_COLUMN)
        condition = (
            f"exists (select 1 from {TOUCHED_TABLE} as f where f.tenant_id = t.{tenant} "
            f"and (f.whole or f.start is not distinct from {start}))"
        )
        starts = [begin for names in self.spans.values() for begin in names.values()]
        if column is None or self.whole or not starts or None in starts:
            return condition, {}
        return f"t.{quote(column)} >= $since and {condition}", {"since": min(starts)}


def touched_files(
    con: duckdb.DuckDBPyConnection,
    spec: LoggedMart,
    previous_files: Mapping[int, Mapping[str, str]],
) -> Touched:
    """Return what the mart's change log touched (the caller has checked the log is trusted).

    ``previous_files``: per tenant, the file names (and fingerprints) of the previous snapshot.
    """
    assert spec.change_log is not None
    whole: set[int] = set()
    newest = None
    if spec.period_column is not None and spec.period == "year":
        whole = _newest_months(con, spec, previous_files)
        newest = NEWEST_TABLE
    start, _until, kind, join = spans_sql(spec.relation, spec.period_column, spec.period, newest)
    logged = con.execute(
        f"select distinct t.{quote(TENANT_COLUMN)}, {start}, {kind} "
        f"from {spec.change_log} as t {join}"
    ).fetchall()
    spans: dict[int, dict[str, Any]] = {}
    for tenant_id, begin, span in logged:
        if tenant_id is None:
            raise ValueError(f"the change log {spec.change_log} has rows without a tenant")
        name = PartFile(begin, None, 0, "", span if spec.period_column else None).name
        spans.setdefault(int(tenant_id), {})[name] = begin
    return Touched(spans, frozenset(whole), newest)


def _newest_months(
    con: duckdb.DuckDBPyConnection, spec: LoggedMart, previous_files: Mapping[int, Mapping]
) -> set[int]:
    """Fill ``publish_newest`` with each tenant's newest month; return the tenants it moved for.

    Only rows from the oldest of the previous newest months on are read: a tenant with rows
    there has its newest month among them. The others (newest month gone back, or a new
    tenant) count as moved, and their months are read in full.
    """
    assert spec.period_column is not None and spec.change_log is not None
    before = {t: newest_month_of(list(files)) for t, files in previous_files.items()}
    known = [month for month in before.values() if month is not None]
    column, tenant = quote(spec.period_column), quote(TENANT_COLUMN)
    bounded = f"(select * from {spec.relation} where {column} >= $since)"
    con.execute(
        f"create or replace temp table {NEWEST_TABLE} as "
        f"{newest_months_sql(bounded, spec.period_column)}",
        {"since": min(known) if known else date.max},
    )
    now = {t: _as_date(m) for t, m in con.execute(f"select * from {NEWEST_TABLE}").fetchall()}
    logged = {
        t for (t,) in con.execute(f"select distinct {tenant} from {spec.change_log}").fetchall()
    }
    moved = {int(t) for t in set(before) | logged if now.get(t) != before.get(t)}
    if moved:
        con.execute(
            f"delete from {NEWEST_TABLE} where {tenant} in (select unnest($moved))",
            {"moved": sorted(moved)},
        )
        exact = f"(select * from {spec.relation} where {tenant} in (select unnest($moved)))"
        con.execute(
            f"insert into {NEWEST_TABLE} {newest_months_sql(exact, spec.period_column)}",
            {"moved": sorted(moved)},
        )
    return moved


def _as_date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value
