"""The contact form: a message is stored before anything else, then emailed to ops through
the outbox, so a message is never lost when email is down.

A hidden honeypot field (`website`) that a person never fills catches simple bots: they get
the same 202 as everyone, and nothing is stored or sent.
"""

from __future__ import annotations

import html
import re
import secrets
import unicodedata

import flask
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.engine import Connection

from common import db, errors, log, mail, outbox, state
from common.config import settings
from common.text import normalize_text

MAX_NAME = 200
MAX_EMAIL = 320
MAX_MESSAGE = 5000
RATE_LIMIT = 5
RATE_WINDOW_SECONDS = 600
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=MAX_NAME)
    email: str = Field(min_length=3, max_length=MAX_EMAIL)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    website: str = Field(
        default="", max_length=500, description="leave empty (a field people never see)"
    )


class ContactOut(BaseModel):
    id: str


def new_contact_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def clean_message(message: str) -> str:
    """The message in NFKC with invisible characters removed, keeping its line breaks."""
    message = unicodedata.normalize("NFKC", message).replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(
        char
        for char in message
        if char == "\n" or char == "\t" or unicodedata.category(char)[0] != "C"
    )
    lines = [" ".join(line.split()) for line in kept.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()[:MAX_MESSAGE]


def _validated(body: ContactIn) -> tuple[str, str, str]:
    name = normalize_text(body.name, max_chars=MAX_NAME)
    if not name:
        raise errors.Unprocessable("tell us your name", code="validation_error", field="name")
    email = body.email.strip()
    if not EMAIL.match(email):
        raise errors.Unprocessable(
            "that does not look like an email address", code="invalid_email", field="email"
        )
    message = clean_message(body.message)
    if not message:
        raise errors.Unprocessable("write a message", code="validation_error", field="message")
    return name, email, message


def submit(request: flask.Request, body: ContactIn) -> ContactOut:
    """Store the message and email it to ops (through the outbox); a filled honeypot is
    answered the same way and dropped."""
    state.rate_limit("contact", request, limit=RATE_LIMIT, window_seconds=RATE_WINDOW_SECONDS)
    contact_id = new_contact_id()
    if body.website:
        log.info("contact honeypot filled; message dropped")
        return ContactOut(id=contact_id)
    name, email, message = _validated(body)
    with db.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO contact_messages (public_id, name, email, message)"
                " VALUES (:id, :name, :email, :message)"
            ),
            {"id": contact_id, "name": name, "email": email, "message": message},
        )
        task = outbox.enqueue(
            conn, "contact_email", f"contact_email:{contact_id}", {"contact_id": contact_id}
        )
    outbox.attempt([task] if task else [])
    return ContactOut(id=contact_id)


def contact_message(contact_id: str, name: str, email: str, message: str) -> mail.Message:
    subject = f"Contact form: {name}"
    body = (
        f"<p><strong>{html.escape(name)}</strong> &lt;{html.escape(email)}&gt; wrote:</p>"
        '<blockquote style="margin:0;padding:12px 16px;border-left:3px solid #e5e0d8;'
        f'white-space:pre-wrap">{html.escape(message)}</blockquote>'
        '<p style="color:#77716a;font-size:13px">'
        f"Reply to this email to answer {html.escape(name)}. Message {html.escape(contact_id)}</p>"
    )
    text_body = (
        f"{name} <{email}> wrote:\n\n{message}\n\n"
        f"Reply to this email to answer. Message {contact_id}\n"
    )
    return mail.Message(
        to=settings().ops_email,
        subject=subject,
        text=text_body,
        html=mail.layout(subject, body),
        reply_to=email,
    )


def perform_contact_email(conn: Connection, task: outbox.Task) -> None:
    row = conn.execute(
        text("SELECT public_id, name, email, message FROM contact_messages WHERE public_id = :id"),
        {"id": task.payload["contact_id"]},
    ).first()
    if row is None:
        raise LookupError(f"contact message {task.payload['contact_id']} does not exist")
    mail.mailer().send(
        contact_message(row.public_id, row.name, row.email, row.message), task.dedupe_key
    )
