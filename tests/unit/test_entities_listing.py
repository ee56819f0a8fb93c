"""Listing: every filter and sort against expectations computed here, paged by keyset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.entities_support import land, land_delete, product
from warehouse.entities.listing import ListRequest, list_records, sort_names
from warehouse.entities.resources import PRODUCTS
from warehouse.entities.sources import Store

START = datetime(2026, 1, 1, tzinfo=UTC)
CATEGORIES = ("Shoes", "Hats", None)


def catalog() -> list[dict]:
    return [
        product(
            i,
            name=f"{'Blue' if i % 2 else 'Red'} item {i:02d}",
            category=CATEGORIES[i % 3],
            price_minor=100 * (i % 4),  # many ties: keyset must break them by id
            is_active=i % 5 != 0,
            tags=["sale"] if i % 4 == 0 else [],
            variants=[{"id": f"v{i}", "sku": f"VAR-{i}"}] if i % 6 == 0 else None,
            created_at=(START + timedelta(days=i)).isoformat(),
        )
        for i in range(1, 26)
    ]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    root: Path = tmp_path_factory.mktemp("listing")
    store = Store(root / "lake", root / "var", 1)
    land(store.lake_root, 1, "product", catalog())
    land_delete(store.lake_root, 1, "product", ["p25"])
    return store


def live() -> list[dict]:
    return [p for p in catalog() if p["id"] != "p25"]


def all_pages(store: Store, limit: int, **request) -> list[str]:
    seen, after = [], None
    while True:
        page = list_records(store, PRODUCTS, ListRequest(limit=limit, after=after, **request))
        seen += [record["id"] for record in page.records]
        if page.last is None:
            return seen
        after = page.last


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({"category": "Shoes"}, lambda p: p.get("category") == "Shoes"),
        ({"is_active": False}, lambda p: not p["is_active"]),
        ({"tag": "sale"}, lambda p: "sale" in p["tags"]),
        ({"q": "BLUE"}, lambda p: "blue" in p["name"].lower()),  # case-insensitive
        ({"sku": "VAR-12"}, lambda p: p["id"] == "p12"),  # a variant's SKU finds its product
        ({"sku": "SKU-3"}, lambda p: p["id"] == "p3"),
        ({"min_price_minor": 100, "max_price_minor": 200}, lambda p: 0 < p["price_minor"] < 300),
        ({"created_after": START + timedelta(days=10)}, lambda p: int(p["id"][1:]) >= 10),
        ({"created_before": START + timedelta(days=3)}, lambda p: int(p["id"][1:]) < 3),
    ],
)
def test_filters(store, filters, keep):
    expected = sorted(p["id"] for p in live() if keep(p))
    assert expected, "a filter case must select something"
    assert all_pages(store, 4, filters=filters) == expected


@pytest.mark.parametrize("sort", ["price_minor", "-price_minor", "name", "-created_at", "-id"])
def test_sort_and_keyset_paging_see_every_row_once(store, sort):
    column, reverse = sort.lstrip("-"), sort.startswith("-")
    key = {"price_minor": lambda p: p["price_minor"], "name": lambda p: p["name"],
           "created_at": lambda p: p["created_at"], "id": lambda p: p["id"]}[column]  # fmt: skip
    expected = [p["id"] for p in sorted(live(), key=lambda p: (key(p), p["id"]), reverse=reverse)]
    assert all_pages(store, 3, sort=sort) == expected
    assert all_pages(store, 100, sort=sort) == expected


def test_ids_narrow_the_listing(store):
    assert all_pages(store, 10, ids=["p3", "p25", "p9", "nope"]) == ["p3", "p9"]


def test_unknown_sort_is_refused():
    assert "-price_minor" in sort_names("products")
    with pytest.raises(ValueError):
        list_records(Store(Path("/nonexistent"), Path("/nonexistent"), 1), PRODUCTS,
                     ListRequest(sort="cost_minor"))  # fmt: skip
