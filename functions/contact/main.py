"""The `contact` function: the contact form (POST /api/contact)."""

import flask
import functions_framework

from common.effects import contact_mail, outbox
from common.infra import config
from common.shop import contact as contact_form
from common.web.http import Call, Router
from common.web.ratelimits import RateLimit

config.require("SENDGRID_API_KEY")
router = Router()


@router.route(
    "POST",
    "/api/contact",
    body=contact_form.ContactIn,
    response=contact_form.ContactOut,
    status=202,
    rate_limit=RateLimit("contact", contact_form.RATE_LIMIT, contact_form.RATE_WINDOW_SECONDS),
)
def send_contact_message(call: Call) -> contact_form.ContactOut:
    """Leave a message for the team; it is stored, then emailed to ops."""
    submitted = contact_form.submit(call.body)
    outbox.attempt(submitted.tasks, contact_mail.HANDLERS)
    return contact_form.ContactOut(id=submitted.contact_id)


@functions_framework.http
def contact(request: flask.Request) -> flask.Response:
    """Entry point of the `contact` Cloud Function."""
    return router(request)
