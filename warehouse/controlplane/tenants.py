"""Tenants: create, read, list, update and delete, with every field validated here.

The HTTP API and the CLI both call these functions inside one transaction (``write=True`` for
changes, so uniqueness checks and the write cannot interleave with another writer on SQLite).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warehouse import money
from warehouse.controldb.models import Membership, Tenant, TenantStatus
from warehouse.controlplane.errors import Conflict, Invalid, NotFound
from warehouse.controlplane.tenant_settings import validate_settings

# A DNS label (so the slug works as `<slug>.<base_domain>`) with at least one letter, so a slug
# can never be mistaken for a numeric tenant id.
_SLUG = re.compile(r"^(?=.*[a-z])[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
RESERVED_SLUGS = frozenset({"www", "api", "app", "admin", "docs", "static", "mail"})
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
log = logging.getLogger("shoplake.controlplane")
UPDATABLE_FIELDS = ("slug", "name", "domains", "timezone", "currency", "settings", "status")


@cache
def _zones() -> frozenset[str]:
    # Reading the zone database walks a directory tree; once per process is enough.
    return frozenset(available_timezones())


def check_slug(slug: str) -> str:
    """Return ``slug`` if it is a lowercase DNS label of 3-63 characters that is not reserved."""
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise Invalid("slug", "use 3-63 lowercase letters, digits and inner hyphens, with a letter")
    if slug in RESERVED_SLUGS:
        raise Invalid("slug", f"{slug!r} is reserved")
    return slug


def check_name(name: str) -> str:
    """Return the trimmed display name, refusing empty or overlong ones."""
    cleaned = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(cleaned) <= 200:
        raise Invalid("name", "must be 1-200 characters")
    return cleaned


def check_timezone(zone: str) -> str:
    """Return ``zone`` if it is an IANA time zone name such as 'Europe/Berlin'."""
    if zone not in _zones():
        raise Invalid("timezone", f"{zone!r} is not an IANA time zone such as 'Europe/Berlin'")
    return zone


def check_currency(code: str) -> str:
    """Return the upper-cased code if it is an active ISO 4217 currency."""
    normalised = code.strip().upper() if isinstance(code, str) else ""
    if not money.is_currency(normalised):
        raise Invalid("currency", f"{code!r} is not an active ISO 4217 currency code")
    return normalised


def check_status(status: str) -> str:
    """Return ``status`` if it is 'active' or 'suspended'."""
    if status not in set(TenantStatus):
        raise Invalid("status", "must be 'active' or 'suspended'")
    return str(status)


def check_hostname(raw: str) -> str:
    """Return a lowercase fully qualified host name, or raise Invalid."""
    host = raw.strip().lower().removesuffix(".") if isinstance(raw, str) else ""
    labels = host.split(".")
    valid = (
        len(host) <= 253
        and len(labels) >= 2
        and all(_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()  # refuses IP addresses, which never name a tenant
    )
    if not valid:
        raise Invalid("domains", f"{raw!r} is not a valid host name")
    return host


def check_domains(session: Session, domains: Iterable[str], tenant_id: int | None) -> list[str]:
    """Validate host names and refuse any another tenant already uses."""
    if domains is None or isinstance(domains, str):
        raise Invalid("domains", "must be a list of host names")
    wanted = list(dict.fromkeys(check_hostname(d) for d in domains))
    for other_id, taken in session.execute(select(Tenant.id, Tenant.domains)):
        clash = sorted(set(wanted) & set(taken or ()))
        if other_id != tenant_id and clash:
            raise Conflict("domains", f"{clash[0]!r} already belongs to another tenant")
    return wanted


def _check_slug_free(session: Session, slug: str, tenant_id: int | None) -> None:
    owner = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    if owner is not None and owner != tenant_id:
        raise Conflict("slug", f"{slug!r} is taken")


def create_tenant(
    session: Session,
    *,
    slug: str,
    name: str,
    domains: Iterable[str] = (),
    timezone: str = "UTC",
    currency: str = "USD",
    settings: Mapping[str, Any] | None = None,
) -> Tenant:
    """Create an active tenant after validating every field."""
    tenant = Tenant(
        slug=check_slug(slug),
        name=check_name(name),
        timezone=check_timezone(timezone),
        currency=check_currency(currency),
        settings=validate_settings(dict(settings or {})),
        status=TenantStatus.ACTIVE.value,
    )
    _check_slug_free(session, tenant.slug, None)
    tenant.domains = check_domains(session, domains, None)
    session.add(tenant)
    _flush(session, "slug", f"{slug!r} is taken")
    log.info("tenant created", extra={"tenant_id": tenant.id, "slug": tenant.slug})
    return tenant


def _flush(session: Session, field: str, reason: str) -> None:
    # The checks above run first; this catches the race a concurrent writer could still win.
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(field, reason) from None


def get_tenant(session: Session, tenant_id: int, *, lock: bool = False) -> Tenant:
    """Return a tenant by id, or raise NotFound."""
    tenant = session.get(Tenant, tenant_id, with_for_update=lock)
    if tenant is None:
        raise NotFound("tenant_id", "no such tenant")
    return tenant


def find_tenant(session: Session, ref: str) -> Tenant:
    """Return a tenant by numeric id or slug (the CLI's way of naming one)."""
    if ref.isdigit():
        return get_tenant(session, int(ref))
    tenant = session.scalar(select(Tenant).where(Tenant.slug == ref))
    if tenant is None:
        raise NotFound("tenant", f"no tenant {ref!r}")
    return tenant


def tenants_query(
    *, member_user_id: int | None = None, tenant_id: int | None = None
) -> Select[tuple[Tenant]]:
    """Select tenants (unordered): all, those a user is a member of, or one by id."""
    query = select(Tenant)
    if tenant_id is not None:
        query = query.where(Tenant.id == tenant_id)
    if member_user_id is not None:
        query = query.join(Membership, Membership.tenant_id == Tenant.id).where(
            Membership.user_id == member_user_id
        )
    return query


def update_tenant(session: Session, tenant_id: int, changes: Mapping[str, Any]) -> Tenant:
    """Apply validated changes; ``settings`` is merged into the tenant's existing overrides."""
    tenant = get_tenant(session, tenant_id, lock=True)
    unknown = sorted(set(changes) - set(UPDATABLE_FIELDS))
    if unknown:
        raise Invalid(unknown[0], "cannot be changed")
    for field, value in changes.items():
        setattr(tenant, field, _checked(session, tenant, field, value))
    _flush(session, "slug", "is taken")
    log.info("tenant updated", extra={"tenant_id": tenant.id, "fields": sorted(changes)})
    return tenant


def _checked(session: Session, tenant: Tenant, field: str, value: Any) -> Any:
    if field == "slug":
        _check_slug_free(session, check_slug(value), tenant.id)
        return value
    if field == "domains":
        return check_domains(session, value, tenant.id)
    if field == "settings":
        if not isinstance(value, Mapping):
            raise Invalid("settings", "must be an object")
        return validate_settings({**(tenant.settings or {}), **value})
    checks = {
        "name": check_name,
        "timezone": check_timezone,
        "currency": check_currency,
        "status": check_status,
    }
    return checks[field](value)


def set_status(session: Session, tenant_id: int, status: str) -> Tenant:
    """Activate or suspend a tenant (a suspended tenant's keys and tokens stop working)."""
    return update_tenant(session, tenant_id, {"status": status})


def delete_tenant(session: Session, tenant_id: int) -> None:
    """Delete a tenant; its memberships, keys and tokens go with it (foreign-key cascade)."""
    session.delete(get_tenant(session, tenant_id, lock=True))
    session.flush()
    log.info("tenant deleted", extra={"tenant_id": tenant_id})
