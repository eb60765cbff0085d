"""The local mail viewer: the messages the local mailer wrote to `.data/mail/` (local mode only)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from werkzeug.wrappers import Request, Response

from common.infra.config import settings
from common.web.http import PAGE_CSP, html_page

EML_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,200}\.eml$")
# The list page embeds each message's HTML part from its own, sandboxed URL.
VIEWER_CSP = PAGE_CSP.replace("default-src 'none'", "default-src 'none'; frame-src 'self'")
MESSAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: http: data:; "
    "sandbox; frame-ancestors 'self'"
)


def _folder() -> Path:
    return settings().data_dir / "mail"


def _message_file(name: str) -> Path | None:
    if not EML_NAME.match(name):
        return None
    file = _folder() / name
    return file if file.is_file() else None


def _parse(file: Path) -> EmailMessage:
    with file.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    return message


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return str(part.get_content()) if part is not None else ""


def mail_index(request: Request) -> Response:
    """The emails the shop sent locally (order confirmations, ops notifications, contact)."""
    if not settings().local:
        return html_page("Not found", "<h1>Not found</h1>", status=404)
    files = sorted(_folder().glob("*.eml"), key=lambda f: f.stat().st_mtime, reverse=True)
    rows = []
    for file in files:
        message = _parse(file)
        sent = datetime.fromtimestamp(file.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(
            f"<tr><td>{sent}</td><td>{html.escape(str(message['To'] or ''))}</td>"
            f'<td><a href="/_dev/mail/{html.escape(file.name)}">'
            f"{html.escape(str(message['Subject'] or '(no subject)'))}</a></td></tr>"
        )
    table = (
        "<table><thead><tr><th>Sent (UTC)</th><th>To</th><th>Subject</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No email yet. Pay an order or send the contact form.</p>"
    )
    return html_page(
        "Local mail",
        f"<h1>Local mail</h1><p>{len(rows)} message(s) in <code>"
        f"{html.escape(str(_folder()))}</code>. With <code>SENDGRID_API_KEY</code> set, "
        "email goes through SendGrid instead.</p>" + table,
    )


def mail_message(request: Request, name: str) -> Response:
    """One email: its headers, its HTML part (sandboxed) and its text part."""
    file = _message_file(name) if settings().local else None
    if file is None:
        return html_page("Not found", "<h1>There is no such email</h1>", status=404)
    message = _parse(file)
    headers = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{html.escape(str(message[key]))}</td></tr>"
        for key in ("From", "To", "Reply-To", "Subject", "Date")
        if message[key]
    )
    response = html_page(
        str(message["Subject"] or "Email"),
        '<p><a href="/_dev/mail">All email</a></p>'
        f"<table>{headers}</table>"
        f'<iframe src="/_dev/mail/{html.escape(name)}/html" title="HTML part" '
        'sandbox width="100%" height="720"></iframe>'
        f"<h2>Text part</h2><pre>{html.escape(_part(message, 'plain'))}</pre>",
    )
    response.headers["Content-Security-Policy"] = VIEWER_CSP
    return response


def mail_html(request: Request, name: str) -> Response:
    """The HTML part of one email, as a mail client shows it (no scripts, no forms)."""
    file = _message_file(name) if settings().local else None
    if file is None:
        return Response("no such email", status=404, mimetype="text/plain")
    response = Response(_part(_parse(file), "html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = MESSAGE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
