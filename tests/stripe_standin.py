"""A tiny local HTTP server standing in for the Stripe API, plus Stripe-shaped test helpers.

It answers only what shoplake calls - create and retrieve a PaymentIntent, create a Refund -
with JSON shaped like Stripe's (the official library parses it), honours Idempotency-Key like
Stripe (same key + same parameters = the first response; different parameters = an
``idempotency_error``), and refuses unknown API keys. Tests drive the shopper's side with
:meth:`StripeStandin.pay` and build signed webhook deliveries with :func:`event` and
:func:`signature_header` (HMAC-SHA256 over ``t.payload``, exactly as Stripe signs).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_NESTED = re.compile(r"^([^\[]+)((?:\[[^\]]*\])*)$")


def _hex(n: int = 24) -> str:
    return uuid.uuid4().hex[:n]


def parse_form(body: str) -> dict[str, Any]:
    """Decode Stripe's form encoding (``metadata[k]=v``, ``list[0]=x``) into nested values."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        match = _NESTED.match(key)
        name, rest = (match.group(1), match.group(2)) if match else (key, "")
        parts = [name, *re.findall(r"\[([^\]]*)\]", rest)]
        target = result
        for part, following in zip(parts, parts[1:], strict=False):
            target = target.setdefault(part, [] if following.isdigit() else {})
            if isinstance(target, list):
                target.append(value)
                break
        else:
            target[parts[-1]] = value
    return result


class StripeStandin:
    """Holds PaymentIntents and Refunds per API key; ``url`` is the base to configure."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.unreachable: set[str] = set()  # paths answered by a dropped connection
        self._replies: dict[tuple[str, str], tuple[str, int, dict]] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StripeStandin:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def new_key(self) -> str:
        """Register and return a fresh test secret key."""
        key = f"sk_test_{_hex(32)}"
        self.keys.add(key)
        return key

    def pay(self, intent_id: str) -> dict[str, Any]:
        """Let the shopper pay: the intent succeeds with a charge; returns the intent."""
        with self._lock:
            intent = self.intents[intent_id]
            intent.update(status="succeeded", amount_received=intent["amount"])
            intent["latest_charge"] = f"ch_{_hex()}"
            return dict(intent)

    # -- request handling -------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict, body: str) -> tuple[int, dict]:
        """Answer one API call (runs in the server's thread)."""
        params = parse_form(body) if body else {}
        key = headers.get("authorization", "").removeprefix("Bearer ").strip()
        self.requests.append({"method": method, "path": path, "headers": headers, "params": params})
        if key not in self.keys:
            return 401, _error("invalid_request_error", "Invalid API Key provided.")
        idem = headers.get("idempotency-key")
        with self._lock:
            if method == "POST" and idem:
                stored = self._replies.get((key, idem))
                if stored is not None:
                    if stored[0] != body:
                        return 400, _error(
                            "idempotency_error",
                            "Keys for idempotent requests "
                            "can only be used with the same parameters.",
                        )
                    return stored[1], stored[2]
            status, reply = self._route(method, path, params, key)
            if method == "POST" and idem:
                self._replies[(key, idem)] = (body, status, reply)
        return status, reply

    def _route(self, method: str, path: str, params: dict, key: str) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/payment_intents":
            return 200, self._create_intent(params, key)
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            intent = self.intents.get(path.rsplit("/", 1)[-1])
            if intent is None or intent["_key"] != key:
                return 404, _error(
                    "invalid_request_error", "No such payment_intent", code="resource_missing"
                )
            return 200, _public(intent)
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(params, key)
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({path}).")

    def _create_intent(self, params: dict, key: str) -> dict:
        intent_id = f"pi_{_hex()}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "currency": params["currency"],
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{_hex()}",
            "created": int(time.time()),
            "latest_charge": None,
            "last_payment_error": None,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "_key": key,
        }
        self.intents[intent_id] = intent
        return _public(intent)

    def _create_refund(self, params: dict, key: str) -> tuple[int, dict]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None or intent["_key"] != key:
            return 400, _error(
                "invalid_request_error",
                "No such payment_intent",
                code="resource_missing",
                param="payment_intent",
            )
        if intent["status"] != "succeeded":
            return 400, _error(
                "invalid_request_error",
                "This PaymentIntent has no charge.",
                code="charge_not_succeeded",
                param="payment_intent",
            )
        refunded = sum(
            r["amount"]
            for r in self.refunds.values()
            if r["payment_intent"] == intent["id"] and r["status"] == "succeeded"
        )
        left = intent["amount_received"] - refunded
        amount = int(params.get("amount", left))
        if left <= 0:
            return 400, _error(
                "invalid_request_error",
                "Charge has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > left:
            return 400, _error(
                "invalid_request_error",
                "Refund amount is greater than unrefunded amount on charge.",
                code="amount_too_large",
                param="amount",
            )
        refund = {
            "id": f"re_{_hex()}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "status": "succeeded",
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "reason": params.get("reason"),
            "failure_reason": None,
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund


def _public(intent: dict) -> dict:
    return {k: v for k, v in intent.items() if not k.startswith("_")}


def _error(kind: str, message: str, **fields: Any) -> dict:
    return {"error": {"type": kind, "message": message, **fields}}


def _handler(standin: StripeStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            path = urlsplit(self.path).path
            if path in standin.unreachable:  # a network failure: no HTTP answer at all
                self.close_connection = True
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, reply = standin.answer(self.command, path, headers, body)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{_hex()}")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *_args: Any) -> None:  # keep test output quiet
            return None

    return Handler


# -- webhook deliveries ------------------------------------------------------------------


def event(kind: str, obj: dict, created: int | None = None, event_id: str | None = None) -> dict:
    """Build an event the way Stripe delivers it (a snapshot of ``obj``)."""
    return {
        "id": event_id or f"evt_{_hex()}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created if created is not None else int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Sign ``payload`` as Stripe does: ``t=<ts>,v1=<HMAC-SHA256(secret, "<ts>.<payload>")>``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def refund_object(refund_id: str, intent: dict, amount: int, status: str, created: int) -> dict:
    """Build a Refund object of ``intent`` as an event carries it."""
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": intent["currency"],
        "status": status,
        "payment_intent": intent["id"],
        "charge": intent.get("latest_charge"),
        "reason": None,
        "failure_reason": "lost_or_stolen_card" if status == "failed" else None,
        "metadata": {},
        "created": created,
    }


def dispute_object(dispute_id: str, intent: dict, status: str, created: int) -> dict:
    """Build a Dispute object against ``intent``'s charge."""
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": intent["amount"],
        "currency": intent["currency"],
        "status": status,
        "reason": "fraudulent",
        "charge": intent.get("latest_charge"),
        "payment_intent": intent["id"],
        "created": created,
    }


# -- a shop set up for payments (used by the payments and webhook tests) ------------------


class Shop:
    """A tenant with Stripe configured through the API, an admin's headers and its secrets."""

    def __init__(self, client, make, standin: StripeStandin, slug: str | None = None) -> None:
        self.client = client
        self.tenant = make.tenant(slug)
        self.headers = make.bearer(make.user(tenant=self.tenant), self.tenant)
        self.secret_key = standin.new_key()
        self.webhook_secret = f"whsec_{_hex(32)}"
        self.standin = standin
        reply = client.patch(
            "/api/v1/payments/settings/",
            json={"secret_key": self.secret_key, "webhook_secret": self.webhook_secret},
            headers=self.headers,
        )
        assert reply.status_code == 200, reply.get_json()

    def order(self, order_id: str, total_minor: int = 2500, currency: str = "EUR", **extra):
        """Ingest an order whose total is ``total_minor`` (one line, no tax or shipping)."""
        record = {
            "id": order_id,
            "order_number": f"#{order_id}",
            "status": "pending",
            "currency": currency,
            "subtotal_minor": total_minor,
            "total_minor": total_minor,
            "created_at": "2024-05-01T10:00:00Z",
            "updated_at": "2024-05-01T10:00:00Z",
            "items": [
                {
                    "product_id": "p1",
                    "sku": "S1",
                    "name": "Shirt",
                    "quantity": 1,
                    "unit_price_minor": total_minor,
                },
            ],
            **extra,
        }
        reply = self.client.post(
            "/api/v1/ingest/order/",
            data=json.dumps(record) + "\n",
            content_type="application/x-ndjson",
            headers=self.headers,
        )
        assert reply.status_code == 200 and reply.get_json()["rows_inserted"] == 1, reply.json
        return record

    def intent(self, order_id: str, **body):
        """Create the order's PaymentIntent through the API; return the response."""
        return self.client.post(
            "/api/v1/payments/intents/", json={"order_id": order_id, **body}, headers=self.headers
        )

    def paid_intent(self, order_id: str, total_minor: int = 2500) -> dict:
        """Ingest an order, create its intent and let the shopper pay; return Stripe's intent."""
        self.order(order_id, total_minor)
        reply = self.intent(order_id)
        assert reply.status_code == 201, reply.get_json()
        return self.standin.pay(reply.get_json()["id"])

    def refund(self, payment_id: str, headers: dict | None = None, **body):
        """Ask for a refund through the API; return the response."""
        return self.client.post(
            f"/api/v1/payments/{payment_id}/refunds/",
            json=body,
            headers={**self.headers, **(headers or {})},
        )

    def deliver(
        self,
        evt: dict,
        secret: str | None = None,
        timestamp: int | None = None,
        body: str | None = None,
    ):
        """POST a signed event to this shop's webhook URL; return the response."""
        payload = json.dumps(evt)
        header = signature_header(payload, secret or self.webhook_secret, timestamp)
        return self.client.post(
            f"/api/v1/webhooks/stripe/{self.tenant.slug}/",
            data=body if body is not None else payload,
            content_type="application/json",
            headers={"Stripe-Signature": header},
        )
