"""The ledger's mutable internals: remembered orders and each metric's running window.

:class:`_Order` (what the ledger remembers of an order, in ticks), :class:`_Metric` (the
dated entries of one metric's numerator, suspended points and denominator, with running
sums, expiry and a cache of its levels) and :class:`_Group` (the metrics that count one
event kind, and the moratoria that suspend it); an order's weight in each unit.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from consign_core.domain.cancel_rate._solvers import _threshold_solver
from consign_core.domain.cancel_rate._time import (
    _DAY,
    _NEVER,
    _START,
    _day_start,
    _kst_day,
    _month_shift,
)
from consign_core.domain.model import MarketOrder, OrderRef
from consign_core.domain.rules import CountedEvent, CountUnit, MetricSpec, WindowKind


_ONE: Final = (1, 1, 1)
_UNIT_INDEX: Final = {CountUnit.ORDER: 0, CountUnit.LINE: 1, CountUnit.UNIT: 2}


def _amounts(order: MarketOrder) -> tuple[int, int, int]:
    lines = order.lines
    if len(lines) == 1:
        return (1, 1, lines[0].quantity)
    return (1, len(lines), sum(line.quantity for line in lines))


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
        "floor",
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
        # the minimum volume: below it the metric is not evaluated (0 = always evaluated)
        self.floor = spec.minimum_volume or 0
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
        1 warning, 2 sanction). Below the minimum volume no k reaches either: (None, None, 2)
        (cancels do not move the denominator, so they cannot lift the metric over its floor)."""
        d = self.den_sum
        if n == self.hc_n and d == self.hc_d and w == self.hc_w:
            return self.hc_value
        if d < self.floor:
            self.hc_n = n
            self.hc_d = d
            self.hc_w = w
            self.hc_value = (None, None, 2)
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
