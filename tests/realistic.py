"""Switch this test process's stand-ins to `AUREN_VENDORS=realistic` and back.

Settings are read once per instance and providers built once (`Lazy`): switching forgets both,
so the next call builds every provider again from the new settings.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from common.core.lazy import Lazy
from common.infra import config
from common.providers import (
    assistant,
    checkout,
    identity,
    imagegen,
    mail,
    sheets,
    sizes_openai,
    storage,
)
from common.providers.local import vendors

PROVIDERS: tuple[Lazy[Any], ...] = (
    vendors.weather,
    assistant.assistant,
    imagegen.provider,
    sizes_openai.openai_client,
    mail.mailer,
    sheets.sheet,
    storage.storage,
    checkout.provider,
    identity.provider,
)


def forget() -> None:
    """Forget the settings and every provider built from them."""
    config.settings.cache_clear()
    for provider in PROVIDERS:
        provider.reset()


@contextlib.contextmanager
def vendors_mode(**environ: str) -> Iterator[vendors.Weather]:
    """`AUREN_VENDORS=realistic` with these AUREN_VENDORS_* settings (`SPEED="50"`, ...)
    while the block runs; yields the stand-ins' weather, whose counters say what they served."""
    names = {"AUREN_VENDORS": "realistic"} | {
        f"AUREN_VENDORS_{key}": value for key, value in environ.items()
    }
    previous = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    forget()
    try:
        weather = vendors.weather()
        assert weather is not None
        yield weather
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        forget()
