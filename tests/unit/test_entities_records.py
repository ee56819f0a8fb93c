"""Lake rows to API records and back, JSON merge patch, and server-filled record fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from warehouse.contracts import validate_records
from warehouse.entities.changes import CREATE, REPLACE, UPDATE, Change, contract_record, new_id
from warehouse.entities.records import merge_patch, orders_with_items, to_api, to_wire
from warehouse.entities.resources import CUSTOMERS, PRODUCTS, from_tables

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CUSTOMER = {
    "id": "c1",
    "email": "Ann@Example.com",
    "address": {"city": "Berlin", "country": "DE"},
    "tags": ["vip"],
    "created_at": "2026-03-01T10:00:00+01:00",
    "updated_at": "2026-03-01T10:00:00+01:00",
}


def test_customer_round_trip_through_the_lake_shape():
    tables, errors = validate_records("customer", [CUSTOMER])
    assert not errors
    record = from_tables(CUSTOMERS, tables)["c1"]
    assert record["email"] == "ann@example.com"  # the contract stores emails lower-cased
    assert record["address"] == {
        "line1": None, "line2": None, "city": "Berlin", "region": None, "postal_code": None,
        "country": "DE",
    }  # fmt: skip
    assert record["created_at"] == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert record["created_at"].tzinfo is UTC
    again, errors = validate_records("customer", [to_wire(record)])
    assert not errors and from_tables(CUSTOMERS, again)["c1"] == record


def test_empty_nested_objects_and_lists_read_as_null_and_empty():
    row = {"id": "c1", "address_city": None, "address_country": None, "tags": None}
    assert to_api("customers", row) == {"id": "c1", "address": None, "tags": []}


def test_variant_attributes_become_an_object_whichever_reader_gave_them():
    pairs = {"id": "p1", "variants": [{"id": "v", "attributes": [("size", "M")]}]}
    mapping = {"id": "p1", "variants": [{"id": "v", "attributes": {"size": "M"}}]}
    assert to_api("products", pairs) == to_api("products", mapping)
    assert to_api("products", {"id": "p1", "variants": None})["variants"] == []


def test_timestamps_are_normalised_to_utc():
    berlin = datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert to_api("refunds", {"created_at": berlin})["created_at"].utcoffset() == timedelta(0)


def test_orders_get_their_lines_in_line_order():
    orders = [{"id": "o1", "payment_provider": None, "payment_status": None}]
    items = [
        {"order_id": "o1", "line_number": n, "product_id": "p", "variant_id": None, "sku": "s",
         "name": "n", "quantity": 1, "unit_price_minor": 1, "discount_minor": 0}
        for n in (2, 1)
    ]  # fmt: skip
    (record,) = orders_with_items(orders, items)
    assert [line["line_number"] for line in record["items"]] == [1, 2]
    assert record["payment"] is None


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        ({"a": 1, "b": 2}, {"a": 3}, {"a": 3, "b": 2}),  # a field replaces
        ({"a": 1, "b": 2}, {"a": None}, {"b": 2}),  # null removes
        ({"o": {"x": 1, "y": 2}}, {"o": {"y": None, "z": 3}}, {"o": {"x": 1, "z": 3}}),  # merge
        ({"l": [1, 2]}, {"l": [3]}, {"l": [3]}),  # lists replace whole
        ({"o": None}, {"o": {"x": None, "y": 1}}, {"o": {"y": 1}}),  # into a missing object
    ],
)
def test_merge_patch(target, patch, expected):
    assert merge_patch(target, patch) == expected


def test_create_fills_id_timestamps_and_defaults():
    change = Change(CREATE, 0, "p1", {"sku": "S", "currency": None})
    record = contract_record(change, None, {"currency": "EUR"}, NOW)
    assert record["currency"] == "EUR" and record["id"] == "p1"
    assert record["created_at"] == record["updated_at"] == NOW.isoformat()


def test_updates_keep_created_at_and_move_updated_at_forward():
    before = {"id": "p1", "sku": "S", "created_at": NOW - timedelta(days=1), "updated_at": NOW}
    for op in (UPDATE, REPLACE):
        record = contract_record(Change(op, 0, "p1", {"sku": "T"}), before, {}, NOW)
        assert record["created_at"] == (NOW - timedelta(days=1)).isoformat()
        # The clock has not moved past the stored updated_at: still strictly later.
        assert datetime.fromisoformat(record["updated_at"]) == NOW + timedelta(microseconds=1)


def test_a_client_timestamp_is_kept():
    change = Change(UPDATE, 0, "p1", {"updated_at": "2026-01-01T00:00:00Z"})
    record = contract_record(change, {"updated_at": NOW}, {}, NOW)
    assert record["updated_at"] == "2026-01-01T00:00:00Z"


def test_ids_from_an_idempotency_key_repeat_and_random_ones_do_not():
    assert new_id("p_", 1, "s", "key", 0) == new_id("p_", 1, "s", "key", 0)
    assert new_id("p_", 1, "s", "key", 0) != new_id("p_", 2, "s", "key", 0)
    assert new_id("p_", 1, "s", "key", 0) != new_id("p_", 1, "s", "key", 1)
    assert new_id("p_", 1, "s", None, 0) != new_id("p_", 1, "s", None, 0)
    assert PRODUCTS.unique_values({"sku": "A", "variants": [{"sku": "B"}]}) == {"A", "B"}
