"""Rate limits per client, declared on a route (`Router.route(..., rate_limit=...)`).

A client is the address our own proxies saw, hashed; the counters live in the state backend
(`common.infra.state`), so every instance of a function shares them.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import flask

from common.core import errors
from common.infra import state
from common.infra.config import settings


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` calls per client in `window_seconds`, counted under `scope`."""

    scope: str
    limit: int
    window_seconds: int


def client_address(request: flask.Request) -> str:
    """The caller's address as our own proxies saw it.

    Clients can write anything into `X-Forwarded-For`; each proxy only appends. So the entry
    `FORWARDED_HOPS` from the right is the address the first of our proxies saw; with fewer
    entries (a direct call to the function) the leftmost is the one its front end appended.
    """
    entries = [e.strip() for e in request.headers.get("X-Forwarded-For", "").split(",")]
    entries = [e for e in entries if e]
    hops = settings().forwarded_hops
    if len(entries) >= hops > 0:
        return entries[-hops]
    return entries[0] if entries else request.remote_addr or "unknown"


def client_id(request: flask.Request) -> str:
    """A stable, non-reversible id of the calling client for rate limits."""
    address = client_address(request)
    digest = hmac.new(settings().session_secret.encode(), address.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _refuse(hit: state.Hit) -> None:
    if not hit.allowed:
        raise errors.RateLimited(
            f"too many requests; try again in {hit.retry_after} s", retry_after=hit.retry_after
        )


def check(rate: RateLimit, request: flask.Request) -> None:
    """Count this call; raise a 429 with `Retry-After` once the client is over the limit."""
    _refuse(
        state.backend().hit(f"{rate.scope}:{client_id(request)}", rate.limit, rate.window_seconds)
    )


def refuse_when_spent(rate: RateLimit, request: flask.Request) -> None:
    """A 429 with `Retry-After` while the client has used up `rate`; counts nothing.

    With `check` on failures only, a limit on failed attempts: `refuse_when_spent` first (a
    client over the limit is refused before its attempt is even looked at), then `check` on
    each failure. Callers that never fail are never counted.
    """
    key = f"{rate.scope}:{client_id(request)}"
    _refuse(state.backend().peek(key, rate.limit, rate.window_seconds))
