"""Order search: filters, projection and keyset pages over current orders, streamed.

Public API::

    from warehouse.search import make_search, open_search, cursor_scope

    search = make_search("Europe/Berlin", start=date(2026, 5, 1), statuses=["paid"], q="müller")
    page = open_search(store, search, limit=100_000, after=None)   # first batch fetched
    for batch in page.batches():       # lists of dicts of the projected fields
        ...
    page.next_key                      # (created_at, id) to continue after, or None at the end

How pages stay correct while orders change
------------------------------------------
Rows are ordered by ``(created_at, id)`` (ascending, or both descending with
``sort=-created_at``); ``id`` is unique per tenant, so the order is total. A page ends with the
*values* of its last row's key, and the next page selects the rows strictly past that position
(``created_at > t or (created_at = t and id > i)``), never an offset. Each page reads the
tenant's current orders as the CRUD reads do: the published snapshot (or the compacted state)
plus the raw tail newer than its watermark, one latest version per id. So, between two pages:

* an order inserted before the position is not returned (its place was already passed), one
  inserted after it is returned once, in order;
* an updated order is returned at most once, with its newest values, because ``created_at``
  is kept by updates (a client that rewrites ``created_at`` itself moves the order, like a
  delete plus an insert); whether it still matches the filters is decided when its page is read;
* a deleted order is simply absent, and deleting the very row the position names changes
  nothing, because the position is values, not a row;
* a new snapshot published between pages changes nothing either: snapshot plus tail is the same
  current state before and after the switch.

Hence no order that exists and matches throughout is skipped or returned twice. A large page is
itself read as consecutive chunks of this kind (:mod:`warehouse.search.stream`), so the same
holds inside one page; what a page returns is the current state as each chunk read it.

The signed cursor itself is the API's business (``serving/pagination.py``); it binds the key
to :func:`cursor_scope`, the tenant id and :meth:`OrderSearch.fingerprint` of the filter set,
so a cursor is refused by another tenant or another query.
"""

from warehouse.search.spec import (
    DEFAULT_FIELDS,
    FIELDS,
    SORTS,
    OrderSearch,
    SearchInputError,
    cursor_scope,
    make_search,
)
from warehouse.search.stream import SearchStream, open_search

__all__ = [
    "DEFAULT_FIELDS",
    "FIELDS",
    "SORTS",
    "OrderSearch",
    "SearchInputError",
    "SearchStream",
    "cursor_scope",
    "make_search",
    "open_search",
]
