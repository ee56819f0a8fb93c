"""Which file of a tenant's partition holds a row: the span of the mart's period it falls in.

A mart without a ``period_column`` keeps each tenant's rows in one file. One split by month
gives each calendar month (UTC) of that column a file; one split by year gives each year a file,
except the tenant's newest month, which keeps a file of its own (see export.py for why). Rows
without a value go to ``part-undated.parquet``. The rules here are the only place that decides
it, so the full export, the fingerprints and the change-log shortcut (touched.py) agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from warehouse.publish.layout import PART_FILE

TENANT_COLUMN = "tenant_id"
PERIODS = ("month", "year")
UNDATED_FILE = "part-undated.parquet"
MONTH_FILE = re.compile(r"^part-(\d{4})-(\d{2})\.parquet$")


def quote(identifier: str) -> str:
    """Quote an SQL identifier for DuckDB."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class PartFile:
    """One file of a tenant's partition: the span it holds, its rows and fingerprint."""

    start: date | None  # the span's first instant; None: rows without one, or an unsplit mart's
    until: date | None  # the instant after the span (a year's ends early at the newest month)
    rows: int
    fingerprint: str
    period: str | None  # the file's own span, "month" or "year"; None: the mart is not split

    @property
    def name(self) -> str:
        if self.period is None:
            return PART_FILE
        if self.start is None:
            return UNDATED_FILE
        label = f"{self.start:%Y-%m}" if self.period == "month" else f"{self.start:%Y}"
        return f"part-{label}.parquet"


def newest_months_sql(relation: str, period_column: str) -> str:
    """Return a query of each tenant's newest month of ``period_column`` in ``relation``."""
    return (
        f"select {quote(TENANT_COLUMN)}, date_trunc('month', max({quote(period_column)})) "
        f"as month from {relation} group by all"
    )


def spans_sql(
    relation: str, period_column: str | None, period: str, newest: str | None = None
) -> tuple[str, str, str, str]:
    """Return the SQL of a row's file: its span's start, end and kind, and a join they need.

    Rows are ``t``; the connection's TimeZone is UTC. An unsplit mart has one constant span. A
    mart split by year joins each tenant's newest month: ``newest`` names a relation of
    (tenant_id, month), by default computed from ``relation`` itself. A tenant missing from it
    has no newest month: its dated rows go to their years.
    """
    if period_column is None:
        return "null::date", "null::date", "null", ""
    column = f"t.{quote(period_column)}"
    month, span = f"date_trunc('month', {column})", f"date_trunc('{period}', {column})"
    if period == "month":
        return span, f"{span} + interval 1 month", "'month'", ""
    tenant = quote(TENANT_COLUMN)
    newest = newest or f"({newest_months_sql(relation, period_column)})"
    join = f"left join {newest} as newest on newest.{tenant} = t.{tenant}"
    is_newest = f"{month} = newest.month"
    return (
        f"case when {is_newest} then {month} else {span} end",
        f"case when {is_newest} then {month} + interval 1 month "
        f"else least({span} + interval 1 year, newest.month) end",
        f"case when {is_newest} then 'month' else 'year' end",
        join,
    )


def newest_month_of(files: list[str]) -> date | None:
    """Return the newest month a year-split tenant's file names show (its month file)."""
    found = (MONTH_FILE.match(name) for name in files)
    return max((date(int(m[1]), int(m[2]), 1) for m in found if m), default=None)
