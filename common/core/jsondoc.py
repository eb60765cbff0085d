"""The one way JSON from outside is read: strict (no NaN or Infinity, no byte order mark),
bounded in nesting, and any failure is a 400 `invalid_json`, never a crash."""

from __future__ import annotations

import json
from typing import Any

from common.core import errors


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(raw: bytes | str, where: str = "body") -> Any:
    """The JSON document in `raw` (empty: null), or `errors.InvalidJson` naming `where`."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text or "null", parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise errors.InvalidJson(f"the {where} is not valid JSON") from None
