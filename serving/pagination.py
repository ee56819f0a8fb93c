"""Cursor pagination for list endpoints: one query model, signed cursors, keyset paging.

Every list endpoint answers ``{"data": [...], "next_cursor": "..." | null}``. A client passes
``next_cursor`` back as ``?cursor=`` until it is null. Cursors are opaque and signed with the
app secret (salted per listing), so a changed or foreign cursor is a 400 on field ``cursor``.
Paging is by keyset over ``(sort key, id)``, never OFFSET: pages stay fast at any depth and
rows inserted meanwhile do not shift later pages.

A list view::

    MEMBERS = Keyset("members", sort=User.email, id=User.id)

    class MemberPage(Paginated[MemberOut]):
        pass

    @bp.get("/")
    @require(Permission.USERS_MANAGE)
    @operation(query=Page, response=MemberPage)
    def list_members(query: Page) -> MemberPage:
        rows, cursor = paginate(db(), users.members_query(tenant_id()), MEMBERS, query)
        return MemberPage(data=[MemberOut.of(m) for m in rows], next_cursor=cursor)

Filters go in a subclass of :class:`Page`; the sort key must be non-null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from pydantic import Field
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import Session

from serving.api import Out, Query
from serving.errors import FieldError, bad_request

T = TypeVar("T")


class Page(Query):
    """Query parameters every list endpoint takes."""

    limit: int = Field(50, ge=1, le=1000, description="Items per page (1-1000).")
    cursor: str | None = Field(
        None, description="The `next_cursor` of the previous page; omit for the first page."
    )


class Paginated(Out, Generic[T]):
    """Response envelope: subclass as ``class XPage(Paginated[XOut]): pass`` for a named schema."""

    data: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


@dataclass(frozen=True)
class Keyset:
    """A listing's order, ``(sort, id)``, and the name its cursors are signed for."""

    name: str
    sort: Any
    id: Any
    descending: bool = False

    def order_by(self) -> tuple[ColumnElement, ColumnElement]:
        """Return the ORDER BY clauses."""
        if self.descending:
            return self.sort.desc(), self.id.desc()
        return self.sort.asc(), self.id.asc()

    def after(self, sort_value: Any, id_value: Any) -> ColumnElement[bool]:
        """Return the condition selecting rows strictly past the given position."""
        if self.descending:
            return or_(self.sort < sort_value, and_(self.sort == sort_value, self.id < id_value))
        return or_(self.sort > sort_value, and_(self.sort == sort_value, self.id > id_value))


def _serializer(keyset: Keyset) -> URLSafeSerializer:
    # The salt ties a cursor to one listing: a cursor from /keys/ is refused by /users/.
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"cursor.{keyset.name}")


def encode_cursor(keyset: Keyset, sort_value: Any, id_value: Any) -> str:
    """Sign a position as an opaque cursor string."""
    if isinstance(sort_value, datetime):
        packed = ["dt", sort_value.isoformat()]
    elif isinstance(sort_value, Decimal):
        packed = ["dec", str(sort_value)]
    else:
        packed = ["v", sort_value]
    return _serializer(keyset).dumps([*packed, id_value])


def decode_cursor(keyset: Keyset, cursor: str) -> tuple[Any, Any]:
    """Verify a cursor and return its position; a bad one is a 400 on field ``cursor``."""
    try:
        kind, raw, id_value = _serializer(keyset).loads(cursor)
        value = {"dt": datetime.fromisoformat, "dec": Decimal, "v": lambda v: v}[kind](raw)
    except (BadData, ValueError, TypeError, KeyError):
        raise bad_request(
            "The cursor is invalid or was altered.",
            FieldError("cursor", "pass back a next_cursor value unchanged"),
        ) from None
    return value, id_value


def paginate(
    session: Session, query: Select, keyset: Keyset, page: Page
) -> tuple[list, str | None]:
    """Run one page of ``query`` (a select of one entity) and return its rows and next cursor."""
    if page.cursor:
        query = query.where(keyset.after(*decode_cursor(keyset, page.cursor)))
    query = query.add_columns(keyset.sort, keyset.id).order_by(*keyset.order_by())
    rows = session.execute(query.limit(page.limit + 1)).all()
    if len(rows) <= page.limit:
        return [row[0] for row in rows], None
    last = rows[page.limit - 1]
    return [row[0] for row in rows[: page.limit]], encode_cursor(keyset, last[-2], last[-1])
