"""A ledger's state as values, for persistence: :class:`LedgerState` and its parts.

:meth:`Ledger.snapshot` builds them and :meth:`Ledger.from_snapshot` reads them back; they
round-trip exactly through :mod:`consign_core.domain.serialization`.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from consign_core.domain.model import OrderRef
from consign_core.domain.rules import RuleProfile


@attrs.frozen(kw_only=True)
class WindowEntry:
    """A dated amount in a metric window."""

    at: datetime
    """When it happened (or was booked)."""
    amount: int
    """Points or events, in the metric's unit."""


@attrs.frozen(kw_only=True)
class MetricWindow:
    """The window contents of one metric."""

    name: str
    """The metric's name."""
    numerator: tuple[WindowEntry, ...]
    """Counted entries, oldest first."""
    suspended: tuple[WindowEntry, ...]
    """Entries suspended by a moratorium, oldest first."""
    denominator: tuple[WindowEntry, ...]
    """Denominator entries, oldest first."""


@attrs.frozen(kw_only=True)
class OrderRecord:
    """What the ledger remembers about an order."""

    ref: OrderRef
    """The order."""
    paid_at: datetime
    """When it was paid."""
    ship_by: datetime
    """Its ship-by deadline."""
    lines: int
    """Its number of lines."""
    units: int
    """Its total quantity."""
    shipped_at: datetime | None
    """When it shipped, if it did."""
    cancelled_at: datetime | None
    """When it was cancelled, if it was."""
    pending_checks: int
    """Late-shipment checks still scheduled."""
    aged: bool
    """Past the retention period, kept only for its pending checks."""


@attrs.frozen(kw_only=True)
class PendingCheck:
    """A scheduled late-shipment check."""

    at: datetime
    """When the check runs (the booking time); checks at the same time run in order."""
    stage: int
    """1 for the deadline, 2 for the long-delay check."""
    deadline: datetime
    """The deadline checked against."""
    ref: OrderRef
    """The order."""


@attrs.frozen(kw_only=True)
class LedgerState:
    """A ledger's full state, for persistence; round-trips exactly through the converter."""

    profile: RuleProfile
    """The rule profile."""
    now: datetime | None
    """The ledger's clock (``None`` before the first event or query)."""
    metrics: tuple[MetricWindow, ...]
    """Window contents, in profile order."""
    orders: tuple[OrderRecord, ...]
    """Remembered orders, in payment order."""
    pending: tuple[PendingCheck, ...]
    """Scheduled checks, in run order."""
