"""Every blueprint of the API, registered explicitly in one list."""

from __future__ import annotations

from flask import Flask

from serving import openapi
from serving.blueprints import auth, health, ingest, keys, tenants, uploads, users


def register_blueprints(app: Flask) -> None:
    """Mount each resource's blueprint on the app."""
    for blueprint in (
        health.bp,
        openapi.bp,
        auth.bp,
        tenants.bp,
        users.bp,
        keys.bp,
        ingest.bp,
        uploads.bp,
    ):
        app.register_blueprint(blueprint)
