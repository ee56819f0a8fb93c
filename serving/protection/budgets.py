"""Which rate-limit budgets a request draws on: its client address, principal and tenant.

Every budget is a counter key plus a limit string in the ``limits`` syntax ("1200/minute").
Tenant-scoped keys start with ``tenant:<id>:`` so one tenant's traffic never counts against
another's; a caller is only charged to a tenant it belongs to (an API key's own tenant, or a
tenant where the user has a role), so naming somebody else's tenant costs that tenant nothing.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from limits import parse_many

from serving.auth.tenancy import current_tenant
from warehouse.controldb.models import Tenant

log = logging.getLogger("shoplake.ratelimit")

# The server-wide budgets; route rules (serving.protection.rules) add scopes of their own.
GLOBAL_SCOPES = ("principal", "tenant", "address")
# Tenant settings keys that override the server-wide defaults.
TENANT_LIMIT_KEY = "rate_limit_tenant"
PRINCIPAL_LIMIT_KEY = "rate_limit_principal"


@dataclass(frozen=True)
class Budget:
    """One counter a request is charged to: its storage key and its limit string."""

    key: str
    limit: str


def client_address() -> str:
    """Return the caller's address for per-address limits (an IPv6 caller by its /64)."""
    raw = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if ip.version == 6 and ip.ipv4_mapped is None:
        # One IPv6 host usually owns a whole /64, so counting single addresses is no limit.
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def address_key() -> str:
    """Return the counter key of the caller's address."""
    return f"addr:{client_address()}"


def charged_tenant() -> Tenant | None:
    """Return the tenant this request is charged to, if the caller belongs to it."""
    principal = g.get("principal")
    if principal is None:
        return None
    tenant, role = current_tenant()  # a bad tenant reference raises: that is the answer
    if tenant is None:
        return None
    return tenant if principal.is_api_key or role is not None else None


def principal_key() -> str | None:
    """Return the caller's own counter key (inside its tenant), or None when anonymous."""
    principal = g.get("principal")
    if principal is None:
        return None
    tenant = charged_tenant()
    return f"tenant:{tenant.id}:{principal.id}" if tenant else f"principal:{principal.id}"


def global_budgets() -> dict[str, Budget]:
    """Return the request's server-wide budgets by scope: address, or principal and tenant."""
    settings = current_app.config["SHOPLAKE"]
    if g.get("principal") is None:
        return {"address": Budget(address_key(), settings.ratelimit_anonymous)}
    tenant = charged_tenant()
    overrides: Mapping[str, Any] = (tenant.settings or {}) if tenant else {}
    budgets = {
        "principal": Budget(
            principal_key() or "",
            tenant_limit(overrides, PRINCIPAL_LIMIT_KEY, settings.ratelimit_principal_default),
        )
    }
    if tenant is not None:
        budgets["tenant"] = Budget(
            f"tenant:{tenant.id}",
            tenant_limit(overrides, TENANT_LIMIT_KEY, settings.ratelimit_tenant_default),
        )
    return budgets


def tenant_limit(overrides: Mapping[str, Any], name: str, default: str) -> str:
    """Return a tenant's own limit for ``name`` when set and valid, else ``default``."""
    value = overrides.get(name)
    if value is None:
        return default
    if not is_valid_limit(value):
        # A bad stored value must not lock the tenant out or lift its limit: use the default.
        log.warning("invalid tenant rate limit ignored", extra={"setting": name, "value": value})
        return default
    return value


def is_valid_limit(value: object) -> bool:
    """Tell whether ``value`` is a non-empty limit string the ``limits`` library accepts."""
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        parse_many(value)
    except ValueError:
        return False
    return True
