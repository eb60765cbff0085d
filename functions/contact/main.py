"""The `contact` function: the contact form (POST /api/contact)."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import flask
import functions_framework

from common.core import errors
from common.effects import outbox
from common.infra import config
from common.web.http import Call, Router
from common.web.ratelimits import RateLimit

# The form's models and domain load on its first message: the function starts without
# pydantic (issue 16).
if TYPE_CHECKING:
    from common.shop.contact import ContactOut

config.require("GOOGLE_CLOUD_PROJECT")  # the queue its message is handed to
router = Router()
CONTACT_LIMIT = RateLimit("contact", 5, 600)  # messages per client in ten minutes


def _contact_form() -> ModuleType:
    from common.shop import contact

    return contact


def checked_email(typed: str) -> str:
    """The address as it is stored and replied to, or a 422 naming the field.

    email-validator's syntax check (no DNS): no quoted local parts, IP literals, display
    names, whitespace or control characters, so nothing that could break a mail header gets
    through. Stored in its ASCII form (the domain lower-cased, IDNA-encoded), which every
    mail system can reply to; spaces around it are dropped.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(
            typed.strip(" "), check_deliverability=False, allow_smtputf8=False, strict=True
        )
    except EmailNotValidError as exc:
        raise errors.Unprocessable(
            f"that does not look like an email address: {exc}",
            code="invalid_email",
            field="email",
        ) from None
    return valid.ascii_email or valid.normalized


@router.route(
    "POST",
    "/api/contact",
    body=lambda: _contact_form().ContactIn,
    response=lambda: _contact_form().ContactOut,
    status=202,
    rate_limit=CONTACT_LIMIT,
)
def send_contact_message(call: Call) -> ContactOut:
    """Leave a message for the team; it is stored, then emailed to ops (after the answer)."""
    from common.shop import contact as contact_form

    body = call.body.model_copy(update={"email": checked_email(call.body.email)})
    submitted = contact_form.submit(body)
    outbox.publish(submitted.tasks)
    return contact_form.ContactOut(id=submitted.contact_id)


@functions_framework.http
def contact(request: flask.Request) -> flask.Response:
    """Entry point of the `contact` Cloud Function."""
    return router(request)
