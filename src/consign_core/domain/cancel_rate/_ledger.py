"""The :class:`Ledger` (event intake and queries) and :func:`compute_report`, its batch form.

What the ledger reads from each lifecycle event (:meth:`Ledger.observe`), its queries
(:meth:`Ledger.headroom`, :meth:`Ledger.report`, :meth:`Ledger.project`) and the public
doors to its snapshots; the state and machinery underneath are in the ``_core`` part and the
snapshot conversions in ``_snapshots``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final, cast

from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar, require_aware
from consign_core.domain.cancel_rate._results import Headroom, LedgerReport, MetricReport
from consign_core.domain.cancel_rate._snapshots import _LedgerSnapshots
from consign_core.domain.cancel_rate._state import LedgerState
from consign_core.domain.cancel_rate._time import _EPOCH, _MIN_DT, _US, _dt, _ticks
from consign_core.domain.cancel_rate._windows import _ONE, _amounts, _Metric, _Order
from consign_core.domain.events import Delivered, Event, InvoiceUploaded, OrderCancelled, OrderPaid
from consign_core.domain.model import CancelFault, CancelReason, MarketOrder
from consign_core.domain.rules import (
    CountUnit,
    Denominator,
    MetricQuantity,
    MetricSpec,
    MetricStatus,
    RuleProfile,
)
from consign_core.errors import ConfigurationError, ValidationError


_STATUS_BY_SEVERITY: Final = (MetricStatus.OK, MetricStatus.WARNING, MetricStatus.SANCTION)


def _status(kw: int | None, ks: int | None) -> MetricStatus:
    if ks == 0:
        return MetricStatus.SANCTION
    if kw == 0:
        return MetricStatus.WARNING
    return MetricStatus.OK


# The events observe() reads, as small ints for its dispatch; every other event only moves
# the clock.
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


class Ledger(_LedgerSnapshots):
    """A streaming penalty ledger for one seller on one market (see the module docs).

    Events must arrive in time order (equal times allowed); :meth:`observe`, :meth:`advance`
    and every query move the ledger's clock forward, and a time earlier than the clock raises
    :class:`~consign_core.errors.DomainError`.
    """

    __slots__ = ()

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
        it takes for the first metric to reach warning / sanction (the last of them reaches it).

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
            floor = spec.minimum_volume
            evaluated = floor is None or d >= floor
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
                    evaluated=evaluated,
                    minimum_volume=floor,
                    counts_points=spec.sums_points,
                    reason="" if evaluated else _below_floor(spec, d),
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
        return self._snapshot()

    def snapshot_data(self) -> dict[str, Any]:
        """:meth:`snapshot` as JSON-ready data: equal to ``unstructure(ledger.snapshot())``.

        Built straight from the ledger's internals, without the intermediate value objects,
        several times faster on a large ledger (the engine persists one every few thousand
        events). Read it back with ``structure(data, LedgerState)``.
        """
        return self._snapshot_data()

    @classmethod
    def from_snapshot(
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
        ledger._restore(state)
        return ledger


_UNIT_NOUNS: Final = {
    CountUnit.ORDER: ("order", "orders"),
    CountUnit.LINE: ("order line", "order lines"),
    CountUnit.UNIT: ("unit", "units"),
}
_DENOMINATOR_WORDS: Final = {
    Denominator.ORDERS_PAID: "paid",
    Denominator.ORDERS_DUE: "due",
    Denominator.ORDERS_SHIPPED: "shipped",
}


def _below_floor(spec: MetricSpec, volume: int) -> str:
    """``"not evaluated: 1 order paid in the window, below the minimum volume of 20"``."""
    singular, plural = _UNIT_NOUNS[spec.unit]
    noun = singular if volume == 1 else plural
    word = _DENOMINATOR_WORDS.get(spec.denominator, "")
    return (
        f"not evaluated: {volume} {noun} {word} in the window, below the minimum volume of "
        f"{spec.minimum_volume}"
    )


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
