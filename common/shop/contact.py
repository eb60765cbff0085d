"""The contact form: a message is stored before anything else, then emailed to ops through
the outbox, so a message is never lost when email is down.

A hidden honeypot field (`website`) that a person never fills catches simple bots: they get
the same 202 as everyone, and nothing is stored or sent.

Each field has one limit, and what is stored meets it whole: a field longer than its limit,
as typed or once normalised, is refused, never cut. The contact function checks the address
with email-validator before `submit` (`functions/contact/main.py`); `submit` itself refuses
any address with whitespace or a control character, so nothing stored can break the
`Reply-To` header of the email to ops.
"""

from __future__ import annotations

import re
import secrets
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import ConfigDict, Field

from common.core import errors
from common.core.model import Model
from common.core.text import normalize_text
from common.effects import outbox
from common.infra import db, log

if TYPE_CHECKING:
    from common.infra.db import Connection

MAX_NAME = 200
MAX_EMAIL = 254  # the longest address SMTP carries (RFC 5321's 256-character path, less <>)
MAX_MESSAGE = 5000
_NOT_IN_AN_ADDRESS = r"@\s\x00-\x1f\x7f-\x9f"
EMAIL = re.compile(
    rf"[^{_NOT_IN_AN_ADDRESS}]{{1,64}}@[^{_NOT_IN_AN_ADDRESS}]+\.[^{_NOT_IN_AN_ADDRESS}.]{{2,}}"
)


class ContactIn(Model):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=MAX_NAME)
    email: str = Field(min_length=3, max_length=MAX_EMAIL)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    website: str = Field(
        default="", max_length=500, description="leave empty (a field people never see)"
    )


class ContactOut(Model):
    id: str


def new_contact_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def _within(field: str, value: str, limit: int) -> str:
    """`value` (normalised) whole, or a 422: a few characters (a ligature, an ellipsis) read
    as several once normalised, and a stored field is never cut."""
    if len(value) > limit:
        raise errors.Unprocessable(
            f"{field}: at most {limit} characters (some, like an ellipsis, count as several)",
            field=field,
        )
    return value


def _validated(body: ContactIn) -> tuple[str, str, str]:
    name = _within("name", normalize_text(body.name, max_chars=sys.maxsize), MAX_NAME)
    if not name:
        raise errors.Unprocessable("tell us your name", field="name")
    email = body.email
    if not EMAIL.fullmatch(email):
        raise errors.Unprocessable(
            "that does not look like an email address", code="invalid_email", field="email"
        )
    message = _within(
        "message", normalize_text(body.message, max_chars=sys.maxsize, keep_lines=True), MAX_MESSAGE
    )
    if not message:
        raise errors.Unprocessable("write a message", field="message")
    return name, email, message


@dataclass(frozen=True)
class Submitted:
    contact_id: str
    tasks: list[int]  # the outbox task that emails it, to perform once committed


def submit(body: ContactIn) -> Submitted:
    """Store the message and enqueue its email to ops; a filled honeypot is answered the same
    way and dropped."""
    contact_id = new_contact_id()
    if body.website:
        log.info("contact honeypot filled; message dropped")
        return Submitted(contact_id, [])
    name, email, message = _validated(body)
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO contact_messages (public_id, name, email, message)"
            " VALUES (:id, :name, :email, :message)",
            {"id": contact_id, "name": name, "email": email, "message": message},
        )
        tasks = outbox.enqueue(
            conn,
            outbox.NewTask(
                "contact_email", f"contact_email:{contact_id}", {"contact_id": contact_id}
            ),
        )
    return Submitted(contact_id, tasks)


def stored_message(conn: Connection, contact_id: str) -> tuple[str, str, str] | None:
    """The name, email and message stored under `contact_id`."""
    row = conn.execute(
        "SELECT name, email, message FROM contact_messages WHERE public_id = :id",
        {"id": contact_id},
    ).first()
    return (row.name, row.email, row.message) if row else None
