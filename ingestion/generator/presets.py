"""Presets (tiny, small, large), their tenants and the sizes every entity is generated at.

A preset is data only: the generator reads sizes from here and nothing else, so an override
(`orders=5000`) changes exactly what it names. Tenants come from a fixed pool so the first three
are always the EUR/Berlin, USD/Los Angeles and JPY/Tokyo shops the tests rely on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from typing import Any

from warehouse.money import minor_units


@dataclass(frozen=True)
class TenantDef:
    """One generated shop: what the control DB needs plus the locale the data is drawn from."""

    slug: str
    name: str
    timezone: str
    currency: str
    country: str
    usd_rate: float  # units of this currency per USD, to scale catalogue prices
    tax_rate_bp: int  # basis points applied to the discounted subtotal
    shipping_fee: int  # in major units of the currency
    free_shipping_over: int  # in major units of the currency

    @property
    def minor_digits(self) -> int:
        """Return the currency's minor-unit exponent (EUR 2, JPY 0)."""
        return minor_units(self.currency)

    def control_fields(self) -> dict[str, str]:
        """Return the fields a control-DB tenant is created with."""
        return {k: getattr(self, k) for k in ("slug", "name", "timezone", "currency")}


# The first three are the ones `tiny` and `small` use; the order is part of determinism.
TENANT_POOL: tuple[TenantDef, ...] = (
    TenantDef(
        "kaffeehaus-berlin",
        "Kaffeehaus Berlin GmbH",
        "Europe/Berlin",
        "EUR",
        "DE",
        0.92,
        1900,
        5,
        50,
    ),
    TenantDef(
        "pacific-outfitters",
        "Pacific Outfitters",
        "America/Los_Angeles",
        "USD",
        "US",
        1.0,
        875,
        6,
        75,
    ),
    TenantDef("tokyo-zakka", "Tokyo Zakka", "Asia/Tokyo", "JPY", "JP", 150.0, 1000, 600, 8000),
    TenantDef("thames-home", "Thames Home Ltd", "Europe/London", "GBP", "GB", 0.79, 2000, 4, 60),
    TenantDef("maple-and-co", "Maple & Co", "America/Toronto", "CAD", "CA", 1.36, 1300, 9, 100),
    TenantDef(
        "harbour-goods", "Harbour Goods", "Australia/Sydney", "AUD", "AU", 1.52, 1000, 10, 120
    ),
    TenantDef(
        "loja-paulista", "Loja Paulista", "America/Sao_Paulo", "BRL", "BR", 5.0, 1700, 25, 300
    ),
    TenantDef("mumbai-bazaar", "Mumbai Bazaar", "Asia/Kolkata", "INR", "IN", 83.0, 1800, 99, 2500),
    TenantDef(
        "nordic-form", "Nordic Form AB", "Europe/Stockholm", "SEK", "SE", 10.5, 2500, 59, 800
    ),
    TenantDef(
        "hudson-supply", "Hudson Supply Co", "America/New_York", "USD", "US", 1.0, 887, 7, 80
    ),
)


@dataclass(frozen=True)
class Sizes:
    """How much of everything one tenant gets; every field can be overridden."""

    products: int
    customers: int
    orders: int
    items_per_order: float  # mean line items per order (at least one)
    price_samples: int  # price observations per product over the history
    sessions_per_order: float  # non-converting storefront sessions per order
    notes_ratio: float  # share of customers with support notes
    days: int  # length of the history, ending at `end`
    end: date  # last local day of the history (fixed so output is reproducible)


@dataclass(frozen=True)
class Preset:
    """A named bundle of tenant count and sizes."""

    name: str
    tenants: int
    sizes: Sizes


_END = date(2026, 10, 31)
PRESETS: dict[str, Preset] = {
    "tiny": Preset("tiny", 3, Sizes(50, 100, 300, 3.0, 10, 2.0, 0.1, 180, _END)),
    "small": Preset("small", 3, Sizes(2_000, 1_500, 5_000, 3.0, 30, 3.0, 0.08, 730, _END)),
    "large": Preset(
        "large", 10, Sizes(500_000, 400_000, 2_000_000, 3.0, 100, 3.0, 0.05, 1095, _END)
    ),
}

_SIZE_NAMES = {f.name for f in fields(Sizes)}


def resolve(
    preset: str, overrides: dict[str, Any] | None = None, tenants: int | None = None
) -> Preset:
    """Return the named preset with size overrides and tenant count applied, validated."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    base = PRESETS[preset]
    unknown = set(overrides or {}) - _SIZE_NAMES
    if unknown:
        raise ValueError(
            f"unknown size override(s) {sorted(unknown)}; known: {sorted(_SIZE_NAMES)}"
        )
    values = asdict(base.sizes) | {k: _coerce(k, v) for k, v in (overrides or {}).items()}
    sizes = Sizes(**values)
    _check(sizes)
    count = base.tenants if tenants is None else int(tenants)
    if count < 1:
        raise ValueError("tenants must be at least 1")
    return replace(base, tenants=count, sizes=sizes)


def tenant_definitions(preset: str = "tiny", tenants: int | None = None) -> list[TenantDef]:
    """Return the tenants a preset generates, in generation order (slug, name, tz, currency)."""
    count = resolve(preset, tenants=tenants).tenants
    return [_pool_tenant(i) for i in range(count)]


def _pool_tenant(index: int) -> TenantDef:
    base = TENANT_POOL[index % len(TENANT_POOL)]
    round_ = index // len(TENANT_POOL)
    if round_ == 0:
        return base
    return replace(base, slug=f"{base.slug}-{round_ + 1}", name=f"{base.name} {round_ + 1}")


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Sizes)}[name]
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if kind == "float":
        return float(value)
    return int(value)


def _check(sizes: Sizes) -> None:
    for name in ("products", "customers", "orders", "price_samples", "days"):
        if getattr(sizes, name) < 1:
            raise ValueError(f"{name} must be at least 1")
    if sizes.items_per_order < 1:
        raise ValueError("items_per_order must be at least 1")
    if sizes.sessions_per_order < 0 or not 0 <= sizes.notes_ratio <= 1:
        raise ValueError("sessions_per_order must be >= 0 and notes_ratio within 0..1")
