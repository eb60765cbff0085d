"""The JSON of paying: a Checkout Session started, and the success page's return.

It loads on a function's first checkout request, not when it starts (issue 16).
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from common.core.model import Model


class CheckoutOut(Model):
    url: str = Field(description="where to send the shopper to pay")
    session_id: str


class SuccessIn(Model):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=64)
    session_id: str = Field(
        min_length=1, max_length=255, description="the `session_id` on Checkout's success URL"
    )
