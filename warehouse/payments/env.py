"""What every payments operation needs, built once per process from settings."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from warehouse.config import Settings
from warehouse.payments.crypto import SecretBox
from warehouse.payments.stripe_client import StripeGateway


@dataclass(frozen=True)
class PaymentsEnv:
    """Control DB sessions, the lake, the secret box and the Stripe gateway."""

    sessions: sessionmaker[Session]
    lake_root: Path
    box: SecretBox
    gateway: StripeGateway
    webhook_tolerance: int = 300

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker[Session]) -> PaymentsEnv:
        """Build the environment the settings describe."""
        gateway = StripeGateway(
            settings.stripe_api_base,
            settings.stripe_timeout_seconds,
            settings.stripe_max_network_retries,
        )
        return cls(
            sessions,
            settings.lake_root,
            SecretBox.from_setting(settings.payments_encryption_key),
            gateway,
            settings.stripe_webhook_tolerance_seconds,
        )


def stripe_idempotency_key(tenant_id: int, action: str, ours: str) -> str:
    """Derive the key Stripe sees from ours: stable across retries, opaque, tenant-scoped."""
    material = json.dumps([tenant_id, action, ours], ensure_ascii=False).encode()
    return f"shoplake-{hashlib.sha256(material).hexdigest()[:48]}"
