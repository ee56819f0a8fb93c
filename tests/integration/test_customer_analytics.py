"""Customer analytics and RFM segment endpoints agree with the preset's records.

Expected values come from ``served.published.records`` (tests/analytics_records.py): lifetime
figures, flags and the RFM scoring and segment grid of dbt_project/README.md are recomputed in
Python, never read from the marts. The as-of day is the day the session build ran; the API
reports it and the tests check it is the tenant's today (or yesterday, across midnight).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from serving.marts import response_cache
from tests.analytics_records import (
    Shop,
    average,
    key_headers,
    load,
    republish,
    set_tenant_settings,
    share,
    tenant_fixtures,
    utc,
    viewer_headers,
    walk_pages,
)

SLUG, OTHER = "kaffeehaus-berlin", "pacific-outfitters"
ROUTES = [
    "/api/v1/customers/analytics/",
    "/api/v1/customers/analytics_summary/",
    "/api/v1/customers/cus-0000001/analytics/",
    "/api/v1/customers/vip_customers/",
    "/api/v1/customers/new_customers/",
    "/api/v1/customers/inactive_customers/",
    "/api/v1/customers/top_customers/",
    "/api/v1/customers/segments/",
    "/api/v1/customers/segments/champions/",
]
GRID = {  # R score -> segment by FM score 1..5 (dbt_project/README.md)
    5: ["New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Champions"],
    3: ["About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"],
    1: ["Lost", "Lost", "At Risk", "At Risk", "Cannot Lose Them"],
}


shop, call = tenant_fixtures(SLUG)


@pytest.fixture
def as_of(call, shop) -> date:
    """The build's as-of day, as the API reports it; it must be the tenant's today (or the day
    before, if the session build ran before midnight)."""
    reported = date.fromisoformat(call("/api/v1/customers/analytics_summary/").json["as_of_date"])
    today = datetime.now(ZoneInfo(shop.timezone)).date()
    assert reported in (today, today - timedelta(days=1))
    return reported


def lifetimes(shop: Shop, as_of: date) -> dict[str, dict]:
    """Per catalogue customer: counted orders, spend, refunds and first/last order."""
    refunded = shop.refunded()
    out = {cid: {"orders": []} for cid in shop.customers}
    for order in shop.counted():
        if order["customer_id"] in out:
            out[order["customer_id"]]["orders"].append(order)
    for figures in out.values():
        orders = sorted(figures.pop("orders"), key=lambda o: (utc(o["created_at"]), o["id"]))
        gross = sum(o["total_minor"] for o in orders)
        figures.update(
            order_count=len(orders), gross=gross,
            ltv=gross - sum(refunded.get(o["id"], 0) for o in orders),
            first_at=utc(orders[0]["created_at"]) if orders else None,
            last_at=utc(orders[-1]["created_at"]) if orders else None,
            first=shop.local_date(orders[0]["created_at"]) if orders else None,
            last=max(shop.local_date(o["created_at"]) for o in orders) if orders else None,
        )  # fmt: skip
    return out


def flags(figures: dict, as_of: date, vip=100_000, new=30, inactive=90) -> dict[str, bool]:
    bought = figures["order_count"] > 0
    return {
        "is_vip": bought and figures["ltv"] >= vip,
        "is_new": bought and (as_of - figures["first"]).days < new,
        "is_inactive": bought and (as_of - figures["last"]).days >= inactive,
    }


def rfm(shop: Shop, as_of: date, window: int = 365) -> dict[str, dict]:
    """Recency, frequency, monetary, scores and segment per customer with orders in the window."""
    refunded = shop.refunded()
    values: dict[str, dict] = defaultdict(lambda: {"frequency": 0, "monetary": 0, "last": None})
    for order in shop.counted():
        day = shop.local_date(order["created_at"])
        if order["customer_id"] is None or day > as_of or (as_of - day).days >= window:
            continue
        row = values[order["customer_id"]]
        row["frequency"] += 1
        row["monetary"] += order["total_minor"] - refunded.get(order["id"], 0)
        row["last"] = max(row["last"] or day, day)
    for row in values.values():
        row["recency"] = (as_of - row["last"]).days
    n = len(values)

    def score(cid: str, worse) -> int:
        rank = 1 + sum(1 for other in values.values() if worse(other, values[cid]))
        return 1 + 5 * (rank - 1) // n

    for cid, row in values.items():
        r = score(cid, lambda a, b: a["recency"] > b["recency"])
        f = score(cid, lambda a, b: a["frequency"] < b["frequency"])
        m = score(cid, lambda a, b: a["monetary"] < b["monetary"])
        row.update(r=r, f=f, m=m, segment=GRID[r][(f + m + 1) // 2 - 1], cell=f"{r}{f}{m}")
    return dict(values)


def sort_value(value):
    return value.timestamp() if isinstance(value, datetime) else value


def ordered(items: dict[str, dict], key, descending: bool) -> list[str]:
    """Ids by key (descending or not), ties by id ascending."""
    sign = -1 if descending else 1
    return [cid for _, cid in sorted((sign * key(row), cid) for cid, row in items.items())]


def test_summary_matches_the_records(call, shop, as_of):
    figures = lifetimes(shop, as_of)
    buyers = [f for f in figures.values() if f["order_count"]]
    marks = [flags(f, as_of) for f in figures.values()]
    ltv, orders = sum(f["ltv"] for f in buyers), sum(f["order_count"] for f in buyers)
    repeat = sum(1 for f in buyers if f["order_count"] > 1)
    body = call("/api/v1/customers/analytics_summary/").get_json()
    assert body.pop("build_id")
    assert body == {
        "currency": shop.currency, "as_of_date": as_of.isoformat(),
        "vip_lifetime_value_minor": 100_000, "new_customer_days": 30,
        "inactive_customer_days": 90, "customer_count": len(shop.customers),
        "customers_with_orders": len(buyers), "repeat_customer_count": repeat,
        "repeat_rate": share(repeat, len(buyers)),
        "vip_customer_count": sum(m["is_vip"] for m in marks),
        "new_customer_count": sum(m["is_new"] for m in marks),
        "inactive_customer_count": sum(m["is_inactive"] for m in marks),
        "order_count": orders, "lifetime_value_minor": ltv,
        "average_lifetime_value_minor": average(ltv, len(buyers)),
        "average_orders_per_customer": share(orders, len(buyers), 2),
    }  # fmt: skip


def test_a_changed_setting_applies_at_once(served, call, shop, as_of):
    figures = lifetimes(shop, as_of)
    set_tenant_settings(served.app, served.tenant_ids[SLUG], vip_lifetime_value_minor=300_000)
    body = call("/api/v1/customers/analytics_summary/").get_json()
    assert body["vip_lifetime_value_minor"] == 300_000
    assert body["vip_customer_count"] == sum(
        flags(f, as_of, vip=300_000)["is_vip"] for f in figures.values()
    )


def test_analytics_by_cohort_and_order_count(call, shop, as_of):
    cohorts: dict[str, list] = defaultdict(list)
    buckets: dict[int, list] = defaultdict(list)
    for figures in lifetimes(shop, as_of).values():
        if figures["order_count"]:
            cohorts[figures["first"].replace(day=1).isoformat()].append(figures)
            buckets[min(figures["order_count"], 5)].append(figures)

    def sums(group: list[dict]) -> dict:
        ltv = sum(f["ltv"] for f in group)
        return {"customer_count": len(group), "lifetime_value_minor": ltv,
                "average_lifetime_value_minor": average(ltv, len(group))}  # fmt: skip

    body = call("/api/v1/customers/analytics/").get_json()
    assert body["cohorts"] == [
        {"cohort_month": month, **sums(group), "order_count": sum(f["order_count"] for f in group),
         "repeat_customer_count": sum(1 for f in group if f["order_count"] > 1)}
        for month, group in sorted(cohorts.items())
    ]  # fmt: skip
    assert body["order_count_distribution"] == [
        {"orders": n, **sums(group)} for n, group in sorted(buckets.items())
    ]


def test_one_customers_figures_and_rfm(call, shop, as_of):
    figures, scores = lifetimes(shop, as_of), rfm(shop, as_of)
    for cid in ("cus-0000057", "cus-0000022", "cus-0000001"):
        body = call(f"/api/v1/customers/{cid}/analytics/").get_json()
        mine, score = figures[cid], scores.get(cid)
        assert (body["order_count"], body["lifetime_value_minor"]) == (
            mine["order_count"], mine["ltv"],
        )  # fmt: skip
        assert {k: body[k] for k in ("is_vip", "is_new", "is_inactive")} == flags(mine, as_of)
        assert body["segment"] == (score["segment"] if score else None)
        assert body["rfm_cell"] == (score["cell"] if score else None)
    missing = call("/api/v1/customers/nobody/analytics/")
    assert missing.status_code == 404
    assert missing.get_json()["errors"][0]["field"] == "customer_id"


def test_vip_new_and_inactive_lists_page_through_in_order(call, shop, as_of):
    figures = lifetimes(shop, as_of)
    cases = [
        ("vip_customers/?limit=7", lambda f: flags(f, as_of)["is_vip"], "ltv", True),
        ("vip_customers/?limit=7&min_lifetime_value_minor=50000",
         lambda f: flags(f, as_of, vip=50_000)["is_vip"], "ltv", True),
        ("new_customers/?limit=7&days=75", lambda f: flags(f, as_of, new=75)["is_new"],
         "first_at", True),
        ("inactive_customers/?limit=7", lambda f: flags(f, as_of)["is_inactive"], "last_at", False),
        ("inactive_customers/?limit=7&days=150",
         lambda f: flags(f, as_of, inactive=150)["is_inactive"], "last_at", False),
    ]  # fmt: skip
    for url, chosen, key, descending in cases:
        members = {cid: f for cid, f in figures.items() if chosen(f)}
        assert members, url
        got = [row["customer_id"] for row in walk_pages(call, f"/api/v1/customers/{url}")]
        assert got == ordered(members, lambda f, key=key: sort_value(f[key]), descending), url


def test_top_customers_by_each_metric(call, shop, as_of):
    figures = {cid: {**f, "aov": average(f["gross"], f["order_count"])}
               for cid, f in lifetimes(shop, as_of).items() if f["order_count"]}  # fmt: skip
    for by, key in [("lifetime_value", "ltv"), ("orders", "order_count"),
                    ("average_order_value", "aov")]:  # fmt: skip
        body = call(f"/api/v1/customers/top_customers/?by={by}&limit=8").get_json()
        expected = ordered(figures, lambda f, key=key: f[key], True)[:8]
        assert [r["customer_id"] for r in body["data"]] == expected, by


def test_segments_count_every_customer_of_the_window(call, shop, as_of):
    scores = rfm(shop, as_of)
    body = call("/api/v1/customers/segments/").get_json()
    assert body["customer_count"] == len(scores) and body["window_days"] == 365
    assert len(body["data"]) == 11
    for row in body["data"]:
        members = [s for s in scores.values() if s["segment"] == row["segment"]]
        monetary = sum(s["monetary"] for s in members)
        assert row == {
            "segment": row["segment"], "slug": row["segment"].lower().replace(" ", "-"),
            "customer_count": len(members), "share": share(len(members), len(scores)),
            "monetary_minor": monetary, "average_monetary_minor": average(monetary, len(members)),
            "average_frequency": share(sum(s["frequency"] for s in members), len(members), 2),
            "average_recency_days": share(sum(s["recency"] for s in members), len(members), 1),
        }  # fmt: skip


def test_segment_customers_by_slug_or_name(call, shop, as_of):
    members = {cid: s for cid, s in rfm(shop, as_of).items() if s["segment"] == "Cannot Lose Them"}
    expected = ordered(members, lambda s: s["monetary"], True)
    for path in ("cannot-lose-them", "Cannot%20Lose%20Them", "CANNOT_LOSE_THEM"):
        rows = walk_pages(call, f"/api/v1/customers/segments/{path}/?limit=2")
        assert [r["customer_id"] for r in rows] == expected, path
        assert {r["segment"] for r in rows} == {"Cannot Lose Them"}


def test_an_unknown_segment_is_a_404_naming_the_field(bare):
    response = bare("/api/v1/customers/segments/big-spenders/")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] == "segment"


def test_a_tenant_sees_only_its_own_customers(served, call):
    other = load(served.published.records, OTHER)
    headers = key_headers(served.app, served.tenant_ids[OTHER], "read")
    rows = walk_pages(lambda url: call(url, headers), "/api/v1/customers/vip_customers/?limit=100")
    assert rows and {r["customer_id"] for r in rows} <= set(other.customers)
    assert {r["email"] for r in rows} <= {c["email"] for c in other.customers.values()}
    body = call("/api/v1/customers/analytics_summary/", headers).get_json()
    assert body["customer_count"] == len(other.customers)
    assert body["currency"] == other.currency
    own = served.tenant_ids[SLUG]
    assert call(f"/api/v1/tenants/{own}/customers/segments/", headers).status_code == 403


def test_viewers_may_read_and_keys_without_marts_read_are_refused(served, call):
    tenant = served.tenant_ids[SLUG]
    viewer = viewer_headers(served.app, tenant)
    no_marts = [key_headers(served.app, tenant, "write"), key_headers(served.app, tenant, "ingest")]
    for route in ROUTES:
        assert call(route, viewer).status_code == 200, route
        for headers in no_marts:
            assert call(route, headers).status_code == 403, route
        assert call(route, {}).status_code == 401


@pytest.mark.parametrize("url, field", [
    ("/api/v1/customers/new_customers/?days=0", "days"),  # below 1
    ("/api/v1/customers/inactive_customers/?days=ninety", "days"),  # not a number
    ("/api/v1/customers/vip_customers/?min_lifetime_value_minor=-1", "min_lifetime_value_minor"),
    ("/api/v1/customers/top_customers/?by=email", "by"),  # not a metric
    ("/api/v1/customers/top_customers/?limit=101", "limit"),  # above 100
    ("/api/v1/customers/segments/lost/?limit=0", "limit"),  # below 1
])  # fmt: skip
def test_bad_query_values_are_422_naming_the_field(bare, url, field):
    response = bare(url)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_segment_answers_are_cached_per_snapshot(served, call):
    first = call("/api/v1/customers/segments/").get_json()
    with served.app.app_context():
        hits = response_cache().hits
    assert call("/api/v1/customers/segments/").get_json() == first
    with served.app.app_context():
        assert response_cache().hits == hits + 1
    build_id = republish(
        served.var_dir, "mart_customer_rfm", served.tenant_ids[SLUG], "segment <> 'Champions'"
    )
    fresh = call("/api/v1/customers/segments/").get_json()
    assert fresh["build_id"] == build_id != first["build_id"]
    champions = first["data"][0]["customer_count"]
    assert champions > 0
    assert fresh["customer_count"] == first["customer_count"] - champions
    assert fresh["data"][0]["customer_count"] == 0
