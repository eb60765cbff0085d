"""The answer of the Stripe webhook, on its first delivery, not when the function starts."""

from __future__ import annotations

from pydantic import Field

from common.core.model import Model


class WebhookOut(Model):
    received: bool
    duplicate: bool = Field(description="the event was already handled; nothing was done")
    outcome: str = Field(
        description="what the event did, e.g. paid, already_paid, ignored, malformed"
    )
