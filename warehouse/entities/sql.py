"""SQL for "the current rows of an entity": latest raw version per key over the base.

For an entity ``e`` the query defines a CTE named ``e`` holding one row per live key, with the
lake's column names. The tail keeps the latest version per key (by ``_ingested_at``,
``_batch_id``, ``_seq``, as staging does; with a span, of the keys with a version inside it)
and drops deletes; base rows whose key has any tail version are replaced by it. A child's tail
rows (order lines) are those landed in the same batch as their parent's latest version,
exactly as the lake's current state and the marts define it.

Only identifiers from our own registry are spliced into the text; file lists and values are
bound parameters. ``keys`` narrows every scan to some ids, so a point read stays a point read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warehouse.entities.sources import Source

VERSION_ORDER = "_ingested_at desc, _batch_id desc, _seq desc"
METADATA = "_ingested_at, _batch_id, _seq, _op"


def quote(name: str) -> str:
    """Quote an identifier from our own registry."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Query:
    """CTEs under construction plus their bound parameters."""

    ctes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, name: str, value: Any) -> str:
        """Bind ``value`` as ``$name`` and return the placeholder."""
        self.params[name] = value
        return f"${name}"

    def keys_filter(self, column: str, keys: Sequence[str] | None, prefix: str) -> str:
        """Return ``column in ($k0, $k1 ...)`` for some keys, or ``true`` for all."""
        if keys is None:
            return "true"
        if not keys:
            return "false"
        marks = ", ".join(self.bind(f"{prefix}{i}", key) for i, key in enumerate(keys))
        return f"{quote(column)} in ({marks})"

    def sql(self, select: str) -> str:
        """Return the full statement: the CTEs, then ``select``."""
        return ("with " + ",\n".join(self.ctes) + "\n" + select) if self.ctes else select


@dataclass(frozen=True)
class InstantSpan:
    """Instants of one column a query needs (both ends inclusive, None = open)."""

    column: str
    low: datetime | None = None
    high: datetime | None = None

    def ends(self) -> list[tuple[str, str, datetime]]:
        """Return ``(operator, end, instant)`` for each end that is set, low first."""
        ends = ((">=", "low", self.low), ("<=", "high", self.high))
        return [(op, end, value) for op, end, value in ends if value is not None]


def current_rows(
    query: Query,
    sources: Mapping[str, Source],
    keys: Sequence[str] | None = None,
    span: InstantSpan | None = None,
) -> Query:
    """Add one CTE per entity of a family (parent first) holding its current rows.

    ``span`` lets the parent's base scan skip rows outside it, and a child's base scan too
    where the child keeps a copy of the column (:attr:`EntitySpec.copies`): a base child row
    belongs to its parent's base version, whose value it copied, or is replaced with the
    parent. The parent's tail keeps only keys with some version inside the span. So rows
    beyond the span may be missing, never stale: the caller must filter the parents by the
    same span (or a narrower one) itself, and ask for the children of those parents only.
    """
    for source in sources.values():
        link = source.spec.link
        if link is None:
            _parent(query, source, keys, span)
        else:
            _child(query, source, sources[source.spec.parent], keys, _copied(source, span))
    return query


def _copied(source: Source, span: InstantSpan | None) -> InstantSpan | None:
    """Return ``span`` over the child's copy of its column, or None if the child keeps none."""
    if span is None or span.column not in source.spec.copies:
        return None
    return InstantSpan(source.spec.copies[span.column], span.low, span.high)


def _columns(source: Source, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote(c) for c in source.spec.columns)


def _tail_versions(query: Query, source: Source, key_column: str, keys) -> str | None:
    """Add the CTE of raw tail rows (all versions); return its name, or None if no files."""
    if not source.tail_files:
        return None
    name = f"{source.spec.name}__tail_versions"
    files = query.bind(f"{source.spec.name}__tail", list(source.tail_files))
    since = "true"
    if source.since is not None:
        since = "_ingested_at > " + query.bind(f"{source.spec.name}__since", source.since)
    narrowed = query.keys_filter(key_column, keys, f"{source.spec.name}__tk")
    query.ctes.append(  # read once per use, never held: see _tail_keys
        f"{name} as not materialized (select {_columns(source)}, {METADATA} "
        f"from read_parquet({files}, union_by_name = true, hive_partitioning = false) "
        f"where {since} and {narrowed})"
    )
    return name


def _base(
    query: Query, source: Source, key_column: str, keys, span: InstantSpan | None = None
) -> str | None:
    """Add the CTE of base rows with lake column names; return its name, or None if none."""
    if not source.base_files or source.base_exprs is None:
        return None
    name = f"{source.spec.name}__base"
    files = query.bind(f"{source.spec.name}__base", list(source.base_files))
    exprs = ", ".join(f"{expr} as {quote(col)}" for col, expr in source.base_exprs.items())
    narrowed = query.keys_filter(key_column, keys, f"{source.spec.name}__bk")
    query.ctes.append(
        f"{name} as (select * from (select {exprs} from read_parquet({files}, "
        f"hive_partitioning = false) where {_stored_span(query, source, span)}) "
        f"where {narrowed})"
    )
    return name


def _stored_span(query: Query, source: Source, span: InstantSpan | None) -> str:
    """Return the span as a filter on the base file's stored column (row groups skip by it)."""
    if span is None:
        return "true"
    clauses = []
    for op, end, value in span.ends():
        mark = query.bind(f"{source.spec.name}__span_{end}", value)
        clauses.append(source.base_bound(span.column, op, mark))
    return " and ".join(clauses) or "true"


def _parent(query: Query, source: Source, keys, span: InstantSpan | None = None) -> None:
    (key,) = source.spec.key
    name = source.spec.name
    versions = _tail_versions(query, source, key, keys)
    base = _base(query, source, key, keys, span)
    parts = []
    if versions:
        within = _tail_keys(query, source, versions, span)
        query.ctes.append(
            f"{name}__tail as (select * from {versions} where {within} "
            f"qualify row_number() over (partition by {quote(key)} order by {VERSION_ORDER}) = 1)"
        )
        parts.append(f"select {_columns(source)} from {name}__tail where _op <> 'delete'")
    if base:
        newer = _keys_cte(source) if versions else None
        parts.append(_base_select(source, base, key, newer, key))
    query.ctes.append(f"{quote(name)} as ({_union(parts, source)})")


def _tail_keys(query: Query, source: Source, versions: str, span: InstantSpan | None) -> str:
    """Add the CTE of every tail key; return the filter on the versions worth ranking.

    With a span, only keys with some version inside it: their latest version may lie outside
    (the caller's filter drops it), while a key with no version inside cannot have its latest
    there. The CTE keeps every key, because any tail version replaces the key's base row.
    DuckDB materialises a CTE read twice; the versions must not be (every column of a tail
    that may hold a whole bulk import), the keys should: a materialised CTE's known size lets
    the base's anti-join hash the keys rather than the base rows.
    """
    (key,) = source.spec.key
    bounds = []
    for op, end, value in span.ends() if span else ():
        mark = query.bind(f"{source.spec.name}__tail_span_{end}", value)
        bounds.append(f"{quote(span.column)} {op} {mark}")
    columns = quote(key) + (f", {quote(span.column)}" if span and bounds else "")
    query.ctes.append(f"{_keys_cte(source)} as materialized (select {columns} from {versions})")
    if not bounds:
        return "true"
    inside = " and ".join(bounds)
    return f"{quote(key)} in (select {quote(key)} from {_keys_cte(source)} where {inside})"


def _keys_cte(source: Source) -> str:
    return f"{source.spec.name}__tail_keys"


def _child(
    query: Query, source: Source, parent: Source, keys, span: InstantSpan | None = None
) -> None:
    link = source.spec.link
    name = source.spec.name
    parent_tail = f"{parent.spec.name}__tail" if parent.tail_files else None
    versions = _tail_versions(query, source, link, keys) if parent_tail else None
    base = _base(query, source, link, keys, span)
    parts = []
    if versions:
        order_by = ", ".join(f"c.{quote(k)}" for k in source.spec.key)
        (parent_key,) = parent.spec.key
        parts.append(
            f"select {_columns(source, 'c')} from {versions} as c join {parent_tail} as p "
            f"on c.{quote(link)} = p.{quote(parent_key)} and c._batch_id = p._batch_id "
            f"where p._op <> 'delete' "
            # The same order sent twice in one batch lands its lines twice: keep the later.
            f"qualify row_number() over (partition by {order_by} order by c._seq desc) = 1"
        )
    if base:
        newer = _keys_cte(parent) if parent_tail else None
        parts.append(_base_select(source, base, link, newer, parent.spec.key[0]))
    query.ctes.append(f"{quote(name)} as ({_union(parts, source)})")


def _base_select(source: Source, base: str, column: str, newer: str | None, newer_key: str):
    select = f"select {_columns(source, 'b')} from {base} as b"
    if newer is None:
        return select
    return (
        f"{select} where not exists (select 1 from {newer} as t "
        f"where t.{quote(newer_key)} = b.{quote(column)})"
    )


def _union(parts: list[str], source: Source) -> str:
    if parts:
        return " union all ".join(f"({part})" for part in parts)
    # Nothing landed yet: an empty relation with the entity's column names.
    nulls = ", ".join(f"null as {quote(c)}" for c in source.spec.columns)
    return f"select {nulls} where false"
