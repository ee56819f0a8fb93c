"""The HTTP API: app factory, blueprints per resource, auth and tenancy."""

from serving.app import create_app

__all__ = ["create_app"]
