"""The seller-fault cancel-rate / penalty ledger: one seller, one market, one rule profile.

A :class:`Ledger` takes lifecycle events (:mod:`consign_core.domain.events`) in time order and
answers, at any time ``now``, each metric of its :class:`~consign_core.domain.rules.RuleProfile`:
value, numerator, denominator, status (ok / warning / sanction), how many more seller-fault
stock-out cancellations it can absorb (:meth:`Ledger.headroom`), when the oldest counted
event leaves the window, and what the metrics would be if some pending orders were cancelled
by their suppliers (:meth:`Ledger.project`). :func:`compute_report` is the batch form over a
whole event list and runs the same code.

What the ledger reads from the events
=====================================

- :class:`~consign_core.domain.events.OrderPaid`: the order, its size and its ship-by deadline
  (``order.ship_by``); a denominator event for :attr:`Denominator.ORDERS_PAID`.
- :class:`~consign_core.domain.events.OrderCancelled`: classified, as recorded and never
  re-labelled,
  into a :attr:`CountedEvent.STOCK_OUT_CANCEL` (fault SELLER and reason STOCK_OUT, or reason
  STOCK_OUT with any fault when the profile's ``stock_out_counts_any_fault`` is set), a
  :attr:`CountedEvent.SELLER_FAULT_CANCEL` (fault SELLER, any other reason), or nothing
  (buyer or market fault). A cancellation also ends the order's late-shipment checks.
- :class:`~consign_core.domain.events.InvoiceUploaded`: the shipment (waybill uploaded); on time iff
  strictly before ``ship_by``. A denominator event for :attr:`Denominator.ORDERS_SHIPPED`.
- :class:`~consign_core.domain.events.Delivered`: if no waybill was seen, the order counts as
  shipped
  at delivery time (it evidently shipped); otherwise ignored.
- Every other event, and events of other markets (``ref.market`` compared case-insensitively
  with ``profile.market``), only move the ledger's clock.

Late shipments
==============

An order is late when neither a waybill upload nor a cancellation happened strictly before its
deadline. The late shipment is booked when the deadline passes (or, under
:attr:`LateBooking.NEXT_BUSINESS_DAY`, at 00:00 KST of the first business day after the
deadline day, which is how Naver penalised a 10/10 deadline on 10/13), whether or not the order
ships later, and even if it is cancelled after the deadline. At the same instant the order
enters the :attr:`Denominator.ORDERS_DUE` denominator (unless it was cancelled before its
deadline). With ``long_late_business_days`` set, an order still unshipped at the end of the
deadline day plus that many business days also books a
:attr:`CountedEvent.LONG_LATE_SHIPMENT`, dated the same way.

Windows, moratoria and memory
=============================

Every counted event is dated (cancellation time, late-shipment booking time, payment time,
waybill time) and sits in each metric's window while ``window start <= date <= now``; a
rolling window of N days starts just after ``now - N days``. A counted event whose KST date
falls in a moratorium (the profile's and the calendar's) that suspends its
:class:`~consign_core.domain.calendar.PenaltyKind` is kept aside as *suspended*: reported, not
counted.

The ledger remembers an order from its payment for :attr:`Ledger.retention` (the longest
window: N days, or 31 days per calendar month) and until its pending late-shipment checks
are done, then forgets it. An event about an order it does not remember (never seen paid, or
forgotten) counts with weight 1 in every unit, with no de-duplication. Duplicate payments,
cancellations and waybills of a remembered order are ignored.

Cost: per event and per query amortized O(number of metrics) (deques with running sums per
window, deadline checks bucketed by booking time under a min-heap); memory bounded by the
orders and events of the longest window (records are dropped in batches, so up to about 1.25
times the retention period is held; what counts as remembered is exact at every instant).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any, Final, cast

import attrs

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST, BusinessCalendar, require_aware
from consign_core.domain.events import (
    Delivered,
    Event,
    InvoiceUploaded,
    OrderCancelled,
    OrderPaid,
)
from consign_core.domain.model import CancelFault, CancelReason, MarketOrder, OrderRef
from consign_core.domain.rules import (
    Combine,
    Comparison,
    CountedEvent,
    CountUnit,
    Denominator,
    LateBooking,
    MetricQuantity,
    MetricSpec,
    MetricStatus,
    RuleProfile,
    Threshold,
    WindowKind,
)
from consign_core.domain.serialization import unstructure
from consign_core.errors import ConfigurationError, DomainError, ValidationError


__all__ = [
    "Headroom",
    "Ledger",
    "LedgerReport",
    "LedgerState",
    "MetricReport",
    "MetricWindow",
    "OrderRecord",
    "PendingCheck",
    "WindowEntry",
    "compute_report",
]

# --------------------------------------------------------------------------------------
# Time as integer microseconds ("ticks"); the epoch is in KST so that the common case (KST
# datetimes) subtracts without any utcoffset() call.
# --------------------------------------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=KST)  # ticks count from 1970-01-01 00:00 KST
_US: Final = timedelta(microseconds=1)
_DAY: Final = 86_400_000_000
_NEVER: Final = 1 << 62
_START: Final = -(1 << 62)
_MIN_DT: Final = datetime(1, 1, 2, tzinfo=KST)  # the clock before any event or query
_MIN_T: Final = (_MIN_DT - _EPOCH) // _US  # the same in ticks
_ONE: Final = (1, 1, 1)
_UNIT_INDEX: Final = {CountUnit.ORDER: 0, CountUnit.LINE: 1, CountUnit.UNIT: 2}
_STATUS_BY_SEVERITY: Final = (MetricStatus.OK, MetricStatus.WARNING, MetricStatus.SANCTION)


def _ticks(value: datetime, argument: str) -> int:
    try:
        return (value - _EPOCH) // _US
    except TypeError:
        require_aware(value, argument)
        raise


def _dt(ticks: int) -> datetime:
    days, micros = divmod(ticks, _DAY)
    return _EPOCH + timedelta(days, 0, micros)


def _day_start(day: date) -> int:
    return (day.toordinal() - 719163) * _DAY  # 719163 = date(1970, 1, 1).toordinal()


def _kst_day(ticks: int) -> date:
    return date.fromordinal(ticks // _DAY + 719163)


def _month_shift(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _amounts(order: MarketOrder) -> tuple[int, int, int]:
    lines = order.lines
    if len(lines) == 1:
        return (1, 1, lines[0].quantity)
    return (1, len(lines), sum(line.quantity for line in lines))


# --------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MetricReport:
    """One metric at one instant (built by the ledger; no validation of its own)."""

    name: str
    """The metric's name in the profile."""
    title: str
    """The metric's title, e.g. ``"order fulfilment"``."""
    status: MetricStatus
    """OK, WARNING or SANCTION."""
    quantity: MetricQuantity
    """What :attr:`value` is: a count, a rate, or a success rate."""
    value: float | None
    """The headline value: the count, ``numerator / denominator``, or ``1 - that``;
    ``None`` for a rate with an empty denominator."""
    numerator: int
    """Counted points (or events) in the window, moratoria excluded."""
    denominator: int | None
    """Denominator events in the window; ``None`` for a metric without one."""
    suspended: int
    """Points in the window that a moratorium suspended (not in the numerator)."""
    window_start: datetime
    """The earliest instant in the window (KST)."""
    next_expiry: datetime | None
    """When the oldest counted event leaves the window (and the numerator drops)."""
    cancels_to_warning: int | None
    """More seller-fault stock-out cancels of a 1-unit single-line order before this metric
    is at least in warning (0 = already there; ``None`` = cannot be reached by cancels)."""
    cancels_to_sanction: int | None
    """The same for the sanction threshold."""

    def describe(self) -> str:
        """E.g. ``"order fulfilment 98.0% (2/100, window from 2025-09-24 10:00): warning"``."""
        if self.value is None:
            shown = "n/a"
        elif self.quantity is MetricQuantity.COUNT:
            shown = f"{self.numerator}"
        else:
            shown = f"{self.value * 100:.1f}%"
        ratio = (
            f"{self.numerator}/{self.denominator}"
            if self.denominator is not None
            else f"{self.numerator}"
        )
        start = self.window_start.astimezone(KST).strftime("%Y-%m-%d %H:%M")
        return f"{self.title} {shown} ({ratio}, window from {start}): {self.status.value}"


@attrs.frozen(kw_only=True)
class LedgerReport:
    """Every metric of a profile at one instant."""

    market: str
    """The profile's market."""
    at: datetime
    """The instant reported on."""
    status: MetricStatus
    """The worst status over the metrics."""
    metrics: tuple[MetricReport, ...]
    """One report per metric, in profile order."""
    orders_remembered: int
    """Orders the ledger currently remembers (see :attr:`Ledger.retention`)."""

    def metric(self, name: str) -> MetricReport:
        """The report of metric ``name``; ConfigurationError listing the names otherwise."""
        for report in self.metrics:
            if report.name == name:
                return report
        known = ", ".join(report.name for report in self.metrics)
        msg = f"no metric {name!r} in this report; known metrics: {known}"
        raise ConfigurationError(msg)


@attrs.frozen(kw_only=True)
class Headroom:
    """How many more seller-fault stock-out cancels the seller can absorb.

    Counts are of orders like the one asked about (a 20-unit order weighs 20 under a UNIT
    profile). "Warning" means *at least* warning: a metric without a warning level reaches it
    with its sanction. The hypothetical orders are taken to be paid orders already in the
    denominators, so a rate's denominator does not move.
    """

    cancels_to_warning: int | None
    """Cancels before the first metric that counts them is at least in warning; 0 = already
    there; ``None`` = no metric can get there by such cancels (none counts them, or a
    moratorium suspends them). A metric such cancels cannot move (on-time shipment, say) bounds
    no headroom, even when it is in warning; :attr:`status` still reports it."""
    cancels_to_sanction: int | None
    """Cancels before the first metric is in sanction; 0 / ``None`` as above."""
    metric: str
    """The metric that binds :attr:`cancels_to_warning` (else the sanction one; else "")."""
    metric_title: str
    """Its title."""
    warning_level: MetricStatus
    """The level :attr:`metric` reaches after :attr:`cancels_to_warning` cancels (WARNING,
    or SANCTION for a metric without a warning level)."""
    sanction_metric: str
    """The metric that binds :attr:`cancels_to_sanction` (or "")."""
    sanction_metric_title: str
    """Its title."""
    status: MetricStatus
    """The worst current status over the metrics."""
    market_name: str
    """The profile's display name, e.g. ``"Coupang"``."""

    def describe(self) -> str:
        """A one-line explanation for the seller.

        E.g. ``"2 more seller-fault cancels before the warning threshold of Coupang order
        fulfilment"``.
        """
        if self.cancels_to_warning is None and self.cancels_to_sanction is None:
            return f"seller-fault stock-out cancels cannot reach a {self.market_name} threshold now"
        if self.cancels_to_sanction == 0:
            # not self.status: a metric such cancels cannot move (late shipments) may be the
            # one in sanction, while the metrics that count them still have room
            return (
                f"already at the sanction threshold of {self.market_name} "
                f"{self.sanction_metric_title}"
            )
        if self.cancels_to_warning == 0:
            text = f"already at the warning threshold of {self.market_name} {self.metric_title}"
            if self.cancels_to_sanction is not None:
                text += (
                    f"; {_cancels(self.cancels_to_sanction)} before the sanction threshold "
                    f"of {self.market_name} {self.sanction_metric_title}"
                )
            return text
        if self.cancels_to_warning is None:
            assert self.cancels_to_sanction is not None  # noqa: S101 - checked above
            return (
                f"{_cancels(self.cancels_to_sanction)} before the sanction threshold of "
                f"{self.market_name} {self.sanction_metric_title}"
            )
        return (
            f"{_cancels(self.cancels_to_warning)} before the {self.warning_level.value} "
            f"threshold of {self.market_name} {self.metric_title}"
        )


def _cancels(count: int) -> str:
    return f"{count} more seller-fault cancel{'' if count == 1 else 's'}"


# ---- snapshot types ------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Hot internals
# --------------------------------------------------------------------------------------

# A solver answers: the least k >= 0 such that a threshold holds with numerator n + k * w
# and denominator d (0 = holds now; None = never, e.g. w == 0 and not holding now).
_Solver = Callable[[int, int, int], "int | None"]


def _condition_solver(is_rate: bool, strict: bool, p: int, q: int) -> _Solver:  # noqa: FBT001
    """Solve ``q * (n + k w)  (> if strict else >=)  p * X`` for the least k, X = d or 1.

    For a rate with ``d == 0`` the rate is taken as 0 when ``n == 0`` and +inf when ``n > 0``.
    """
    zero_holds = not strict and p <= 0  # a 0 rate meets ">= p" only for p <= 0

    if is_rate and strict:

        def solve(n: int, d: int, w: int) -> int | None:
            if d == 0:
                return 0 if n > 0 else (1 if w > 0 else None)
            need = p * d - q * n
            if need < 0:
                return 0
            return need // (q * w) + 1 if w > 0 else None

    elif is_rate:

        def solve(n: int, d: int, w: int) -> int | None:
            if d == 0:
                return 0 if n > 0 or zero_holds else (1 if w > 0 else None)
            need = p * d - q * n
            if need <= 0:
                return 0
            return -(-need // (q * w)) if w > 0 else None

    elif strict:

        def solve(n: int, d: int, w: int) -> int | None:  # noqa: ARG001
            need = p - q * n
            if need < 0:
                return 0
            return need // (q * w) + 1 if w > 0 else None

    else:

        def solve(n: int, d: int, w: int) -> int | None:  # noqa: ARG001
            need = p - q * n
            if need <= 0:
                return 0
            return -(-need // (q * w)) if w > 0 else None

    return solve


def _threshold_solver(threshold: Threshold | None) -> _Solver | None:
    """One solver for a whole threshold: ALL -> the max of the conditions' k, ANY -> the min."""
    if threshold is None:
        return None
    solvers: list[_Solver] = []
    for condition in threshold.conditions:
        value = condition.exact_value()
        strict = condition.comparison in {Comparison.ABOVE, Comparison.BELOW}
        if condition.quantity is MetricQuantity.SUCCESS_RATE:
            # 1 - N/D < s  <=>  N/D > 1 - s ;  1 - N/D <= s  <=>  N/D >= 1 - s
            value = 1 - value
        is_rate = condition.quantity is not MetricQuantity.COUNT
        solvers.append(_condition_solver(is_rate, strict, value.numerator, value.denominator))
    if len(solvers) == 1:
        return solvers[0]
    parts = tuple(solvers)
    if threshold.combine is Combine.ALL:

        def solve_all(n: int, d: int, w: int) -> int | None:
            best = 0
            for part in parts:
                k = part(n, d, w)
                if k is None:
                    return None
                best = max(best, k)
            return best

        return solve_all

    def solve_any(n: int, d: int, w: int) -> int | None:
        best: int | None = None
        for part in parts:
            k = part(n, d, w)
            if k is not None and (best is None or k < best):
                best = k
        return best

    return solve_any


class _Order:
    __slots__ = ("amounts", "cancelled", "deadline", "paid", "pending", "ref", "shipped")

    def __init__(
        self, ref: OrderRef, paid: int, deadline: int, amounts: tuple[int, int, int]
    ) -> None:
        self.ref = ref
        self.paid = paid
        self.deadline = deadline
        self.amounts = amounts
        self.shipped: int | None = None
        self.cancelled: int | None = None
        self.pending = 0


class _Metric:
    __slots__ = (
        "den",
        "den_sum",
        "hc_d",
        "hc_n",
        "hc_value",
        "hc_w",
        "idx",
        "lo",
        "lo_until",
        "months",
        "next_leave",
        "num",
        "num_sum",
        "sanction",
        "so_points",
        "span",
        "spec",
        "sus",
        "sus_sum",
        "warning",
    )

    def __init__(self, spec: MetricSpec) -> None:
        self.spec = spec
        self.idx = _UNIT_INDEX[spec.unit]
        rolling = spec.window.kind is WindowKind.ROLLING_DAYS
        self.span = spec.window.length * _DAY if rolling else 0
        self.months = 0 if rolling else spec.window.length
        self.num: deque[tuple[int, int]] = deque()
        self.sus: deque[tuple[int, int]] = deque()
        self.den: deque[tuple[int, int]] = deque()
        self.num_sum = 0
        self.sus_sum = 0
        self.den_sum = 0
        self.warning = _threshold_solver(spec.warning)
        self.sanction = _threshold_solver(spec.sanction)
        self.so_points = spec.points_for(CountedEvent.STOCK_OUT_CANCEL)
        self.lo = _START  # window start (inclusive) for calendar-month windows
        self.lo_until = _START  # lo is valid for now < lo_until
        self.next_leave = _NEVER  # <= the first instant an entry leaves the window
        # cache of levels(): the (n, d, w) it was last computed for, and the answer
        self.hc_n = -1
        self.hc_d = -1
        self.hc_w = -1
        self.hc_value: tuple[int | None, int | None, int] = (None, None, 0)

    def leave(self, t: int) -> int:
        """The first instant at which an entry dated ``t`` is out of the window."""
        if self.months == 0:
            return t + self.span
        return _day_start(_month_shift(_kst_day(t), self.months))

    def window_start(self, now: int) -> int:
        """The earliest in-window instant at ``now`` (``now`` never decreases)."""
        if self.months == 0:
            return now - self.span + 1
        if now >= self.lo_until:
            first = _kst_day(now).replace(day=1)
            self.lo = _day_start(_month_shift(first, 1 - self.months))
            self.lo_until = _day_start(_month_shift(first, 1))
        return self.lo

    def expire(self, now: int) -> int:  # noqa: PLR0912 - unrolled over 3 deques: hot
        """Drop entries out of the window at ``now``; return the next instant one leaves."""
        lo = now - self.span + 1 if self.months == 0 else self.window_start(now)
        head = _NEVER
        q = self.num
        if q:
            if q[0][0] < lo:
                total = self.num_sum
                while q and q[0][0] < lo:
                    total -= q.popleft()[1]
                self.num_sum = total
            if q:
                head = q[0][0]
        q = self.sus
        if q:
            if q[0][0] < lo:
                total = self.sus_sum
                while q and q[0][0] < lo:
                    total -= q.popleft()[1]
                self.sus_sum = total
            if q:
                head = min(head, q[0][0])
        q = self.den
        if q:
            if q[0][0] < lo:
                total = self.den_sum
                while q and q[0][0] < lo:
                    total -= q.popleft()[1]
                self.den_sum = total
            if q:
                head = min(head, q[0][0])
        if head == _NEVER:
            return _NEVER
        return head + self.span if self.months == 0 else self.leave(head)

    def levels(self, n: int, w: int) -> tuple[int | None, int | None, int]:
        """(k to at-least-warning, k to sanction, the severity reached after the first k:
        1 warning, 2 sanction)."""
        d = self.den_sum
        if n == self.hc_n and d == self.hc_d and w == self.hc_w:
            return self.hc_value
        sanction = self.sanction
        ks = None if sanction is None else sanction(n, d, w)
        warning = self.warning
        kw = None if warning is None else warning(n, d, w)
        # a metric without a warning level (or whose sanction comes first) reaches
        # "at least warning" with its sanction
        sanction_first = kw is None or (ks is not None and ks <= kw)
        value = (ks, ks, 2) if sanction_first else (kw, ks, 1)
        self.hc_n = n
        self.hc_d = d
        self.hc_w = w
        self.hc_value = value
        return value


class _Group:
    """The metrics that count one event kind, and the moratoria that can suspend it."""

    __slots__ = ("ranges", "targets")

    def __init__(
        self, targets: tuple[tuple[_Metric, int], ...], ranges: tuple[tuple[int, int], ...]
    ) -> None:
        self.targets = targets
        self.ranges = ranges

    def suspended(self, t: int) -> bool:
        return any(lo <= t < hi for lo, hi in self.ranges)


def _status(kw: int | None, ks: int | None) -> MetricStatus:
    if ks == 0:
        return MetricStatus.SANCTION
    if kw == 0:
        return MetricStatus.WARNING
    return MetricStatus.OK


def _time_error(what: str, value: datetime, current: datetime) -> DomainError:
    msg = (
        f"{what} at {value.isoformat()} is earlier than the ledger's current time "
        f"{current.isoformat()}; events and queries must come in time order"
    )
    return DomainError(msg)


# A scheduled late-shipment check: (order, stage, deadline). Checks sit in buckets keyed by
# their booking time; a min-heap holds the distinct booking times. Most deadlines are the end
# of a day, so many orders share a bucket and the heap stays tiny.
_Check = tuple[_Order, int, int]

_PAID: Final = 1
_CANCELLED: Final = 2
_SHIPPED: Final = 3
_DELIVERED: Final = 4
_KINDS: Final[dict[type[Any], int]] = {
    OrderPaid: _PAID,
    OrderCancelled: _CANCELLED,
    InvoiceUploaded: _SHIPPED,
    Delivered: _DELIVERED,
}


# --------------------------------------------------------------------------------------
# The ledger
# --------------------------------------------------------------------------------------


class Ledger:
    """A streaming penalty ledger for one seller on one market (see the module docs).

    Events must arrive in time order (equal times allowed); :meth:`observe`, :meth:`advance`
    and every query move the ledger's clock forward, and a time earlier than the clock raises
    :class:`~consign_core.errors.DomainError`.
    """

    __slots__ = (
        "_booking_cache",
        "_buckets",
        "_calendar",
        "_d_due",
        "_d_paid",
        "_d_shipped",
        "_expire_at",
        "_forget_at",
        "_g_late",
        "_g_long",
        "_g_seller",
        "_g_stock",
        "_heap",
        "_hr_amounts",
        "_hr_cache",
        "_hr_suspended",
        "_hr_value",
        "_hr_version",
        "_long_late",
        "_market",
        "_market_ok",
        "_metrics",
        "_next_business_day",
        "_now_dt",
        "_now_t",
        "_orders",
        "_paid_q",
        "_profile",
        "_retention",
        "_slack",
        "_stock_any_fault",
        "_version",
        "_waiting",
        "_wake",
    )

    def __init__(
        self, profile: RuleProfile, *, calendar: BusinessCalendar = DEFAULT_CALENDAR
    ) -> None:
        """Start an empty ledger for ``profile``, counting business days with ``calendar``."""
        if not isinstance(cast("object", profile), RuleProfile):
            msg = f"profile must be a RuleProfile, got {profile!r}"
            raise ConfigurationError(msg)
        if not isinstance(cast("object", calendar), BusinessCalendar):
            msg = f"calendar must be a BusinessCalendar, got {calendar!r}"
            raise ConfigurationError(msg)
        self._profile = profile
        self._calendar = calendar
        self._market = profile.market.strip().casefold()
        self._market_ok: dict[str, bool] = {}
        self._metrics = tuple(_Metric(spec) for spec in profile.metrics)
        moratoria = [
            m
            for m in (*profile.moratoria, *calendar.moratoria)
            if m.covers(m.start, profile.market)
        ]

        def group(kind: CountedEvent) -> _Group:
            targets = tuple(
                (m, m.spec.points_for(kind)) for m in self._metrics if m.spec.points_for(kind)
            )
            ranges = tuple(
                (_day_start(m.start), _day_start(m.end) + _DAY)
                for m in moratoria
                if kind.penalty_kind in m.suspended
            )
            return _Group(targets, ranges)

        self._g_stock = group(CountedEvent.STOCK_OUT_CANCEL)
        self._g_seller = group(CountedEvent.SELLER_FAULT_CANCEL)
        self._g_late = group(CountedEvent.LATE_SHIPMENT)
        self._g_long = group(CountedEvent.LONG_LATE_SHIPMENT)

        def den(kind: Denominator) -> tuple[_Metric, ...]:
            return tuple(m for m in self._metrics if m.spec.denominator is kind)

        self._d_paid = den(Denominator.ORDERS_PAID)
        self._d_due = den(Denominator.ORDERS_DUE)
        self._d_shipped = den(Denominator.ORDERS_SHIPPED)
        self._stock_any_fault = profile.stock_out_counts_any_fault
        self._long_late = profile.ship_by.long_late_business_days
        self._next_business_day = profile.ship_by.late_booking is LateBooking.NEXT_BUSINESS_DAY
        self._booking_cache: dict[int, int] = {}
        self._retention = max(
            (m.span if m.months == 0 else m.months * 31 * _DAY) for m in self._metrics
        )
        self._orders: dict[str, _Order] = {}  # by order_id: one market per ledger
        self._paid_q: deque[_Order] = deque()  # remembered orders, by payment time
        self._waiting: list[_Order] = []  # past retention, kept for pending checks
        # forgetting runs in batches, every _slack or so; _lookup() hides stale records
        # meanwhile, so what is remembered is exact at every instant
        self._slack = max(self._retention // 4, _DAY // 24)
        self._heap: list[int] = []  # distinct booking times of pending checks
        self._buckets: dict[int, list[_Check]] = {}
        # the clock: the time as given (for `now`) and in ticks; time order is checked on
        # ticks, i.e. on instants (comparing two datetimes of one tzinfo compares wall times,
        # which is wrong across a DST fold)
        self._now_dt = _MIN_DT
        self._now_t: int = _MIN_T
        # _wake <= the earliest of: the next pending check, the next window expiry
        # (_expire_at) and the next order to forget (_forget_at); nothing to do before it.
        self._expire_at = _NEVER
        self._forget_at = _NEVER
        self._wake = _NEVER
        self._version = 0
        self._hr_version = -1
        self._hr_amounts: tuple[int, int, int] = _ONE
        self._hr_suspended = False
        self._hr_value: Headroom | None = None
        self._hr_cache: dict[tuple[Any, ...], Headroom] = {}

    # ------------------------------------------------------------------ properties

    @property
    def profile(self) -> RuleProfile:
        """The rule profile."""
        return self._profile

    @property
    def calendar(self) -> BusinessCalendar:
        """The business-day calendar."""
        return self._calendar

    @property
    def now(self) -> datetime | None:
        """The ledger's clock: the latest event or query time as given (``None`` before any)."""
        return None if self._now_dt is _MIN_DT else self._now_dt

    @property
    def retention(self) -> timedelta:
        """How long an order is remembered after payment: the longest window (31 days per
        calendar month); longer while its late-shipment checks are pending."""
        return timedelta(microseconds=self._retention)

    # ------------------------------------------------------------------ clock

    def _clock(self, value: datetime, argument: str, what: str) -> int:
        try:
            t: int = (value - _EPOCH) // _US
        except TypeError:
            require_aware(value, argument)
            raise
        if t >= self._wake or t < self._now_t:
            self._catch_up(value, t, what)
        self._now_dt = value
        self._now_t = t
        return t

    def _catch_up(self, value: datetime, t: int, what: str) -> None:
        """Reject a time before the clock, else run what is due at ``value`` (``t`` ticks)."""
        if t < self._now_t:
            raise _time_error(what, value, self._now_dt)
        heap = self._heap
        if heap and heap[0] <= t:
            self._run_checks(t)
        if t >= self._expire_at:
            nxt = _NEVER
            for m in self._metrics:
                if t >= m.next_leave:
                    m.next_leave = m.expire(t)
                nxt = min(nxt, m.next_leave)
            self._expire_at = nxt
            self._version += 1
        if t >= self._forget_at:
            self._forget(t)
        self._wake = min(heap[0] if heap else _NEVER, self._expire_at, self._forget_at)

    def _lower_wake(self, t: int) -> None:
        if t < self._wake:  # noqa: PLR1730 - hot: cheaper than min()
            self._wake = t

    def _run_checks(self, t: int) -> None:
        heap = self._heap
        buckets = self._buckets
        while heap and heap[0] <= t:
            b = heapq.heappop(heap)
            for rec, stage, deadline in buckets.pop(b):
                rec.pending -= 1
                cancelled = rec.cancelled
                if cancelled is None or cancelled >= deadline:
                    if stage == 1 and self._d_due:
                        self._den(self._d_due, b, rec.amounts)
                    shipped = rec.shipped
                    if shipped is None or shipped >= deadline:
                        if stage == 1:
                            self._count(self._g_late, b, rec.amounts)
                            if self._long_late is not None:
                                day = _kst_day(deadline - 1)
                                end = self._calendar.add_business_days(day, self._long_late)
                                self._schedule(rec, _day_start(end) + _DAY, 2)
                        else:
                            self._count(self._g_long, b, rec.amounts)

    def _forget(self, t: int) -> None:
        """Drop the records of orders no longer remembered at ``t``: paid at or before
        ``t - retention`` and with no late-shipment check pending."""
        limit = t - self._retention
        q = self._paid_q
        orders = self._orders
        waiting = [rec for rec in self._waiting if rec.pending]
        for rec in self._waiting:
            if not rec.pending and orders.get(rec.ref.order_id) is rec:
                del orders[rec.ref.order_id]
        while q and q[0].paid <= limit:
            rec = q.popleft()
            if rec.pending:
                waiting.append(rec)
            elif orders.get(rec.ref.order_id) is rec:
                del orders[rec.ref.order_id]
        self._waiting = waiting
        nxt = q[0].paid + self._retention + self._slack if q else _NEVER
        self._forget_at = min(nxt, t + self._slack) if waiting else nxt

    def _purge(self, t: int) -> None:
        """Forget exactly what is forgotten at ``t`` now, rather than at the next batch."""
        self._forget(t)
        self._lower_wake(self._forget_at)

    def _lookup(self, order_id: str, t: int) -> _Order | None:
        """The remembered record of ``order_id`` at ``t`` (a stale one is dropped)."""
        rec = self._orders.get(order_id)
        if rec is not None and rec.pending == 0 and rec.paid <= t - self._retention:
            del self._orders[order_id]
            return None
        return rec

    def _booking(self, deadline: int) -> int:
        booked = self._booking_cache.get(deadline)
        if booked is None:
            if len(self._booking_cache) > 4096:
                self._booking_cache.clear()
            day = self._calendar.next_business_day(_kst_day(deadline - 1))
            booked = _day_start(day)
            self._booking_cache[deadline] = booked
        return booked

    def _schedule(self, rec: _Order, deadline: int, stage: int) -> None:
        booked = self._booking(deadline) if self._next_business_day else deadline
        bucket = self._buckets.get(booked)
        if bucket is None:
            self._buckets[booked] = [(rec, stage, deadline)]
            heapq.heappush(self._heap, booked)
            self._lower_wake(booked)
        else:
            bucket.append((rec, stage, deadline))
        rec.pending += 1

    # ------------------------------------------------------------------ counting

    def _count(self, group: _Group, t: int, amounts: tuple[int, int, int]) -> None:
        targets = group.targets
        if not targets:
            return
        suspended = bool(group.ranges) and group.suspended(t)
        for m, points in targets:
            amount = points * amounts[m.idx]
            if suspended:
                q = m.sus
                m.sus_sum += amount
            else:
                q = m.num
                m.num_sum += amount
            if not q:
                self._wake_for(m, t)
            q.append((t, amount))
        self._version += 1

    def _den(self, targets: tuple[_Metric, ...], t: int, amounts: tuple[int, int, int]) -> None:
        for m in targets:
            q = m.den
            if not q:
                self._wake_for(m, t)
            amount = amounts[m.idx]
            q.append((t, amount))
            m.den_sum += amount
        self._version += 1

    def _wake_for(self, m: _Metric, t: int) -> None:
        """An entry dated ``t`` went into an empty deque of ``m``: wake up when it leaves."""
        leave = m.leave(t)
        m.next_leave = min(m.next_leave, leave)
        self._expire_at = min(self._expire_at, leave)
        self._lower_wake(leave)

    def _relevant(self, market: str) -> bool:
        ok = self._market_ok.get(market)
        if ok is None:
            ok = market.strip().casefold() == self._market
            self._market_ok[market] = ok
        return ok

    # ------------------------------------------------------------------ events

    def observe(self, event: Event) -> None:  # noqa: PLR0912 - one hot dispatch
        """Take one lifecycle event (in time order); see the module docs for what counts.

        Raises :class:`~consign_core.errors.DomainError` naming both times if ``event`` is
        earlier than the ledger's clock, and :class:`~consign_core.errors.ValidationError` if
        it is not an event.
        """
        kind = _KINDS.get(type(event))
        try:
            at = event.at
        except AttributeError:
            msg = f"event must be a lifecycle event (consign_core.domain.events), got {event!r}"
            raise ValidationError(msg, field="event", value=event) from None
        try:
            t: int = (at - _EPOCH) // _US
        except TypeError:
            require_aware(at, "event.at")
            raise
        if t >= self._wake or t < self._now_t:
            self._catch_up(at, t, type(event).__name__)
        self._now_dt = at
        self._now_t = t
        if kind is None:
            return
        ref = event.ref
        market = ref.market
        ok = self._market_ok.get(market)
        if ok is None:
            ok = self._relevant(market)
        if not ok:
            return
        if kind == _PAID:
            self._on_paid(cast("OrderPaid", event).order, t)
        elif kind == _CANCELLED:
            self._on_cancelled(cast("OrderCancelled", event), t)
        else:  # a waybill upload, or a delivery (a shipment if no waybill was seen)
            rec = self._orders.get(ref.order_id)
            if (
                rec is not None
                and (rec.shipped is not None or rec.cancelled is not None)
                and (kind == _DELIVERED or not self._d_shipped)
            ):
                return  # no effect whether or not the record is still remembered
            if rec is not None and rec.pending == 0:
                rec = self._lookup(ref.order_id, t)
            if rec is None:
                if kind == _SHIPPED and self._d_shipped:
                    self._den(self._d_shipped, t, _ONE)
            elif rec.shipped is None and rec.cancelled is None:
                rec.shipped = t
                if self._d_shipped:
                    self._den(self._d_shipped, t, rec.amounts)

    def _on_paid(self, order: MarketOrder, t: int) -> None:
        ref = order.ref
        orders = self._orders
        if ref.order_id in orders and self._lookup(ref.order_id, t) is not None:
            return
        lines = order.lines
        amounts = (
            (1, 1, lines[0].quantity)
            if len(lines) == 1
            else (1, len(lines), sum(line.quantity for line in lines))
        )
        deadline: int = (order.ship_by - _EPOCH) // _US
        rec = _Order(ref, t, deadline, amounts)
        orders[ref.order_id] = rec
        paid_q = self._paid_q
        if not paid_q and not self._waiting:
            self._forget_at = t + self._retention + self._slack
            self._lower_wake(self._forget_at)
        paid_q.append(rec)
        # schedule the deadline check (inlined _schedule, the hot case)
        booked = self._booking(deadline) if self._next_business_day else deadline
        bucket = self._buckets.get(booked)
        if bucket is None:
            self._buckets[booked] = [(rec, 1, deadline)]
            heapq.heappush(self._heap, booked)
            self._lower_wake(booked)
        else:
            bucket.append((rec, 1, deadline))
        rec.pending = 1
        # the ORDERS_PAID denominators (inlined _den)
        for m in self._d_paid:
            q = m.den
            if not q:
                self._wake_for(m, t)
            amount = amounts[m.idx]
            q.append((t, amount))
            m.den_sum += amount
        self._version += 1

    def _on_cancelled(self, event: OrderCancelled, t: int) -> None:
        rec = self._lookup(event.ref.order_id, t)
        if rec is None:
            amounts = _ONE
        elif rec.cancelled is not None:
            return
        else:
            rec.cancelled = t
            amounts = rec.amounts
        cancellation = event.cancellation
        fault = cancellation.fault
        if cancellation.reason is CancelReason.STOCK_OUT and (
            fault is CancelFault.SELLER or self._stock_any_fault
        ):
            self._count(self._g_stock, t, amounts)
        elif fault is CancelFault.SELLER:
            self._count(self._g_seller, t, amounts)

    def advance(self, now: datetime) -> None:
        """Move the clock to ``now``: book deadlines that passed, expire old entries."""
        self._clock(now, "now", "now")

    # ------------------------------------------------------------------ queries

    def headroom(  # noqa: PLR0912 - hot: one flat loop
        self, now: datetime, order: MarketOrder | None = None
    ) -> Headroom:
        """How many more supplier stock-out cancels (seller fault) of orders like ``order``
        the seller can absorb before the first metric reaches warning / sanction.

        ``order=None`` means a 1-unit single-line order. O(number of metrics), a few
        microseconds; moves the clock to ``now``.
        """
        t: int
        if now is self._now_dt:  # asked right after an event or query at this very instant
            t = self._now_t
        else:
            try:
                t = (now - _EPOCH) // _US
            except TypeError:
                require_aware(now, "now")
                raise
        if t >= self._wake or t < self._now_t:
            self._catch_up(now, t, "now")
        self._now_dt = now
        self._now_t = t
        amounts = _ONE if order is None else _amounts(order)
        group = self._g_stock
        suspended = bool(group.ranges) and group.suspended(t)
        if (
            self._version == self._hr_version
            and suspended is self._hr_suspended
            and (amounts is self._hr_amounts or amounts == self._hr_amounts)
            and self._hr_value is not None
        ):
            return self._hr_value
        best_w: int | None = None
        best_s: int | None = None
        m_w: _Metric | None = None
        m_s: _Metric | None = None
        level_w = 1
        worst = 0
        for m in self._metrics:
            n = m.num_sum
            w = 0 if suspended else m.so_points * amounts[m.idx]
            if n == m.hc_n and w == m.hc_w and m.den_sum == m.hc_d:
                kw, ks, level = m.hc_value
            else:
                kw, ks, level = m.levels(n, w)
            if ks == 0:
                worst = 2
            elif kw == 0 and worst == 0:
                worst = 1
            if w == 0:
                # such cancels do not move this metric (it does not count them, or a
                # moratorium suspends them): its own status says nothing about headroom
                continue
            if kw is not None and (best_w is None or kw < best_w):
                best_w, m_w, level_w = kw, m, level
            if ks is not None and (best_s is None or ks < best_s):
                best_s, m_s = ks, m
        value = self._headroom_value((best_w, best_s, m_w, m_s, level_w, worst))
        self._hr_version = self._version
        self._hr_suspended = suspended
        self._hr_amounts = amounts
        self._hr_value = value
        return value

    def _headroom_value(
        self,
        key: tuple[int | None, int | None, _Metric | None, _Metric | None, int, int],
    ) -> Headroom:
        value = self._hr_cache.get(key)
        if value is None:
            best_w, best_s, m_w, m_s, level_w, worst = key
            if len(self._hr_cache) > 4096:
                self._hr_cache.clear()
            binding = m_w if m_w is not None else m_s
            value = Headroom(
                cancels_to_warning=best_w,
                cancels_to_sanction=best_s,
                metric="" if binding is None else binding.spec.name,
                metric_title="" if binding is None else binding.spec.title,
                warning_level=_STATUS_BY_SEVERITY[level_w if m_w is not None else 2],
                sanction_metric="" if m_s is None else m_s.spec.name,
                sanction_metric_title="" if m_s is None else m_s.spec.title,
                status=_STATUS_BY_SEVERITY[worst],
                market_name=self._profile.display_name,
            )
            self._hr_cache[key] = value
        return value

    def report(self, now: datetime) -> LedgerReport:
        """Every metric at ``now`` (moves the clock to ``now``)."""
        t = self._clock(now, "now", "now")
        self._purge(t)
        return self._build_report(t, now, {})

    def project(self, now: datetime, cancelled: Iterable[MarketOrder]) -> LedgerReport:
        """The metrics at ``now`` if the orders ``cancelled`` were cancelled now by their
        suppliers (seller fault, reason STOCK_OUT).

        Equivalent to observing those cancellations, except that each order weighs its own
        size even if the ledger does not remember it. Orders of other markets, orders already
        cancelled and repeats are skipped. Records nothing (only moves the clock to ``now``).
        """
        t = self._clock(now, "now", "now")
        self._purge(t)  # as report(): orders_remembered is exact at ``now``
        group = self._g_stock
        suspended = group.suspended(t)
        extra: dict[int, tuple[int, int]] = {}
        seen: set[str] = set()
        for order in cancelled:
            ref = order.ref
            if ref.order_id in seen or not self._relevant(ref.market):
                continue
            seen.add(ref.order_id)
            rec = self._lookup(ref.order_id, t)
            if rec is not None and rec.cancelled is not None:
                continue
            amounts = _amounts(order)
            for m, points in group.targets:
                num, sus = extra.get(id(m), (0, 0))
                amount = points * amounts[m.idx]
                extra[id(m)] = (num, sus + amount) if suspended else (num + amount, sus)
        return self._build_report(t, now, extra)

    def _build_report(
        self, t: int, now: datetime, extra: dict[int, tuple[int, int]]
    ) -> LedgerReport:
        reports = []
        worst = 0
        so_suspended = self._g_stock.suspended(t)
        for m in self._metrics:
            add_num, add_sus = extra.get(id(m), (0, 0))
            n = m.num_sum + add_num
            d = m.den_sum
            kw, ks, _ = m.levels(n, 0 if so_suspended else m.so_points)
            status = _status(kw, ks)
            worst = max(worst, status.severity)
            spec = m.spec
            quantity = spec.headline
            value: float | None
            if quantity is MetricQuantity.COUNT:
                value = float(n)
            elif d == 0:
                value = None
            elif quantity is MetricQuantity.RATE:
                value = n / d
            else:
                value = 1.0 - n / d
            if m.num:
                expiry: int | None = m.leave(m.num[0][0])
            elif add_num:
                expiry = m.leave(t)
            else:
                expiry = None
            reports.append(
                MetricReport(
                    name=spec.name,
                    title=spec.title,
                    status=status,
                    quantity=quantity,
                    value=value,
                    numerator=n,
                    denominator=None if spec.denominator is Denominator.NONE else d,
                    suspended=m.sus_sum + add_sus,
                    window_start=_dt(m.window_start(t)),
                    next_expiry=None if expiry is None else _dt(expiry),
                    cancels_to_warning=kw,
                    cancels_to_sanction=ks,
                )
            )
        return LedgerReport(
            market=self._profile.market,
            at=now,
            status=_STATUS_BY_SEVERITY[worst],
            metrics=tuple(reports),
            orders_remembered=len(self._orders),
        )

    # ------------------------------------------------------------------ snapshots

    def snapshot(self) -> LedgerState:
        """The full state; ``Ledger.from_snapshot(ledger.snapshot(), calendar=ledger.calendar)``
        continues identically (the calendar is not part of the state)."""

        def entries(q: deque[tuple[int, int]]) -> tuple[WindowEntry, ...]:
            return tuple(WindowEntry(at=_dt(t), amount=a) for t, a in q)

        def opt(t: int | None) -> datetime | None:
            return None if t is None else _dt(t)

        now = self.now
        limit = _START
        if now is not None:
            t: int = (now - _EPOCH) // _US
            self._purge(t)
            limit = t - self._retention

        return LedgerState(
            profile=self._profile,
            now=now,
            metrics=tuple(
                MetricWindow(
                    name=m.spec.name,
                    numerator=entries(m.num),
                    suspended=entries(m.sus),
                    denominator=entries(m.den),
                )
                for m in self._metrics
            ),
            orders=tuple(
                OrderRecord(
                    ref=rec.ref,
                    paid_at=_dt(rec.paid),
                    ship_by=_dt(rec.deadline),
                    lines=rec.amounts[1],
                    units=rec.amounts[2],
                    shipped_at=opt(rec.shipped),
                    cancelled_at=opt(rec.cancelled),
                    pending_checks=rec.pending,
                    aged=rec.paid <= limit,
                )
                for rec in self._orders.values()
            ),
            pending=tuple(
                PendingCheck(at=_dt(b), stage=stage, deadline=_dt(d), ref=rec.ref)
                for b in sorted(self._buckets)
                for rec, stage, d in self._buckets[b]
            ),
        )

    def snapshot_data(self) -> dict[str, Any]:
        """:meth:`snapshot` as JSON-ready data: equal to ``unstructure(ledger.snapshot())``.

        Built straight from the ledger's internals, without the intermediate value objects,
        several times faster on a large ledger (the engine persists one every few thousand
        events). Read it back with ``structure(data, LedgerState)``.
        """
        now = self.now
        limit = _START
        if now is not None:
            t: int = (now - _EPOCH) // _US
            self._purge(t)
            limit = t - self._retention
        iso: dict[int, str] = {}

        def text(ticks: int) -> str:
            found = iso.get(ticks)
            if found is None:
                found = iso[ticks] = _dt(ticks).isoformat()
            return found

        def entries(q: deque[tuple[int, int]]) -> list[dict[str, Any]]:
            return [{"at": text(at), "amount": amount} for at, amount in q]

        def ref_data(ref: OrderRef) -> dict[str, str]:
            return {"market": ref.market, "order_id": ref.order_id}

        orders = [
            {
                "ref": ref_data(rec.ref),
                "paid_at": text(rec.paid),
                "ship_by": text(rec.deadline),
                "lines": rec.amounts[1],
                "units": rec.amounts[2],
                "shipped_at": None if rec.shipped is None else text(rec.shipped),
                "cancelled_at": None if rec.cancelled is None else text(rec.cancelled),
                "pending_checks": rec.pending,
                "aged": rec.paid <= limit,
            }
            for rec in self._orders.values()
        ]
        pending = []
        for b in sorted(self._buckets):
            at = text(b)
            pending += [
                {"at": at, "stage": stage, "deadline": text(d), "ref": ref_data(rec.ref)}
                for rec, stage, d in self._buckets[b]
            ]
        return {
            "profile": unstructure(self._profile),
            "now": None if now is None else now.isoformat(),
            "metrics": [
                {
                    "name": m.spec.name,
                    "numerator": entries(m.num),
                    "suspended": entries(m.sus),
                    "denominator": entries(m.den),
                }
                for m in self._metrics
            ],
            "orders": orders,
            "pending": pending,
        }

    @classmethod
    def from_snapshot(  # noqa: PLR0912 - checks and rebuilds every part of the state
        cls, state: LedgerState, *, calendar: BusinessCalendar = DEFAULT_CALENDAR
    ) -> Ledger:
        """Rebuild a ledger from :meth:`snapshot` output (e.g. after a restart).

        The snapshot does not hold the calendar: pass the one the ledger was built with
        (its closed days and moratoria decide bookings), else the default calendar is used.
        """
        if not isinstance(cast("object", state), LedgerState):
            msg = f"state must be a LedgerState (from Ledger.snapshot()), got {state!r}"
            raise ConfigurationError(msg)
        ledger = cls(state.profile, calendar=calendar)
        names = [m.spec.name for m in ledger._metrics]
        if [window.name for window in state.metrics] != names:
            msg = (
                f"snapshot metrics {[w.name for w in state.metrics]!r} do not match the "
                f"profile's {names!r}"
            )
            raise ConfigurationError(msg)
        for m, window in zip(ledger._metrics, state.metrics, strict=True):
            for q, src in (
                (m.num, window.numerator),
                (m.sus, window.suspended),
                (m.den, window.denominator),
            ):
                q.extend((_ticks(e.at, "at"), e.amount) for e in src)
                if q:
                    ledger._wake_for(m, q[0][0])
            m.num_sum = sum(a for _, a in m.num)
            m.sus_sum = sum(a for _, a in m.sus)
            m.den_sum = sum(a for _, a in m.den)
        for record in state.orders:
            rec = _Order(
                record.ref,
                _ticks(record.paid_at, "paid_at"),
                _ticks(record.ship_by, "ship_by"),
                (1, record.lines, record.units),
            )
            rec.shipped = None if record.shipped_at is None else _ticks(record.shipped_at, "at")
            rec.cancelled = (
                None if record.cancelled_at is None else _ticks(record.cancelled_at, "at")
            )
            rec.pending = record.pending_checks
            ledger._orders[rec.ref.order_id] = rec
            if record.aged:
                ledger._waiting.append(rec)
            else:
                ledger._paid_q.append(rec)
        if ledger._orders and state.now is not None:
            # purge (a no-op) at the first event or query
            ledger._forget_at = _ticks(state.now, "state.now")
        for check in state.pending:
            found = ledger._orders.get(check.ref.order_id)
            if found is None:
                msg = f"snapshot has a pending check for unknown order {check.ref}"
                raise ConfigurationError(msg)
            booked = _ticks(check.at, "at")
            bucket = ledger._buckets.setdefault(booked, [])
            if not bucket:
                ledger._heap.append(booked)
            bucket.append((found, check.stage, _ticks(check.deadline, "deadline")))
        heapq.heapify(ledger._heap)
        ledger._lower_wake(
            min(ledger._heap[0] if ledger._heap else _NEVER, ledger._expire_at, ledger._forget_at)
        )
        if state.now is not None:
            ledger._now_t = _ticks(state.now, "state.now")
            ledger._now_dt = state.now
        return ledger


def compute_report(
    profile: RuleProfile,
    events: Iterable[Event],
    now: datetime,
    *,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> LedgerReport:
    """The report at ``now`` over a whole event list, by the same code as :class:`Ledger`.

    Events are sorted by time (stably: equal times keep their order) and those after ``now``
    are left out.
    """
    limit = _ticks(now, "now")
    timed = sorted(((_ticks(e.at, "event.at"), e) for e in events), key=lambda pair: pair[0])
    ledger = Ledger(profile, calendar=calendar)
    for t, event in timed:
        if t > limit:
            break
        ledger.observe(event)
    return ledger.report(now)
