"""The `shoplake` CLI: init, tenants, users, keys and demo in-process; serve as a real process."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from shoplake.cli import main
from warehouse.controldb import transaction
from warehouse.controldb.models import ApiKey, RefreshToken, Tenant, User, utcnow
from warehouse.controlplane import apikeys, users
from warehouse.controlplane.passwords import verify_password

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def _restore_logging():
    # The CLI points the root log handler at the runner's stderr, which is gone afterwards.
    handlers = logging.getLogger().handlers[:]
    yield
    logging.getLogger().handlers = handlers


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """Environment for CLI runs against this test's control DB."""
    return {
        "SHOPLAKE_ENV": "test",
        "SHOPLAKE_VAR_DIR": str(tmp_path / "var"),
        "SHOPLAKE_DATABASE_URL": database_url,
        "SHOPLAKE_PASSWORD_HASH_MEMORY_KIB": "1024",
        "SHOPLAKE_SECRET_KEY": "test-secret-key-at-least-32-bytes-long",
    }


@pytest.fixture
def cli(env):
    """Run a CLI command; return its result, asserting the expected exit code."""
    runner = CliRunner()

    def run(*args: str, code: int = 0, input: str | None = None):
        result = runner.invoke(main, list(args), env=env, input=input)
        assert result.exit_code == code, result.output
        return result

    return run


def _row(make, model, **where):
    with make.sessions() as session:
        return session.scalar(select(model).filter_by(**where))


def test_init_creates_var_and_migrates_idempotently(tmp_path):
    var = tmp_path / "fresh" / "var"
    env = {"SHOPLAKE_VAR_DIR": str(var), "SHOPLAKE_DATABASE_URL": "", "SHOPLAKE_ENV": "test"}
    for _ in range(2):
        result = CliRunner().invoke(main, ["init"], env=env)
        assert result.exit_code == 0, result.output
    engine = create_engine(f"sqlite:///{var / 'control.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar()
        assert connection.execute(text("select count(*) from tenants")).scalar() == 0
    engine.dispose()


def test_tenant_lifecycle(cli, make):
    cli(
        "tenants",
        "create",
        "acme",
        "--name",
        "Acme",
        "--timezone",
        "Europe/Berlin",
        "--currency",
        "eur",
        "--domain",
        "Shop.Acme.example",
        "--set",
        "new_customer_days=14",
    )
    listed = [json.loads(line) for line in cli("tenants", "list", "--json").stdout.splitlines()]
    assert [(t["slug"], t["currency"], t["domains"]) for t in listed] == [
        ("acme", "EUR", ["shop.acme.example"])
    ]
    cli("tenants", "update", "acme", "--name", "Acme Ltd", "--set", "rate_limit_tenant=5/second")
    shown = json.loads(cli("tenants", "show", "acme").stdout)
    assert shown["name"] == "Acme Ltd"
    assert shown["settings"]["new_customer_days"] == 14  # kept by the merge
    assert shown["settings"]["rate_limit_tenant"] == "5/second"
    cli("tenants", "suspend", str(shown["id"]))
    assert _row(make, Tenant, slug="acme").status == "suspended"
    cli("tenants", "activate", "acme")
    assert _row(make, Tenant, slug="acme").status == "active"
    cli("tenants", "delete", "acme", input="n\n", code=1)  # asks first
    cli("tenants", "delete", "acme", "--yes")
    assert _row(make, Tenant, slug="acme") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timezone", "Mars/Base"], "timezone:"),
        (["--currency", "ABC"], "currency:"),
        (["--set", "nonsense=1"], "settings.nonsense:"),
    ],
)
def test_tenant_create_reports_the_invalid_field(cli, args, message):
    result = cli("tenants", "create", "acme", "--name", "Acme", *args, code=1)
    assert message in result.output


def test_duplicate_slug_and_unknown_tenant_are_errors(cli):
    cli("tenants", "create", "acme", "--name", "Acme")
    assert "slug:" in cli("tenants", "create", "acme", "--name", "Again", code=1).output
    assert "no tenant 'nope'" in cli("tenants", "show", "nope", code=1).output


def test_users_and_memberships(cli, make):
    tenant = make.tenant("acme")
    cli("users", "create", "Ada@Acme.example", "--name", "Ada", "--password", PASSWORD)
    duplicate = cli("users", "create", "ada@acme.example", "--password", PASSWORD, code=1)
    assert "email:" in duplicate.output
    assert (
        "password:"
        in cli("users", "create", "b@acme.example", "--password", "short", code=1).output
    )
    cli("users", "add-member", "ada@acme.example", "acme", "--role", "admin")
    rows = [
        json.loads(line)
        for line in cli("users", "list", "--tenant", "acme", "--json").stdout.splitlines()
    ]
    assert [(r["email"], r["tenants"]) for r in rows] == [("ada@acme.example", ["acme:admin"])]
    last_admin = cli("users", "set-role", "ada@acme.example", "acme", "viewer", code=1)
    assert "at least one admin" in last_admin.output
    assert (
        "at least one admin"
        in cli("users", "remove-member", "ada@acme.example", "acme", code=1).output
    )
    make.user("bob@acme.example", tenant=tenant)
    cli("users", "set-role", "ada@acme.example", "acme", "viewer")
    cli("users", "remove-member", "ada@acme.example", "acme")
    assert "ada@acme.example" not in cli("users", "list", "--tenant", "acme").stdout


def test_password_is_prompted_and_changed_and_ends_sessions(cli, make):
    ada = make.user("ada@acme.example")
    with transaction(make.sessions) as session:
        expires = utcnow() + timedelta(days=1)
        session.add(RefreshToken(jti="j1", family_id="f1", user_id=ada.id, expires_at=expires))
    cli("users", "set-password", "ada@acme.example", input=f"{PASSWORD}\n{PASSWORD}\n")
    user = _row(make, User, email="ada@acme.example")
    assert verify_password(user.password_hash, PASSWORD, make.memory_kib)
    assert _row(make, RefreshToken, jti="j1").revoked_at is not None
    cli("users", "update", "ada@acme.example", "--inactive")
    assert _row(make, User, email="ada@acme.example").is_active is False
    assert (
        "no account"
        in cli("users", "set-password", "x@y.example", "--password", PASSWORD, code=1).output
    )


def test_keys_are_shown_once_and_revocable(cli, make):
    make.tenant("acme")
    created = cli(
        "keys", "create", "acme", "--name", "sync", "--scope", "read", "--scope", "ingest"
    ).stdout
    secret = created.strip().splitlines()[-1]
    assert secret.startswith("sl_")
    listed = cli("keys", "list", "acme", "--json").stdout
    assert secret not in listed and secret.split("_", 2)[2] not in listed
    assert "hash" not in listed
    key = json.loads(listed.splitlines()[0])
    assert key["scopes"] == ["ingest", "read"]
    cli("keys", "revoke", "acme", str(key["id"]))
    with make.sessions() as session:
        assert apikeys.verify_key(session, secret) is None
    assert "key_id:" in cli("keys", "revoke", "acme", "99999", code=1).output


def test_demo_is_idempotent_and_private(cli, env, make):
    first = cli("demo", "--no-serve").stdout
    path = Path(env["SHOPLAKE_VAR_DIR"]) / "demo-credentials.json"
    saved = json.loads(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert saved["password"] in first
    assert [t["slug"] for t in saved["tenants"]] == [
        "kaffeehaus-berlin",
        "pacific-outfitters",
        "tokyo-zakka",
    ]
    cli("demo", "--no-serve")
    assert json.loads(path.read_text()) == saved  # still valid, so reused
    with make.sessions() as session:
        user = session.scalar(select(User).where(User.email == "admin@demo.example"))
        assert verify_password(user.password_hash, saved["password"], make.memory_kib)
        for shop in saved["tenants"]:
            assert shop["api_key"] in first
            tenant = session.scalar(select(Tenant).where(Tenant.slug == shop["slug"]))
            assert (tenant.timezone, tenant.currency) == (shop["timezone"], shop["currency"])
            key = apikeys.verify_key(session, shop["api_key"])
            assert key.tenant_id == tenant.id and sorted(key.scopes) == ["ingest", "read", "write"]
            extra_key = select(ApiKey.id).where(ApiKey.tenant_id == tenant.id).offset(1)
            assert session.scalar(extra_key) is None
            assert users.role_of(session, tenant.id, user.id) == "admin"


def test_every_command_has_help(cli):
    def walk(command: click.Command, path: list[str]) -> None:
        result = cli(*path, "--help")
        assert (command.help or "").strip() and "Usage:" in result.output
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(main, [])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def test_serve_runs_gunicorn_until_terminated(env, tmp_path):
    port = _free_port()
    script = Path(sys.executable).with_name("shoplake")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "shoplake"]
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            body = _wait_healthy(f"http://127.0.0.1:{port}/healthz", process, log)
            assert json.loads(body)["status"] == "ok"
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()
    last_line = log.read_text().splitlines()[-1]
    assert json.loads(last_line)["logger"] == "gunicorn.error"  # gunicorn logs JSON lines too
