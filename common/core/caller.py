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
    """Who is calling. `subject` is an anonymous id or the user's public id.

    `session_id` names this one session (what signing out revokes); `issued_at` is when it
    began, in seconds (signing out everywhere ends every session of the user begun before).
    """

    subject: str
    email: str | None = None
    name: str | None = None
    provider: str | None = None
    expires_at: int = 0
    session_id: str = ""
    issued_at: float = 0.0

    @property
    def anonymous(self) -> bool:
        return self.subject.startswith(ANONYMOUS_PREFIX)


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def _now() -> float:
    """The time a session begins, to the millisecond (a JWT `iat` may have a fraction)."""
    return round(time.time(), 3)


def new_anonymous() -> Session:
    now = _now()
    return Session(
        subject=ANONYMOUS_PREFIX + secrets.token_urlsafe(24),
        expires_at=int(now) + ANONYMOUS_LIFETIME,
        session_id=new_session_id(),
        issued_at=now,
    )


def for_user(public_id: str, email: str, name: str | None, provider: str) -> Session:
    now = _now()
    return Session(
        subject=public_id,
        email=email,
        name=name,
        provider=provider,
        expires_at=int(now) + USER_LIFETIME,
        session_id=new_session_id(),
        issued_at=now,
    )
