"""List views: a query model's filters, sort and signed cursor to one page of records."""

from __future__ import annotations

from typing import Any

from serving.entities.context import call, store
from serving.pagination import Keyset, Page, decode_cursor, encode_cursor
from warehouse.entities.listing import ListRequest, list_records
from warehouse.entities.resources import Resource

# Query fields that are not filters.
PAGING = {"limit", "cursor", "sort", "id"}


def keyset(resource: Resource, sort: str) -> Keyset:
    """Return the keyset cursors of a listing are signed for (one per resource and sort)."""
    return Keyset(f"{resource.name}.{sort}", sort=None, id=None)


def list_page(resource: Resource, query: Page) -> tuple[list[dict[str, Any]], str | None]:
    """Return one page of records for a list query, and the cursor of the next page."""
    sort: str = query.sort  # type: ignore[attr-defined]
    after = decode_cursor(keyset(resource, sort), query.cursor) if query.cursor else None
    request = ListRequest(
        filters=query.model_dump(exclude=PAGING, exclude_none=True),
        ids=query.id,  # type: ignore[attr-defined]
        sort=sort,
        limit=query.limit,
        after=after,
    )
    page = call(list_records, store(), resource, request)
    cursor = encode_cursor(keyset(resource, sort), *page.last) if page.last else None
    return page.records, cursor
