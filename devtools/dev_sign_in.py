"""The local sign-in stand-in: what WorkOS and Google/Apple do, offline (local mode only)."""

import html
from urllib.parse import urlencode

import flask
from werkzeug.wrappers import Request, Response

from common.providers import identity
from common.web.http import html_page

PROVIDER_NAMES = {"google": "Google", "apple": "Apple"}


def sign_in_page(request: Request) -> Response:
    """Sign in locally with just an email (stands in for Google/Apple through WorkOS)."""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        state = request.form.get("state", "")
        if "@" not in email or len(email) > 320 or not state:
            return _form(state, request.form.get("provider", ""), "Enter an email address.", 400)
        code = identity.issue_local_code(email)
        query = urlencode({"code": code, "state": state})
        return flask.redirect(f"{identity.CALLBACK_PATH}?{query}", code=302)
    return _form(request.args.get("state", ""), request.args.get("provider", ""), "", 200)


def _form(state: str, provider: str, problem: str, status: int) -> Response:
    name = PROVIDER_NAMES.get(provider, "your account")
    error = f'<p class="form-error" role="alert">{html.escape(problem)}</p>' if problem else ""
    return html_page(
        f"Sign in with {name}",
        f"<h1>Sign in with {html.escape(name)}</h1>"
        "<p>Local stand-in for WorkOS: any email signs you in. "
        "Production uses Google or Apple.</p>"
        f"{error}"
        '<form method="post" action="/_dev/sign-in" class="stack">'
        '<label for="email">Email</label>'
        '<input id="email" name="email" type="email" autocomplete="email" required>'
        f'<input type="hidden" name="state" value="{html.escape(state)}">'
        f'<input type="hidden" name="provider" value="{html.escape(provider)}">'
        '<button class="button button-primary" type="submit">Continue</button>'
        "</form>",
        status=status,
    )
