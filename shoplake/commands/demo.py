"""``shoplake demo``: a ready-to-try instance with a demo tenant, an admin and an API key.

Running it again reuses what exists: the saved credentials are checked and kept when they still
work, and replaced (new password, new key) when they do not.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

import click
from sqlalchemy.orm import Session

from shoplake.commands.common import control_session, settings_of
from shoplake.commands.serve import initialise, serve_api
from warehouse.config import Settings
from warehouse.controldb.models import Role, Tenant, User
from warehouse.controlplane import apikeys, tenants, users
from warehouse.controlplane.errors import NotFound
from warehouse.controlplane.passwords import verify_password

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.example"
DEMO_SCOPES = ["ingest", "read", "write"]
CREDENTIALS_FILE = "demo-credentials.json"


@dataclass
class DemoCredentials:
    tenant_id: int
    tenant_slug: str
    email: str
    password: str
    api_key: str
    api_base: str


def _saved(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _demo_tenant(session: Session) -> Tenant:
    try:
        return tenants.find_tenant(session, DEMO_SLUG)
    except NotFound:
        return tenants.create_tenant(
            session, slug=DEMO_SLUG, name="Demo Shop", timezone="Europe/Berlin", currency="EUR"
        )


def _demo_admin(session: Session, tenant: Tenant, saved: dict, memory_kib: int) -> tuple[User, str]:
    user = users.find_user(session, DEMO_EMAIL)
    password = saved.get("password")
    if user is None:
        password = secrets.token_urlsafe(12)
        user = users.create_user(
            session,
            email=DEMO_EMAIL,
            password=password,
            full_name="Demo Admin",
            memory_kib=memory_kib,
        )
    elif not password or not verify_password(user.password_hash, password, memory_kib):
        password = secrets.token_urlsafe(12)
        users.update_user(
            session, user.id, password=password, is_active=True, memory_kib=memory_kib
        )
    role = users.role_of(session, tenant.id, user.id)
    if role is None:
        users.add_member(session, tenant.id, user.id, Role.ADMIN)
    elif role != Role.ADMIN:
        users.set_role(session, tenant.id, user.id, Role.ADMIN)
    return user, password


def _demo_key(session: Session, tenant: Tenant, saved: dict) -> str:
    key = apikeys.verify_key(session, saved.get("api_key", ""))
    if key is not None and key.tenant_id == tenant.id:
        return saved["api_key"]
    return apikeys.create_key(session, tenant.id, "demo", DEMO_SCOPES).secret


def prepare_demo(settings: Settings) -> DemoCredentials:
    """Initialise var/ and make sure the demo tenant, admin and key exist and work."""
    initialise(settings)
    path = settings.var_dir / CREDENTIALS_FILE
    saved = _saved(path)
    with control_session(settings) as session:
        tenant = _demo_tenant(session)
        if not tenant.is_active:
            tenants.set_status(session, tenant.id, "active")
        _user, password = _demo_admin(session, tenant, saved, settings.password_hash_memory_kib)
        key = _demo_key(session, tenant, saved)
    credentials = DemoCredentials(
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        email=DEMO_EMAIL,
        password=password,
        api_key=key,
        api_base=f"http://{settings.host}:{settings.port}/api/v1",
    )
    write_private(path, json.dumps(asdict(credentials), indent=2) + "\n")
    return credentials


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600), replacing it atomically."""
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)  # O_CREAT's mode is ignored for an existing file
        handle.write(text)
    os.replace(temporary, path)


def describe(credentials: DemoCredentials, path: Path) -> str:
    """Return the banner that tells a newcomer how to use the demo."""
    c = credentials
    return "\n".join(
        [
            "",
            "shoplake demo is ready",
            f"  tenant    {c.tenant_slug} (id {c.tenant_id}), Europe/Berlin, EUR",
            f"  admin     {c.email}",
            f"  password  {c.password}",
            f"  API key   {c.api_key}  (scopes: {', '.join(DEMO_SCOPES)})",
            f"  saved in  {path} (readable by you only)",
            f"  API       {c.api_base}/   docs: {c.api_base}/docs",
            "",
            "Try:",
            f'  curl -H "X-API-Key: {c.api_key}" {c.api_base}/tenants/',
            "",
        ]
    )


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Prepare and print the credentials, then exit.")
@click.pass_context
def demo(ctx: click.Context, no_serve: bool) -> None:
    """Set up a demo tenant, admin user and API key, print them, then serve the API."""
    settings = settings_of(ctx)
    credentials = prepare_demo(settings)
    click.echo(describe(credentials, settings.var_dir / CREDENTIALS_FILE))
    if not no_serve:
        serve_api(settings)
