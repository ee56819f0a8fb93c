"""ISO 4217 currencies and exact minor-unit conversion (warehouse.money)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from warehouse import money


@pytest.mark.parametrize(
    ("code", "exponent"),
    [
        ("EUR", 2),
        ("USD", 2),
        ("JPY", 0),  # no minor unit in use
        ("KRW", 0),
        ("KWD", 3),  # fils
        ("BHD", 3),
        ("CLF", 4),  # unit of account
        ("XCG", 2),  # Caribbean guilder, replaces ANG
    ],
)
def test_minor_units(code, exponent):
    assert money.minor_units(code) == exponent
    assert money.is_currency(code)


@pytest.mark.parametrize(
    "code",
    [
        "eur",  # codes are upper case; callers normalise first
        "XXX",  # "no currency"
        "XAU",  # gold has no minor unit
        "XTS",  # reserved for tests
        "HRK",  # withdrawn when Croatia adopted the euro
        "",
        "EURO",
    ],
)
def test_unknown_or_unusable_codes(code):
    assert not money.is_currency(code)
    with pytest.raises(money.UnknownCurrency):
        money.minor_units(code)


def test_table_is_sane():
    assert len(money.CURRENCIES) > 150
    assert all(len(code) == 3 and code.isupper() for code in money.CURRENCIES)
    assert set(money.CURRENCIES.values()) == {0, 2, 3, 4}


@pytest.mark.parametrize(
    ("amount", "code", "minor"),
    [
        ("12.34", "EUR", 1234),
        ("12.3", "EUR", 1230),
        (Decimal("-0.01"), "USD", -1),
        (5, "JPY", 5),
        ("1.234", "KWD", 1234),
        ("1000", "JPY", 1000),
    ],
)
def test_to_minor_and_back(amount, code, minor):
    assert money.to_minor(amount, code) == minor
    assert money.from_minor(minor, code) == Decimal(str(amount))


def test_from_minor_keeps_the_currency_scale():
    assert str(money.from_minor(1230, "EUR")) == "12.30"
    assert str(money.from_minor(5, "KWD")) == "0.005"
    assert str(money.from_minor(700, "JPY")) == "700"


@pytest.mark.parametrize(
    ("amount", "code", "error"),
    [
        ("12.345", "EUR", ValueError),  # sub-cent precision is refused, not rounded
        ("1.5", "JPY", ValueError),
        ("abc", "EUR", ValueError),
        ("NaN", "EUR", ValueError),
        ("Infinity", "EUR", ValueError),
        (12.34, "EUR", TypeError),  # floats are never money
        ("1", "XXX", money.UnknownCurrency),
    ],
)
def test_to_minor_refuses(amount, code, error):
    with pytest.raises(error):
        money.to_minor(amount, code)
