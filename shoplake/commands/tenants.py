"""``shoplake tenants ...``: create, inspect, change, suspend and delete tenants."""

from __future__ import annotations

import json
from typing import Any

import click

from shoplake.commands.common import (
    control_session,
    emit,
    json_option,
    parse_assignments,
    settings_of,
)
from warehouse.controldb.models import Tenant, TenantStatus
from warehouse.controlplane import tenants
from warehouse.controlplane.tenant_settings import TenantSettings, effective_settings

COLUMNS = ("id", "slug", "name", "status", "timezone", "currency", "domains")
SET_HELP = (
    "Override a tenant setting, e.g. --set new_customer_days=14 (repeatable). "
    f"Keys: {', '.join(TenantSettings.model_fields)}."
)


def tenant_row(tenant: Tenant) -> dict[str, Any]:
    """Describe a tenant as plain data, with its effective settings."""
    row = {column: getattr(tenant, column) for column in COLUMNS}
    row["settings"] = effective_settings(tenant.settings).model_dump(mode="json")
    row["created_at"] = tenant.created_at.isoformat()
    return row


@click.group("tenants")
def tenants_group() -> None:
    """Manage tenants (shops). TENANT arguments take an id or a slug."""


@tenants_group.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA zone for day buckets.")
@click.option("--currency", default="USD", show_default=True, help="ISO 4217 currency code.")
@click.option("--domain", "domains", multiple=True, help="A host name of the shop (repeatable).")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.pass_context
def create(ctx: click.Context, slug: str, assignments: tuple[str, ...], **fields: Any) -> None:
    """Create a tenant; SLUG is its lowercase short name (also its subdomain)."""
    with control_session(settings_of(ctx)) as session:
        tenant = tenants.create_tenant(
            session, slug=slug, settings=parse_assignments(assignments), **fields
        )
    click.echo(f"Created tenant {tenant.slug} (id {tenant.id}).")


@tenants_group.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List all tenants."""
    with control_session(settings_of(ctx), write=False) as session:
        query = tenants.tenants_query().order_by(Tenant.id)
        rows = [tenant_row(tenant) for tenant in session.scalars(query)]
    emit(rows, COLUMNS, as_json)


@tenants_group.command("show")
@click.argument("tenant")
@click.pass_context
def show(ctx: click.Context, tenant: str) -> None:
    """Show one tenant with its effective settings, as JSON."""
    with control_session(settings_of(ctx), write=False) as session:
        row = tenant_row(tenants.find_tenant(session, tenant))
    click.echo(json.dumps(row, indent=2, default=str))


@tenants_group.command("update")
@click.argument("tenant")
@click.option("--name", help="New display name.")
@click.option("--slug", help="New slug (changes its subdomain).")
@click.option("--timezone", help="New IANA time zone.")
@click.option("--currency", help="New ISO 4217 currency code.")
@click.option("--domain", "domains", multiple=True, help="Replace the host names (repeatable).")
@click.option("--clear-domains", is_flag=True, help="Remove all host names.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.pass_context
def update(
    ctx: click.Context,
    tenant: str,
    domains: tuple[str, ...],
    clear_domains: bool,
    assignments: tuple[str, ...],
    **fields: str | None,
) -> None:
    """Change a tenant; only the options given change, --set merges into its settings."""
    changes: dict[str, Any] = {name: value for name, value in fields.items() if value is not None}
    if domains or clear_domains:
        changes["domains"] = list(domains)
    if assignments:
        changes["settings"] = parse_assignments(assignments)
    with control_session(settings_of(ctx)) as session:
        found = tenants.find_tenant(session, tenant)
        tenants.update_tenant(session, found.id, changes)
    click.echo(f"Updated tenant {found.slug} (id {found.id}).")


def _set_status(ctx: click.Context, tenant: str, status: TenantStatus) -> None:
    with control_session(settings_of(ctx)) as session:
        found = tenants.set_status(session, tenants.find_tenant(session, tenant).id, status)
    click.echo(f"Tenant {found.slug} (id {found.id}) is now {status}.")


@tenants_group.command("suspend")
@click.argument("tenant")
@click.pass_context
def suspend(ctx: click.Context, tenant: str) -> None:
    """Suspend a tenant: its API keys and users' tokens stop working until reactivated."""
    _set_status(ctx, tenant, TenantStatus.SUSPENDED)


@tenants_group.command("activate")
@click.argument("tenant")
@click.pass_context
def activate(ctx: click.Context, tenant: str) -> None:
    """Reactivate a suspended tenant."""
    _set_status(ctx, tenant, TenantStatus.ACTIVE)


@tenants_group.command("delete")
@click.argument("tenant")
@click.confirmation_option(prompt="Delete this tenant with its members and API keys?")
@click.pass_context
def delete(ctx: click.Context, tenant: str) -> None:
    """Delete a tenant with its memberships and API keys (asks first; --yes skips)."""
    with control_session(settings_of(ctx)) as session:
        found = tenants.find_tenant(session, tenant)
        tenants.delete_tenant(session, found.id)
    click.echo(f"Deleted tenant {found.slug} (id {found.id}).")
