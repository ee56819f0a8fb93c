"""Member management over HTTP: tenant admins add, re-role and remove members of their tenant."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD
from warehouse.controldb.models import Role, User
from warehouse.controlplane.passwords import verify_password

USERS = "/api/v1/users/"


@pytest.fixture
def shop(make):
    """A tenant with an admin; returns (tenant, admin user, admin headers)."""
    tenant = make.tenant()
    admin = make.user(tenant=tenant, role=Role.ADMIN)
    return tenant, admin, make.bearer(admin)


def _fields(response) -> list[str]:
    return [error["field"] for error in response.get_json().get("errors", [])]


def _stored_user(make, email: str) -> User:
    with make.sessions() as session:
        return session.scalar(select(User).where(User.email == email))


def test_admin_lists_members_page_by_page(client, make, shop):
    tenant, admin, headers = shop
    for role in (Role.VIEWER, Role.ANALYST, Role.MANAGER):
        make.user(tenant=tenant, role=role)
    make.user(tenant=make.tenant())  # another tenant's member
    first = client.get(USERS, headers=headers, query_string={"limit": 3}).get_json()
    second = client.get(
        USERS, headers=headers, query_string={"limit": 3, "cursor": first["next_cursor"]}
    ).get_json()
    emails = [m["email"] for m in first["data"] + second["data"]]
    assert len(emails) == 4 and emails == sorted(emails)
    assert second["next_cursor"] is None
    assert {m["role"] for m in first["data"] + second["data"]} == {
        "admin",
        "viewer",
        "analyst",
        "manager",
    }


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST, Role.MANAGER])
def test_non_admins_cannot_manage_members(client, make, shop, role):
    tenant, _admin, _headers = shop
    headers = make.bearer(make.user(tenant=tenant, role=role))
    assert client.get(USERS, headers=headers).status_code == 403
    new = {"email": "x@example.com", "role": "admin", "password": PASSWORD}
    assert client.post(USERS, headers=headers, json=new).status_code == 403


def test_adding_a_new_person_creates_the_account(client, make, shop):
    _tenant, _admin, headers = shop
    response = client.post(
        USERS,
        headers=headers,
        json={
            "email": " New.Person@Example.COM ",
            "full_name": "New Person",
            "role": "analyst",
            "password": "a long enough password",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["email"], body["role"], body["full_name"]) == (
        "new.person@example.com",
        "analyst",
        "New Person",
    )
    stored = _stored_user(make, "new.person@example.com")
    assert verify_password(stored.password_hash, "a long enough password", make.memory_kib)


def test_adding_an_existing_account_keeps_its_password(client, make, shop):
    _tenant, _admin, headers = shop
    existing = make.user("known@example.com", tenant=make.tenant())
    response = client.post(
        USERS,
        headers=headers,
        json={
            "email": "KNOWN@example.com",
            "role": "viewer",
            "password": "attacker chosen pw",
            "full_name": "Renamed",
        },
    )
    assert response.status_code == 201
    assert response.get_json()["user_id"] == existing.id
    assert response.get_json()["full_name"] == existing.full_name
    stored = _stored_user(make, "known@example.com")
    assert verify_password(stored.password_hash, PASSWORD, make.memory_kib)


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"email": "fresh@example.com", "role": "viewer"}, 422, "password"),  # new needs one
        ({"email": "fresh@example.com", "role": "viewer", "password": "short"}, 422, "password"),
        ({"email": "not-an-email", "role": "viewer", "password": PASSWORD}, 422, "email"),
        ({"email": "fresh@example.com", "role": "owner", "password": PASSWORD}, 422, "role"),
    ],
)
def test_add_member_validation(client, shop, payload, status, field):
    _tenant, _admin, headers = shop
    response = client.post(USERS, headers=headers, json=payload)
    assert response.status_code == status
    assert field in _fields(response)


def test_adding_a_member_twice_conflicts(client, shop):
    _tenant, admin, headers = shop
    again = {"email": admin.email.upper(), "role": "viewer"}
    response = client.post(USERS, headers=headers, json=again)
    assert response.status_code == 409
    assert _fields(response) == ["email"]


def test_role_changes_keep_one_admin(client, make, shop):
    tenant, admin, headers = shop
    other = make.user(tenant=tenant, role=Role.VIEWER)
    last_admin = client.patch(f"{USERS}{admin.id}/", headers=headers, json={"role": "viewer"})
    assert last_admin.status_code == 409
    promoted = client.patch(f"{USERS}{other.id}/", headers=headers, json={"role": "admin"})
    assert promoted.get_json()["role"] == "admin"
    demoted = client.patch(f"{USERS}{admin.id}/", headers=headers, json={"role": "manager"})
    assert demoted.status_code == 200
    # The caller is no longer an admin, so further management is refused.
    assert client.get(USERS, headers=headers).status_code == 403


def test_removing_members_keeps_the_account_and_one_admin(client, make, shop):
    tenant, admin, headers = shop
    viewer = make.user(tenant=tenant, role=Role.VIEWER)
    assert client.delete(f"{USERS}{admin.id}/", headers=headers).status_code == 409
    assert client.delete(f"{USERS}{viewer.id}/", headers=headers).status_code == 204
    assert client.get(f"{USERS}{viewer.id}/", headers=headers).status_code == 404
    assert _stored_user(make, viewer.email) is not None
    assert client.delete(f"{USERS}{viewer.id}/", headers=headers).status_code == 404


def test_members_of_other_tenants_are_invisible(client, make, shop):
    _tenant, _admin, headers = shop
    stranger = make.user(tenant=make.tenant(), role=Role.VIEWER)
    assert client.get(f"{USERS}{stranger.id}/", headers=headers).status_code == 404
    patch = client.patch(f"{USERS}{stranger.id}/", headers=headers, json={"role": "admin"})
    assert patch.status_code == 404
    assert client.delete(f"{USERS}{stranger.id}/", headers=headers).status_code == 404


def test_tenant_in_path_form_and_its_fences(client, make, shop):
    tenant, admin, headers = shop
    other = make.tenant()
    make.membership(admin, other, Role.VIEWER)
    own = client.get(f"/api/v1/tenants/{tenant.id}/users/", headers=headers)
    assert own.status_code == 200
    assert [m["user_id"] for m in own.get_json()["data"]] == [admin.id]
    # An admin of one tenant is only a viewer in the other.
    assert client.get(f"/api/v1/tenants/{other.id}/users/", headers=headers).status_code == 403
    stranger = make.tenant()
    assert client.get(f"/api/v1/tenants/{stranger.id}/users/", headers=headers).status_code == 403


def test_platform_admin_manages_any_tenants_members(client, make, shop):
    tenant, admin, _headers = shop
    root = make.bearer(make.user(platform_admin=True)) | {"X-Tenant-ID": str(tenant.id)}
    response = client.get(USERS, headers=root)
    assert [m["user_id"] for m in response.get_json()["data"]] == [admin.id]


def test_tampered_cursor_is_refused(client, shop):
    _tenant, _admin, headers = shop
    response = client.get(USERS, headers=headers, query_string={"cursor": "WyJ2IiwxLDJd.bad"})
    assert response.status_code == 400
    assert _fields(response) == ["cursor"]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(make, monkeypatch):
    import time
    from threading import Barrier, Thread

    from warehouse.controldb import transaction
    from warehouse.controlplane import users
    from warehouse.controlplane.errors import Conflict

    # Widen the gap between counting the admins and writing, so an unlocked count would let
    # both demotions through.
    real_get_membership = users.get_membership

    def slow_get_membership(*args, **kwargs):
        membership = real_get_membership(*args, **kwargs)
        time.sleep(0.3)
        return membership

    monkeypatch.setattr(users, "get_membership", slow_get_membership)
    tenant = make.tenant()
    first, second = make.user(tenant=tenant), make.user(tenant=tenant)
    barrier, outcomes = Barrier(2), []

    def demote(user_id: int) -> None:
        barrier.wait()
        try:
            with transaction(make.sessions, write=True) as session:
                users.set_role(session, tenant.id, user_id, "viewer")
            outcomes.append("demoted")
        except Conflict:
            outcomes.append("refused")

    threads = [Thread(target=demote, args=(user.id,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["demoted", "refused"]
    with make.sessions() as session:
        roles = {m.role for m in session.scalars(users.members_query(tenant.id))}
    assert roles == {"admin", "viewer"}
