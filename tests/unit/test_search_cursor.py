"""Order search internals: filter normalisation, fingerprints, signed cursors, page boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask

from serving.errors import ApiError
from serving.pagination import Keyset, decode_cursor, encode_cursor
from warehouse.entities.sql import Query
from warehouse.search import DEFAULT_FIELDS, SearchInputError, cursor_scope, make_search
from warehouse.search.query import page_sql
from warehouse.search.stream import SearchStream

BERLIN = "Europe/Berlin"


def test_dates_are_local_days_and_the_end_date_is_included():
    search = make_search(BERLIN, start=date(2026, 6, 1), end=date(2026, 6, 30))
    assert search.start == datetime(2026, 5, 31, 22, tzinfo=UTC)
    assert search.end == datetime(2026, 6, 30, 22, tzinfo=UTC)
    # the night clocks go forward, the day has 23 hours
    dst = make_search(BERLIN, start=date(2026, 3, 29), end=date(2026, 3, 29))
    assert (dst.end - dst.start).total_seconds() == 23 * 3600


def test_instants_are_kept_as_given_in_utc():
    start = datetime.fromisoformat("2026-06-01T12:00:00+02:00")
    assert make_search(BERLIN, start=start).start == datetime(2026, 6, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": date(2026, 7, 1), "end": date(2026, 6, 1)}, "end"),
        ({"start": datetime(2026, 7, 1)}, "start"),  # naive instant
        ({"min_total_minor": 5, "max_total_minor": 4}, "max_total_minor"),
        ({"fields": ["id,nope"]}, "fields"),
        ({"fields": [" , "]}, "fields"),
        ({"product_ids": [","]}, "product_ids"),
        ({"sort": "total_minor"}, "sort"),
    ],
)
def test_unusable_parameters_name_their_field(kwargs, field):
    with pytest.raises(SearchInputError) as caught:
        make_search(BERLIN, **kwargs)
    assert caught.value.field == field and caught.value.status == 422


def test_fields_keep_the_order_asked_without_repeats():
    assert make_search(BERLIN).fields == DEFAULT_FIELDS
    assert make_search(BERLIN, fields=["total_minor,id", "id"]).fields == ("total_minor", "id")


def test_equal_filter_sets_share_a_fingerprint_whatever_their_spelling():
    a = make_search(BERLIN, statuses=["paid", "fulfilled"], product_ids=["p2,p1"], q=" Anna ")
    b = make_search(BERLIN, statuses=["fulfilled", "paid"], product_ids=["p1", "p2"], q="anna")
    assert a.fingerprint() == b.fingerprint()
    # projection is not part of the filter set
    assert make_search(BERLIN, fields=["id"]).fingerprint() == make_search(BERLIN).fingerprint()


@pytest.mark.parametrize(
    "change",
    [
        {"start": date(2026, 1, 1)},
        {"end": date(2026, 1, 1)},
        {"product_ids": ["p1"]},
        {"min_total_minor": 1},
        {"max_total_minor": 1},
        {"statuses": ["paid"]},
        {"q": "x"},
        {"sort": "-created_at"},
    ],
)
def test_any_filter_changes_the_fingerprint(change):
    assert make_search(BERLIN, **change).fingerprint() != make_search(BERLIN).fingerprint()


@pytest.fixture
def app_context():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "unit-test-secret-key-of-32-bytes!!"
    with app.app_context():
        yield


def keyset(tenant_id, **filters):
    return Keyset(cursor_scope(tenant_id, make_search(BERLIN, **filters)), sort=None, id=None)


def test_a_cursor_round_trips_its_key(app_context):
    key = (datetime(2026, 6, 1, 10, 0, 0, 123456, tzinfo=UTC), "ord-1")
    cursor = encode_cursor(keyset(1), *key)
    assert decode_cursor(keyset(1), cursor) == key


@pytest.mark.parametrize(
    "other",
    [
        lambda: keyset(2),  # another tenant
        lambda: keyset(1, statuses=["paid"]),  # another query
    ],
)
def test_a_cursor_is_refused_outside_its_tenant_and_query(app_context, other):
    cursor = encode_cursor(keyset(1), datetime(2026, 6, 1, tzinfo=UTC), "ord-1")
    with pytest.raises(ApiError) as caught:
        decode_cursor(other(), cursor)
    assert caught.value.status == 400 and caught.value.errors[0].field == "cursor"


def test_a_tampered_cursor_is_refused(app_context):
    cursor = encode_cursor(keyset(1), datetime(2026, 6, 1, tzinfo=UTC), "ord-1")
    payload, _dot, signature = cursor.rpartition(".")
    forged = payload.replace(payload[-3], "A" if payload[-3] != "A" else "B") + "." + signature
    with pytest.raises(ApiError):
        decode_cursor(keyset(1), forged)


def test_request_values_are_bound_never_spliced_into_the_sql():
    hostile = "x') or true --"
    search = make_search(BERLIN, q=hostile, product_ids=[hostile], statuses=["paid"])
    query = Query()
    sql = page_sql(query, search, 10, (datetime(2026, 1, 1, tzinfo=UTC), hostile))
    assert hostile.lower() not in sql.lower()
    assert query.params["f_q"] == hostile.lower() and query.params["f_product_ids"] == [hostile]
    assert query.params["after_id"] == hostile
    assert sql.endswith("limit 11")  # one probe row past the page, a literal for a top-N


class FakeCursor:
    """Hands out prepared rows like a DuckDB result: (field, created_at, id) tuples."""

    def __init__(self, rows):
        self.rows, self.closed = list(rows), False
        self.description = [("id",), ("__key_created_at",), ("__key_id",)]

    def fetchmany(self, n):
        batch, self.rows = self.rows[:n], self.rows[n:]
        return batch

    def close(self):
        self.closed = True


class FakeStream(SearchStream):
    """A page over ``available`` keys, chunked and probed as the real queries are."""

    def __init__(self, available, limit, batch):
        super().__init__(None, make_search(BERLIN), limit, batch)  # type: ignore[arg-type]
        when = datetime(2026, 1, 1, tzinfo=UTC)
        self.table = [(f"o{i:03}", when, f"o{i:03}") for i in range(available)]
        self.cursors, self.afters = [], []

    def _run(self, after):
        self.afters.append(after)
        rows = [r for r in self.table if after is None or r[2] > after[1]]
        cursor = FakeCursor(rows[: self._wanted() + 1])
        self.cursors.append(cursor)
        return cursor, cursor.fetchmany(self.batch_rows)


@pytest.mark.parametrize(
    ("available", "limit", "batch", "count", "more"),
    [
        (10, 5, 2, 5, True),  # the probe row sits inside a batch
        (6, 5, 5, 5, True),  # the probe row is alone in the next batch
        (5, 5, 2, 5, False),  # exactly one page
        (3, 5, 2, 3, False),  # less than a page
        (0, 5, 2, 0, False),
        (45, 25, 4, 25, True),  # chunks of 10: 10 + 10 + 5
        (30, 40, 7, 30, False),  # the data ends inside the third chunk
        (30, 30, 3, 30, False),  # the last chunk's probe finds nothing
    ],
)
def test_a_page_stops_at_its_limit_and_knows_if_more_follow(
    monkeypatch, available, limit, batch, count, more
):
    monkeypatch.setattr("warehouse.search.stream.CHUNK_ROWS", 10)
    page = FakeStream(available, limit, batch)
    page.start(None)
    records = [r for b in page.batches() for r in b]
    assert [r["id"] for r in records] == [f"o{i:03}" for i in range(count)]
    assert page.count == count and all(c.closed for c in page.cursors)
    assert page.next_key == (
        (datetime(2026, 1, 1, tzinfo=UTC), f"o{count - 1:03}") if more else None
    )
    # each chunk continues after the last key of the one before
    assert page.afters[1:] == [(datetime(2026, 1, 1, tzinfo=UTC), f"o{i - 1:03}")
                               for i in range(10, count, 10)]  # fmt: skip
