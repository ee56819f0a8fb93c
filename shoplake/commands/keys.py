"""``shoplake keys ...``: a tenant's API keys for integrations."""

from __future__ import annotations

from datetime import timedelta

import click

from shoplake.commands.common import control_session, emit, json_option, settings_of
from warehouse.controldb.models import utcnow
from warehouse.controlplane import apikeys, tenants

COLUMNS = (
    "id",
    "prefix",
    "name",
    "scopes",
    "created_at",
    "expires_at",
    "revoked_at",
    "last_used_at",
)


@click.group("keys")
def keys_group() -> None:
    """Manage a tenant's API keys. TENANT takes an id or a slug."""


@keys_group.command("create")
@click.argument("tenant")
@click.option("--name", required=True, help="What the key is for, e.g. 'shop sync'.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(apikeys.SCOPES),
    default=("read",),
    show_default=True,
    help="What the key may do (repeatable).",
)
@click.option("--expires-in-days", type=click.IntRange(min=1), help="Expire after N days.")
@click.pass_context
def create(
    ctx: click.Context, tenant: str, name: str, scopes: tuple[str, ...], expires_in_days: int | None
) -> None:
    """Create a key and print it: this is the only time it is shown."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    with control_session(settings_of(ctx)) as session:
        found = tenants.find_tenant(session, tenant)
        issued = apikeys.create_key(session, found.id, name, list(scopes), expires_at=expires_at)
    click.echo(f"Created key {issued.key.id} ({', '.join(issued.key.scopes)}) for {found.slug}.")
    click.echo("Store it now; it cannot be shown again:")
    click.echo(issued.secret)


@keys_group.command("list")
@click.argument("tenant")
@json_option
@click.pass_context
def list_(ctx: click.Context, tenant: str, as_json: bool) -> None:
    """List a tenant's keys, newest first (never the key itself)."""
    with control_session(settings_of(ctx), write=False) as session:
        keys = apikeys.list_keys(session, tenants.find_tenant(session, tenant).id)
        rows = [{column: getattr(key, column) for column in COLUMNS} for key in keys]
    emit(rows, COLUMNS, as_json)


@keys_group.command("revoke")
@click.argument("tenant")
@click.argument("key_id", type=int)
@click.pass_context
def revoke(ctx: click.Context, tenant: str, key_id: int) -> None:
    """Revoke a key by its id (see `keys list`); it stops working at once."""
    with control_session(settings_of(ctx)) as session:
        found = tenants.find_tenant(session, tenant)
        apikeys.revoke_key(session, found.id, key_id)
    click.echo(f"Revoked key {key_id} of {found.slug}.")
