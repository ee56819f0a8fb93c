"""Throttle credential guessing: failed authentications are counted per client address.

A failure is a 401 answered to a request that presented a credential header (``X-API-Key`` or
``Authorization``) and was not authenticated by it: a wrong, expired or revoked API key, a
tampered, expired or revoked JWT, an unsupported scheme. Each costs the caller's address one
unit of ``ratelimit_auth_failures``. Once the address is over that budget, every request from it
that presents a credential header gets 429 (``rate-limited``, scope ``auth-failures``) *before*
authentication runs, so no further key or token is even checked until the window passes.

Deliberate choices:

* A correct credential from a blocked address is refused too: that is what stops guessing (an
  attacker cannot tell a right guess from a wrong one). The price is that clients sharing the
  address (one NAT) are locked out along with the guesser until the window ends.
* A success does not reset the count, or one valid key would launder unlimited guesses.
* Requests without a credential header (probes, the docs, cookie sessions, sign-in with a
  password) are neither refused nor counted: they guess no header credential, sign-in has its own
  budget, and the anonymous budget already limits them. A signed session cookie cannot be guessed.
* 403s are not counted: they come after the credential was verified, so they guess nothing, and
  tenancy gives the same 403 for a foreign and a missing tenant, so they reveal nothing either.
* Every route is covered, probes and docs included: authentication runs on every path, so an
  exempt route would be an unthrottled way to test keys.

Counters share the limiter's storage, key prefix and its fallback to process memory while that
storage fails.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, current_app, g, request
from limits import RateLimitItem
from limits.strategies import RateLimiter

from serving.auth.authenticate import API_KEY_HEADER
from serving.errors import ApiError
from serving.protection.budgets import address_key, is_valid_limit
from serving.protection.ratelimit import (
    LIMIT_HEADER,
    REMAINING_HEADER,
    RESET_HEADER,
    SCOPE_HEADER,
    current_limiter,
    windows,
)
from warehouse.config import SettingsError

SCOPE = "auth-failures"

log = logging.getLogger("shoplake.ratelimit")


def carries_credentials() -> bool:
    """Tell whether the request presents a credential header (API key or Authorization)."""
    return bool(request.headers.get(API_KEY_HEADER) or request.headers.get("Authorization"))


def init_auth_throttle(app: Flask) -> None:
    """Install the failed-authentication throttle (call right before ``init_authentication``)."""
    setting = app.config["SHOPLAKE"].ratelimit_auth_failures
    if not is_valid_limit(setting):
        raise SettingsError("SHOPLAKE_RATELIMIT_AUTH_FAILURES: not a rate limit like '20/minute'")
    app.before_request(_refuse_blocked_address)
    app.after_request(_count_failure)


def _items() -> tuple[RateLimitItem, ...]:
    return windows(current_app.config["SHOPLAKE"].ratelimit_auth_failures)


def _identifiers() -> tuple[str, str, str]:
    return (current_app.config["SHOPLAKE"].ratelimit_key_prefix, address_key(), SCOPE)


def _refuse_blocked_address() -> None:
    if not carries_credentials():
        return
    ids = _identifiers()
    exhausted = current_limiter().run(
        lambda strategy: [
            (item, strategy.get_window_stats(item, *ids).reset_time)
            for item in _items()
            if not strategy.test(item, *ids)
        ]
    )
    if exhausted:
        raise _too_many_failures(exhausted)


def _too_many_failures(exhausted: list[tuple[RateLimitItem, float]]) -> ApiError:
    # The longest exhausted window is the one that has to pass before a credential is checked.
    item, reset_at = max(exhausted, key=lambda pair: pair[1])
    headers = {
        "Retry-After": str(max(1, math.ceil(reset_at - time.time()))),
        LIMIT_HEADER: str(item.amount),
        REMAINING_HEADER: "0",
        RESET_HEADER: str(math.ceil(reset_at)),
        SCOPE_HEADER: SCOPE,
    }
    detail = (
        "Too many failed authentications from your address; credentials are not checked "
        f"until the window passes. Limit: {item}."
    )
    return ApiError(429, "Too Many Requests", detail, "rate-limited", headers=headers)


def _count_failure(response: Response) -> Response:
    # No principal after a 401 means the presented credential itself was refused.
    if response.status_code != 401 or g.get("principal") is not None:
        return response
    if not carries_credentials():
        return response
    ids = _identifiers()
    if not current_limiter().run(lambda strategy: _hit_all(strategy, ids)):
        # Logged once per lock-out: the address's next credentials are refused unchecked.
        log.warning("address over its failed-authentication budget", extra={"address": ids[1]})
    return response


def _hit_all(strategy: RateLimiter, ids: tuple[str, ...]) -> bool:
    items = _items()
    for item in items:
        strategy.hit(item, *ids)
    return all(strategy.test(item, *ids) for item in items)
