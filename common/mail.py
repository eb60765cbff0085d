"""Email: SendGrid (`SENDGRID_API_KEY` set) or, locally, one RFC 5322 file per message in
`.data/mail/` (shown by the `/_dev/mail` viewer).

Messages are built by the modules that send them (`fulfilment`, `contact`) with the layout and
money helpers here, and always carry a text and an HTML body. Every send is keyed by the
outbox task's dedupe key: the local mailer writes `<dedupe key>.eml` once and never again.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol

from common.config import ConfigError, settings
from common.lazy import Lazy

TIMEOUT_SECONDS = 20.0
SENDGRID_HOST = "https://api.sendgrid.com"
CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$"}


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str
    reply_to: str | None = None
    # A SendGrid dynamic template and its data, used instead of the bodies when configured.
    template_id: str | None = None
    template_data: dict[str, Any] = field(default_factory=dict)


class MailError(RuntimeError):
    """The mail provider refused or failed to take a message."""


class Mailer(Protocol):
    def send(self, message: Message, dedupe_key: str) -> None: ...


class SendGridMailer:
    def __init__(self, api_key: str, host: str = SENDGRID_HOST) -> None:
        from sendgrid import SendGridAPIClient

        self._client = SendGridAPIClient(api_key=api_key, host=host)
        self._client.client.timeout = TIMEOUT_SECONDS

    def send(self, message: Message, dedupe_key: str) -> None:
        from python_http_client.exceptions import HTTPError
        from sendgrid.helpers.mail import CustomArg, Mail, ReplyTo

        mail = Mail(
            from_email=settings().mail_from,
            to_emails=message.to,
            subject=message.subject,
            plain_text_content=message.text,
            html_content=message.html,
        )
        if message.reply_to:
            mail.reply_to = ReplyTo(message.reply_to)
        if message.template_id:
            mail.template_id = message.template_id
            mail.dynamic_template_data = message.template_data
        mail.custom_arg = CustomArg("dedupe_key", dedupe_key)
        try:
            response = self._client.send(mail)
        except HTTPError as exc:
            raise MailError(f"SendGrid answered {exc.status_code}") from None
        except OSError as exc:  # urllib's URLError, timeouts, refused connections
            raise MailError(f"SendGrid unreachable: {exc}") from None
        if not 200 <= response.status_code < 300:
            raise MailError(f"SendGrid answered {response.status_code}")


def eml_name(dedupe_key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", dedupe_key) + ".eml"


class LocalMailer:
    """Writes each message to `<folder>/<dedupe key>.eml`, once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: Message, dedupe_key: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        email = EmailMessage()
        email["From"] = settings().mail_from
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = make_msgid(domain="auren.local")
        if message.reply_to:
            email["Reply-To"] = message.reply_to
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        target = self.folder / eml_name(dedupe_key)
        try:
            with target.open("xb") as file:  # exclusive: a second send of this key does nothing
                file.write(email.as_bytes())
        except FileExistsError:
            return


def build_mailer() -> Mailer:
    cfg = settings()
    if cfg.sendgrid_api_key:
        return SendGridMailer(cfg.sendgrid_api_key)
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs SENDGRID_API_KEY to send email")
    return LocalMailer(cfg.data_dir / "mail")


mailer = Lazy(build_mailer)  # the instance's mail provider


# Rendering helpers shared by every message.


def money(cents: int, currency: str) -> str:
    """`$1,234.50`; currencies without a symbol here read `1,234.50 CHF`."""
    sign = "-" if cents < 0 else ""
    amount = f"{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency.upper()}"


def absolute_url(url: str | None) -> str | None:
    """`url` as an absolute URL on the site (mail clients cannot resolve relative ones)."""
    if not url:
        return None
    if url.startswith(("https://", "http://")):
        return url
    return settings().site_url + "/" + url.lstrip("/")


def layout(title: str, body_html: str) -> str:
    """A complete, inline-styled HTML email around `body_html` (already escaped)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(title)}</title></head>
<body style="margin:0;padding:0;background:#f4f1ec;color:#1d1b19;
 font-family:Helvetica,Arial,sans-serif">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f1ec">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="600" cellpadding="0" cellspacing="0"
 style="max-width:600px;width:100%;background:#ffffff;border-radius:12px">
<tr><td style="padding:24px 28px 8px;font-size:22px;font-weight:bold;letter-spacing:2px">
AUREN</td></tr>
<tr><td style="padding:8px 28px 28px;font-size:15px;line-height:1.5">{body_html}</td></tr>
</table>
<p style="font-size:12px;color:#77716a">Auren · custom apparel, made to order</p>
</td></tr></table>
</body></html>
"""


def button(url: str, label: str) -> str:
    return (
        f'<p style="margin:24px 0"><a href="{html.escape(url)}" style="background:#1d1b19;'
        "color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:8px;"
        f'display:inline-block">{html.escape(label)}</a></p>'
    )
