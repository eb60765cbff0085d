"""Values built on first use, once per instance: providers and vendor clients.

Work only some requests need is done only when they need it, and then once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Lazy[T]:
    """Calling it returns the value, building it on the first call (thread-safe).

    `built` holds the value once built; tests may set it to substitute a provider.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self.built: T | None = None

    def __call__(self) -> T:
        value = self.built
        if value is None:
            with self._lock:
                value = self.built
                if value is None:
                    value = self.built = self._build()
        return value

    def reset(self) -> None:
        """Forget the value: the next call builds it again (after a settings change)."""
        with self._lock:
            self.built = None
