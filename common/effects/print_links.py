"""Links to the print files of paid orders, for ops only.

A print file is served by the `ops` function at `PATH` + its name: with the ops token, or
with a link signed here (in the sheet row and the ops email), which opens without the token
until it expires.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import urlencode

from common.infra.config import settings
from common.shop.order_store import PaidLine
from common.studio import print_names

PATH = "/api/ops/print-files/"
EXPIRES = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"[0-9a-f]{64}")
LINK_SECONDS = 180 * 24 * 3600  # a sheet row's links work for half a year; the token always


def _signature(name: str, expires: int) -> str:
    # A key of its own, derived from the session secret: a link cannot stand in for anything else.
    key = hmac.new(settings().session_secret.encode(), b"print-links", hashlib.sha256).digest()
    return hmac.new(key, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()


def link(key: str, *, now: float | None = None) -> str:
    """A link to the print file `key` that opens without the ops token until it expires."""
    name = print_names.file_name(key)
    expires = int(now if now is not None else time.time()) + LINK_SECONDS
    query = urlencode({"expires": expires, "signature": _signature(name, expires)})
    return f"{settings().site_url}{PATH}{name}?{query}"


def signed(name: str, expires: str | None, signature: str | None) -> bool:
    """Whether a link's `expires` and `signature` are ours and still good."""
    if not expires or not signature or not EXPIRES.fullmatch(expires):
        return False
    if not SIGNATURE.fullmatch(signature) or int(expires) < time.time():
        return False
    return hmac.compare_digest(_signature(name, int(expires)), signature)


def path(design_id: str, version: int, side: str) -> str:
    """Where ops open a print file with the ops token."""
    return path_of(print_names.print_key(design_id, version, side))


def path_of(key: str) -> str:
    """Where ops open the print file `key` (a design's side, a group's piece) with the token."""
    return PATH + print_names.file_name(key)


def of_line(line: PaidLine) -> dict[str, str]:
    """Side -> signed link of each print file of a paid line."""
    if line.design_id is None or line.design_version is None:
        return {}
    return {
        side: link(print_names.print_key(line.design_id, line.design_version, side))
        for side in line.printed_sides
    }
