"""Unauthenticated routes with their own budget (webhooks) do not draw on the per-address one."""

import pytest


@pytest.fixture
def settings(settings):
    return settings.replace(ratelimit_anonymous="2/minute")


def test_webhook_deliveries_skip_the_anonymous_address_budget(client, make):
    tenant = make.tenant("hooked")
    statuses = [
        client.post(
            f"/api/v1/webhooks/stripe/{tenant.slug}/",
            data=b"{}",
            headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
        ).status_code
        for _ in range(4)
    ]
    assert 429 not in statuses, statuses


def test_other_anonymous_requests_still_share_it(client):
    statuses = [client.get("/api/v1/auth/me").status_code for _ in range(3)]
    assert statuses[-1] == 429, statuses
