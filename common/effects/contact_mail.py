"""The email to ops of a message left on the contact form (task `contact_email`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.effects import outbox
from common.effects.messages import render
from common.infra.config import settings
from common.providers import mail
from common.shop.contact import stored_message

if TYPE_CHECKING:
    from common.infra.db import Connection


def contact_message(contact_id: str, name: str, email: str, message: str) -> mail.Message:
    subject = f"Contact form: {name}"
    text_body, html_body = render(
        "contact", subject=subject, contact_id=contact_id, name=name, email=email, message=message
    )
    return mail.Message(
        to=settings().ops_email,
        subject=subject,
        text=text_body,
        html=html_body,
        reply_to=email,
    )


def perform_contact_email(conn: Connection, task: outbox.Task) -> None:
    contact_id = task.payload["contact_id"]
    stored = stored_message(conn, contact_id)
    if stored is None:
        raise LookupError(f"contact message {contact_id} does not exist")
    mail.mailer().send(contact_message(contact_id, *stored), task.dedupe_key)


HANDLERS: dict[str, outbox.Handler] = {"contact_email": perform_contact_email}
