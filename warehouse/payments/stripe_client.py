"""The Stripe API through the official library: PaymentIntents, Refunds, webhook verification.

One :class:`StripeGateway` per process shares an HTTP connection pool; each call uses the
calling tenant's own secret key. Every write carries an idempotency key, so the library's
network retries (and ours) can never create a second object. Library errors become
:class:`ProviderError` with our own wording: Stripe's messages can quote a masked API key, and
nothing of a key may reach a response or a log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from warehouse.payments.errors import ProviderError
from warehouse.payments.objects import Intent, Refund, intent_from, refund_from

if TYPE_CHECKING:  # the library is imported on first use: most workers never call Stripe
    import stripe

# The library logs whole API responses at DEBUG, and a PaymentIntent carries its
# client_secret: keep its logger at INFO whatever the root level is.
logging.getLogger("stripe").setLevel(logging.INFO)


class SignatureInvalid(Exception):
    """A webhook's signature is missing, wrong or too old, or its body is not an event."""


class StripeGateway:
    """Calls Stripe for one tenant at a time, at a configurable API base (tests: a stand-in)."""

    def __init__(self, api_base: str = "", timeout: float = 30, max_retries: int = 2) -> None:
        self.base_addresses = {"api": api_base.rstrip("/")} if api_base else {}
        self.max_retries = max_retries
        self.timeout = timeout
        self._http: stripe.RequestsClient | None = None

    def client(self, api_key: str) -> stripe.StripeClient:
        """Return a client acting with ``api_key`` (the tenant's secret key)."""
        import stripe

        if self._http is None:  # one pool per process, made on first use
            self._http = stripe.RequestsClient(timeout=self.timeout)
        return stripe.StripeClient(
            api_key,
            base_addresses=self.base_addresses,  # type: ignore[arg-type]
            http_client=self._http,
            max_network_retries=self.max_retries,
        )

    def create_intent(
        self, api_key: str, params: Mapping[str, Any], idempotency_key: str
    ) -> tuple[Intent, str | None]:
        """Create a PaymentIntent; return it and its client secret (to hand over, not keep)."""
        options = {"idempotency_key": idempotency_key}
        with _mapped_errors():
            obj = self.client(api_key).v1.payment_intents.create(dict(params), options)  # type: ignore[arg-type]
        data = obj.to_dict()
        return intent_from(data), data.get("client_secret")

    def retrieve_intent(self, api_key: str, intent_id: str) -> tuple[Intent, str | None]:
        """Fetch a PaymentIntent's current state and its client secret."""
        with _mapped_errors():
            obj = self.client(api_key).v1.payment_intents.retrieve(intent_id)
        data = obj.to_dict()
        return intent_from(data), data.get("client_secret")

    def create_refund(
        self, api_key: str, params: Mapping[str, Any], idempotency_key: str
    ) -> Refund:
        """Create a Refund of a PaymentIntent."""
        options = {"idempotency_key": idempotency_key}
        with _mapped_errors():
            obj = self.client(api_key).v1.refunds.create(dict(params), options)  # type: ignore[arg-type]
        return refund_from(obj.to_dict())


def verify_event(payload: bytes, header: str | None, secret: str, tolerance: int) -> dict:
    """Check a webhook's ``Stripe-Signature`` with the library and return the event as a dict."""
    import stripe

    try:
        event = stripe.Webhook.construct_event(payload, header, secret, tolerance)
    except stripe.SignatureVerificationError:
        raise SignatureInvalid("signature") from None
    except (ValueError, UnicodeDecodeError):  # signed, but not a JSON event
        raise SignatureInvalid("payload") from None
    data = event.to_dict()
    if not isinstance(data.get("data"), Mapping) or not data.get("id"):
        raise SignatureInvalid("payload")
    return json.loads(json.dumps(data))  # plain dicts and lists all the way down


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Turn library errors into ProviderError without quoting Stripe's message."""
    import stripe

    try:
        yield
    except stripe.StripeError as exc:
        raise _provider_error(exc) from None


def _provider_error(exc: stripe.StripeError) -> ProviderError:
    import stripe

    code = str(getattr(exc, "code", None) or "")
    if isinstance(exc, stripe.InvalidRequestError | stripe.CardError):
        param = getattr(exc, "param", None) or "request"
        reason = f"Stripe refused the request ({code or 'invalid_request'})"
        return ProviderError(param, reason, 422, code)
    if isinstance(exc, stripe.IdempotencyError):
        reason = "Stripe saw this idempotency key with different parameters"
        return ProviderError("Idempotency-Key", reason, 409, code)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        reason = "Stripe refused the tenant's secret key; update the payment settings"
        return ProviderError("secret_key", reason, 502, code)
    if isinstance(exc, stripe.APIConnectionError):
        return ProviderError("stripe", "Stripe could not be reached; retry later", 502, code)
    return ProviderError("stripe", f"Stripe failed ({type(exc).__name__})", 502, code)
