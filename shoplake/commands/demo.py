"""``shoplake demo`` (what ``make run`` runs): a ready-to-try instance with real-looking data.

It creates the `small` preset's shops as tenants (Berlin/EUR, Los Angeles/USD, Tokyo/JPY), one
admin who belongs to all of them and an API key per shop; starts the API; generates the preset
up to today and pushes it through the HTTP ingest API like a merchant would; builds and
publishes the marts; then keeps serving.
Running it again reuses what exists: saved credentials that still work are kept, and the push
resumes or lands nothing new thanks to its idempotency keys.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from ingestion.generator import generate, tenant_definitions
from ingestion.push import PushOptions, PushStats, push_file
from pipelines.build import run_build
from shoplake.commands.common import control_session, settings_of
from shoplake.commands.data import push_plan
from shoplake.commands.serve import initialise
from warehouse.config import Settings
from warehouse.controldb.models import Role, Tenant, User
from warehouse.controlplane import apikeys, tenants, users
from warehouse.controlplane.errors import NotFound
from warehouse.controlplane.passwords import verify_password

DEMO_PRESET = "small"
DEMO_EMAIL = "admin@demo.example"
DEMO_SCOPES = ["ingest", "read", "write"]
CREDENTIALS_FILE = "demo-credentials.json"


@dataclass
class DemoTenant:
    tenant_id: int
    slug: str
    timezone: str
    currency: str
    api_key: str


@dataclass
class DemoCredentials:
    email: str
    password: str
    api_base: str
    tenants: list[DemoTenant] = field(default_factory=list)


def _saved(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _ensure_tenant(session: Session, fields: dict) -> Tenant:
    try:
        tenant = tenants.find_tenant(session, fields["slug"])
    except NotFound:
        return tenants.create_tenant(session, **fields)
    if not tenant.is_active:
        tenants.set_status(session, tenant.id, "active")
    return tenant


def _ensure_admin(session: Session, saved: dict, memory_kib: int) -> tuple[User, str]:
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
    return user, password


def _ensure_member(session: Session, tenant: Tenant, user: User) -> None:
    role = users.role_of(session, tenant.id, user.id)
    if role is None:
        users.add_member(session, tenant.id, user.id, Role.ADMIN)
    elif role != Role.ADMIN:
        users.set_role(session, tenant.id, user.id, Role.ADMIN)


def _ensure_key(session: Session, tenant: Tenant, saved_key: str) -> str:
    key = apikeys.verify_key(session, saved_key)
    if key is not None and key.tenant_id == tenant.id:
        return saved_key
    return apikeys.create_key(session, tenant.id, "demo", DEMO_SCOPES).secret


def prepare_demo(settings: Settings) -> DemoCredentials:
    """Initialise var/ and make sure the demo tenants, admin and keys exist and work."""
    initialise(settings)
    path = settings.var_dir / CREDENTIALS_FILE
    saved = _saved(path)
    saved_keys = {t["slug"]: t["api_key"] for t in saved.get("tenants", [])}
    api_base = f"http://{settings.host}:{settings.port}/api/v1"
    with control_session(settings) as session:
        user, password = _ensure_admin(session, saved, settings.password_hash_memory_kib)
        credentials = DemoCredentials(DEMO_EMAIL, password, api_base)
        for definition in tenant_definitions(DEMO_PRESET):
            tenant = _ensure_tenant(session, definition.control_fields())
            _ensure_member(session, tenant, user)
            key = _ensure_key(session, tenant, saved_keys.get(tenant.slug, ""))
            credentials.tenants.append(
                DemoTenant(tenant.id, tenant.slug, tenant.timezone, tenant.currency, key)
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


def load_demo_data(settings: Settings, credentials: DemoCredentials) -> PushStats:
    """Generate the preset (once) and push every shop's files through the HTTP API."""
    out = settings.var_dir / "generated" / DEMO_PRESET
    if not (out / "manifest.json").exists():
        today = datetime.now(UTC).date()
        generate(DEMO_PRESET, out, fmt="ndjson", overrides={"end": today}, progress=True)
    stats = PushStats()
    base = credentials.api_base.removesuffix("/api/v1")
    for shop in credentials.tenants:
        for path, entity in push_plan(out / shop.slug, None):
            push_file(path, PushOptions(base, shop.api_key, entity), stats)
    return stats


def describe(credentials: DemoCredentials, path: Path) -> str:
    """Return the banner that tells a newcomer how to use the demo."""
    c = credentials
    shops = [
        f"  {t.slug:<22} id {t.tenant_id}  {t.timezone:<20} {t.currency}  key {t.api_key}"
        for t in c.tenants
    ]
    first = c.tenants[0]
    return "\n".join(
        [
            "",
            "shoplake demo is ready",
            f"  admin     {c.email}",
            f"  password  {c.password}",
            f"  API       {c.api_base}/   docs: {c.api_base}/docs",
            f"  saved in  {path} (readable by you only)",
            "",
            "Shops (API key scopes: " + ", ".join(DEMO_SCOPES) + "):",
            *shops,
            "",
            "Try:",
            f'  curl -H "X-API-Key: {first.api_key}" {c.api_base}/tenants/',
            "",
        ]
    )


def start_server(settings: Settings) -> subprocess.Popen:
    """Start `shoplake serve` as a child process and wait until it answers."""
    server = subprocess.Popen([sys.executable, "-m", "shoplake", "serve"])
    url = f"http://{settings.host}:{settings.port}/healthz"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise click.ClickException("the API server exited during start-up")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise click.ClickException("the API server did not answer within 120 s")


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Prepare and print the credentials, then exit.")
@click.option("--no-data", is_flag=True, help="Serve without generating and pushing data.")
@click.pass_context
def demo(ctx: click.Context, no_serve: bool, no_data: bool) -> None:
    """Set up demo shops, push generated data through the API, print credentials, and serve."""
    settings = settings_of(ctx)
    credentials = prepare_demo(settings)
    banner = describe(credentials, settings.var_dir / CREDENTIALS_FILE)
    if no_serve:
        click.echo(banner)
        return
    server = start_server(settings)
    try:
        if not no_data:
            click.echo("Pushing the demo data through the ingest API...", err=True)
            click.echo(json.dumps(load_demo_data(settings, credentials).summary()), err=True)
            click.echo("Building and publishing the marts (dbt via Dagster)...", err=True)
            run_build(settings)
        click.echo(banner)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
