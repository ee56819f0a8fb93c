"""Record contracts: every rule, row numbering, dotted paths, both decoding paths, order items."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import msgspec
import pyarrow as pa
import pytest

from warehouse.contracts import CONTRACTS, LAKE_ENTITIES, WHOLE_ROW, RowError, validate_records


def order(i: int = 1, **overrides) -> dict:
    """A valid order: 2 x 1000 + 1 x 600 - 100 discount = 2500; + 500 shipping = 3000."""
    record = {
        "id": f"o{i}",
        "order_number": f"#{1000 + i}",
        "customer_id": "c1",
        "status": "paid",
        "currency": "EUR",
        "subtotal_minor": 2500,
        "shipping_minor": 500,
        "total_minor": 3000,
        "created_at": "2024-05-01T10:00:00+02:00",
        "updated_at": "2024-05-01T08:30:00Z",
        "items": [
            {
                "product_id": "p1",
                "sku": "S1",
                "name": "Shirt",
                "quantity": 2,
                "unit_price_minor": 1000,
            },
            {
                "product_id": "p2",
                "sku": "S2",
                "name": "Sock",
                "quantity": 1,
                "unit_price_minor": 600,
                "discount_minor": 100,
                "variant_id": "p2-red",
            },
        ],
        "payment": {"provider": "stripe", "status": "captured", "reference": "ch_1"},
    }
    record.update(overrides)
    return record


VALID = {
    "product": {
        "id": "p1",
        "sku": "S1",
        "name": "Shirt",
        "price_minor": 1999,
        "currency": "USD",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-02T00:00:00Z",
        "variants": [{"id": "v1", "sku": "S1-M", "attributes": {"size": "M", "color": "red"}}],
        "tags": ["summer"],
    },
    "customer": {
        "id": "c1",
        "email": "Ada@Example.COM",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "address": {"city": "Berlin", "country": "DE"},
    },
    "order": order(),
    "event": {
        "id": "e1",
        "type": "product_viewed",
        "occurred_at": "2024-01-01T00:00:00Z",
        "session_id": "s1",
        "product_id": "p1",
        "properties": {"source": "search", "rank": 3},
    },
    "stock_event": {
        "id": "se1",
        "product_id": "p1",
        "kind": "delta",
        "quantity": -3,
        "reason": "sale",
        "occurred_at": "2024-01-01T00:00:00Z",
    },
    "price_event": {
        "id": "pe1",
        "product_id": "p1",
        "price_minor": 1799,
        "currency": "JPY",
        "occurred_at": "2024-01-01T00:00:00Z",
    },
    "refund": {
        "id": "r1",
        "order_id": "o1",
        "amount_minor": 500,
        "currency": "EUR",
        "created_at": "2024-01-01T00:00:00Z",
    },
    "customer_note": {
        "id": "n1",
        "customer_id": "c1",
        "body": "Prefers email.",
        "created_at": "2024-01-01T00:00:00Z",
    },
    "payment": {
        "id": "pi_1",
        "order_id": "o1",
        "provider": "stripe",
        "status": "succeeded",
        "currency": "EUR",
        "amount_minor": 3000,
        "amount_captured_minor": 3000,
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:05:00Z",
    },
    "dispute": {
        "id": "dp_1",
        "payment_id": "pi_1",
        "order_id": "o1",
        "provider": "stripe",
        "status": "needs_response",
        "currency": "EUR",
        "amount_minor": 3000,
        "created_at": "2024-01-02T00:00:00Z",
        "updated_at": "2024-01-02T00:00:00Z",
    },
    "payment_event": {
        "id": "evt_1",
        "provider": "stripe",
        "type": "payment_intent.succeeded",
        "object_id": "pi_1",
        "outcome": "applied",
        "created_at": "2024-01-01T00:05:00Z",
    },
}


def encode(record: dict) -> bytes:
    return json.dumps(record).encode()


def with_change(entity: str, path: str, value) -> dict:
    """Copy the valid record of ``entity`` with ``path`` (dotted) set, or removed if value is ..."""
    record = copy.deepcopy(VALID[entity])
    *parents, last = path.split(".")
    target = record
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is ...:
        del target[int(last) if last.isdigit() else last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return record


def only_error(entity: str, record: dict) -> RowError:
    tables, errors = validate_records(entity, [encode(record)])
    assert len(errors) == 1, errors
    assert tables[CONTRACTS[entity].entity].num_rows == 0
    return errors[0]


def test_registry_covers_every_entity():
    assert set(CONTRACTS) == set(VALID)
    assert set(LAKE_ENTITIES) == {
        "products",
        "customers",
        "orders",
        "order_items",
        "events",
        "stock_events",
        "price_events",
        "refunds",
        "customer_notes",
        "payments",
        "disputes",
        "payment_events",
    }
    assert all(c.version == 1 for c in CONTRACTS.values())
    assert LAKE_ENTITIES["order_items"].key == ("order_id", "line_number")
    assert LAKE_ENTITIES["order_items"].parent == ("orders", "order_id")


@pytest.mark.parametrize("entity", sorted(VALID))
def test_valid_record_lands_with_lake_schema(entity):
    tables, errors = validate_records(entity, [encode(VALID[entity])])
    assert errors == []
    for name, table in tables.items():
        assert table.schema.remove_metadata() == LAKE_ENTITIES[name].schema.remove_metadata()
    assert tables[CONTRACTS[entity].entity].num_rows == 1


@pytest.mark.parametrize(
    ("entity", "path", "value", "field", "reason"),
    [
        # missing required fields, top level and nested
        ("order", "id", ..., "id", "required"),
        ("order", "items.0.sku", ..., "items.0.sku", "required"),
        ("product", "name", None, "name", "required"),
        ("product", "sku", "", "sku", "at least 1 character"),
        ("order", "items", [], "items", "at least 1 item"),
        ("product", "variants.0.id", ..., "variants.0.id", "required"),
        # wrong types: no coercion
        ("product", "price_minor", "1999", "price_minor", "expected int, got str"),
        ("order", "items.1.quantity", 1.5, "items.1.quantity", "expected int, got float"),
        ("product", "is_active", "yes", "is_active", "expected bool, got str"),
        ("customer", "tags", "vip", "tags", "expected array, got str"),
        ("product", "price_minor", 2**64, "price_minor", "integer out of range"),
        # negative quantities and amounts
        ("order", "items.0.quantity", 0, "items.0.quantity", "must be >= 1"),
        ("product", "stock_quantity", -5, "stock_quantity", "must be >= 0"),
        ("price_event", "price_minor", -1, "price_minor", "must be >= 0"),
        ("refund", "amount_minor", 0, "amount_minor", "must be >= 1"),
        # unknown currencies
        ("order", "currency", "XXX", "currency", "ISO 4217"),
        ("product", "currency", "usd", "currency", "ISO 4217"),
        # timestamps
        ("order", "created_at", "2024-05-01T10:00:00", "created_at", "with an offset"),
        ("order", "created_at", "yesterday", "created_at", "RFC 3339"),
        ("event", "occurred_at", "2024-02-30T00:00:00Z", "occurred_at", "RFC 3339"),
        ("event", "occurred_at", "2024-01-01T00:00:00+24:00", "occurred_at", "RFC 3339"),
        # unknown fields, at any depth
        ("order", "colour", "red", "colour", "unknown field"),
        ("order", "items.0.colour", "red", "items.0.colour", "unknown field"),
        ("customer", "address.planet", "Mars", "address.planet", "unknown field"),
        # enum values
        ("order", "status", "shipped", "status", "must be one of"),
        ("event", "type", "clicked", "type", "must be one of"),
        ("stock_event", "reason", "theft", "reason", "must be one of"),
        ("refund", "status", "done", "status", "must be one of"),
        # formats
        ("customer", "email", "not-an-email", "email", "email address"),
        ("customer", "address.country", "Germany", "address.country", "ISO 3166-1"),
        ("event", "properties", [1, 2], "properties", "JSON object"),
        ("event", "properties", {"blob": "x" * 70_000}, "properties", "at most 65536 bytes"),
        ("customer_note", "body", "x" * 10_001, "body", "at most 10000"),
        ("order", "id", "x" * 129, "id", "at most 128"),
        ("product", "tags", ["ok", None], "tags.1", "must not be null"),
        # cross-field rules
        ("stock_event", "kind", "set", "quantity", "kind is set"),
    ],
)
def test_rule_refuses_row(entity, path, value, field, reason):
    error = only_error(entity, with_change(entity, path, value))
    assert (error.row, error.field) == (1, field)
    assert reason in error.reason


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"subtotal_minor": 2400, "total_minor": 2900}, "subtotal_minor", "(2500)"),
        ({"total_minor": 2999}, "total_minor", "(3000)"),
        ({"discount_minor": 100}, "total_minor", "(2900)"),  # order discount lowers the total
    ],
)
def test_order_totals_must_add_up(changes, field, expected):
    error = only_error("order", order(**changes))
    assert error.field == field
    assert expected in error.reason


def test_order_with_tax_and_discount_adds_up():
    record = order(discount_minor=200, tax_minor=460, total_minor=2500 - 200 + 460 + 500)
    assert validate_records("order", [encode(record)]).errors == []


def test_item_discount_cannot_exceed_its_line():
    record = order()
    record["items"][0]["discount_minor"] = 2001
    record["subtotal_minor"] = 600 - 100 + 2000 - 2001
    record["total_minor"] = record["subtotal_minor"] + 500
    assert only_error("order", record).field == "items.0.discount_minor"


def test_overflowing_amounts_are_checked_exactly():
    huge = 2**62
    record = order(subtotal_minor=2 * huge, total_minor=2 * huge)
    record["items"] = [
        {"product_id": "p", "sku": "s", "name": "n", "quantity": 2, "unit_price_minor": huge}
    ]
    error = only_error("order", record)
    assert error.field == "subtotal_minor"  # 2 * 2**62 does not fit int64; Python ints say so


def test_mixed_chunk_keeps_good_rows_with_request_row_numbers():
    bad_qty = order(2)
    bad_qty["items"][1]["quantity"] = -1
    rows = [
        encode(order(1)),
        encode(bad_qty),
        b'{"id": "o3", ',
        encode(order(4, status="lost")),
        encode(order(5)),
        encode(order(6, extra=True)),
    ]
    tables, errors = validate_records("order", rows, first_row=101)
    assert tables["orders"].column("id").to_pylist() == ["o1", "o5"]
    assert [(e.row, e.field) for e in errors] == [
        (102, "items.1.quantity"),
        (103, WHOLE_ROW),
        (104, "status"),
        (106, "extra"),
    ]
    assert "malformed" in errors[1].reason


def test_order_items_are_linked_to_their_order():
    tables, errors = validate_records("order", [encode(order(1)), encode(order(2))])
    assert errors == []
    items = tables["order_items"].to_pylist()
    assert [(i["order_id"], i["line_number"]) for i in items] == [
        ("o1", 1),
        ("o1", 2),
        ("o2", 1),
        ("o2", 2),
    ]
    first = items[1]
    assert (
        first["sku"] == "S2" and first["variant_id"] == "p2-red" and first["discount_minor"] == 100
    )
    assert first["currency"] == "EUR"
    assert first["order_created_at"] == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert items[0]["discount_minor"] == 0  # default
    orders = tables["orders"].to_pylist()
    assert orders[0]["payment_provider"] == "stripe"
    assert orders[0]["tax_minor"] == 0 and orders[0]["discount_minor"] == 0
    assert "items" not in tables["orders"].column_names


def test_shaping_applies_defaults_and_normalises():
    customer = (
        validate_records("customer", [encode(VALID["customer"])]).tables["customers"].to_pylist()[0]
    )
    assert customer["email"] == "ada@example.com"
    assert customer["address_country"] == "DE" and customer["accepts_email_marketing"] is False
    product = (
        validate_records("product", [encode(VALID["product"])]).tables["products"].to_pylist()[0]
    )
    assert product["is_active"] is True and product["stock_quantity"] == 0
    assert product["variants"][0]["attributes"] == [("size", "M"), ("color", "red")]
    event = validate_records("event", [encode(VALID["event"])]).tables["events"].to_pylist()[0]
    assert json.loads(event["properties"]) == {"source": "search", "rank": 3}
    note = validate_records("refund", [encode(VALID["refund"])]).tables["refunds"].to_pylist()[0]
    assert note["status"] == "succeeded"


def test_timestamps_become_utc_microseconds():
    record = order(
        created_at="2024-05-01t10:00:00.1234567-05:30", updated_at="2024-05-01 08:00:00z"
    )
    row = validate_records("order", [encode(record)]).tables["orders"].to_pylist()[0]
    assert row["created_at"] == datetime(2024, 5, 1, 15, 30, 0, 123456, tzinfo=UTC)
    assert row["updated_at"] == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def test_ndjson_bytes_number_rows_by_line_and_skip_blank_lines():
    body = b"\n".join(
        [encode(order(1)), b"", encode(order(2, currency="EURO")), b"  ", encode(order(3))]
    )
    tables, errors = validate_records("order", body + b"\n", first_row=1)
    assert tables["orders"].column("id").to_pylist() == ["o1", "o3"]
    assert [(e.row, e.field) for e in errors] == [(3, "currency")]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (b"", "empty record"),
        (b"   ", "empty record"),
        (b"[1, 2]", "JSON object"),
        (b'"order"', "JSON object"),
        (b'{"id": "\xff"}', "UTF-8"),
        (b'{"properties": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nesting too deep"),
        (b"{}", "required"),
    ],
)
def test_malformed_rows_are_reported_not_raised(record, reason):
    entity = "event"
    tables, errors = validate_records(entity, [record, encode(VALID[entity])])
    assert tables["events"].num_rows == 1
    assert errors and all(e.row == 1 for e in errors)
    assert any(reason in e.reason for e in errors), errors


def test_deeply_nested_input_is_refused_by_the_columnar_path_too():
    bomb = b'{"id": "o9", "items": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    tables, errors = validate_records("order", [encode(order(1)), bomb])
    assert tables["orders"].num_rows == 1
    assert [(e.row, e.field) for e in errors] == [(2, "items.0")]


def test_pretty_printed_records_are_accepted():
    pretty = json.dumps(order(1), indent=2).encode()
    tables, errors = validate_records("order", [pretty, encode(order(2))])
    assert errors == [] and tables["orders"].num_rows == 2


def test_decoded_mappings_and_raw_records_are_accepted():
    rows = [order(1), msgspec.Raw(encode(order(2))), bytearray(encode(order(3))), 42]
    tables, errors = validate_records("order", rows)
    assert tables["orders"].num_rows == 3
    assert errors == [RowError(4, WHOLE_ROW, "record must be a JSON object")]


def test_columnar_and_per_line_paths_build_identical_tables():
    good = [encode(order(i)) for i in range(1, 40)]
    fast = validate_records("order", good)
    # A duplicate key is fine for msgspec (last wins) but not for Arrow's reader, so this chunk
    # is built from the msgspec Structs instead.
    duplicate = b'{"id": "o0", ' + encode(order(0))[1:]
    slow = validate_records("order", [duplicate, *good])
    assert slow.errors == [] and fast.errors == []
    for name in ("orders", "order_items"):
        assert (
            slow.tables[name]
            .slice(0)
            .equals(
                pa.concat_tables(
                    [validate_records("order", [encode(order(0))]).tables[name], fast.tables[name]]
                )
            )
        )


def test_unknown_entity_is_refused():
    with pytest.raises(ValueError, match="unknown entity"):
        validate_records("invoice", [b"{}"])


def test_delete_tables_hold_only_keys():
    tables = CONTRACTS["order"].delete_tables(["o1", "o2"])
    assert list(tables) == ["orders"]
    orders = tables["orders"]
    assert orders.column("id").to_pylist() == ["o1", "o2"]
    assert orders.column("total_minor").null_count == 2
    with pytest.raises(ValueError):
        CONTRACTS["order"].delete_tables([""])
