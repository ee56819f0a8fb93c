"""``shoplake users ...``: accounts, passwords and tenant memberships."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from shoplake.commands.common import control_session, emit, json_option, settings_of
from warehouse.controldb.models import Membership, Role, Tenant, User
from warehouse.controlplane import tenants, users

COLUMNS = ("id", "email", "full_name", "active", "platform_admin", "tenants")
ROLE = click.Choice([role.value for role in Role])


def _password_option(help_text: str):
    # Prompted (hidden, twice) when not given, so it stays out of shell history.
    return click.option(
        "--password", prompt=True, hide_input=True, confirmation_prompt=True, help=help_text
    )


def _user(session: Session, email: str) -> User:
    user = users.find_user(session, email)
    if user is None:
        raise click.ClickException(f"no account with email {email!r}")
    return user


@click.group("users")
def users_group() -> None:
    """Manage user accounts and their roles in tenants. TENANT takes an id or a slug."""


@users_group.command("create")
@click.argument("email")
@click.option("--name", "full_name", default="", help="Full name.")
@_password_option("Password (prompted when omitted).")
@click.option("--platform-admin", is_flag=True, help="May manage every tenant.")
@click.pass_context
def create(
    ctx: click.Context, email: str, full_name: str, password: str, platform_admin: bool
) -> None:
    """Create an account (add it to a tenant with add-member)."""
    settings = settings_of(ctx)
    with control_session(settings) as session:
        user = users.create_user(
            session,
            email=email,
            password=password,
            full_name=full_name,
            is_platform_admin=platform_admin,
            memory_kib=settings.password_hash_memory_kib,
        )
    click.echo(f"Created user {user.email} (id {user.id}).")


@users_group.command("list")
@click.option("--tenant", help="Only members of this tenant.")
@json_option
@click.pass_context
def list_(ctx: click.Context, tenant: str | None, as_json: bool) -> None:
    """List accounts with their tenant roles (as slug:role)."""
    with control_session(settings_of(ctx), write=False) as session:
        query = users.users_query().order_by(User.email)
        if tenant is not None:
            tenant_id = tenants.find_tenant(session, tenant).id
            query = query.where(
                User.id.in_(select(Membership.user_id).where(Membership.tenant_id == tenant_id))
            )
        rows = [_row(session, user) for user in session.scalars(query)]
    emit(rows, COLUMNS, as_json)


def _row(session: Session, user: User) -> dict:
    roles = session.execute(
        select(Tenant.slug, Membership.role)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user.id)
        .order_by(Tenant.slug)
    )
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "active": user.is_active,
        "platform_admin": user.is_platform_admin,
        "tenants": [f"{slug}:{role}" for slug, role in roles],
    }


@users_group.command("update")
@click.argument("email")
@click.option("--name", "full_name", help="New full name.")
@click.option(
    "--active/--inactive",
    "is_active",
    default=None,
    help="Enable or disable the account everywhere.",
)
@click.pass_context
def update(ctx: click.Context, email: str, full_name: str | None, is_active: bool | None) -> None:
    """Rename an account, or disable / re-enable it."""
    settings = settings_of(ctx)
    with control_session(settings) as session:
        user = users.update_user(
            session,
            _user(session, email).id,
            full_name=full_name,
            is_active=is_active,
            memory_kib=settings.password_hash_memory_kib,
        )
    click.echo(f"Updated user {user.email}.")


@users_group.command("set-password")
@click.argument("email")
@_password_option("New password (prompted when omitted).")
@click.pass_context
def set_password(ctx: click.Context, email: str, password: str) -> None:
    """Set an account's password; its refresh tokens are revoked."""
    settings = settings_of(ctx)
    with control_session(settings) as session:
        users.update_user(
            session,
            _user(session, email).id,
            password=password,
            memory_kib=settings.password_hash_memory_kib,
        )
    click.echo(f"Password changed for {email.strip().lower()}.")


@users_group.command("add-member")
@click.argument("email")
@click.argument("tenant")
@click.option("--role", type=ROLE, required=True, help="The role in the tenant.")
@click.pass_context
def add_member(ctx: click.Context, email: str, tenant: str, role: str) -> None:
    """Give an existing account a role in a tenant."""
    with control_session(settings_of(ctx)) as session:
        found = tenants.find_tenant(session, tenant)
        users.add_member(session, found.id, _user(session, email).id, role)
    click.echo(f"{email.strip().lower()} is now {role} of {found.slug}.")


@users_group.command("set-role")
@click.argument("email")
@click.argument("tenant")
@click.argument("role", type=ROLE)
@click.pass_context
def set_role(ctx: click.Context, email: str, tenant: str, role: str) -> None:
    """Change a member's role (a tenant always keeps one admin)."""
    with control_session(settings_of(ctx)) as session:
        found = tenants.find_tenant(session, tenant)
        users.set_role(session, found.id, _user(session, email).id, role)
    click.echo(f"{email.strip().lower()} is now {role} of {found.slug}.")


@users_group.command("remove-member")
@click.argument("email")
@click.argument("tenant")
@click.pass_context
def remove_member(ctx: click.Context, email: str, tenant: str) -> None:
    """Remove an account from a tenant (the account itself stays)."""
    with control_session(settings_of(ctx)) as session:
        found = tenants.find_tenant(session, tenant)
        users.remove_member(session, found.id, _user(session, email).id)
    click.echo(f"{email.strip().lower()} is no longer a member of {found.slug}.")
