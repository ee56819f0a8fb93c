"""GET /api/v1/analytics/summary/overview/ over the tiny preset's published marts.

Expected values come from the preset's NDJSON records (tests/analytics_support.py), in each
tenant's time zone; the previous period is the one of equal length ending the day before.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from tests.analytics_support import SLUGS, Shop, key_headers, user_headers
from tests.factories import Factory
from warehouse.analytics.periods import MAX_RANGE_DAYS
from warehouse.controldb.models import Role

URL = "/api/v1/analytics/summary/overview/"
BERLIN, PACIFIC = SLUGS[0], SLUGS[1]
OCTOBER = {"start_date": "2026-10-01", "end_date": "2026-10-31"}


def overview(served, slug, headers=None, **params):
    client = served.app.test_client()
    response = client.get(URL, query_string=params, headers=headers or key_headers(served, slug))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def pct(current, previous):
    if current is None or previous is None or previous == 0:
        return None
    value = Decimal(current - previous) * 100 / abs(previous)
    return float(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


def test_totals_and_change_match_the_records(served):
    for slug in SLUGS:
        check_totals(served, slug)


def check_totals(served, slug):
    shop = Shop(served.published.records, slug)
    body = overview(served, slug, **OCTOBER)
    current = shop.totals(date(2026, 10, 1), date(2026, 10, 31))
    previous = shop.totals(date(2026, 8, 31), date(2026, 9, 30))
    assert body["period"] == {**OCTOBER, "days": 31}
    assert body["previous_period"] == {"start_date": "2026-08-31", "end_date": "2026-09-30",
                                       "days": 31}  # fmt: skip
    assert body["totals"] == current
    assert body["previous_totals"] == previous
    assert current["orders"] > 0 and previous["orders"] > 0
    for name, value in current.items():
        expected_abs = None if value is None else value - previous[name]
        assert body["change"][name] == {"absolute": expected_abs, "pct": pct(value, previous[name])}
    first_orders = sum(v.get("new_customers", 0) for d, v in shop.daily().items()
                       if d <= date(2026, 10, 31))  # fmt: skip
    assert body["customers_to_date"] == first_orders
    assert (body["timezone"], body["currency"]) == (shop.timezone, shop.currency)
    assert body["snapshot"]["build_id"] == served.published.snapshot.build_id


def test_top_products_and_low_stock_match_the_records(served):
    for slug in (BERLIN, SLUGS[2]):
        check_products_and_stock(served, slug)


def check_products_and_stock(served, slug):
    shop = Shop(served.published.records, slug)
    body = overview(served, slug, limit=4, **OCTOBER)
    top = [(p["product_id"], p["revenue_minor"], p["units_sold"]) for p in body["top_products"]]
    assert top == shop.top_products(4)
    assert [p["revenue_rank"] for p in body["top_products"]] == [1, 2, 3, 4]
    assert body["top_products_scope"] == "all_time"
    low = [s for s in shop.stock_levels() if s["stock_quantity"] <= s["min_stock_level"]]
    low.sort(key=lambda s: (s["stock_quantity"], s["sku"]))
    assert body["low_stock"]["count"] == len(low) > 0
    assert body["low_stock"]["out_of_stock_count"] == sum(s["stock_quantity"] <= 0 for s in low)
    listed = [
        (i["sku"], i["stock_quantity"], i["min_stock_level"]) for i in body["low_stock"]["items"]
    ]
    assert listed == [(s["sku"], s["stock_quantity"], s["min_stock_level"]) for s in low[:4]]


def test_default_range_is_the_last_30_days_ending_today_in_the_tenant_zone(served):
    shop = Shop(served.published.records, PACIFIC)
    today = shop.today()
    body = overview(served, PACIFIC)
    start = today - timedelta(days=29)
    assert body["period"] == {"start_date": start.isoformat(), "end_date": today.isoformat(),
                              "days": 30}  # fmt: skip
    assert body["totals"] == shop.totals(start, today)
    assert body["previous_totals"] == shop.totals(start - timedelta(days=30), start - timedelta(1))


def test_days_gives_a_relative_range_ending_on_end_date(served):
    shop = Shop(served.published.records, BERLIN)
    body = overview(served, BERLIN, days=7, end_date="2026-10-31")
    assert body["period"] == {"start_date": "2026-10-25", "end_date": "2026-10-31", "days": 7}
    assert body["totals"] == shop.totals(date(2026, 10, 25), date(2026, 10, 31))
    assert body["previous_totals"] == shop.totals(date(2026, 10, 18), date(2026, 10, 24))


BAD_RANGES = [
    ({"start_date": "2026-10-31", "end_date": "2026-10-01"}, "end_date"),  # end before start
    ({"start_date": "yesterday"}, "start_date"),  # not a date
    ({"end_date": "2026-02-30"}, "end_date"),  # no such day
    ({"start_date": "2020-01-01", "end_date": "2026-10-31"}, "end_date"),  # too long
    ({"days": MAX_RANGE_DAYS + 1}, "days"),  # too long, relative
    ({"days": 0}, "days"),
    ({"days": 7, "start_date": "2026-10-01"}, "days"),  # two ways to say where it starts
    # After today (end defaults to today).
    ({"start_date": (date.today() + timedelta(days=400)).isoformat()}, "start_date"),
    ({"limit": 0}, "limit"),
    ({"start_date": "1969-12-31"}, "start_date"),
    ({"bogus": "1"}, "bogus"),
]


def test_bad_ranges_are_422_naming_the_field(served):
    client = served.app.test_client()
    headers = key_headers(served, BERLIN)
    for params, field in BAD_RANGES:
        response = client.get(URL, query_string=params, headers=headers)
        assert response.status_code == 422, (params, response.get_data(as_text=True))
        assert response.mimetype == "application/problem+json"
        assert field in [e["field"] for e in response.get_json()["errors"]], params


def test_each_tenant_sees_only_its_own_numbers(served):
    berlin = overview(served, BERLIN, **OCTOBER)
    pacific = overview(served, PACIFIC, **OCTOBER)
    expected = Shop(served.published.records, PACIFIC).totals(date(2026, 10, 1), date(2026, 10, 31))
    assert pacific["totals"] == expected != berlin["totals"]
    assert pacific["currency"] == "USD" and berlin["currency"] == "EUR"
    client = served.app.test_client()
    foreign = {**key_headers(served, PACIFIC), "X-Tenant-ID": str(served.tenant_ids[BERLIN])}
    assert client.get(URL, query_string=OCTOBER, headers=foreign).status_code == 403
    path = f"/api/v1/tenants/{served.tenant_ids[BERLIN]}/analytics/summary/overview/"
    assert client.get(path, headers=key_headers(served, PACIFIC)).status_code == 403
    own = client.get(path, query_string=OCTOBER, headers=key_headers(served, BERLIN))
    assert own.get_json()["totals"] == berlin["totals"]


def test_reading_needs_marts_read(served):
    client = served.app.test_client()
    ingest_only = key_headers(served, BERLIN, "ingest")
    response = client.get(URL, headers=ingest_only)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert client.get(URL).status_code == 401
    viewer = user_headers(served, BERLIN, Role.VIEWER)  # dashboards are what viewers are for
    assert client.get(URL, query_string=OCTOBER, headers=viewer).status_code == 200


def test_answers_are_cached_per_snapshot_and_range(served):
    client = served.app.test_client()
    headers = key_headers(served, BERLIN)
    first = client.get(URL, query_string=OCTOBER, headers=headers).get_json()
    cache = served.app.extensions["shoplake.mart_cache"]
    hits = cache.hits
    assert client.get(URL, query_string=OCTOBER, headers=headers).get_json() == first
    assert cache.hits == hits + 1


def test_before_the_first_publish_the_answer_is_503(client, make):
    tenant = make.tenant("fresh-shop")
    response = client.get(URL, headers=make.key_headers(tenant, "read"))
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"


def test_factory_users_of_another_tenant_are_refused(served):
    make = Factory(served.app)
    outsider = make.user()  # a member of no tenant
    headers = {**make.bearer(outsider), "X-Tenant-ID": str(served.tenant_ids[BERLIN])}
    assert served.app.test_client().get(URL, headers=headers).status_code == 403
