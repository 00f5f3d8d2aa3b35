"""A per-vendor request throttle: at most N requests per second, spaced evenly."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import ClassVar

from consign_core.errors import ConfigurationError


__all__ = ["Throttle"]


class Throttle:
    """Spaces calls at least ``1 / per_second`` seconds apart (thread-safe).

    Coupang throttles a vendor id as a whole, so every client of one vendor in a process should
    share one throttle: :meth:`for_vendor` hands out one per vendor id and rate. ``clock``
    (monotonic seconds) and ``sleep`` are injectable so tests never really wait.
    """

    _shared: ClassVar[dict[tuple[str, float], Throttle]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        per_second: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        value: object = per_second
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            msg = f"Throttle.per_second must be a positive number, got {per_second!r}"
            raise ConfigurationError(msg)
        self.per_second = float(per_second)
        self._interval = 1.0 / self.per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: float | None = None

    def __repr__(self) -> str:
        return f"Throttle(per_second={self.per_second})"

    @classmethod
    def for_vendor(cls, vendor_id: str, per_second: float = 5.0) -> Throttle:
        """The process-wide throttle of ``vendor_id`` at ``per_second``."""
        key = (vendor_id, float(per_second))
        with cls._shared_lock:
            throttle = cls._shared.get(key)
            if throttle is None:
                throttle = cls._shared[key] = cls(per_second)
            return throttle

    def acquire(self) -> float:
        """Wait for the next free slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            start = now if self._next is None or self._next <= now else self._next
            self._next = start + self._interval
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return wait
