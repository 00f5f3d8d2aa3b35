"""How the supplier trust model learns: its inputs and the bookkeeping of every outcome.

:class:`_Learning` binds the event handlers and takes the model's inputs: lifecycle events
(:meth:`TrustModel.observe`: a placement opens a pending order; an invoice or a cancel resolves
it, updating the decayed cancel and invoice counts, the quantity statistics, the lead-time
bins, the open / closed-hour counts behind the closed-time weight and the quarantine trigger),
platform signals (``register_supplier``), stock reports (``report_stock``) and withdrawn orders
(``withdraw``). It moves the model's clock and runs the periodic population refit when it is
due.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime
from typing import Any

from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
from consign_core.domain.events import (
    EVENT_TYPES,
    Event,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import Supplier
from consign_core.domain.trust._fit import _PopulationFit
from consign_core.domain.trust._math import signal_shift
from consign_core.domain.trust._records import (
    _DEFAULT_CONFIG,
    _EPOCH,
    _L_BINS,
    _L_LOW,
    _L_STEP,
    _MAX_LOG_MULT,
    _REBASE_EXPONENT,
    _STOCK_OUT,
    _X_BINS,
    _X_STEP,
    _hours,
    _Pending,
    _Sup,
)
from consign_core.domain.trust._types import TrustConfig, check_id, check_instance, check_int
from consign_core.errors import ValidationError


__all__ = ["_Learning"]


class _Learning(_PopulationFit):
    """Learning from events: the inputs (``observe``, ``register_supplier``, ``report_stock``,
    ``withdraw``) and the bookkeeping of each outcome."""

    def __init__(
        self,
        config: TrustConfig = _DEFAULT_CONFIG,
        *,
        calendar: BusinessCalendar = DEFAULT_CALENDAR,
    ) -> None:
        """Start an empty model (population defaults from ``config``)."""
        super().__init__(config, calendar=calendar)
        self._handlers: dict[type, Callable[[Any], None]] = {
            SupplierOrderPlaced: self._on_placed,
            SupplierConfirmed: self._on_confirmed,
            SupplierInvoiced: self._on_invoiced,
            SupplierCancelled: self._on_cancelled,
        }

    def register_supplier(self, supplier: Supplier) -> None:
        """Record a supplier's platform signals; they shift its cold-start prior."""
        check_instance(supplier, Supplier, "supplier")
        sup = self._sups.get(supplier.supplier_id)
        if sup is None:
            sup = self._new_sup(supplier.supplier_id, self._clock_h)
        sup.signals = supplier.signals
        sup.shift = signal_shift(supplier.signals, self._cfg)
        sup.prior_ver = -1

    def report_stock(self, supplier_id: str, item_id: str, stock: int, at: datetime) -> None:
        """Record an item's stock as reported by the supplier at ``at`` (the latest report wins)."""
        check_id(supplier_id, "supplier_id")
        check_id(item_id, "item_id")
        check_int(stock, "stock", 0)
        t = _hours(at, "at")
        sup = self._sups.get(supplier_id)
        if sup is None:
            sup = self._new_sup(supplier_id, t)
        self._set_stock(sup, item_id, stock, at, t)

    def withdraw(self, supplier_id: str, supplier_order_id: str, at: datetime) -> bool:
        """The seller withdrew a pending supplier order at ``at`` (e.g. the buyer cancelled and
        the supplier accepted the seller's cancel request).

        The order stops being pending: its time to tracking is censored at ``at`` (it was
        still pending then; nothing is known after) and it counts as neither a shipment nor a
        supplier cancel. Without this, a withdrawn order would sit in the pending census
        until it ran off the end of the lead-time grid and make the supplier look slower
        than it is. Returns whether a pending order was withdrawn (unknown or already settled
        orders are left as they are).
        """
        check_id(supplier_id, "supplier_id")
        check_id(supplier_order_id, "supplier_order_id")
        t = _hours(at, "at")
        sup = self._sups.get(supplier_id)
        if sup is None:
            return False
        p = sup.pending.get(supplier_order_id)
        if p is None:
            return False
        business = self._cal_bh(p.placed_at, at)
        calendar_hours = t - p.placed_h
        j = bisect_right(self._grid, max(0.0, self._tau(business, calendar_hours)))
        del sup.pending[supplier_order_id]
        if sup.fresh.pop(supplier_order_id, None) is None:
            self._unindex(sup, p)
        self._n_pending -= 1
        w = self._scale(sup, t)  # first: a re-base replaces the count lists
        sup.lz[j] += w
        w = self._pop_scale(t)
        self._pop.lz[j] += w
        self._count_exposure(business, calendar_hours, w)
        sup.lead_n += 1
        self._remember(sup, supplier_order_id, resolved=False)
        sup.ver += 1
        self._tick(t, at)
        return True

    def observe(self, event: Event) -> None:
        """Learn from one lifecycle event; events the model does not use are ignored.

        Keyed by ``(supplier_id, supplier_order_id)``: a duplicate is ignored, and an invoice
        or cancel for an order never seen placed still counts (without a lead time). Raises
        :class:`~consign_core.errors.ValidationError` (field ``event``) naming the type it got
        if ``event`` is not a lifecycle event of ``consign_core.domain.events``.
        """
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)
        elif not isinstance(event, EVENT_TYPES):
            name = type(event).__name__  # the type only: a stray value may hold personal data
            msg = f"event must be a lifecycle event (consign_core.domain.events), got a {name}"
            raise ValidationError(msg, field="event", value=event)

    def _on_placed(self, ev: SupplierOrderPlaced) -> None:
        sup = self._sups.get(ev.supplier_id)
        at = ev.at
        t = (at - _EPOCH).total_seconds() / 3600.0
        if sup is None:
            sup = self._new_sup(ev.supplier_id, t)
        oid = ev.supplier_order_id
        pending = sup.pending
        if oid in pending or oid in sup.done:
            return
        q = ev.quantity
        stock = ev.reported_stock
        exceeded = False
        if stock is not None:
            self._set_stock(sup, ev.item_id, stock, at, t)
            exceeded = q > stock
        elif sup.stock:  # a report given with report_stock(): as assess() would check it
            report = sup.stock.get(ev.item_id)
            if report is not None and t - report[2] <= self._stock_age:
                exceeded = q > report[0]
        p = _Pending(at, t, q, ev.item_id, exceeded)
        pending[oid] = p
        if t <= sup.ztb:  # a late order, placed by the bucket the counts were taken at
            p.b = self._bclock(at)
            self._index(sup, p)
        else:
            sup.fresh[oid] = p
            if t < sup.fresh_h:  # noqa: PLR1730 - observe hot path: no call
                sup.fresh_h = t
        self._n_pending += 1
        cur = sup.curve
        if cur is not None and t <= cur.key[2] * self._width:
            sup.ver += 1  # the cached curve's bucket began after this (late) placement
        self._tick(t, at)

    def _on_confirmed(self, ev: SupplierConfirmed) -> None:
        sup = self._sups.get(ev.supplier_id)
        if sup is not None:
            pending = sup.pending.get(ev.supplier_order_id)
            if pending is not None:
                pending.confirmed = True

    def _resolve(  # noqa: PLR0912, PLR0915 - one flat hot path (observe budget 5 µs)
        self, sup: _Sup, oid: str, at: datetime, t: float, *, cancel: bool
    ) -> float:
        """Common bookkeeping of an invoice or cancel; returns the event's scaled weight.

        Every outcome is evidence about the base cancel risk: an invoice adds its weight to
        ``k``; a cancel adds its weight to ``c`` divided by the odds multiplier the model
        applies to that order (its size above the ordinary band, or its excess over the
        reported stock; 1 for an ordinary or unknown order), so a cancel never lowers the
        risk and a cancel the model already expected counts less. A large order also feeds
        the fit of the quantity exponent, with the base logit known before this outcome.
        """
        x = (t - sup.ref) * self._lam
        w = math.exp(x) if x <= _REBASE_EXPONENT else self._rebase(sup, t)
        pending = sup.pending
        mult = 1.0
        p = pending.get(oid)
        if p is not None:
            business = self._cal_bh(p.placed_at, at)  # may raise: nothing changed yet
            calendar_hours = t - p.placed_h
            theta = self._theta
            lead = business + theta * (calendar_hours - business) if theta else business
            j = bisect_right(self._grid, lead)
            del pending[oid]
            if sup.fresh.pop(oid, None) is None:
                self._unindex(sup, p)
            self._n_pending -= 1
            pop = self._pop
            x = (t - pop.ref) * self._lam
            wp = math.exp(x) if x <= _REBASE_EXPONENT else self._rebase_population(t)
            q = p.qty
            log_q = math.log(q) if q > 1 else 0.0
            if p.exceeded:
                if cancel:  # the floor's odds over the base odds known before this outcome
                    if sup.prior_ver != pop.ver:
                        self._prior(sup)
                    base = (sup.a0 * w + sup.c) / (sup.b0 * w + sup.k)
                    mult = max(1.0, self._floor_odds / base)
            elif q > 1:
                mq = self._mq * w  # the pseudo-orders, in the supplier's scaled units
                x = log_q - (sup.qls + mq * pop.logq) / (sup.qw + mq) - self._log_factor
                if x > 0.0:
                    mult = math.exp(min(pop.k * x, _MAX_LOG_MULT))
                    if sup.prior_ver != pop.ver:
                        self._prior(sup)
                    lp = math.log((sup.a0 * w + sup.c) / (sup.b0 * w + sup.k))
                    xi = int(x / _X_STEP)
                    if xi >= _X_BINS:
                        xi = _X_BINS - 1
                    li = int((lp - _L_LOW) / _L_STEP)
                    if li < 0:
                        li = 0
                    elif li >= _L_BINS:
                        li = _L_BINS - 1
                    cell = 4 * (xi * _L_BINS + li)
                    cells = pop.cells
                    cells[cell] += 1.0
                    if cancel:
                        cells[cell + 1] += 1.0
                    cells[cell + 2] += x
                    cells[cell + 3] += lp
                    pop.large += 1.0
            if business > 0.0:  # the pending time, open and closed, for the theta fit
                pop.open_x += wp * business
            if calendar_hours > business:
                pop.closed_x += wp * (calendar_hours - business)
            if cancel:
                sup.lc[j] += w
                pop.lc[j] += wp
            else:
                hour = self._open_hour  # registered in an open or a closed hour (_open_at)
                if hour[0] != int(t):
                    hour = (0, self._open_at(t))
                if hour[1]:
                    pop.open_n += wp
                else:
                    pop.closed_n += wp
                sup.ls[j] += w
                pop.ls[j] += wp
                sup.qw += w
                if log_q:
                    sup.qls += w * log_q
            sup.lead_n += 1
        if cancel:
            sup.c += w / mult
            sup.cr += w
        else:
            sup.k += w
        done = sup.done
        done[oid] = True
        if len(done) > self._dedup:
            done.popitem(last=False)
        sup.ver += 1
        return w

    def _on_invoiced(self, ev: SupplierInvoiced) -> None:
        sup = self._sups.get(ev.supplier_id)
        oid = ev.supplier_order_id
        at = ev.at
        t = (at - _EPOCH).total_seconds() / 3600.0
        if sup is None:
            sup = self._new_sup(ev.supplier_id, t)
        elif sup.done.get(oid):
            return
        self._resolve(sup, oid, at, t, cancel=False)
        if sup.quarantined:
            sup.clean += 1
            if sup.clean >= self._cfg.quarantine_release_clean_orders:
                sup.quarantined = False
                sup.clean = 0
                sup.so_hours.clear()
        self._tick(t, at)

    def _on_cancelled(self, ev: SupplierCancelled) -> None:
        sup = self._sups.get(ev.supplier_id)
        oid = ev.supplier_order_id
        at = ev.at
        t = (at - _EPOCH).total_seconds() / 3600.0
        if sup is None:
            sup = self._new_sup(ev.supplier_id, t)
        elif sup.done.get(oid):
            return
        w = self._resolve(sup, oid, at, t, cancel=True)
        sup.clean = 0
        if ev.reason is _STOCK_OUT:
            sup.so += w
            self._stock_out_trigger(sup, t)
        self._tick(t, at)

    def _tick(self, t: float, at: datetime) -> None:
        """Move the model's clock to an observed event and run the periodic refit when due."""
        if t > self._clock_h:
            self._clock_h = t
            self._clock = at
        self._events += 1
        if self._events == self._next_refit:
            self.refit_population()

    def _stock_out_trigger(self, sup: _Sup, t: float) -> None:
        cfg = self._cfg
        hours = sup.so_hours
        hours.insert(bisect_right(hours, t), t)
        n = cfg.quarantine_stockouts
        if len(hours) > n:
            del hours[: len(hours) - n]
        if len(hours) == n and hours[-1] - hours[0] <= cfg.quarantine_window_days * 24.0:
            sup.quarantined = True
            sup.clean = 0
