"""Signing in: the OAuth `state` bound to the browser, the user upsert, and claiming drafts.

The `state` is a random token stored server-side with the session subject of the browser
that asked for it; the callback accepts it once, and only from that same browser.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from common.core import caller, errors
from common.core.caller import Session
from common.core.model import Model
from common.infra import db, state
from common.providers import identity

STATES = "oauth_states"
STATE_SECONDS = 600


class InvalidSignInState(errors.BadRequest):
    code = "invalid_sign_in_state"


class User(Model):
    id: str
    email: str
    name: str | None
    provider: str


class Me(Model):
    user: User


@dataclass(frozen=True)
class SignedIn:
    session: Session
    return_to: str


def start(browser: Session, provider: str, return_to: str | None) -> str:
    """Remember a new `state` for this browser and return the provider's sign-in URL."""
    token = secrets.token_urlsafe(32)
    state.backend().put(
        STATES,
        token,
        {
            "subject": browser.subject,
            "provider": provider,
            "return_to": identity.safe_return_to(return_to),
        },
        STATE_SECONDS,
    )
    return identity.provider().authorization_url(provider, token)


def finish(browser: Session | None, code: str, token: str) -> SignedIn:
    """Check the state (once, same browser), exchange the code, sign the user in."""
    remembered = state.backend().take(STATES, token)
    if remembered is None:
        raise InvalidSignInState("this sign-in link has expired or was already used")
    if browser is None or not secrets.compare_digest(remembered["subject"], browser.subject):
        raise InvalidSignInState("this sign-in was started in another browser")
    person = identity.provider().authenticate(code)
    with db.transaction() as conn:
        user = conn.execute(
            "INSERT INTO users (public_id, email, name, provider, workos_user_id)"
            " VALUES (:pid, :email, :name, :provider, :workos)"
            " ON CONFLICT (email) DO UPDATE SET name = COALESCE(EXCLUDED.name, users.name),"
            " provider = EXCLUDED.provider,"
            " workos_user_id = COALESCE(EXCLUDED.workos_user_id, users.workos_user_id),"
            " last_login_at = now()"
            " RETURNING id, public_id, name",
            {
                "pid": "usr_" + secrets.token_urlsafe(16),
                "email": person.email,
                "name": person.name,
                "provider": remembered["provider"],
                "workos": person.workos_user_id,
            },
        ).one()
        if browser.anonymous:
            from common.shop import order_store  # the order store: only when drafts move

            order_store.claim(conn, user.id, browser.subject)
            conn.execute(
                "UPDATE designs SET user_id = :user, updated_at = now()"
                " WHERE owner_session = :anon AND user_id IS NULL",
                {"user": user.id, "anon": browser.subject},
            )
    session = caller.for_user(user.public_id, person.email, user.name, remembered["provider"])
    return SignedIn(session=session, return_to=remembered["return_to"])


def me(session: Session) -> Me:
    """The signed-in user as stored, or a 401."""
    with db.connect() as conn:
        row = conn.execute(
            "SELECT public_id, email, name, provider FROM users WHERE public_id = :p",
            {"p": session.subject},
        ).first()
    if row is None:
        raise errors.SignInRequired()
    return Me(user=User(id=row.public_id, email=row.email, name=row.name, provider=row.provider))
