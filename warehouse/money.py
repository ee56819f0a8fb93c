"""Exact money: ISO 4217 currency codes, their minor units, and integer minor-unit amounts.

Amounts are stored and summed as integers in a currency's minor unit (cents, fils, yen); a
decimal amount is converted at the edge with :func:`to_minor` and shown with :func:`from_minor`.
The table lists the active codes that have a minor unit (ISO 4217 list one, 2025), so metals,
test and special-drawing codes (XAU, XTS, XDR ...) are not valid shop currencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

# Most currencies have two decimals; only the exceptions are spelled out below.
_TWO_DECIMALS = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR
LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD
PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC
SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW
ZWG
"""
# ANG is being replaced by XCG (2025); kept so older records stay valid.
_LEGACY_TWO_DECIMALS = "ANG"
_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMALS = "CLF UYW"


def _table() -> dict[str, int]:
    groups = {
        2: _TWO_DECIMALS + " " + _LEGACY_TWO_DECIMALS,
        0: _ZERO_DECIMALS,
        3: _THREE_DECIMALS,
        4: _FOUR_DECIMALS,
    }
    return {code: exponent for exponent, codes in groups.items() for code in codes.split()}


CURRENCIES: Mapping[str, int] = MappingProxyType(_table())
"""Active ISO 4217 codes mapped to their minor-unit exponent (EUR -> 2, JPY -> 0, KWD -> 3)."""


class UnknownCurrency(ValueError):
    """The code is not an active ISO 4217 currency with a minor unit."""


def is_currency(code: str) -> bool:
    """Return whether ``code`` (upper case) is a known active currency."""
    return code in CURRENCIES


def minor_units(code: str) -> int:
    """Return the number of decimals of ``code``'s minor unit (EUR -> 2, JPY -> 0)."""
    try:
        return CURRENCIES[code]
    except KeyError:
        raise UnknownCurrency(f"{code!r} is not an active ISO 4217 currency code") from None


def to_minor(amount: Decimal | str | int, code: str) -> int:
    """Convert a decimal amount to integer minor units, refusing sub-minor precision.

    ``to_minor("12.34", "EUR") == 1234``; ``to_minor("12.345", "EUR")`` raises, because rounding
    money silently is how totals drift.
    """
    if isinstance(amount, float):
        raise TypeError("money must not be given as float; pass a Decimal or a string")
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    scaled = value.scaleb(minor_units(code))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {code} allows ({minor_units(code)})")
    return int(scaled)


def from_minor(minor: int, code: str) -> Decimal:
    """Convert integer minor units back to an exact decimal amount (1234 EUR -> 12.34)."""
    exponent = minor_units(code)
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
