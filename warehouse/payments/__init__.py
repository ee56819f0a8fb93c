"""Payments through Stripe: provider settings, PaymentIntents, refunds, disputes, events.

Public API::

    from warehouse.payments import PaymentsEnv, create_intent, create_refund, apply_event

    env = PaymentsEnv.from_settings(settings, session_factory)
    result = create_intent(env, tenant_id, "order-1")          # IntentResult(payment, ...)
    refund, created = create_refund(env, tenant_id, "pi_...", 500, None, "key-1")

* :mod:`.providers` - per-tenant Stripe secrets, sealed by :mod:`.crypto` (AES-GCM, keys from
  ``payments_encryption_key``), and the enabled payment methods;
* :mod:`.intents` / :mod:`.refunds` - the API operations; :mod:`.events` - webhook events;
* :mod:`.states` - the status ranks and the ordering rule (older never overwrites newer);
* :mod:`.store` - control-DB rows; :mod:`.records` - the lake records they land
  (``payments``, ``refunds``, ``disputes``, ``payment_events``; see CONTRACTS-SPEC.md);
* :mod:`.stripe_client` - the official ``stripe`` library, at ``stripe_api_base``.
"""

from warehouse.payments.env import PaymentsEnv
from warehouse.payments.events import Applied, apply_event
from warehouse.payments.intents import IntentResult, create_intent
from warehouse.payments.refunds import create_refund

__all__ = [
    "Applied",
    "IntentResult",
    "PaymentsEnv",
    "apply_event",
    "create_intent",
    "create_refund",
]
