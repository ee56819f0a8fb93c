"""Report exports over HTTP against the tiny preset: contents per format, filters, download with
ranges, listing, deletion, retention, and who may see what.

Expected rows come from the mart's Parquet partition read with pyarrow and filtered in Python,
never from the export code's SQL.
"""

from __future__ import annotations

import gzip
import shutil
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from shoplake.cli import main
from tests.exports_support import (
    SLUG_A,
    SLUG_B,
    URL,
    create,
    expected_in,
    export_bytes,
    fetch,
    files_under,
    key_headers,
    mart_rows,
    project,
    read_back,
    tenant,
)
from tests.factories import Factory
from tests.media_support import stop_job_runner
from warehouse.controldb import transaction
from warehouse.controldb.models import Job, Role, utcnow
from warehouse.exports import remove_expired
from warehouse.jobs.runner import run_pending


@pytest.fixture
def api(served):
    yield served.app.test_client()
    stop_job_runner(served.app)


@pytest.fixture
def headers(served):
    return key_headers(served, SLUG_A, "read")


@pytest.mark.parametrize(
    ("fmt", "compression"),
    [
        ("csv", "none"),
        ("csv", "gzip"),  # decompresses (several members) to the same rows
        ("json", "none"),
        ("json", "gzip"),
        ("parquet", "none"),
        ("xlsx", "none"),
    ],
)
def test_each_format_holds_the_mart_rows(served, api, headers, fmt, compression):
    export, data = export_bytes(api, headers, report="orders", format=fmt, compression=compression)
    expected = project(mart_rows(served, "fct_orders", SLUG_A))
    assert export["total"] == export["progress"] == len(expected) == 300
    assert read_back(fmt, data, compression) == expected_in(fmt, expected)
    assert export["file"]["bytes"] == len(data)
    if compression == "gzip":
        assert data[:2] == b"\x1f\x8b" and export["file"]["name"].endswith(".gz")


def test_nested_columns_keep_their_shape(served, api, headers):
    expected = project(mart_rows(served, "dim_products", SLUG_A))
    for fmt in ("parquet", "json", "csv"):
        _export, data = export_bytes(api, headers, report="products", format=fmt)
        assert read_back(fmt, data) == expected_in(fmt, expected), fmt


def test_columns_are_chosen_and_ordered(served, api, headers):
    columns = ["total_minor", "order_id", "status"]
    export, data = export_bytes(api, headers, report="orders", format="csv", columns=columns)
    assert export["columns"] == columns
    expected = project(mart_rows(served, "fct_orders", SLUG_A), columns)
    assert read_back("csv", data) == expected_in("csv", expected)
    assert data.splitlines()[0] == b'"total_minor","order_id","status"'


def _local_day(instant: datetime, zone: str) -> date:
    return instant.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone)).date()


def test_date_range_is_in_the_tenant_timezone_and_category_takes_subcategories(
    served, api, headers
):
    zone = tenant(served, SLUG_A).timezone
    lines = mart_rows(served, "fct_order_items", SLUG_A)
    days = sorted({_local_day(line["order_created_at"], zone) for line in lines})
    start, end = days[len(days) // 4], days[len(days) // 2]
    products = mart_rows(served, "dim_products", SLUG_A)
    category = products[0]["category"]
    in_category = {
        p["product_id"]
        for p in products
        if p["category_path"] == category or p["category_path"].startswith(category + " > ")
    }
    expected = [
        line
        for line in lines
        if line["product_id"] in in_category
        and start <= _local_day(line["order_created_at"], zone) <= end
    ]
    filters = {"start_date": start.isoformat(), "end_date": end.isoformat(), "category": [category]}
    export, data = export_bytes(
        api, headers, report="order_items", format="parquet", filters=filters
    )
    assert 0 < len(expected) < len(lines) and export["total"] == len(expected)
    assert read_back("parquet", data) == project(expected)
    assert export["filters"] == filters


def test_status_and_segment_filters(served, api, headers):
    orders = mart_rows(served, "fct_orders", SLUG_A)
    wanted = {"paid", "fulfilled"}
    _export, data = export_bytes(
        api, headers, report="order_items", format="json", filters={"status": sorted(wanted)}
    )
    order_ids = {o["order_id"] for o in orders if o["status"] in wanted}
    lines = [r for r in mart_rows(served, "fct_order_items", SLUG_A) if r["order_id"] in order_ids]
    assert read_back("json", data) == expected_in("json", project(lines))
    rfm = mart_rows(served, "mart_customer_rfm", SLUG_A)
    segment = rfm[0]["segment"]
    in_segment = {r["customer_id"] for r in rfm if r["segment"] == segment}
    customers = [
        c for c in mart_rows(served, "dim_customers", SLUG_A) if c["customer_id"] in in_segment
    ]
    _export, data = export_bytes(
        api, headers, report="customers", format="parquet", filters={"segment": [segment]}
    )
    assert read_back("parquet", data) == project(customers) and customers


def test_sales_daily_dates_are_local_days(served, api, headers):
    days = mart_rows(served, "mart_sales_daily", SLUG_A)
    start, end = days[5]["sales_date"], days[9]["sales_date"]
    expected = [d for d in days if start <= d["sales_date"] <= end]
    filters = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    _e, data = export_bytes(api, headers, report="sales_daily", format="csv", filters=filters)
    assert read_back("csv", data) == expected_in("csv", project(expected))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"report": "nope"}, "report"),
        ({"report": "orders", "format": "pdf"}, "format"),
        ({"report": "orders", "format": "parquet", "compression": "gzip"}, "compression"),
        ({"report": "orders", "columns": ["order_id", "password"]}, "columns"),
        ({"report": "orders", "filters": {"segment": ["Champions"]}}, "filters.segment"),
        ({"report": "stock_levels", "filters": {"start_date": "2026-01-01"}}, "filters.start_date"),
        ({"report": "orders", "filters": {"start_date": "yesterday"}}, "filters.start_date"),
        ({"report": "orders", "filters": {"tenant_id": 2}}, "filters.tenant_id"),
    ],
)
def test_bad_requests_name_the_field(api, headers, body, field):
    response = create(api, headers, **body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_download_serves_ranges_and_validators(api, headers):
    export, data = export_bytes(api, headers, report="order_items", format="csv")
    url, etag = export["download_url"], f'"{export["file"]["sha256"]}"'
    whole = fetch(api, url, headers)
    assert whole.headers["ETag"] == etag and whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Type"].startswith("text/csv")
    assert whole.headers["Content-Disposition"] == f"attachment; filename={export['file']['name']}"
    part = fetch(api, url, {**headers, "Range": "bytes=100-"})
    assert part.status_code == 206 and part.data == data[100:]
    assert part.headers["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
    stale = fetch(api, url, {**headers, "Range": "bytes=100-", "If-Range": '"other"'})
    assert stale.status_code == 200 and stale.data == data  # changed file: all of it
    past = fetch(api, url, {**headers, "Range": f"bytes={len(data)}-"})
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(data)}"
    assert past.mimetype == "application/problem+json"
    assert fetch(api, url, {**headers, "If-None-Match": etag}).status_code == 304


def test_list_show_and_delete(served, api, headers):
    first, _ = export_bytes(api, headers, report="orders")
    second, _ = export_bytes(api, headers, report="customers", format="json")
    listed = api.get(URL, headers=headers).get_json()["data"]
    assert [e["id"] for e in listed] == [second["id"], first["id"]]
    assert api.get(f"{URL}?limit=1", headers=headers).get_json()["data"][0]["id"] == second["id"]
    tenant_id = served.tenant_ids[SLUG_A]
    assert len(files_under(served.var_dir, tenant_id)) == 4  # two files, two lock files
    assert api.delete(first["url"], headers=headers).status_code == 204
    assert api.get(first["url"], headers=headers).status_code == 404
    assert fetch(api, first["download_url"], headers).status_code == 404
    assert all(first["id"] not in name for name in files_under(served.var_dir, tenant_id))


def test_download_before_the_export_is_done_is_a_conflict(served, api, headers):
    served.app.config["SHOPLAKE"] = served.settings.replace(jobs_runner="external")
    accepted = create(api, headers, report="orders").get_json()
    assert accepted["status"] == "queued" and accepted["download_url"] is None
    response = api.get(accepted["url"] + "download", headers=headers)
    assert response.status_code == 409


def test_other_tenants_cannot_see_download_or_delete(served, api, headers):
    export, _ = export_bytes(api, headers, report="orders")
    other = key_headers(served, SLUG_B, "read", "write", "admin")
    for method, url in [
        ("get", export["url"]),
        ("get", export["download_url"]),
        ("delete", export["url"]),
    ]:
        assert getattr(api, method)(url, headers=other).status_code == 404, (method, url)
    assert api.get(URL, headers=other).get_json()["data"] == []
    tenant_path = f"/api/v1/tenants/{served.tenant_ids[SLUG_A]}/reports/export/{export['id']}/"
    assert api.get(tenant_path, headers=other).status_code == 403  # key of another tenant
    assert api.get(tenant_path, headers=headers).status_code == 200


def test_exports_need_the_exports_permission(served, api, headers):
    export, _ = export_bytes(api, headers, report="orders")
    make = Factory(served.app)
    shop = tenant(served, SLUG_A)
    viewer = make.bearer(make.user(tenant=shop, role=Role.VIEWER), shop)
    analyst = make.bearer(make.user(tenant=shop, role=Role.ANALYST), shop)
    ingest_only = key_headers(served, SLUG_A, "ingest")
    for refused in (viewer, ingest_only):
        assert create(api, refused, report="orders").status_code == 403
        assert api.get(URL, headers=refused).status_code == 403
        assert api.get(export["url"], headers=refused).status_code == 403
        assert fetch(api, export["download_url"], refused).status_code == 403
        assert api.delete(export["url"], headers=refused).status_code == 403
    assert fetch(api, export["download_url"], {}).status_code == 401
    assert fetch(api, export["download_url"], analyst).status_code == 200


def test_retention_removes_old_exports(served, api, headers):
    old, _ = export_bytes(api, headers, report="orders")
    fresh, _ = export_bytes(api, headers, report="customers")
    sessions = served.app.extensions["shoplake.sessions"]
    hours = served.settings.export_retention_hours
    with transaction(sessions) as session:
        past = utcnow() - timedelta(hours=hours, minutes=1)
        session.execute(update(Job).where(Job.id == old["id"]).values(finished_at=past))
    assert api.get(old["url"], headers=headers).status_code == 404  # expired: gone at once
    assert [e["id"] for e in api.get(URL, headers=headers).get_json()["data"]] == [fresh["id"]]
    assert remove_expired(sessions, served.var_dir, hours) == [old["id"]]
    names = files_under(served.var_dir, served.tenant_ids[SLUG_A])
    assert names and all(old["id"] not in name for name in names)
    with transaction(sessions) as session:
        assert session.get(Job, old["id"]) is None and session.get(Job, fresh["id"]) is not None


def test_cleanup_command(served, api, headers, monkeypatch):
    old, _ = export_bytes(api, headers, report="orders")
    with transaction(served.app.extensions["shoplake.sessions"]) as session:
        past = utcnow() - timedelta(days=30)
        session.execute(update(Job).where(Job.id == old["id"]).values(finished_at=past))
    monkeypatch.setenv("SHOPLAKE_VAR_DIR", str(served.var_dir))
    monkeypatch.setenv("SHOPLAKE_DATABASE_URL", served.settings.database_url)
    result = CliRunner().invoke(main, ["export", "cleanup"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 expired export(s)." in result.output
    assert files_under(served.var_dir, served.tenant_ids[SLUG_A]) == []


def test_a_vanished_snapshot_fails_the_export_clearly(served, api, headers):
    served.app.config["SHOPLAKE"] = settings = served.settings.replace(jobs_runner="external")
    accepted = create(api, headers, report="orders").get_json()
    snapshot = served.var_dir / "marts" / "snapshots" / accepted["build_id"]
    shutil.rmtree(snapshot)
    run_pending(settings, served.app.extensions["shoplake.sessions"])
    failed = api.get(accepted["url"], headers=headers).get_json()
    assert failed["status"] == "failed" and failed["file"] is None
    assert failed["error"].startswith(f"build_id: the snapshot this export reads ({snapshot.name})")


def test_gzip_of_nothing_is_still_gzip(api, headers):
    filters = {"start_date": "2001-01-01", "end_date": "2001-01-02"}
    export, data = export_bytes(
        api, headers, report="orders", format="json", compression="gzip", filters=filters
    )
    assert export["total"] == 0 and gzip.decompress(data) == b""


def test_export_needs_a_published_snapshot(client, make):
    shop = make.tenant("empty-shop")
    response = client.post(URL, json={"report": "orders"}, headers=make.key_headers(shop, "read"))
    assert response.status_code == 503
