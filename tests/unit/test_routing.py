"""Path aliases: legacy /api/ paths and the tenant-in-path form map to one canonical route."""

import pytest

from serving.routing import rewrite_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/products/", ("/api/v1/products/", None)),  # legacy alias
        ("/api/v1/products/", ("/api/v1/products/", None)),  # already canonical
        ("/api/v1/tenants/7/orders/search/", ("/api/v1/orders/search/", "7")),  # tenant in path
        ("/api/tenants/acme/products/", ("/api/v1/products/", "acme")),  # both at once
        ("/api/v1/tenants/7/", ("/api/v1/tenants/7/", None)),  # the tenant record itself
        ("/api/v1/tenants/", ("/api/v1/tenants/", None)),  # the tenant collection
        ("/api/v1x/foo", ("/api/v1/v1x/foo", None)),  # not the v1 prefix: treated as legacy
        ("/healthz", ("/healthz", None)),  # outside the API
    ],
)
def test_rewrite_path(path, expected):
    assert rewrite_path(path) == expected
