"""A test-only blueprint with one route per permission, to probe auth and tenancy over HTTP.

``GET`` or ``POST /api/v1/probe/<permission name>`` answers with the caller's resolved tenant
and role once ``@require`` lets the request through. Register it on the test ``app`` before the
first request (``app.register_blueprint(probe_blueprint())``).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, g

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import current_tenant


def probe_path(permission: Permission) -> str:
    """Return the probe route guarded by ``permission``."""
    return f"/api/v1/probe/{permission.name.lower()}"


def probe_blueprint() -> Blueprint:
    """Build the probe blueprint (a fresh one per app)."""
    bp = Blueprint("probe", __name__)
    for permission in Permission:
        bp.add_url_rule(
            probe_path(permission),
            endpoint=permission.name.lower(),
            view_func=_probe_view(permission),
            methods=["GET", "POST"],
        )
    return bp


def _probe_view(permission: Permission) -> Callable:
    @require(permission)
    @operation()
    def probe() -> dict:
        """Report what the guard resolved."""
        tenant, role = current_tenant()
        return {
            "permission": permission.value,
            "tenant_id": tenant.id if tenant else None,
            "role": str(role) if role else None,
            "via": g.principal.via,
        }

    return probe
