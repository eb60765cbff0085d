"""Sign-in with Google or Apple: WorkOS AuthKit in production, a local stand-in offline.

Both providers end in the same callback (`/api/auth/callback?code&state`) and the same
session code; only where the code comes from differs.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, unquote, urlencode, urlsplit

from common.core import errors
from common.core.lazy import Lazy
from common.infra import state
from common.infra.config import WORKOS, ConfigError, settings
from common.providers.local import vendors

PROVIDERS = {"google": "GoogleOAuth", "apple": "AppleOAuth"}
LOCAL_CODES = "local_sign_in_codes"
LOCAL_CODE_SECONDS = 120
CALLBACK_PATH = "/api/auth/callback"


@dataclass(frozen=True)
class Identity:
    email: str
    name: str | None
    workos_user_id: str | None


class SignInFailed(errors.UpstreamError):
    code = "sign_in_failed"


class IdentityProvider(Protocol):
    def authorization_url(self, provider: str, state: str) -> str: ...

    def authenticate(self, code: str) -> Identity: ...


def redirect_uri() -> str:
    return settings().site_url + CALLBACK_PATH


class WorkOSIdentity:
    """WorkOS AuthKit through the `workos` SDK (imported on first use)."""

    def __init__(self) -> None:
        from workos import WorkOSClient

        cfg = settings()
        self.client = WorkOSClient(
            api_key=cfg.workos_api_key,
            client_id=cfg.workos_client_id,
            base_url=cfg.workos_base_url,
            request_timeout=int(WORKOS.timeout_seconds),
            max_retries=WORKOS.retries,
        )

    def authorization_url(self, provider: str, state: str) -> str:
        return self.client.user_management.get_authorization_url(
            provider=PROVIDERS[provider], redirect_uri=redirect_uri(), state=state
        )

    def authenticate(self, code: str) -> Identity:
        from workos import WorkOSError

        try:
            result = self.client.user_management.authenticate_with_code(code=code)
        except WorkOSError as exc:
            raise SignInFailed(
                "Google or Apple did not confirm the sign-in; please try again"
            ) from exc
        user = result.user
        name = " ".join(part for part in (user.first_name, user.last_name) if part) or None
        return Identity(email=user.email.lower(), name=name, workos_user_id=user.id)


class LocalIdentity:
    """The offline stand-in: `/_dev/sign-in` asks for an email and issues a one-time code."""

    def __init__(self) -> None:
        if settings().production:
            raise ConfigError("the local sign-in is refused with AUREN_ENV=production")

    def authorization_url(self, provider: str, state: str) -> str:
        return "/_dev/sign-in?" + urlencode({"state": state, "provider": provider})

    def authenticate(self, code: str) -> Identity:
        vendors.answer("workos")
        found = state.backend().take(LOCAL_CODES, code)
        if found is None:
            raise SignInFailed("this sign-in code is unknown, used or expired")
        return Identity(
            email=found["email"], name=found["email"].split("@")[0], workos_user_id=None
        )


def issue_local_code(email: str) -> str:
    """What the local sign-in page does when its form is sent (local mode only)."""
    LocalIdentity()
    code = secrets.token_urlsafe(24)
    state.backend().put(LOCAL_CODES, code, {"email": email.lower()}, LOCAL_CODE_SECONDS)
    return code


def build_provider() -> IdentityProvider:
    """WorkOS when `WORKOS_API_KEY` is set (required in production), else the stand-in."""
    if settings().workos_api_key:
        return WorkOSIdentity()
    return LocalIdentity()


provider = Lazy(build_provider)  # the instance's identity provider


_UNSAFE = re.compile(r"[\\\x00-\x1f\x7f]")


def safe_return_to(value: str | None) -> str:
    """`value` when it is a path on this site, else `/`. Never an open redirect."""
    if not value or len(value) > 512:
        return "/"
    decoded = value
    for _ in range(3):
        if _UNSAFE.search(decoded) or not decoded.startswith("/") or decoded.startswith("//"):
            return "/"
        parts = urlsplit(decoded)
        if parts.scheme or parts.netloc:
            return "/"
        decoded = unquote(decoded)
    return quote(value, safe="/?&=%#-._~+:@!$'()*,;")
