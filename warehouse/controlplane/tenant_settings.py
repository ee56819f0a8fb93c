"""Per-tenant configuration: rate limits, CORS origins and the thresholds analytics use.

A tenant row stores only the keys its admins set; :func:`effective_settings` fills in the
defaults, so a default changed here applies to every tenant that never overrode it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from warehouse.controlplane.errors import Invalid

# The subset of the `limits` syntax we accept: "1200/minute", "10 per second", "100/5 minutes",
# several joined by ";" ("20/second;1000/hour").
_ONE_LIMIT = r"\d+\s*(?:/|\s+per\s+)\s*(?:\d+\s+)?(?:second|minute|hour|day|month|year)s?"
_RATE_LIMIT = re.compile(rf"^{_ONE_LIMIT}(?:\s*;\s*{_ONE_LIMIT})*$")


def _rate_limit(value: str) -> str:
    normalised = value.strip().lower()
    if not _RATE_LIMIT.match(normalised):
        raise ValueError("expected a limit such as '1200/minute' or '10 per second'")
    return normalised


def _origin(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{raw!r} is not an origin like 'https://shop.example.com'")
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{raw!r} must be scheme, host and optional port only")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


RateLimit = Annotated[str, AfterValidator(_rate_limit)]
Origin = Annotated[str, AfterValidator(_origin)]


class TenantSettings(BaseModel):
    """The settings a tenant may override; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    rate_limit_tenant: RateLimit | None = Field(
        None, description="Requests for the whole tenant, e.g. '1200/minute'; null: server default."
    )
    rate_limit_principal: RateLimit | None = Field(
        None, description="Requests per user or key, e.g. '600/minute'; null: server default."
    )
    cors_origins: list[Origin] = Field(
        default_factory=list, description="Browser origins allowed to call the API."
    )
    high_value_order_minor: int = Field(
        50_000, ge=0, description="Orders at or above this total (minor units) are high value."
    )
    vip_lifetime_value_minor: int = Field(
        100_000,
        ge=0,
        description="Customers whose lifetime spend (minor units) reaches this are VIP.",
    )
    new_customer_days: int = Field(30, ge=1, le=3650, description="A customer is new this long.")
    inactive_customer_days: int = Field(
        90, ge=1, le=3650, description="No order for this long makes a customer inactive."
    )
    price_anomaly_threshold_pct: float = Field(
        50.0, gt=0, le=10_000, description="A price change larger than this percentage is flagged."
    )
    low_stock_default: int = Field(
        10, ge=0, description="Stock level at or below which a product without its own is low."
    )
    rfm_window_days: int = Field(365, ge=1, le=3650, description="Order history RFM scores use.")


def validate_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Validate overrides and return them normalised, as they are stored on the tenant."""
    if not isinstance(values, dict):
        raise Invalid("settings", "must be an object")
    try:
        model = TenantSettings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        path = ".".join(str(part) for part in ("settings", *err["loc"]))
        raise Invalid(path, err["msg"]) from None
    return model.model_dump(mode="json", exclude_unset=True)


def effective_settings(stored: dict[str, Any] | None) -> TenantSettings:
    """Return a tenant's settings with defaults for every key it did not set."""
    return TenantSettings.model_validate(stored or {})
