"""Vendor-like time and trouble for the local stand-ins (`AUREN_VENDORS=realistic`).

Every local stand-in asks `answer(vendor)` once for each request it stands in for. With the
default `AUREN_VENDORS=instant` that returns at once with no failure. With `realistic` it
sleeps as long as the vendor takes (`LATENCY`, divided by `AUREN_VENDORS_SPEED`) and, for the
vendors whose failures our code retries (`FAILING`), answers a share of the calls
(`AUREN_VENDORS_FAILURES`) with 429 or 500 instead. Each vendor draws from its own generator
seeded by `AUREN_VENDORS_SEED`, so a given seed fails the same calls of that vendor every run.

A failure surfaces the way the vendor's own failure would, where our retry code meets it: the
local OpenAI, Vertex and Stripe endpoints (`openai_api`, `vertex_api`, `stripe_api`) answer
the real SDKs with the HTTP status, so the SDKs' retries run (and a Vertex failure the image
job's: the queue delivers it again); the local mailer and sheet raise
the adapters' own `MailError` and `SheetError`, which the outbox retries (the SendGrid and
Sheets adapters do not retry themselves). WorkOS and Cloud Storage retry inside their SDKs,
which the local sign-in and file storage never call: those stand-ins get the latency only.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable

from common.core.lazy import Lazy
from common.infra import log
from common.infra.config import settings

# Seconds a successful answer takes: drawn uniformly from [low, high].
LATENCY: dict[str, tuple[float, float]] = {
    "openai": (1.0, 6.0),  # a chat completion
    "vertex": (8.0, 25.0),  # a 2K image
    "sendgrid": (0.2, 2.0),
    "sheets": (0.2, 2.0),  # one Sheets API request
    "stripe": (0.2, 1.0),
    "workos": (0.1, 0.5),
    "storage": (0.02, 0.2),
}
FAILURE_LATENCY = (0.05, 0.3)  # a 429 or 500 comes back quickly
FAILING = frozenset({"openai", "vertex", "stripe", "sendgrid", "sheets"})
FAILURE_STATUSES = (429, 500)


class Weather:
    """The latency and failures of every stand-in of one process, and what it served."""

    def __init__(
        self,
        *,
        speed: float,
        failure_rate: float,
        seed: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.speed = speed
        self.failure_rate = failure_rate
        self._seed = seed
        self._sleep = sleep
        self._lock = threading.Lock()
        self._randoms: dict[str, random.Random] = {}
        self.calls: Counter[str] = Counter()  # by vendor
        self.failures: Counter[tuple[str, int]] = Counter()  # by (vendor, status)

    def answer(self, vendor: str, spent_seconds: float = 0.0) -> int | None:
        """Wait as long as `vendor` takes, less `spent_seconds` the stand-in already took
        doing the work; the status it fails with, or None for success."""
        low, high = LATENCY[vendor]
        with self._lock:
            draw = self._randoms.setdefault(vendor, random.Random(f"{self._seed}:{vendor}"))
            self.calls[vendor] += 1
            status = None
            if vendor in FAILING and draw.random() < self.failure_rate:
                status = draw.choice(FAILURE_STATUSES)
                low, high = FAILURE_LATENCY
                self.failures[vendor, status] += 1
            seconds = draw.uniform(low, high)
        self._sleep(max(0.0, seconds / self.speed - spent_seconds))
        if status is not None:
            log.warning("vendor stand-in answered with a failure", vendor=vendor, status=status)
        return status


def build_weather() -> Weather | None:
    cfg = settings()
    if cfg.vendors != "realistic":
        return None
    return Weather(
        speed=cfg.vendors_speed, failure_rate=cfg.vendors_failure_rate, seed=cfg.vendors_seed
    )


weather = Lazy(build_weather)  # None unless AUREN_VENDORS=realistic


def realistic() -> bool:
    return weather() is not None


def answer(vendor: str, spent_seconds: float = 0.0) -> int | None:
    """What the stand-in of `vendor` answers this call: None (success, after the vendor's
    latency when realistic) or the HTTP status of an injected failure."""
    current = weather()
    return None if current is None else current.answer(vendor, spent_seconds)
