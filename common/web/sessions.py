"""Sessions: a signed JWT in the `__session` cookie, the only cookie Firebase Hosting forwards.

Anonymous shoppers get an anonymous session on their first state-changing request, so a
draft always has an owner; signing in issues a new session for the user.

A session can end before its cookie expires. Each one has an id (`jti`); signing out
revokes it, and signing out everywhere records a cut-off for the user: their sessions
issued until then are over. Both records live in the state backend (collection
`REVOCATIONS`) until the sessions they end would have expired anyway. Each request that
presents a cookie reads them once, in one round trip: `session:<jti>`, plus `user:<subject>`
for a signed-in user. Anonymous sessions are checked too: their cookie is what owns a draft.

An instance that found a session live trusts that answer for `LIVE_FOR_SECONDS`, so a
shopper's requests in a row read the records once, not on each request. Signing out takes
effect at once on the instance that did it (it forgets what it knew), and within
`LIVE_FOR_SECONDS` on every other instance.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any

import flask

from common.core import errors
from common.core.caller import ANONYMOUS_PREFIX, USER_LIFETIME, Session, new_anonymous
from common.infra import state
from common.infra.config import settings
from common.web.http import Call

COOKIE_NAME = "__session"
ISSUER = "auren"
AUDIENCE = "auren-shop"
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30
REVOCATIONS = "session_revocations"
_CHECKED = "auren.session"  # request.environ key: (cookie, session) once checked
LIVE_FOR_SECONDS = 5.0  # how long an instance trusts that a session it checked is not revoked
LIVE_KEPT = 10_000  # sessions an instance remembers as live at most; forgotten all at once
_live_until: dict[str, float] = {}  # session id -> time.monotonic() until which it is trusted


def encode(session: Session) -> str:
    if not session.session_id:
        raise ValueError("a session needs an id (common.core.caller makes them)")
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": session.subject,
        "iat": session.issued_at or round(time.time(), 3),
        "exp": session.expires_at,
        "jti": session.session_id,
    }
    if not session.anonymous:
        claims.update(email=session.email, name=session.name, provider=session.provider)
    import jwt  # PyJWT and cryptography: on first use, not at start-up

    return jwt.encode(claims, settings().session_secret, algorithm=ALGORITHM)


VERIFIED_KEPT = 4096  # tokens an instance remembers as verified, the least recently used go


def decode(token: str) -> Session | None:
    """The session in `token`, or None when it is forged, expired or otherwise invalid."""
    import jwt

    try:
        session = _verified(token, settings().session_secret)
    except (jwt.PyJWTError, _Refused):
        return None
    if time.time() >= session.expires_at + LEEWAY_SECONDS:
        return None
    return session


class _Refused(Exception):
    """A token whose signature holds but whose claims do not make a session."""


@functools.lru_cache(maxsize=VERIFIED_KEPT)
def _verified(token: str, secret: str) -> Session:
    """The session in `token` signed with `secret`, whatever its expiry (checked on each use,
    by `decode`); raises for any other fault. A shopper's token is verified once per instance,
    not on every request (about a tenth of a warm order read): what verifying it found does
    not change with time but for its expiry; a fault is never remembered."""
    import jwt

    claims = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        issuer=ISSUER,
        leeway=LEEWAY_SECONDS,
        options={"require": ["iss", "aud", "sub", "iat", "exp"], "verify_exp": False},
    )
    expires = claims["exp"]
    if not isinstance(expires, int | float) or not math.isfinite(expires):
        raise _Refused()
    if claims["iat"] > time.time() + LEEWAY_SECONDS:
        raise _Refused()
    subject = claims["sub"]
    session_id = claims.get("jti")
    if not isinstance(session_id, str) or not session_id:
        # Sessions issued before they had ids: an anonymous subject is unique to its session,
        # so it serves as the id; a user's could not be revoked alone, so it is refused.
        if not subject.startswith(ANONYMOUS_PREFIX):
            raise _Refused()
        session_id = subject
    return Session(
        subject=subject,
        email=claims.get("email"),
        name=claims.get("name"),
        provider=claims.get("provider"),
        expires_at=int(claims["exp"]),
        session_id=session_id,
        issued_at=float(claims["iat"]),
    )


def _session_key(session: Session) -> str:
    return f"session:{session.session_id}"


def _user_key(session: Session) -> str:
    return f"user:{session.subject}"


def revoked(session: Session) -> bool:
    """Whether `session` was signed out, or its user signed out everywhere since it began
    (as of at most `LIVE_FOR_SECONDS` ago)."""
    if _live_until.get(session.session_id, 0.0) > time.monotonic():
        return False
    if _revoked(session):
        return True
    if len(_live_until) >= LIVE_KEPT:
        _live_until.clear()
    _live_until[session.session_id] = time.monotonic() + LIVE_FOR_SECONDS
    return False


def _revoked(session: Session) -> bool:
    keys = [_session_key(session)]
    if not session.anonymous:
        keys.append(_user_key(session))
    found = state.backend().get_many(REVOCATIONS, keys)
    if _session_key(session) in found:
        return True
    cut_off = found.get(_user_key(session))
    return cut_off is not None and session.issued_at <= float(cut_off["not_before"])


def revoke(session: Session) -> None:
    """End this one session: its cookie is no session from now on on this instance, and
    within `LIVE_FOR_SECONDS` on every other."""
    remaining = session.expires_at + LEEWAY_SECONDS - time.time()
    if remaining > 0:
        state.backend().put(
            REVOCATIONS,
            _session_key(session),
            {"subject": session.subject},
            ttl_seconds=math.ceil(remaining),
        )
    _live_until.pop(session.session_id, None)  # after the record: no check can trust it again


def revoke_everywhere(session: Session) -> None:
    """End every session of this signed-in user begun until now, this one included."""
    if session.anonymous:
        raise errors.SignInRequired()
    state.backend().put(
        REVOCATIONS,
        _user_key(session),
        {"not_before": time.time()},
        # Every session begun before now has expired by then (its lifetime, and the leeway).
        ttl_seconds=USER_LIFETIME + 2 * LEEWAY_SECONDS,
    )
    _live_until.clear()  # which sessions here are the user's is not known: none is trusted


def current(request: flask.Request) -> Session | None:
    """The caller's session: None without a cookie, or when it is invalid or revoked.

    Checked once per request (the answer is kept on the request)."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    checked = request.environ.get(_CHECKED)
    if checked is not None and checked[0] == token:
        session: Session | None = checked[1]
        return session
    session = decode(token)
    if session is not None and revoked(session):
        session = None
    request.environ[_CHECKED] = (token, session)
    return session


def set_cookie(response: flask.Response, session: Session) -> None:
    response.set_cookie(
        COOKIE_NAME,
        encode(session),
        max_age=max(0, session.expires_at - int(time.time())),
        path="/",
        secure=True,
        httponly=True,
        samesite="Strict",
    )


def clear_cookie(response: flask.Response) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True, samesite="Strict")


def ensure(call: Call) -> Session:
    """The caller's session; a new anonymous one (set on the response) when there is none."""
    session = current(call.request)
    if session is None:
        session = new_anonymous()
        call.on_response(lambda response: set_cookie(response, session))
    return session


def require_user(call: Call) -> Session:
    """The signed-in shopper, or a 401 for anonymous callers and callers without a session."""
    session = current(call.request)
    if session is None or session.anonymous:
        raise errors.SignInRequired()
    return session
