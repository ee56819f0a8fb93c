"""API keys of the current tenant: create (the key is shown once), list, revoke.

Also answers at ``/api/v1/tenants/<id>/keys/``. Listings never include the key or its hash.
"""

from __future__ import annotations

from flask import Blueprint, g
from sqlalchemy import select

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import tenant_id
from serving.db import db, write_transaction
from serving.pagination import Keyset, Page, paginate
from serving.schemas.keys import KeyCreate, KeyCreated, KeyOut, KeyPage
from warehouse.controldb.models import ApiKey
from warehouse.controlplane import apikeys

bp = Blueprint("keys", __name__, url_prefix="/api/v1/keys")

KEYS = Keyset("keys", sort=ApiKey.created_at, id=ApiKey.id, descending=True)


@bp.post("/")
@require(Permission.KEYS_MANAGE)
@operation(body=KeyCreate, response=KeyCreated, status=201)
def create_key(body: KeyCreate) -> KeyCreated:
    """Create an API key; the response is the only time the full key is shown."""
    with write_transaction() as session:
        issued = apikeys.create_key(
            session,
            tenant_id(),
            body.name,
            list(body.scopes),
            expires_at=body.expires_at,
            created_by_user_id=g.principal.user_id,
        )
    return KeyCreated(**KeyOut.model_validate(issued.key).model_dump(), key=issued.secret)


@bp.get("/")
@require(Permission.KEYS_MANAGE)
@operation(query=Page, response=KeyPage, errors=(400,))
def list_keys(query: Page) -> KeyPage:
    """List the tenant's keys, newest first, including revoked and expired ones."""
    tenant_keys = select(ApiKey).where(ApiKey.tenant_id == tenant_id())
    rows, cursor = paginate(db(), tenant_keys, KEYS, query)
    return KeyPage(data=[KeyOut.model_validate(key) for key in rows], next_cursor=cursor)


@bp.delete("/<int:key_id>/")
@require(Permission.KEYS_MANAGE)
@operation(status=204, errors=(404,))
def revoke_key(key_id: int) -> None:
    """Revoke a key; requests made with it are refused from now on."""
    with write_transaction() as session:
        apikeys.revoke_key(session, tenant_id(), key_id)
