"""Sales metrics over the tiny preset, against figures computed here from the NDJSON records.

The reference below re-derives every number from the generator's records (the same data the
lake holds): orders count in sales when paid and in the tenant's currency, days and hours are
tenant-local, refunds count on the local day they were made, percentiles are nearest-rank.
Exact answers must equal it to the minor unit; approximate ones must hold it within their bounds.
The same check on the `small` preset is marked slow (it builds that preset, a few minutes).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from serving import close_app, create_app
from tests import published as published_module
from tests.factories import Factory
from tests.published import Published, build_published, copy_var_dir, create_tenants
from warehouse.controldb import transaction
from warehouse.controldb.models import Tenant

URL = "/api/v1/metrics/sales/"
PAID = {"paid", "fulfilled", "refunded", "partially_refunded"}
SALES = (
    "order_count", "units", "gross_minor", "discounts_minor", "tax_minor", "shipping_minor",
    "total_minor", "refunds_minor", "net_revenue_minor", "average_order_value_minor",
)  # fmt: skip
LINES = ("order_count", "units", "revenue_minor")


@dataclass
class Reference:
    """One tenant's records, with the counted orders in local time."""

    zone: ZoneInfo
    orders: list[dict]  # counted orders, each with "local" (datetime) added
    refunds: list[dict]  # succeeded refunds of counted orders, with "local"
    products: dict[str, dict]


def load(records: Path, slug: str) -> Reference:
    manifest = json.loads((records / "manifest.json").read_text())
    tenant = next(t for t in manifest["tenants"] if t["slug"] == slug)
    zone = ZoneInfo(tenant["timezone"])

    def rows(entity):
        text = (records / slug / f"{entity}.ndjson").read_text()
        return [json.loads(line) for line in text.splitlines()]

    def local(row):
        return {**row, "local": datetime.fromisoformat(row["created_at"]).astimezone(zone)}

    orders = [local(o) for o in rows("orders")
              if o["status"] in PAID and o["currency"] == tenant["currency"]]  # fmt: skip
    counted = {o["id"] for o in orders}
    refunds = [local(r) for r in rows("refunds")
               if r["status"] == "succeeded" and r["order_id"] in counted]  # fmt: skip
    return Reference(zone, orders, refunds, {p["id"]: p for p in rows("products")})


def in_range(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def average(total: int, count: int) -> int | None:
    return (2 * total + count) // (2 * count) if count else None


def nearest_rank(values: list[int], percent: int) -> int | None:
    ordered = sorted(values)
    return ordered[max(1, -(-percent * len(ordered) // 100)) - 1] if ordered else None


def spread(orders: list[dict]) -> dict:
    customers = {o["customer_id"] for o in orders if o["customer_id"]}
    totals = [o["total_minor"] for o in orders]
    return {"unique_customers": len(customers),
            "order_value": {f"p{p}": nearest_rank(totals, p) for p in (50, 90, 99)}}  # fmt: skip


def sales_of(orders: list[dict], refunds: list[dict]) -> dict:
    items = [i for o in orders for i in o["items"]]
    gross = sum(i["quantity"] * i["unit_price_minor"] for i in items)
    discounts = sum(i["discount_minor"] or 0 for i in items) + sum(
        o["discount_minor"] for o in orders
    )
    total, refunded = sum(o["total_minor"] for o in orders), sum(r["amount_minor"] for r in refunds)
    return {
        "order_count": len(orders), "units": sum(i["quantity"] for i in items),
        "gross_minor": gross, "discounts_minor": discounts,
        "tax_minor": sum(o["tax_minor"] for o in orders),
        "shipping_minor": sum(o["shipping_minor"] for o in orders),
        "total_minor": total, "refunds_minor": refunded, "net_revenue_minor": total - refunded,
        "average_order_value_minor": average(total, len(orders)),
    }  # fmt: skip


BUCKETS = {
    "day": lambda local: local.date().isoformat(),
    "hour": lambda local: local.strftime("%Y-%m-%dT%H:00:00"),
}


def category_path(product: dict) -> str:
    sub = f" > {product['subcategory']}" if product["subcategory"] else ""
    return (product["category"] or "Uncategorized") + sub


def expected(ref: Reference, group_by: str, start=None, end=None) -> dict:
    """Return {"groups": {key: figures}, "summary": figures} for one request."""
    orders = [o for o in ref.orders if in_range(o["local"].date(), start, end)]
    refunds = [r for r in ref.refunds if in_range(r["local"].date(), start, end)]
    summary = {**sales_of(orders, refunds), **spread(orders)}
    if group_by in BUCKETS:
        bucket = BUCKETS[group_by]
        by_key: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
        for o in orders:
            by_key[bucket(o["local"])][0].append(o)
        for r in refunds:
            by_key[bucket(r["local"])][1].append(r)
        groups = {k: {**sales_of(o, r), **spread(o)} for k, (o, r) in by_key.items()}
        return {"groups": groups, "summary": summary}
    return {"groups": line_groups(ref, orders, group_by), "summary": summary}


def line_groups(ref: Reference, orders: list[dict], group_by: str) -> dict:
    lines: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for order in orders:
        for item in order["items"]:
            product = ref.products.get(item["product_id"])
            if product is not None:
                key = product["id"] if group_by == "product" else category_path(product)
                lines[key].append((order, item))
    groups = {}
    for key, pairs in lines.items():
        distinct = list({o["id"]: o for o, _ in pairs}.values())
        revenue = sum(i["quantity"] * i["unit_price_minor"] - (i["discount_minor"] or 0)
                      for _, i in pairs)  # fmt: skip
        groups[key] = {"order_count": len(distinct), "units": sum(i["quantity"] for _, i in pairs),
                       "revenue_minor": revenue, **spread(distinct)}  # fmt: skip
    return groups


def headers_for(app, tenant_id, *scopes):
    make = Factory(app)
    with transaction(make.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
    return make.key_headers(tenant, *(scopes or ("read",)))


def query(group_by, start, end, **extra) -> dict:
    dates = {"start_date": start, "end_date": end}
    return {"group_by": group_by, **{k: v for k, v in dates.items() if v}, **extra}


def fetch(client, headers, **params) -> dict:
    response = client.get(URL, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def exact_figures(group: dict, names) -> dict:
    figures = {name: group[name] for name in names}
    customers = group["unique_customers"]
    assert customers["lower_bound"] == customers["value"] == customers["upper_bound"]
    figures["unique_customers"] = customers["value"]
    values = {}
    for name, bounded in group["order_value"].items():
        assert (
            bounded is None or bounded["lower_bound"] == bounded["value"] == bounded["upper_bound"]
        )
        values[name] = bounded and bounded["value"]
    figures["order_value"] = values
    return figures


def assert_exact(answer: dict, want: dict, names) -> None:
    got = {g["key"]: exact_figures(g, names) for g in answer["groups"]}
    assert got == {k: {n: v for n, v in figures.items() if n in (*names, "unique_customers",
                   "order_value")} for k, figures in want["groups"].items()}  # fmt: skip
    assert exact_figures(answer["summary"], SALES) == want["summary"]


def within(bounded: dict, truth: int | None) -> bool:
    if truth is None:
        return bounded is None
    return bounded["lower_bound"] <= truth <= bounded["upper_bound"]


def assert_within_bounds(answer: dict, want: dict) -> None:
    """Every estimate holds the exact figure; the exact sums are unchanged."""
    targets = [(g, want["groups"][g["key"]]) for g in answer["groups"]]
    targets.append((answer["summary"], want["summary"]))
    for got, truth in targets:
        assert within(got["unique_customers"], truth["unique_customers"]), (got, truth)
        for name, value in truth["order_value"].items():
            assert within(got["order_value"][name], value), (name, got, truth)
        assert got["order_count"] == truth["order_count"]


CASES = {
    # group_by, start, end, the source that must answer
    "every day": ("day", None, None, "marts"),
    "days of June": ("day", date(2026, 6, 1), date(2026, 6, 30), "marts"),
    "hours of a month": ("hour", date(2026, 7, 1), date(2026, 7, 31), "marts"),
    "products, all time": ("product", None, None, "marts"),
    "products in a range that holds every sale": ("product", date(2020, 1, 1), None, "marts"),
    "products in June": ("product", date(2026, 6, 1), date(2026, 6, 30), "facts"),
    "categories, all time": ("category", None, None, "marts"),
    "categories from August": ("category", date(2026, 8, 1), None, "facts"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_exact_metrics_equal_the_records_to_the_minor_unit(served, case):
    group_by, start, end, source = CASES[case]
    client = served.app.test_client()
    for slug, tenant_id in served.tenant_ids.items():
        ref = load(served.published.records, slug)
        params = query(group_by, start, end)
        answer = fetch(client, headers_for(served.app, tenant_id), **params)
        assert answer["source"] == source and answer["precision"] == "exact"
        assert answer["methods"]["unique_customers"]["method"] == "exact"
        want = expected(ref, group_by, start, end)
        assert want["groups"], "the case should have groups"
        assert_exact(answer, want, SALES if group_by in BUCKETS else LINES)


def test_groups_come_in_order(served):
    client = served.app.test_client()
    headers = headers_for(served.app, served.tenant_ids["kaffeehaus-berlin"])
    days = [g["key"] for g in fetch(client, headers, group_by="day")["groups"]]
    assert days == sorted(days)
    products = fetch(client, headers, group_by="product")["groups"]
    assert [(-g["revenue_minor"], g["key"]) for g in products] == sorted(
        (-g["revenue_minor"], g["key"]) for g in products
    )


@pytest.mark.parametrize("case", list(CASES))
def test_approx_metrics_hold_the_exact_figures_within_their_bounds(served, case):
    group_by, start, end, _source = CASES[case]
    client = served.app.test_client()
    for slug, tenant_id in served.tenant_ids.items():
        params = query(group_by, start, end, precision="approx")
        answer = fetch(client, headers_for(served.app, tenant_id), **params)
        assert answer["methods"]["unique_customers"]["method"] == "hll"
        assert answer["methods"]["order_value"]["method"] == "kll"
        assert 0 < answer["methods"]["order_value"]["normalized_rank_error"] < 0.05
        assert_within_bounds(
            answer, expected(load(served.published.records, slug), group_by, start, end)
        )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "week"}, "group_by"),
        ({"precision": "fast"}, "precision"),
        ({"start_date": "2026-07-01", "end_date": "2026-06-01"}, "end_date"),
        ({"group_by": "hour"}, "start_date"),  # hours need a bounded range
        ({"group_by": "hour", "start_date": "2026-01-01", "end_date": "2026-06-30"}, "end_date"),
        ({"start_date": "June"}, "start_date"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(served, params, field):
    client = served.app.test_client()
    headers = headers_for(served.app, served.tenant_ids["kaffeehaus-berlin"])
    response = client.get(URL, query_string=params, headers=headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_metrics_need_marts_read(served):
    client = served.app.test_client()
    tenant_id = served.tenant_ids["kaffeehaus-berlin"]
    assert client.get(URL, headers=headers_for(served.app, tenant_id, "ingest")).status_code == 403
    assert client.get(URL).status_code == 401


def test_another_tenant_is_refused_by_path_and_header(served):
    client = served.app.test_client()
    berlin, pacific = (
        served.tenant_ids["kaffeehaus-berlin"],
        served.tenant_ids["pacific-outfitters"],
    )
    headers = headers_for(served.app, berlin)
    assert (
        client.get(f"/api/v1/tenants/{pacific}/metrics/sales/", headers=headers).status_code == 403
    )
    assert client.get(URL, headers={**headers, "X-Tenant-ID": str(pacific)}).status_code == 403
    own = client.get(f"/api/v1/tenants/{berlin}/metrics/sales/", headers=headers)
    assert own.status_code == 200 and own.get_json()["currency"] == "EUR"


def test_before_any_build_the_answer_is_a_503(client, make):
    tenant = make.tenant("fresh")
    response = client.get(URL, headers=make.key_headers(tenant, "read"))
    assert response.status_code == 503 and response.mimetype == "application/problem+json"


@pytest.fixture(scope="module")
def small_published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The `small` preset (3 tenants, 5,000 orders each), built and published once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(published_module, "PRESET", "small")
        return build_published(tmp_path_factory.mktemp("small"))


SMALL_CASES = [
    ("day", None, None),
    ("hour", date(2026, 9, 1), date(2026, 10, 31)),
    ("product", None, None),
    ("product", date(2026, 1, 1), date(2026, 6, 30)),
    ("category", date(2025, 11, 1), None),
]


@pytest.mark.slow
def test_approx_metrics_hold_within_bounds_on_the_small_preset(small_published, settings, tmp_path):
    app = create_app(settings.replace(var_dir=copy_var_dir(small_published, tmp_path / "var")))
    try:
        create_tenants(app, small_published)
        client = app.test_client()
        for slug, tenant_id in small_published.tenant_ids.items():
            ref = load(small_published.records, slug)
            assert len(ref.orders) > 4000  # large enough that the sketches estimate
            headers = headers_for(app, tenant_id)
            for group_by, start, end in SMALL_CASES:
                answer = fetch(client, headers, **query(group_by, start, end, precision="approx"))
                assert_within_bounds(answer, expected(ref, group_by, start, end))
    finally:
        close_app(app)
