"""Tenant settings validation (warehouse.controlplane.tenant_settings)."""

from __future__ import annotations

import pytest
from limits import parse_many

from warehouse.controlplane.errors import Invalid
from warehouse.controlplane.tenant_settings import (
    TenantSettings,
    effective_settings,
    validate_settings,
)


@pytest.mark.parametrize(
    "limit", ["1200/minute", "10 per second", "100/5 minutes", "20/second;1000/hour", "5/Day"]
)
def test_accepted_rate_limits_are_understood_by_the_limiter(limit):
    stored = validate_settings({"rate_limit_tenant": limit})["rate_limit_tenant"]
    assert parse_many(stored)  # the rate limiter reads exactly what we store


@pytest.mark.parametrize("limit", ["lots", "10", "/minute", "10/fortnight", "-1/minute", ""])
def test_refused_rate_limits(limit):
    with pytest.raises(Invalid) as caught:
        validate_settings({"rate_limit_principal": limit})
    assert caught.value.field == "settings.rate_limit_principal"


def test_only_overrides_are_stored_and_defaults_fill_in():
    stored = validate_settings({"low_stock_default": 3, "cors_origins": ["HTTPS://Shop.Example"]})
    assert stored == {"low_stock_default": 3, "cors_origins": ["https://shop.example"]}
    effective = effective_settings(stored)
    assert effective.low_stock_default == 3
    assert effective.rfm_window_days == TenantSettings().rfm_window_days


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"unknown": 1}, "settings.unknown"),  # unknown keys are refused
        ({"low_stock_default": "3"}, "settings.low_stock_default"),  # no silent coercion
        ({"high_value_order_minor": -1}, "settings.high_value_order_minor"),
        ({"price_anomaly_threshold_pct": 0}, "settings.price_anomaly_threshold_pct"),
        ({"cors_origins": ["https://ok.example", "ftp://x.example"]}, "settings.cors_origins.1"),
        ({"cors_origins": ["https://x.example?q=1"]}, "settings.cors_origins.0"),
    ],
)
def test_invalid_settings_name_the_field(values, field):
    with pytest.raises(Invalid) as caught:
        validate_settings(values)
    assert caught.value.field == field


def test_settings_must_be_an_object():
    with pytest.raises(Invalid):
        validate_settings(["not", "a", "dict"])  # type: ignore[arg-type]
