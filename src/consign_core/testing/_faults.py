"""Scriptable failures for the in-memory fakes: timeouts, 5xx, throttling, lost responses."""

from __future__ import annotations

import enum
import random
from collections import deque
from collections.abc import Callable, Mapping
from typing import TypeVar

import attrs

from consign_core.domain._validators import fail, probability
from consign_core.errors import AdapterError, RateLimitedError, TransientError


__all__ = ["FaultKind", "Faults"]

T = TypeVar("T")


class FaultKind(enum.Enum):
    """A kind of injected failure."""

    TIMEOUT = "timeout"
    """The call times out. A share of timeouts (``lost_response_share``) happen *after* the
    vendor applied the call: the effect is real, only the answer is lost."""
    SERVER_ERROR = "server_error"
    """HTTP 5xx before anything happened (:class:`~consign_core.errors.TransientError`)."""
    THROTTLE = "throttle"
    """HTTP 429 (:class:`~consign_core.errors.RateLimitedError` with ``retry_after``)."""


def _rates(value: Mapping[str, float]) -> dict[str, float]:
    return dict(value)


def _check_rates(
    instance: Faults, attribute: attrs.Attribute[dict[str, float]], value: object
) -> None:
    assert isinstance(value, dict)  # noqa: S101 - converter made it a dict
    for name, rate in value.items():
        if not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
            fail(instance, attribute, {name: rate}, "probabilities in [0, 1] by method name")


def _kinds(value: tuple[FaultKind, ...]) -> tuple[FaultKind, ...]:
    return tuple(value)


def _check_kinds(
    instance: Faults, attribute: attrs.Attribute[tuple[FaultKind, ...]], value: object
) -> None:
    assert isinstance(value, tuple)  # noqa: S101 - converter made it a tuple
    for kind in value:
        if type(kind) is not FaultKind:
            names = ", ".join(k.name for k in FaultKind)
            fail(instance, attribute, kind, f"FaultKind members ({names})")


@attrs.define(kw_only=True)
class Faults:
    """Failure injection for a fake: each call fails with probability ``rate`` (or the
    per-method ``rates[method]``), with a kind drawn from ``kinds``; draws come from a
    ``random.Random(seed)``, so a run is reproducible.

    ``fail_next(method, error)`` queues a one-off failure for the next call of ``method``.
    """

    rate: float = attrs.field(default=0.0, validator=probability)
    """Default failure probability per call."""
    rates: dict[str, float] = attrs.field(factory=dict, converter=_rates, validator=_check_rates)
    """Failure probability by method name (e.g. ``{"place_order": 0.5}``)."""
    kinds: tuple[FaultKind, ...] = attrs.field(
        default=(FaultKind.TIMEOUT, FaultKind.SERVER_ERROR, FaultKind.THROTTLE),
        converter=_kinds,
        validator=_check_kinds,
    )
    """Which failures to draw from, uniformly."""
    lost_response_share: float = attrs.field(default=0.5, validator=probability)
    """Share of timeouts that happen after the call took effect."""
    retry_after: float = 1.0
    """Seconds a throttled call is told to wait."""
    seed: int = 0
    """Seed of the random draws."""
    injected: int = attrs.field(default=0, init=False)
    """How many failures were injected so far."""
    _rng: random.Random = attrs.field(init=False)
    _queued: dict[str, deque[AdapterError]] = attrs.field(init=False, factory=dict)

    @_rng.default
    def _make_rng(self) -> random.Random:
        return random.Random(self.seed)  # noqa: S311 - test double, not cryptography

    def fail_next(self, method: str, error: AdapterError) -> None:
        """Make the next call of ``method`` raise ``error`` (before any effect)."""
        self._queued.setdefault(method, deque()).append(error)

    def call(self, adapter: str, method: str, effect: Callable[[], T]) -> T:
        """Run ``effect`` (the fake's real work) for ``method``, failing as configured."""
        queued = self._queued.get(method)
        if queued:
            self.injected += 1
            raise queued.popleft()
        rate = self.rates.get(method, self.rate)
        if rate <= 0.0 or self._rng.random() >= rate or not self.kinds:
            return effect()
        self.injected += 1
        kind = self._rng.choice(self.kinds)
        if kind is FaultKind.THROTTLE:
            msg = f"{method}: throttled (injected)"
            raise RateLimitedError(msg, adapter=adapter, status=429, retry_after=self.retry_after)
        if kind is FaultKind.SERVER_ERROR:
            msg = f"{method}: 503 service unavailable (injected)"
            raise TransientError(msg, adapter=adapter, status=503)
        if self._rng.random() < self.lost_response_share:
            effect()
            msg = f"{method}: timed out after the call took effect (injected)"
            raise TransientError(msg, adapter=adapter)
        msg = f"{method}: timed out (injected)"
        raise TransientError(msg, adapter=adapter)
