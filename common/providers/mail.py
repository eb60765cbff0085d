"""Email: SendGrid (`SENDGRID_API_KEY` set) or, locally, one RFC 5322 file per message in
`.data/mail/` (shown by the `/_dev/mail` viewer).

Messages are rendered by the effects that send them (`common.effects.order_mail`,
`common.effects.contact_mail`) and always carry a text and an HTML body. Every send is keyed by
the outbox task's dedupe key: the local mailer writes `<dedupe key>.eml` once and never again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol

from common.core.lazy import Lazy
from common.infra.config import SENDGRID, ConfigError, settings
from common.providers.local import vendors

SENDGRID_HOST = "https://api.sendgrid.com"


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
        self._client.client.timeout = SENDGRID.timeout_seconds

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
        status = vendors.answer("sendgrid")
        if status is not None:
            raise MailError(f"SendGrid answered {status}")  # as SendGridMailer says it
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
