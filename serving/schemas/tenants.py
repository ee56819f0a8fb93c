"""Request and response models for /api/v1/tenants/."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from serving.api import Body, Out
from serving.pagination import Paginated
from warehouse.controldb.models import Tenant
from warehouse.controlplane.tenant_settings import TenantSettings, effective_settings

Status = Literal["active", "suspended"]


class TenantCreate(Body):
    slug: str = Field(description="Lowercase DNS label, 3-63 characters; used as subdomain.")
    name: str = Field(description="Display name.")
    domains: list[str] = Field(default_factory=list, description="The tenant's own host names.")
    timezone: str = Field("UTC", description="IANA time zone for day buckets, e.g. Europe/Berlin.")
    currency: str = Field("USD", description="ISO 4217 code of the shop's currency.")
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of TenantSettings; unknown keys are refused."
    )


class TenantUpdate(Body):
    """Only the fields sent change; ``settings`` merges into the current overrides."""

    slug: str | None = Field(None, description="Platform administrators only.")
    name: str | None = None
    domains: list[str] | None = None
    timezone: str | None = None
    currency: str | None = None
    settings: dict[str, Any] | None = None
    status: Status | None = Field(None, description="Platform administrators only.")


class TenantStatusChange(Body):
    status: Status


class TenantOut(Out):
    id: int
    slug: str
    name: str
    domains: list[str]
    timezone: str
    currency: str
    status: Status
    settings: TenantSettings = Field(description="Effective settings: overrides plus defaults.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        """Describe a tenant, with defaults filled into its settings."""
        fields = {name: getattr(tenant, name) for name in cls.model_fields if name != "settings"}
        return cls(**fields, settings=effective_settings(tenant.settings))


class TenantPage(Paginated[TenantOut]):
    pass
