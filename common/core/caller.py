"""Who is calling: an anonymous shopper (until they sign in) or a signed-in user.

The web edge carries it in the `__session` cookie (`common.web.sessions`); the domains only
read it, to know whose drafts and designs a request may see.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

ANONYMOUS_LIFETIME = 30 * 24 * 3600
USER_LIFETIME = 14 * 24 * 3600
ANONYMOUS_PREFIX = "anon_"


@dataclass(frozen=True)
class Session:
    """Who is calling. `subject` is an anonymous id or the user's public id."""

    subject: str
    email: str | None = None
    name: str | None = None
    provider: str | None = None
    expires_at: int = 0

    @property
    def anonymous(self) -> bool:
        return self.subject.startswith(ANONYMOUS_PREFIX)


def new_anonymous() -> Session:
    return Session(
        subject=ANONYMOUS_PREFIX + secrets.token_urlsafe(24),
        expires_at=int(time.time()) + ANONYMOUS_LIFETIME,
    )


def for_user(public_id: str, email: str, name: str | None, provider: str) -> Session:
    return Session(
        subject=public_id,
        email=email,
        name=name,
        provider=provider,
        expires_at=int(time.time()) + USER_LIFETIME,
    )
