"""Recognise the caller from exactly one credential: API key, bearer JWT, or cookie session.

Runs before every request. No credential leaves ``g.principal`` as None (routes that need one
answer 401 through ``require``); a credential that is present but wrong is refused at once.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from flask import Flask, current_app, g, request, session
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError

from serving.auth.key_cache import VerifiedKey, init_key_cache, key_cache
from serving.auth.principal import Principal
from serving.db import db, write_transaction
from serving.errors import ApiError, FieldError, bad_request, forbidden, unauthorized
from warehouse import logs
from warehouse.controldb.models import ApiKey, RevokedAccessToken, Tenant, User, utcnow
from warehouse.controlplane import apikeys

API_KEY_HEADER = "X-API-Key"
CSRF_HEADER = "X-CSRF-Token"
SESSION_USER_KEY = "user_id"
SESSION_CSRF_KEY = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def presented_credentials() -> dict[str, str]:
    """Return the credentials a request carries, by kind."""
    found: dict[str, str] = {}
    authorization = request.headers.get("Authorization", "")
    scheme, _, value = authorization.partition(" ")
    if request.headers.get(API_KEY_HEADER):
        found["api_key"] = request.headers[API_KEY_HEADER].strip()
    if scheme.lower() == "apikey" and value:
        found["api_key"] = value.strip()
    elif scheme.lower() == "bearer" and value:
        found["jwt"] = value.strip()
    elif authorization:
        raise unauthorized("Unsupported Authorization scheme; use Bearer or ApiKey.")
    return found


def authenticate() -> Principal | None:
    """Return the request's principal, or None when it carries no credential."""
    credentials = presented_credentials()
    if len(credentials) > 1:
        raise bad_request(
            "Send one credential per request.",
            *(FieldError(kind, "also present") for kind in credentials),
        )
    if "api_key" in credentials:
        return _from_api_key(credentials["api_key"])
    if "jwt" in credentials:
        return _from_jwt(credentials["jwt"])
    if SESSION_USER_KEY in session and not _ignores_session():
        return _from_session()
    return None


def ignores_session(view: Callable) -> Callable:
    """Mark a login view: it checks credentials itself, so a session cookie is not consulted.

    Signing in must work while an old session cookie is present and cannot demand a CSRF token
    (there is no session yet); its JSON-only body already keeps cross-site forms out.
    """
    view.ignores_session = True  # type: ignore[attr-defined]
    return view


def _ignores_session() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "ignores_session", False)


def _from_api_key(presented: str) -> Principal:
    cache = key_cache()
    digest = apikeys.digest(presented)
    verified = cache.get(digest)
    if verified is None:
        verified = _verify_api_key(presented)
        cache.put(digest, verified)
    elif verified.is_expired(utcnow()):
        cache.drop(digest)
        raise unauthorized("The API key is invalid, expired or revoked.")
    if not verified.tenant.is_active:
        raise forbidden("This tenant is suspended.")
    # A copy joins the request's session without a query, so tenant resolution finds it in
    # the identity map; ``g`` keeps it alive there (the map holds objects weakly).
    g.credential_tenant = db().merge(verified.tenant, load=False)
    _record_key_use(verified)
    return Principal(
        via="api_key",
        api_key_id=verified.key_id,
        bound_tenant_id=verified.tenant.id,
        scopes=verified.scopes,
    )


def _verify_api_key(presented: str) -> VerifiedKey:
    """Check a key against the control DB; the result holds a detached copy of its tenant."""
    key = apikeys.verify_key(db(), presented)
    if key is None:
        raise unauthorized("The API key is invalid, expired or revoked.")
    tenant = key.tenant
    db().expunge(tenant)
    return VerifiedKey(
        key_id=key.id,
        tenant=tenant,
        scopes=frozenset(key.scopes),
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
    )


def _record_key_use(verified: VerifiedKey) -> None:
    # Checked on the cached time first, so most requests never open a write transaction. A
    # change to the last-used time alone leaves the worker's cached keys in place.
    if not apikeys.needs_touch(verified.last_used_at):
        return
    with write_transaction() as session:
        fresh = session.get(ApiKey, verified.key_id)
        if fresh is not None:
            apikeys.touch(session, fresh)
    verified.last_used_at = utcnow()


def _from_jwt(token: str) -> Principal:
    try:
        claims = decode_token(token)
    except (JWTExtendedException, PyJWTError):
        raise unauthorized("The access token is invalid or expired.") from None
    if claims.get("type") != "access":
        raise unauthorized("A refresh token cannot be used to call the API.")
    if db().get(RevokedAccessToken, claims["jti"]) is not None:
        raise unauthorized("The access token has been revoked.")
    user = _active_user(int(claims["sub"]))
    tenant_id = claims.get("tid")
    if tenant_id is not None:
        tenant = db().get(Tenant, tenant_id)
        if (tenant is None or not tenant.is_active) and not user.is_platform_admin:
            raise forbidden("This tenant is suspended.")
    g.jwt_claims = claims
    return Principal(
        via="jwt",
        user_id=user.id,
        is_platform_admin=user.is_platform_admin,
        bound_tenant_id=tenant_id,
    )


def _from_session() -> Principal | None:
    user = db().get(User, int(session[SESSION_USER_KEY]))
    if user is None or not user.is_active:
        # A stale cookie signs nobody in; clearing it makes the response drop the cookie.
        session.clear()
        return None
    if request.method not in SAFE_METHODS:
        expected = session.get(SESSION_CSRF_KEY, "")
        presented = request.headers.get(CSRF_HEADER, "")
        if not expected or not _same(expected, presented):
            raise ApiError(
                403,
                "Forbidden",
                "Missing or wrong CSRF token.",
                "csrf-failed",
                [FieldError(CSRF_HEADER, "must echo the session's CSRF token")],
            )
    return Principal(via="session", user_id=user.id, is_platform_admin=user.is_platform_admin)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _active_user(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None or not user.is_active:
        raise unauthorized("The account no longer exists or is disabled.")
    return user


def init_authentication(app: Flask) -> None:
    """Authenticate every request before its view runs."""
    init_key_cache(app, app.extensions["shoplake.sessions"])

    @app.before_request
    def _authenticate() -> None:
        g.principal = authenticate()
        if g.principal is not None:
            logs.bind(principal=g.principal.id)
            if g.principal.bound_tenant_id is not None:
                logs.bind(tenant_id=g.principal.bound_tenant_id)
