"""Payments: Stripe Checkout, or offline a stand-in that behaves like it.

`STRIPE_SECRET_KEY` set: Stripe, through the `stripe` SDK (`STRIPE_API_BASE` points it at
another host, e.g. a test stub). Locally without a key: a stand-in that keeps the session in
the state backend and sends the shopper to `/_dev/checkout/<session_id>`, whose "pay" button
posts a Stripe-shaped, Stripe-signed event to the real webhook route (`devtools.dev_checkout`).
With `AUREN_VENDORS=realistic` that stand-in sits behind a local Stripe API, which the SDK and
`StripeCheckout` talk to (`common.providers.local.stripe_api`).
Either way a webhook delivery is verified by the stripe SDK's own verifier (`verify_event`).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from common.core import errors, jsondoc
from common.core.lazy import Lazy
from common.infra import log, state
from common.infra.config import STRIPE, ConfigError, settings
from common.providers.local import vendors

SIGNATURE_TOLERANCE_SECONDS = 300
LOCAL_SESSIONS = "local_checkout_sessions"
LOCAL_IDEMPOTENCY_KEYS = "local_checkout_idempotency_keys"
LOCAL_SESSION_SECONDS = 24 * 3600
LOCAL_CHECKOUT_PATH = "/_dev/checkout/"
EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,250}")  # fullmatch
EVENT_TYPE = re.compile(r"[^\x00]{1,255}")  # fullmatch


class CheckoutConflict(errors.Conflict):
    code = "checkout_conflict"


class InvalidSignature(errors.BadRequest):
    code = "invalid_signature"


class MalformedEvent(errors.BadRequest):
    code = "malformed_event"


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


class CheckoutProvider(Protocol):
    def create_session(self, params: dict[str, Any], idempotency_key: str) -> CheckoutSession:
        """Create a Checkout Session; the same key and params give the same session."""
        ...

    def end_session(self, session_id: str) -> str:
        """Expire the session if it is still open; return its status then (Stripe's words:
        `expired`, or `complete` when it was paid meanwhile)."""
        ...

    def paid_session(self, session_id: str) -> dict[str, Any] | None:
        """The session, as Stripe's events show it, when it is paid; else None."""
        ...


def _unavailable(what: str, exc: Any) -> errors.ServiceUnavailable:
    """Stripe could not be reached or failed: logged, and a 503 the shopper can retry."""
    log.error(what, error=f"{type(exc).__name__}: {exc.user_message}")
    return errors.ServiceUnavailable(
        "payments are unavailable right now, try again shortly",
        code="payments_unavailable",
        headers={"Retry-After": "5"},
    )


class StripeCheckout:
    def __init__(self, api_key: str, api_base: str | None = None, http_client: Any = None) -> None:
        import stripe

        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            # The SDK's default client waits 80 s; the function is cut long before that.
            http_client=http_client
            or stripe.new_default_http_client(timeout=STRIPE.timeout_seconds),
            max_network_retries=STRIPE.retries,  # safe: every create carries an idempotency key
        )

    def create_session(self, params: dict[str, Any], idempotency_key: str) -> CheckoutSession:
        import stripe

        try:
            created = self._client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.IdempotencyError:
            raise CheckoutConflict(
                "this order's checkout changed meanwhile; reload the order and try again"
            ) from None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise _unavailable("stripe checkout failed", exc) from None
        if not created.url:
            raise RuntimeError(f"Stripe returned Checkout Session {created.id} without a url")
        return CheckoutSession(id=created.id, url=created.url)

    def end_session(self, session_id: str) -> str:
        import stripe

        sessions = self._client.v1.checkout.sessions
        try:
            try:
                return str(sessions.expire(session_id).status)
            except stripe.InvalidRequestError:
                # Only an open session can be expired: say what it is now.
                return str(sessions.retrieve(session_id).status)
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise _unavailable("stripe expire failed", exc) from None
            # Stripe does not know it (another key's, or the local stand-in's): it cannot be
            # paid here, so it has ended.
            log.warning("checkout session unknown to stripe", session_id=session_id)
            return "expired"
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise _unavailable("stripe expire failed", exc) from None

    def paid_session(self, session_id: str) -> dict[str, Any] | None:
        import stripe

        try:
            found = self._client.v1.checkout.sessions.retrieve(session_id)
        except stripe.InvalidRequestError:
            return None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise _unavailable("stripe retrieve failed", exc) from None
        return found.to_dict() if found.payment_status == "paid" else None


class LocalCheckout:
    """Stripe Checkout's stand-in: sessions kept in the state backend for the dev page."""

    def create_session(self, params: dict[str, Any], idempotency_key: str) -> CheckoutSession:
        store = state.backend()
        key = hashlib.sha256(idempotency_key.encode()).hexdigest()
        fingerprint = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
        known = store.get(LOCAL_IDEMPOTENCY_KEYS, key)
        if known is not None:
            if known["fingerprint"] != fingerprint:
                raise CheckoutConflict(
                    "this order's checkout changed meanwhile; reload the order and try again"
                )
            return CheckoutSession(known["session_id"], local_checkout_url(known["session_id"]))
        session_id = "cs_local_" + secrets.token_hex(16)
        store.put(
            LOCAL_SESSIONS,
            session_id,
            {
                "id": session_id,
                "params": params,
                "status": "open",
                "payment_intent": "pi_local_" + secrets.token_hex(12),
                "created": int(time.time()),
            },
            ttl_seconds=LOCAL_SESSION_SECONDS,
        )
        store.put(
            LOCAL_IDEMPOTENCY_KEYS,
            key,
            {"session_id": session_id, "fingerprint": fingerprint},
            ttl_seconds=LOCAL_SESSION_SECONDS,
        )
        return CheckoutSession(session_id, local_checkout_url(session_id))

    def end_session(self, session_id: str) -> str:
        session = local_session(session_id)
        if session is None:
            return "expired"
        if session["status"] == "open":
            set_local_session_status(session, "expired")
            return "expired"
        return str(session["status"])

    def paid_session(self, session_id: str) -> dict[str, Any] | None:
        session = local_session(session_id)
        if session is None or session["status"] != "complete":
            return None
        return local_session_object(session, paid=True)


# The customer a local checkout "collects".
LOCAL_CUSTOMER = {
    "name": "Local Tester",
    "address": {
        "line1": "1 Test Street",
        "line2": None,
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "country": "US",
    },
}


def local_amount(params: dict[str, Any]) -> tuple[int, str]:
    items = params["line_items"]
    total = sum(item["quantity"] * item["price_data"]["unit_amount"] for item in items)
    return total, items[0]["price_data"]["currency"]


def local_session_object(session: dict[str, Any], *, paid: bool) -> dict[str, Any]:
    """The `checkout.session` object Stripe puts in its events, for this local session."""
    params = session["params"]
    total, currency = local_amount(params)
    # Like Checkout, the first shipping option is the one chosen.
    options = params.get("shipping_options") or []
    rate = options[0]["shipping_rate_data"] if options else None
    shipping = rate["fixed_amount"]["amount"] if rate else 0
    return {
        "id": session["id"],
        "object": "checkout.session",
        "amount_subtotal": total,
        "amount_total": total + shipping,
        "shipping_cost": {"amount_total": shipping, "shipping_rate": None} if rate else None,
        "currency": currency,
        "client_reference_id": params["client_reference_id"],
        "collected_information": {"shipping_details": LOCAL_CUSTOMER if paid else None},
        "created": session["created"],
        "customer_details": {"email": params["customer_email"], **LOCAL_CUSTOMER} if paid else None,
        "customer_email": params["customer_email"],
        "expires_at": session["created"] + LOCAL_SESSION_SECONDS,
        "livemode": False,
        "metadata": params["metadata"],
        "mode": params["mode"],
        "payment_intent": session["payment_intent"] if paid else None,
        "payment_status": "paid" if paid else "unpaid",
        "status": "complete" if paid else "expired",
        "success_url": params["success_url"],
        "cancel_url": params["cancel_url"],
        "url": None,
    }


def local_checkout_url(session_id: str) -> str:
    return LOCAL_CHECKOUT_PATH + session_id


def local_session(session_id: str) -> dict[str, Any] | None:
    """A session of the local stand-in (for its dev page), or None."""
    if not session_id.startswith("cs_local_"):
        return None
    return state.backend().get(LOCAL_SESSIONS, session_id)


def set_local_session_status(session: dict[str, Any], status: str) -> None:
    state.backend().put(
        LOCAL_SESSIONS, session["id"], {**session, "status": status}, LOCAL_SESSION_SECONDS
    )


def build_provider() -> CheckoutProvider:
    cfg = settings()
    if cfg.stripe_secret_key:
        return StripeCheckout(cfg.stripe_secret_key, cfg.stripe_api_base)
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs STRIPE_SECRET_KEY to take payments")
    if vendors.realistic():  # the SDK and this adapter, against a local Stripe API
        from common.providers.local import stripe_api

        client = stripe_api.http_client(LocalCheckout(), STRIPE.timeout_seconds)
        return StripeCheckout("sk_test_local", stripe_api.BASE_URL, http_client=client)
    return LocalCheckout()


provider = Lazy(build_provider)  # the instance's checkout provider


def _signed_at(header: str) -> int:
    """The `t=` timestamp of a `Stripe-Signature` header the SDK has accepted (its first one,
    as the SDK reads it)."""
    items = [item.split("=", 2) for item in header.split(",")]
    return int(next(item[1] for item in items if item[0] == "t"))


def parse_event(payload: bytes) -> dict[str, Any]:
    """The Stripe event envelope in a (verified) body, or a 400 `malformed_event`.

    Strict JSON (no NaN or Infinity, no byte order mark, nesting the parser can follow), an
    object with an `evt_` id, a type and a `data.object` object, and no NUL in the id or type:
    without them there is nothing to record the delivery under. What the object holds is the
    event handler's to check (`common.shop.fulfilment`).
    """
    try:
        event = jsondoc.parse(payload, "Stripe event")
    except errors.InvalidJson:
        raise MalformedEvent("the body of a Stripe event is not JSON") from None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not EVENT_ID.fullmatch(event["id"])
        or not isinstance(event.get("type"), str)
        or not EVENT_TYPE.fullmatch(event["type"])
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
    ):
        raise MalformedEvent("a Stripe event has an evt_ id, a type and data.object")
    return event


def verify(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event in `payload`, or a 400: `invalid_signature` when its `Stripe-Signature` is
    missing, malformed, wrong (checked with the stripe SDK's own verifier) or signed more than
    300 s before or after now; `malformed_event` when the signed body is not an event
    (`parse_event`)."""
    import stripe

    try:
        stripe.WebhookSignature.verify_header(
            payload,
            signature,
            settings().stripe_webhook_secret,
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise InvalidSignature(f"the Stripe signature is not valid: {exc}") from None
    # The SDK refuses a timestamp older than the tolerance only; one from the future is as
    # much a replay (or a skewed signer), so the window is both ways.
    if _signed_at(signature or "") > time.time() + SIGNATURE_TOLERANCE_SECONDS:
        raise InvalidSignature("the Stripe signature is not valid: its timestamp is in the future")
    return parse_event(payload)
