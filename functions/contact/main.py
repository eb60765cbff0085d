"""The `contact` function: the contact form (POST /api/contact)."""

import flask
import functions_framework

from common import config
from common import contact as contact_form
from common.http import Call, Router

config.require("SENDGRID_API_KEY")
router = Router()


@router.route(
    "POST",
    "/api/contact",
    body=contact_form.ContactIn,
    response=contact_form.ContactOut,
    status=202,
)
def send_contact_message(call: Call) -> contact_form.ContactOut:
    """Leave a message for the team; it is stored, then emailed to ops."""
    return contact_form.submit(call.request, call.body)


@functions_framework.http
def contact(request: flask.Request) -> flask.Response:
    """Entry point of the `contact` Cloud Function."""
    return router(request)
