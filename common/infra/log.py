"""Structured logs: one JSON object per line on stdout, with Cloud Logging's field names."""

from __future__ import annotations

import json
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
trace: ContextVar[str | None] = ContextVar("trace", default=None)

_REDACTED_KEYS = ("secret", "token", "password", "authorization", "cookie", "card", "api_key")


def _redact(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        key: "[redacted]" if any(word in key.lower() for word in _REDACTED_KEYS) else value
        for key, value in fields.items()
    }


def log(severity: str, message: str, **fields: Any) -> None:
    """Write one log entry. Field names that look like secrets are redacted."""
    entry: dict[str, Any] = {
        "severity": severity,
        "message": message,
        "time": datetime.now(UTC).isoformat(),
        **_redact(fields),
    }
    if rid := request_id.get():
        entry["request_id"] = rid
    if trace_id := trace.get():
        entry["logging.googleapis.com/trace"] = trace_id
    sys.stdout.write(json.dumps(entry, default=str) + "\n")
    sys.stdout.flush()


def info(message: str, **fields: Any) -> None:
    log("INFO", message, **fields)


def warning(message: str, **fields: Any) -> None:
    log("WARNING", message, **fields)


def error(message: str, **fields: Any) -> None:
    log("ERROR", message, **fields)
