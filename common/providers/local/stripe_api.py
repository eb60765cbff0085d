"""A local Stripe API for Checkout Sessions, for `AUREN_VENDORS=realistic`.

The real `stripe` SDK (and so our adapter, `common.providers.checkout.StripeCheckout`, with its
timeout, network retries and idempotency keys) talks to it through a `requests` adapter
instead of the network. The sessions live in the local stand-in it is given (`LocalCheckout`),
so the dev checkout page still shows and pays them. After Stripe's latency it sometimes
answers 500, which the SDK retries with the same idempotency key, or a 429 lock timeout with
`Stripe-Should-Retry: true`, which Stripe sends when a retry will do
(`common.providers.local.vendors`).
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import requests.adapters

from common.core import errors
from common.providers.local import vendors

BASE_URL = "https://stripe.local"  # never resolved: the adapter answers every request
SESSION = re.compile(r"/v1/checkout/sessions/(?P<id>[\w-]+)(?P<expire>/expire)?")
WHOLE_NUMBERS = frozenset({"quantity", "unit_amount", "amount", "value"})  # of our params
FAILURES = {
    429: {"type": "invalid_request_error", "code": "lock_timeout", "message": "Lock timeout."},
    500: {"type": "api_error", "message": "An unknown error occurred (local stand-in)."},
}


def http_client(stand_in: Any, timeout_seconds: float) -> Any:
    """A stripe HTTP client whose every request this endpoint answers from `stand_in`."""
    import stripe

    session = requests.Session()
    session.mount(BASE_URL, _Adapter(stand_in))
    return stripe.RequestsClient(timeout=timeout_seconds, session=session)


def decode(body: str) -> dict[str, Any]:
    """Stripe's form encoding (`line_items[0][price_data][currency]=usd`) as the params it
    encodes, whole numbers where our params have them."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        path = re.findall(r"[^\[\]]+", key)
        node: Any = params
        for part, after in itertools.pairwise(path):
            child: Any = [] if after.isdigit() else {}
            if isinstance(node, list):
                if int(part) == len(node):
                    node.append(child)
                node = node[int(part)]
            else:
                node = node.setdefault(part, child)
        last = path[-1]
        leaf = int(value) if last in WHOLE_NUMBERS else value
        if isinstance(node, list):
            node.append(leaf)
        else:
            node[last] = leaf
    return params


class _Adapter(requests.adapters.BaseAdapter):
    def __init__(self, stand_in: Any) -> None:
        super().__init__()
        self.stand_in = stand_in

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        status = vendors.answer("stripe")
        if status is not None:
            headers = {"Stripe-Should-Retry": "true"} if status == 429 else {}
            return _response(request, status, {"error": FAILURES[status]}, headers)
        path = urlsplit(request.url or "").path
        found = SESSION.fullmatch(path)
        if request.method == "POST" and path == "/v1/checkout/sessions":
            body = request.body  # the SDK sends a str or bytes, never a stream
            text = body.decode() if isinstance(body, bytes) else str(body or "")
            try:
                created = self.stand_in.create_session(
                    decode(text), request.headers["Idempotency-Key"]
                )
            except errors.Conflict as exc:
                error = {"type": "idempotency_error", "message": exc.message}
                return _response(request, 400, {"error": error})
            return _response(request, 200, _session(created.id, "open", url=created.url))
        if found and request.method == "POST" and found["expire"]:
            return _response(
                request, 200, _session(found["id"], self.stand_in.end_session(found["id"]))
            )
        if found and request.method == "GET":
            paid = self.stand_in.paid_session(found["id"])
            return _response(request, 200, paid or _session(found["id"], "open"))
        error = {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})."}
        return _response(request, 404, {"error": error})

    def close(self) -> None:
        pass


def _session(session_id: str, status: str, url: str | None = None) -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "status": status,
        "payment_status": "unpaid",
        "url": url,
    }


def _response(
    request: requests.PreparedRequest,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers.update({"Content-Type": "application/json", **(headers or {})})
    response.request = request
    response.url = request.url or ""
    return response
