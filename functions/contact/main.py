"""The `contact` function: the contact form (POST /api/contact)."""

import flask
import functions_framework

from common.core import errors
from common.effects import outbox
from common.infra import config
from common.shop import contact as contact_form
from common.web.http import Call, Router
from common.web.ratelimits import RateLimit

config.require("GOOGLE_CLOUD_PROJECT")  # the queue its message is handed to
router = Router()


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
    body=contact_form.ContactIn,
    response=contact_form.ContactOut,
    status=202,
    rate_limit=RateLimit("contact", contact_form.RATE_LIMIT, contact_form.RATE_WINDOW_SECONDS),
)
def send_contact_message(call: Call) -> contact_form.ContactOut:
    """Leave a message for the team; it is stored, then emailed to ops (after the answer)."""
    body = call.body.model_copy(update={"email": checked_email(call.body.email)})
    submitted = contact_form.submit(body)
    outbox.publish(submitted.tasks)
    return contact_form.ContactOut(id=submitted.contact_id)


@functions_framework.http
def contact(request: flask.Request) -> flask.Response:
    """Entry point of the `contact` Cloud Function."""
    return router(request)
