"""Path aliases handled once, before Flask routes: legacy ``/api/...`` and tenant-in-path forms.

``/api/products/``                  -> ``/api/v1/products/``
``/api/v1/tenants/7/orders/search/`` -> ``/api/v1/orders/search/`` with path tenant ``7``

Rewriting here keeps one route per resource (and one OpenAPI entry) while every form works.
The tenant taken from the path is handed to tenant resolution, which checks it against every
other source; the original path is kept for logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

API_PREFIX = "/api/v1"
PATH_TENANT_KEY = "shoplake.path_tenant"
ORIGINAL_PATH_KEY = "shoplake.original_path"

_LEGACY = re.compile(r"^/api/(?!v1(?:/|$))")
# Only a sub-resource after the id is rewritten: /api/v1/tenants/7/ itself is the tenant.
_TENANT_PATH = re.compile(r"^/api/v1/tenants/(?P<tenant>[^/]+)/(?P<rest>(?!$).+)$")
# Sub-resources of the tenant record itself stay where they are.
TENANT_OWN_SUBRESOURCES = ("status/",)


def rewrite_path(path: str) -> tuple[str, str | None]:
    """Return the canonical path and the tenant named in it, if any."""
    if _LEGACY.match(path):
        path = API_PREFIX + path[len("/api") :]
    match = _TENANT_PATH.match(path)
    if match and not match["rest"].startswith(TENANT_OWN_SUBRESOURCES):
        return f"{API_PREFIX}/{match['rest']}", match["tenant"]
    return path, None


class PathAliasMiddleware:
    """WSGI middleware applying :func:`rewrite_path` to each request."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        original = environ.get("PATH_INFO", "")
        path, tenant = rewrite_path(original)
        environ[ORIGINAL_PATH_KEY] = original
        environ["PATH_INFO"] = path
        if tenant is not None:
            environ[PATH_TENANT_KEY] = tenant
        return self.app(environ, start_response)
