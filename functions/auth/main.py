"""The `auth` function: sign in with Google or Apple (WorkOS, or the local stand-in)."""

from __future__ import annotations

import html
from types import ModuleType
from typing import TYPE_CHECKING

import flask
import functions_framework

from common.core import errors
from common.infra import config
from common.web import sessions
from common.web.http import Call, Router, html_page
from common.web.ratelimits import RateLimit

# The sign-in models and domain load on the first request that needs them: the function starts
# without pydantic (issue 16).
if TYPE_CHECKING:
    from common.api.sign_in import CallbackQuery
    from common.shop.accounts import Me

config.require("WORKOS_API_KEY", "WORKOS_CLIENT_ID")
router = Router()

LOGIN_LIMIT = 10
LOGIN_WINDOW_SECONDS = 60


def _sign_in_api() -> ModuleType:
    from common.api import sign_in

    return sign_in


def _accounts() -> ModuleType:
    from common.shop import accounts

    return accounts


def _redirect(location: str) -> flask.Response:
    return flask.Response(status=302, headers={"Location": location})


@router.route(
    "GET",
    "/api/auth/login",
    query=lambda: _sign_in_api().LoginQuery,
    status=302,
    rate_limit=RateLimit("login", LOGIN_LIMIT, LOGIN_WINDOW_SECONDS),
)
def login(call: Call) -> flask.Response:
    """Start signing in with Google or Apple; redirects to the provider."""
    from common.shop import accounts

    browser = sessions.ensure(call)
    return _redirect(accounts.start(browser, call.query.provider, call.query.return_to))


def _bounce(request: flask.Request) -> flask.Response:
    """Re-enter the callback from our own page so the SameSite=Strict cookie is sent.

    The provider's redirect is a cross-site navigation, on which browsers withhold
    SameSite=Strict cookies; a navigation started by a page of this site carries them.
    """
    again = html.escape(f"{request.full_path}&bounced=1")
    return html_page(
        "Signing you in",
        f'<h1>Signing you in…</h1><p><a href="{again}">Continue</a></p>',
        head=f'<meta http-equiv="refresh" content="0;url={again}">',
    )


def _wants_html(request: flask.Request) -> bool:
    """Browsers prefer HTML; API clients (`*/*`, JSON) get the JSON error shape."""
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def _failure(request: flask.Request, exc: errors.ApiError) -> flask.Response:
    if _wants_html(request):
        return html_page(
            "Sign-in failed",
            f"<h1>We could not sign you in</h1><p>{html.escape(exc.message)}</p>"
            '<p><a class="button" href="/summary">Back to your order</a></p>',
            status=exc.status,
        )
    raise exc


@router.route(
    "GET",
    "/api/auth/callback",
    query=lambda: _sign_in_api().CallbackQuery,
    status=302,
    errors=(400, 502),
)
def callback(call: Call) -> flask.Response:
    """Where Google/Apple (through WorkOS) send the shopper back; signs them in."""
    from common.shop import accounts

    query: CallbackQuery = call.query
    browser = sessions.current(call.request)
    if browser is None and not query.bounced and query.code and _wants_html(call.request):
        return _bounce(call.request)
    try:
        if query.error:
            raise accounts.InvalidSignInState("sign-in was cancelled or refused")
        if not query.code or not query.state:
            raise accounts.InvalidSignInState("this sign-in link is incomplete")
        signed_in = accounts.finish(browser, query.code, query.state)
    except errors.ApiError as exc:
        return _failure(call.request, exc)
    response = _redirect(signed_in.return_to)
    sessions.set_cookie(response, signed_in.session)
    return response


@router.route("POST", "/api/auth/logout", status=204)
def logout(call: Call) -> flask.Response:
    """Sign out: this session is revoked (a copy of its cookie is no session) and cleared."""
    session = sessions.current(call.request)
    if session is not None:
        sessions.revoke(session)
    response = flask.Response(status=204)
    sessions.clear_cookie(response)
    return response


@router.route("POST", "/api/auth/logout-everywhere", status=204)
def logout_everywhere(call: Call) -> flask.Response:
    """Sign out everywhere: every session of the signed-in shopper ends, on every device."""
    sessions.revoke_everywhere(sessions.require_user(call))
    response = flask.Response(status=204)
    sessions.clear_cookie(response)
    return response


@router.route("GET", "/api/auth/me", response=lambda: _accounts().Me)
def me(call: Call) -> Me:
    """The signed-in shopper, or 401."""
    user = sessions.require_user(call)
    from common.shop import accounts

    return accounts.me(user)


@functions_framework.http
def auth(request: flask.Request) -> flask.Response:
    """Entry point of the `auth` Cloud Function."""
    return router(request)
