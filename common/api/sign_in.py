"""The query strings of signing in: what the `auth` function's redirects carry.

They load on a sign-in's first request, not when the function starts (issue 16).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from common.core.model import Model


class LoginQuery(Model):
    model_config = ConfigDict(extra="ignore")
    provider: Literal["google", "apple"]
    return_to: str | None = Field(default=None, max_length=2048)


class CallbackQuery(Model):
    model_config = ConfigDict(extra="ignore")
    code: str | None = Field(default=None, max_length=512)
    state: str | None = Field(default=None, max_length=512)
    error: str | None = Field(default=None, max_length=200)
    bounced: str | None = Field(default=None, max_length=1)
