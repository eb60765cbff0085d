"""Sessions: a signed JWT in the `__session` cookie, the only cookie Firebase Hosting forwards.

Anonymous shoppers get an anonymous session on their first state-changing request, so a
draft always has an owner; signing in issues a new session for the user.
"""

from __future__ import annotations

import time
from typing import Any

import flask
import jwt

from common.core import errors
from common.core.caller import Session, new_anonymous
from common.infra.config import settings
from common.web.http import Call

COOKIE_NAME = "__session"
ISSUER = "auren"
AUDIENCE = "auren-shop"
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30


def encode(session: Session) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": session.subject,
        "iat": now,
        "exp": session.expires_at,
    }
    if not session.anonymous:
        claims.update(email=session.email, name=session.name, provider=session.provider)
    return jwt.encode(claims, settings().session_secret, algorithm=ALGORITHM)


def decode(token: str) -> Session | None:
    """The session in `token`, or None when it is forged, expired or otherwise invalid."""
    try:
        claims = jwt.decode(
            token,
            settings().session_secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "sub", "iat", "exp"]},
        )
    except jwt.PyJWTError:
        return None
    if claims["iat"] > time.time() + LEEWAY_SECONDS:
        return None
    return Session(
        subject=claims["sub"],
        email=claims.get("email"),
        name=claims.get("name"),
        provider=claims.get("provider"),
        expires_at=int(claims["exp"]),
    )


def current(request: flask.Request) -> Session | None:
    token = request.cookies.get(COOKIE_NAME)
    return decode(token) if token else None


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
