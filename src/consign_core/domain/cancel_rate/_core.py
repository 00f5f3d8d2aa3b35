"""The ledger's state and machinery: the clock, deadline checks, forgetting and counting.

:class:`_LedgerCore` holds every slot of a :class:`~consign_core.domain.cancel_rate.Ledger`
and the private methods its event intake, queries and snapshots run on: catching the clock
up (late-shipment checks that fall due, window expiry, forgetting orders past retention),
scheduling checks and counting into the metric windows.
"""

from __future__ import annotations

import heapq
from collections import deque
from datetime import datetime
from typing import Any, cast

from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar, require_aware
from consign_core.domain.cancel_rate._results import Headroom
from consign_core.domain.cancel_rate._time import (
    _DAY,
    _EPOCH,
    _MIN_DT,
    _MIN_T,
    _NEVER,
    _US,
    _day_start,
    _kst_day,
)
from consign_core.domain.cancel_rate._windows import _ONE, _Group, _Metric, _Order
from consign_core.domain.rules import CountedEvent, Denominator, LateBooking, RuleProfile
from consign_core.errors import ConfigurationError, DomainError


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


class _LedgerCore:
    """The state of a :class:`Ledger` and the machinery under its public methods.

    Construction from a profile, the clock (catching up with what is due: late-shipment
    checks, window expiry, forgetting old orders), scheduling the deadline checks and
    counting points and denominator events into the metric windows.
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
