"""The Flask application factory."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from serving.auth.authenticate import init_authentication
from serving.blueprints import register_blueprints
from serving.db import init_db
from serving.errors import register_error_handlers
from serving.extensions import jwt
from serving.protection import init_auth_throttle, init_protection
from serving.protection.ratelimit import close_limiter
from serving.request_context import init_request_context
from serving.routing import PathAliasMiddleware
from warehouse import logs
from warehouse.config import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the API app for ``settings`` (read from the environment when omitted)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(_flask_config(settings))
    logs.configure(settings.log_level)
    init_db(app)
    jwt.init_app(app)
    register_error_handlers(app)
    init_request_context(app)
    init_auth_throttle(app)  # before authentication: blocked addresses are not checked
    init_authentication(app)
    init_protection(app)
    register_blueprints(app)
    app.wsgi_app = PathAliasMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def close_app(app: Flask) -> None:
    """Release what ``app`` holds open: control DB connections and the limiter's Redis pool.

    Workers never call this (they live until the process ends); tests and short-lived tools do,
    so no socket outlives the app that opened it.
    """
    app.extensions["shoplake.engine"].dispose()
    close_limiter(app)


def _flask_config(settings: Settings) -> dict:
    return {
        "SHOPLAKE": settings,
        "SECRET_KEY": settings.secret_key,
        "JWT_SECRET_KEY": settings.secret_key,
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=settings.access_token_minutes),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=settings.refresh_token_days),
        "JWT_TOKEN_LOCATION": ["headers"],
        "MAX_CONTENT_LENGTH": settings.max_body_bytes,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=settings.session_hours),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.is_production,
        "TRUSTED_HOSTS": None,
    }
