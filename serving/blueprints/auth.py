"""Sign-in endpoints: JWT login, refresh and logout; browser cookie sessions; who am I."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, g, request, session
from pydantic import Field

from serving.api import JSON_MIME, Body, Out, operation, parse_body
from serving.auth import login, tokens
from serving.auth.authenticate import SESSION_CSRF_KEY, ignores_session
from serving.auth.principal import Principal
from serving.db import db
from serving.errors import unauthorized
from warehouse.controldb.models import ApiKey, Tenant, User

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


class Credentials(Body):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class LoginIn(Credentials):
    tenant: int | str | None = Field(None, description="Tenant id or slug to bind the tokens to.")


class RefreshIn(Body):
    refresh_token: str = Field(min_length=1)


class LogoutIn(Body):
    refresh_token: str | None = None


class UserOut(Out):
    id: int
    email: str
    full_name: str
    is_platform_admin: bool


class TenantOut(Out):
    id: int
    slug: str
    name: str
    status: str


class TokensOut(Out):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    user: UserOut
    tenant: TenantOut | None = Field(description="The tenant the tokens are bound to, if any.")


class MembershipOut(Out):
    tenant: TenantOut
    role: str


class KeyOut(Out):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    expires_at: datetime | None


class MeOut(Out):
    via: str = Field(description="How the caller signed in: jwt, session or api_key.")
    user: UserOut | None = None
    memberships: list[MembershipOut] = []
    api_key: KeyOut | None = None
    tenant: TenantOut | None = Field(None, description="The tenant the credential is bound to.")


class SessionOut(Out):
    csrf_token: str
    user: UserOut


class CsrfOut(Out):
    csrf_token: str


@bp.post("/login")
@ignores_session
@operation(body=LoginIn, response=TokensOut, errors=(401, 403, 404), public=True)
def login_with_password(body: LoginIn) -> TokensOut:
    """Exchange email and password for an access and a refresh token."""
    user = login.verify_login(body.email, body.password)
    tenant = login.login_tenant(user, body.tenant)
    pair = tokens.login_tokens(user.id, tenant.id if tenant else None)
    return _tokens_out(pair)


@bp.post("/refresh")
@ignores_session
@operation(body=RefreshIn, response=TokensOut, errors=(401,), public=True)
def refresh(body: RefreshIn) -> TokensOut:
    """Exchange a refresh token for a new pair; a reused refresh token ends its session."""
    return _tokens_out(tokens.rotate_refresh_token(body.refresh_token))


@bp.post("/logout")
@operation(status=204, errors=(400, 401, 403, 415))
def logout() -> Response:
    """Revoke the bearer access token and its refresh-token family.

    The JSON body may carry ``refresh_token`` to end that token's family as well (or instead,
    when the access token has already expired).
    """
    body = parse_body(LogoutIn) if request.content_length or request.mimetype == JSON_MIME else None
    tokens.logout(g.get("jwt_claims"), body.refresh_token if body else None)
    return Response(status=204)


@bp.get("/me")
@operation(response=MeOut, errors=(401,))
def me() -> MeOut:
    """Describe the caller: the user and their memberships, or the API key and its tenant."""
    principal: Principal | None = g.get("principal")
    if principal is None:
        raise unauthorized()
    tenant = db().get(Tenant, principal.bound_tenant_id) if principal.bound_tenant_id else None
    tenant_out = TenantOut.model_validate(tenant) if tenant else None
    if principal.is_api_key:
        key = KeyOut.model_validate(db().get(ApiKey, principal.api_key_id))
        return MeOut(via=principal.via, api_key=key, tenant=tenant_out)
    user = db().get(User, principal.user_id)
    memberships = [MembershipOut.model_validate(m) for m in login.memberships(user.id)]
    return MeOut(
        via=principal.via,
        user=UserOut.model_validate(user),
        memberships=memberships,
        tenant=tenant_out,
    )


@bp.post("/session")
@ignores_session
@operation(body=Credentials, response=SessionOut, errors=(401,), public=True)
def start_session(body: Credentials) -> SessionOut:
    """Sign a browser in with a cookie session; send the returned CSRF token on every write."""
    user = login.verify_login(body.email, body.password)
    csrf = login.start_session(user)
    return SessionOut(csrf_token=csrf, user=UserOut.model_validate(user))


@bp.get("/session/csrf")
@operation(response=CsrfOut, errors=(401,))
def session_csrf() -> CsrfOut:
    """Return the CSRF token of the current cookie session."""
    principal: Principal | None = g.get("principal")
    if principal is None or principal.via != "session":
        raise unauthorized("No browser session; sign in with POST /api/v1/auth/session.")
    return CsrfOut(csrf_token=session[SESSION_CSRF_KEY])


@bp.delete("/session")
@operation(status=204, errors=(403,))
def end_session() -> Response:
    """Sign the browser out (needs the CSRF token like every write)."""
    login.end_session()
    return Response(status=204)


def _tokens_out(pair: tokens.TokenPair) -> TokensOut:
    user = db().get(User, pair.user_id)
    tenant = db().get(Tenant, pair.tenant_id) if pair.tenant_id is not None else None
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=UserOut.model_validate(user),
        tenant=TenantOut.model_validate(tenant) if tenant else None,
    )
