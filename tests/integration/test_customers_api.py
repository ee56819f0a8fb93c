"""Customers CRUD over HTTP: email uniqueness, address merge, filters, bulk, notes, isolation."""

from __future__ import annotations

import pytest

from tests.entities_support import TS
from warehouse.controldb.models import Role
from warehouse.entities import reader
from warehouse.entities.sources import Store

URL = "/api/v1/customers/"


@pytest.fixture
def shop(make):
    tenant = make.tenant("acme", currency="EUR")
    return tenant, make.key_headers(tenant, "read", "write")


def new(client, headers, **fields):
    response = client.post(URL, json={"email": "ann@example.com", **fields}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fields_of(response) -> dict[str, str]:
    assert response.mimetype == "application/problem+json"
    return {e["field"]: e["reason"] for e in response.get_json()["errors"]}


def test_create_read_and_defaults(client, shop):
    _tenant, headers = shop
    created = new(client, headers, email="Ann@Example.COM", first_name="Ann",
                  address={"city": "Berlin", "country": "DE"}, tags=["vip"])  # fmt: skip
    assert created["id"].startswith("cus_") and created["email"] == "ann@example.com"
    assert created["address"] == {"line1": None, "line2": None, "city": "Berlin",
                                  "region": None, "postal_code": None, "country": "DE"}  # fmt: skip
    assert (created["accepts_email_marketing"], created["accepts_sms_marketing"]) == (False, False)
    assert client.get(f"{URL}{created['id']}/", headers=headers).get_json() == created
    assert new(client, headers, email="bo@example.com")["address"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"address": {"country": "Germany"}}, "address.country"),
        ({"accepts_email_marketing": "yes"}, "accepts_email_marketing"),
        ({"phone": "1" * 65}, "phone"),
    ],
)
def test_create_refuses_invalid_records(client, shop, fields, field):
    _tenant, headers = shop
    response = client.post(URL, json={"email": "a@b.co", **fields}, headers=headers)
    assert response.status_code == 422 and field in fields_of(response)


def test_emails_are_unique_ignoring_case(client, make, shop):
    _tenant, headers = shop
    first = new(client, headers, email="ann@example.com")
    clash = client.post(URL, json={"email": "ANN@example.com"}, headers=headers)
    assert clash.status_code == 409 and first["id"] in fields_of(clash)["email"]
    second = new(client, headers, email="bo@example.com")
    url = f"{URL}{second['id']}/"
    assert client.patch(url, json={"email": "Ann@example.com"}, headers=headers).status_code == 409
    assert client.put(url, json={"email": "bo@example.com", "first_name": "Bo"},
                      headers=headers).status_code == 200  # its own email: fine  # fmt: skip
    assert client.delete(f"{URL}{first['id']}/", headers=headers).status_code == 204
    assert client.patch(url, json={"email": "ann@example.com"}, headers=headers).status_code == 200
    rival = make.tenant("rival")
    new(client, make.key_headers(rival, "read", "write"), email="bo@example.com")


def test_patch_merges_the_address_and_put_replaces(client, shop):
    _tenant, headers = shop
    created = new(client, headers, first_name="Ann", last_name="Lee",
                  address={"line1": "Main St 1", "city": "Berlin", "country": "DE"})  # fmt: skip
    url = f"{URL}{created['id']}/"
    patched = client.patch(url, json={"address": {"city": "Hamburg", "line1": None}},
                           headers=headers).get_json()  # fmt: skip
    assert patched["address"]["city"] == "Hamburg" and patched["address"]["line1"] is None
    assert patched["address"]["country"] == "DE" and patched["last_name"] == "Lee"
    assert patched["created_at"] == created["created_at"]
    replaced = client.put(url, json={"email": "ann@example.com"}, headers=headers).get_json()
    assert replaced["address"] is None and replaced["first_name"] is None
    assert client.get(url, headers=headers).get_json() == replaced
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_list_filters_and_pages(client, shop):
    _tenant, headers = shop
    people = [
        {"id": f"c{i}", "email": f"person{i}@{'shop' if i % 2 else 'mail'}.example",
         "first_name": ["Ann", "Bob", "Cy"][i % 3], "last_name": "Smith" if i < 3 else "Jones",
         "address": {"country": "DE" if i < 4 else "FR"}, "tags": ["vip"] if i % 3 == 0 else [],
         "accepts_email_marketing": i % 2 == 0, "created_at": f"2026-02-0{i + 1}T00:00:00Z"}
        for i in range(6)
    ]  # fmt: skip
    assert client.post(f"{URL}bulk/", json={"create": people},
                       headers=headers).get_json()["succeeded"] == 6  # fmt: skip

    def ids(query: str) -> list[str]:
        found, url = [], f"{URL}?limit=2&{query}"
        while url:
            page = client.get(url, headers=headers).get_json()
            found += [c["id"] for c in page["data"]]
            url = page["next_cursor"] and f"{URL}?limit=2&{query}&cursor={page['next_cursor']}"
        return found

    assert ids("") == [f"c{i}" for i in range(6)]
    assert ids("email=PERSON3@shop.example") == ["c3"]
    assert ids("q=jones") == ["c3", "c4", "c5"]
    assert ids("q=mail.example") == ["c0", "c2", "c4"]
    assert ids("tag=vip") == ["c0", "c3"]
    assert ids("country=FR&accepts_email_marketing=true") == ["c4"]
    assert ids("created_after=2026-02-03T00:00:00Z&created_before=2026-02-05T00:00:00Z") == [
        "c2", "c3",
    ]  # fmt: skip
    assert ids("sort=-created_at") == [f"c{i}" for i in reversed(range(6))]
    assert ids("sort=email") == sorted((p["id"] for p in people),
                                       key=lambda cid: people[int(cid[1:])]["email"])  # fmt: skip


def test_bulk_reports_each_item(client, shop):
    _tenant, headers = shop
    new(client, headers, id="c1", email="one@example.com")
    creates = [("c2", "two@example.com"), ("c3", "ONE@example.com"), ("c4", "two@example.com")]
    body = {
        "create": [{"id": cid, "email": email} for cid, email in creates],
        "update": [{"id": "c1", "first_name": "Uno"}, {"id": "c1", "last_name": "again"}],
        "delete": ["c9"],
    }
    result = client.post(f"{URL}bulk/", json=body, headers=headers).get_json()
    assert [r["status"] for r in result["results"]] == [201, 409, 409, 200, 409, 404]
    assert result["results"][2]["errors"][0]["reason"] == "also set by 'c2' in this request"
    listed = {c["id"]: c["first_name"] for c in client.get(URL, headers=headers).get_json()["data"]}
    assert listed == {"c1": "Uno", "c2": None}


def test_add_note_lands_a_customer_note(app, client, make, shop):
    tenant, headers = shop
    customer = new(client, headers)
    url = f"{URL}{customer['id']}/add_note/"
    response = client.post(url, json={"body": "Prefers email."}, headers=headers)
    note = response.get_json()
    assert response.status_code == 201 and note["customer_id"] == customer["id"]
    assert note["body"] == "Prefers email." and note["author"].startswith("key:")
    settings = app.config["SHOPLAKE"]
    store = Store(settings.lake_root, settings.var_dir, tenant.id)
    (stored,) = reader.by_keys(store, "customer_notes", [note["id"]])
    assert stored["body"] == "Prefers email." and stored["customer_id"] == customer["id"]
    signed = client.post(url, json={"body": "Called.", "author": "Dana"}, headers=headers)
    assert signed.get_json()["author"] == "Dana"
    missing = client.post(f"{URL}nobody/add_note/", json={"body": "x"}, headers=headers)
    assert missing.status_code == 404
    too_long = client.post(url, json={"body": "x" * 10_001}, headers=headers)
    assert too_long.status_code == 422 and "body" in fields_of(too_long)
    analyst = make.user(tenant=tenant, role=Role.ANALYST)  # reads data, writes no notes
    refused = client.post(url, json={"body": "x"}, headers=make.bearer(analyst, tenant))
    assert refused.status_code == 403


def test_add_note_is_idempotent_with_a_key(client, shop):
    _tenant, headers = shop
    customer = new(client, headers)
    keyed = {**headers, "Idempotency-Key": "note-1"}
    url = f"{URL}{customer['id']}/add_note/"
    first = client.post(url, json={"body": "Once."}, headers=keyed)
    again = client.post(url, json={"body": "Once."}, headers=keyed)
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"


def test_another_tenant_cannot_touch_a_customer(client, make, shop):
    _tenant, headers = shop
    created = new(client, headers, id="vip", created_at=TS, updated_at=TS)
    rival = make.tenant("rival")
    rival_headers = make.key_headers(rival, "read", "write")
    url = f"{URL}vip/"
    assert client.get(url, headers=rival_headers).status_code == 404
    assert client.patch(url, json={"first_name": "x"}, headers=rival_headers).status_code == 404
    assert client.put(url, json={"email": "x@y.co"}, headers=rival_headers).status_code == 404
    assert client.delete(url, headers=rival_headers).status_code == 404
    assert client.post(f"{url}add_note/", json={"body": "x"},
                       headers=rival_headers).status_code == 404  # fmt: skip
    assert client.get(URL, headers=rival_headers).get_json()["data"] == []
    assert client.get(url, headers=headers).get_json() == created
