"""The HTTP API: app factory, blueprints per resource, auth and tenancy."""

from serving.app import close_app, create_app

__all__ = ["close_app", "create_app"]
