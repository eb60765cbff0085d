"""Who owns a draft or a design: a signed-in user, or an anonymous session until it signs in.

Signing in claims the anonymous session's rows (`common.shop.accounts`), after which only the user
sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common.core import errors
from common.core.caller import Session

if TYPE_CHECKING:
    from common.infra.db import Connection


def owner_clause(session: Session, alias: str) -> tuple[str, dict[str, Any]]:
    """SQL that limits table `alias` (orders or designs) to the caller's rows, and its params."""
    if session.anonymous:
        return f"{alias}.owner_session = :owner AND {alias}.user_id IS NULL", {
            "owner": session.subject
        }
    return f"{alias}.user_id = (SELECT id FROM users WHERE public_id = :owner)", {
        "owner": session.subject
    }


def user_pk(conn: Connection, session: Session) -> int | None:
    """The signed-in caller's users row id (None when anonymous), or a 401 if it is gone."""
    if session.anonymous:
        return None
    pk = conn.execute("SELECT id FROM users WHERE public_id = :p", {"p": session.subject}).scalar()
    if pk is None:
        raise errors.Unauthorized("your session is no longer valid, sign in again")
    return int(pk)
