"""The local checkout stand-in: what Stripe Checkout does, offline (local mode only).

`POST /api/checkout/session` without `STRIPE_SECRET_KEY` sends the shopper here. Paying builds a
`checkout.session.completed` event shaped like Stripe's, signs it with `STRIPE_WEBHOOK_SECRET`
using the stripe SDK's own signature scheme, and POSTs it to `/api/webhooks/stripe` on this
server, through the same dispatcher as every request, so the webhook cannot tell it from Stripe.
"""

from __future__ import annotations

import html
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

import flask
from werkzeug.wrappers import Request, Response

from common.infra.config import settings
from common.providers import checkout as checkout_provider
from common.shop import pricing
from common.web.http import html_page, same_site

WEBHOOK_PATH = "/api/webhooks/stripe"


def checkout_page(request: Request, session_id: str) -> Response:
    """Pay (or abandon) a local Checkout Session, as on Stripe's hosted page."""
    if not settings().local:
        return html_page("Not found", "<h1>Not found</h1>", status=404)
    session = checkout_provider.local_session(session_id)
    if session is None:
        return html_page("Not found", "<h1>There is no such checkout session</h1>", status=404)
    if request.method == "GET":
        page = _page(session)
        # A form POST carries `Origin: null` from a no-referrer page; the pay form needs its origin.
        page.headers["Referrer-Policy"] = "same-origin"
        return page
    if request.method != "POST":
        return Response("method not allowed", status=405, headers={"Allow": "GET, POST"})
    if not same_site(flask.Request(request.environ)):  # the API's check: Origin is the site
        return html_page("Refused", "<h1>Cross-site request refused</h1>", status=403)
    params = session["params"]
    outcome = request.form.get("outcome", "")
    if outcome == "cancel":
        return flask.redirect(params["cancel_url"], code=303)
    if outcome not in ("paid", "expire"):
        return html_page("Bad request", "<h1>Choose pay, cancel or expire</h1>", status=400)
    if session["status"] == "complete":
        return flask.redirect(_success_url(session), code=303)
    if session["status"] == "expired":
        return html_page("Expired", "<h1>This checkout session has expired</h1>", status=409)
    paid = outcome == "paid"
    event = stripe_event(
        "checkout.session.completed" if paid else "checkout.session.expired",
        checkout_provider.local_session_object(session, paid=paid),
    )
    status, answer = deliver(request, event)
    if not 200 <= status < 300:
        return html_page(
            "Webhook failed",
            f"<h1>The webhook answered {status}</h1><pre>{html.escape(answer)}</pre>",
            status=502,
        )
    checkout_provider.set_local_session_status(session, "complete" if paid else "expired")
    return flask.redirect(_success_url(session) if paid else params["cancel_url"], code=303)


def _success_url(session: dict[str, Any]) -> str:
    """The success URL with the session's id in place of `{CHECKOUT_SESSION_ID}`, as Checkout
    fills it in."""
    return str(session["params"]["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])


def stripe_event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    import stripe

    return {
        "id": "evt_local_" + secrets.token_hex(12),
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def sign(payload: str) -> str:
    """The `Stripe-Signature` header for `payload`, made as Stripe makes it."""
    import stripe

    return stripe.WebhookSignature.generate_signature_header(
        payload, settings().stripe_webhook_secret
    )


def deliver(request: Request, event: dict[str, Any]) -> tuple[int, str]:
    """POST the signed event to the webhook route of this very server; (status, body)."""
    payload = json.dumps(event, separators=(",", ":"))
    server = f"http://{request.environ['SERVER_NAME']}:{request.environ['SERVER_PORT']}"
    delivery = urllib.request.Request(
        server + WEBHOOK_PATH,
        data=payload.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(payload),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
    )
    try:
        with urllib.request.urlopen(delivery, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.read().decode()


def _page(session: dict[str, Any]) -> Response:
    params = session["params"]
    total, currency = checkout_provider.local_amount(params)
    rows = []
    for item in params["line_items"]:
        product, unit = item["price_data"]["product_data"], item["price_data"]["unit_amount"]
        rows.append(
            f"<tr><td>{html.escape(product['name'])}<br>"
            f"<small>{html.escape(product.get('description', ''))}</small></td>"
            f"<td>{item['quantity']}</td><td>{html.escape(pricing.money(unit, currency))}</td>"
            f"<td>{html.escape(pricing.money(item['quantity'] * unit, currency))}</td></tr>"
        )
    action = html.escape(checkout_provider.local_checkout_url(session["id"]))
    if session["status"] == "open":
        buttons = (
            f'<form method="post" action="{action}" class="stack">'
            '<button class="btn btn-primary btn-lg" type="submit" name="outcome" value="paid">'
            f"Pay {html.escape(pricing.money(total, currency))}</button>"
            '<button class="btn btn-secondary" type="submit" name="outcome" value="cancel">'
            "Back to the shop</button>"
            '<button class="btn btn-secondary" type="submit" name="outcome" value="expire">'
            "Let the session expire</button>"
            "</form>"
        )
    else:
        buttons = f"<p>This checkout session is {html.escape(session['status'])}.</p>"
    return html_page(
        "Test checkout",
        "<h1>Test checkout</h1>"
        "<p>Local stand-in for Stripe Checkout: no card, no money. Paying sends a signed "
        "<code>checkout.session.completed</code> event to the webhook.</p>"
        f"<p>Order <code>{html.escape(params['client_reference_id'])}</code> for "
        f"{html.escape(params['customer_email'])}</p>"
        "<table><thead><tr><th>Item</th><th>Qty</th><th>Each</th><th>Amount</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"<p><strong>Total {html.escape(pricing.money(total, currency))}</strong></p>"
        f"{buttons}",
    )
