"""The JSON of the ops routes (behind the ops token): the sheet, the outbox drain, order moves.

It loads on the `ops` function's first ops request, not when it starts (issue 16).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from common.core.model import Model
from common.effects.outbox import DEFAULT_DRAIN_LIMIT, STUCK_AFTER_ATTEMPTS


class SheetAppendIn(Model):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=64)


class SheetAppendOut(Model):
    order_id: str
    appended: bool = Field(description="false when the sheet already had the order's rows")
    rows: int


class DrainIn(Model):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=DEFAULT_DRAIN_LIMIT, ge=1, le=500, description="tasks at most")


class DrainOut(Model):
    attempted: int
    succeeded: int
    failed: int
    due: int = Field(description="tasks still due after this drain")
    stuck: int = Field(description=f"tasks not done after {STUCK_AFTER_ATTEMPTS} tries")


class StatusIn(Model):
    model_config = ConfigDict(extra="forbid")
    status: Literal["in_production", "shipped", "delivered"]
    carrier: str | None = Field(default=None, min_length=1, max_length=80)
    tracking_number: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{2,79}$", description="needed to ship"
    )
    tracking_url: str | None = Field(default=None, pattern=r"^https://[^\s]{1,2040}$")


class ClearFlagIn(Model):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, description="why the order is fine now")
