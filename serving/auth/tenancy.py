"""Resolve which tenant a request acts on, from every source, and refuse any disagreement.

Sources: the credential (API key's tenant, JWT tenant claim), ``X-Tenant-ID``, the host
(``<slug>.<base_domain>`` or a tenant's own domain), ``?tenant_id=`` and the path form
``/api/v1/tenants/<id>/...``. Explicit sources that name different tenants give 400; a credential
bound to one tenant naming another gives 403; a caller who is not a member gets 403 whether or not
the tenant exists, so existence does not leak.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from flask import current_app, g, request
from sqlalchemy import Text, cast, func, select

from serving.db import db
from serving.errors import ApiError, FieldError, bad_request, forbidden, not_found
from serving.routing import PATH_TENANT_KEY
from warehouse import logs
from warehouse.controldb.models import Membership, Role, Tenant

TENANT_HEADER = "X-Tenant-ID"
# Tenant ids are 32-bit integers; a larger number names nothing (and would overflow PostgreSQL).
MAX_TENANT_ID = 2**31 - 1


@dataclass(frozen=True)
class TenantContext:
    tenant: Tenant
    role: Role | None


def requested_tenant_refs() -> dict[str, str]:
    """Collect the tenant references a request names explicitly, by source."""
    candidates = {
        # Servers join a repeated header with commas, so each part counts as one value.
        TENANT_HEADER: ",".join(request.headers.getlist(TENANT_HEADER)).split(","),
        "tenant_id": request.args.getlist("tenant_id"),
        "path": [request.environ.get(PATH_TENANT_KEY) or ""],
        "host": [_tenant_ref_from_host(_hostname(request.host)) or ""],
    }
    refs = {}
    for source, values in candidates.items():
        value = _one_value(source, values)
        if value:
            refs[source] = value
    return refs


def _one_value(source: str, values: list[str]) -> str | None:
    # A repeated header or query parameter must not hide a second tenant behind the first.
    distinct = {value.strip() for value in values} - {""}
    if len(distinct) > 1:
        raise bad_request(
            "The request names more than one tenant.",
            FieldError(source, "given more than once with different values"),
        )
    return distinct.pop() if distinct else None


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # IPv6 literal, maybe with a port: [::1]:8000
        return host[: host.find("]") + 1]
    return host.partition(":")[0].rstrip(".")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _tenant_ref_from_host(host: str) -> str | None:
    base = current_app.config["SHOPLAKE"].base_domain.lower()
    if host.endswith("." + base):
        label = host[: -len(base) - 1]
        return label if "." not in label else None
    if not host or host == base or host == "localhost" or _is_ip(host):
        return None
    return "domain:" + host


def lookup_tenant(ref: str) -> Tenant | None:
    """Find a tenant by numeric id, slug, or ``domain:<host>``."""
    session = db()
    if ref.startswith("domain:"):
        return _tenant_by_domain(ref.removeprefix("domain:"))
    if ref.isascii() and ref.isdigit():
        return session.get(Tenant, int(ref)) if int(ref) <= MAX_TENANT_ID else None
    return session.scalar(select(Tenant).where(Tenant.slug == ref))


def _tenant_by_domain(host: str) -> Tenant | None:
    # The JSON text narrows the candidates in SQL; the exact match is checked on the list.
    domains_text = func.lower(cast(Tenant.domains, Text))
    query = select(Tenant).where(domains_text.contains(f'"{host}"', autoescape=True))
    for tenant in db().scalars(query):
        if host in {domain.lower() for domain in tenant.domains or []}:
            return tenant
    return None


def resolve_tenant() -> TenantContext | None:
    """Work out the request's tenant and the caller's role in it (None if none named)."""
    principal = g.get("principal")
    refs = requested_tenant_refs()
    resolved = {source: lookup_tenant(ref) for source, ref in refs.items()}
    if refs.get("host", "").startswith("domain:") and resolved["host"] is None:
        # A host that is no tenant's own domain is just the API's hostname.
        del refs["host"], resolved["host"]
    ids = {t.id if t else ("missing", refs[s]) for s, t in resolved.items()}
    if len(ids) > 1:
        raise bad_request(
            "The request names more than one tenant.",
            *(FieldError(source, f"names tenant {ref!r}") for source, ref in refs.items()),
        )
    bound = principal.bound_tenant_id if principal else None
    if not refs and bound is None and principal is not None and not principal.is_platform_admin:
        bound = _only_membership(principal.user_id)
    named = next(iter(resolved.values())) if resolved else None
    if refs and named is None:
        if principal is not None and principal.is_platform_admin:
            raise not_found("No such tenant.")
        raise forbidden("You do not have access to this tenant.")
    if bound is not None and named is not None and named.id != bound:
        raise forbidden("Your credential belongs to a different tenant.")
    tenant = named or (db().get(Tenant, bound) if bound is not None else None)
    if tenant is None:
        return None
    return TenantContext(tenant, _role_in(principal, tenant))


def _only_membership(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    rows = db().scalars(select(Membership.tenant_id).where(Membership.user_id == user_id)).all()
    return rows[0] if len(rows) == 1 else None


def _role_in(principal, tenant: Tenant) -> Role | None:
    if principal is None or principal.user_id is None or principal.is_api_key:
        return None
    role = db().scalar(
        select(Membership.role).where(
            Membership.user_id == principal.user_id, Membership.tenant_id == tenant.id
        )
    )
    return Role(role) if role else None


def current_tenant(required: bool = False) -> tuple[Tenant | None, Role | None]:
    """Return the resolved tenant and role, enforcing membership and status when required."""
    if "tenant_context" not in g:
        g.tenant_context = resolve_tenant()
        if g.tenant_context is not None:
            logs.bind(tenant_id=g.tenant_context.tenant.id)
    context: TenantContext | None = g.tenant_context
    if context is None:
        if required:
            raise bad_request(
                "This endpoint needs a tenant.",
                FieldError(TENANT_HEADER, "name the tenant by header, host, query or path"),
            )
        return None, None
    principal = g.get("principal")
    if required and principal is not None and not principal.is_platform_admin:
        if not principal.is_api_key and context.role is None:
            raise forbidden("You do not have access to this tenant.")
        if not context.tenant.is_active:
            raise ApiError(403, "Forbidden", "This tenant is suspended.", "tenant-suspended")
    return context.tenant, context.role


def tenant_id() -> int:
    """Return the id of the tenant the current request acts on (a tenant is required)."""
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    return tenant.id
