"""The supplier trust model's engine: :class:`TrustModel` (re-exported by
``consign_core.domain.trust``).

Internal objects are plain ``__slots__`` classes, mutated in place, so that observing an event
costs O(1) and assessing an order a few microseconds; only the public values (config,
assessment, state) are attrs classes. The formulas are documented in ``consign_core.domain.trust``
and ``docs/trust.md``.

Pending-order index. A supplier's curve censors each pending order placed by the bucket start
``tb`` at its elapsed business hours ``bh(placed_at, tb)``; the curve is rebuilt after every
outcome of that supplier, so with hundreds of open orders a loop over them would dominate
``assess``. Instead each supplier keeps its indexed pending orders sorted by placement, with
their placement on an integer *business-microsecond clock* ``b`` (``bh(_BREF, placed_at)`` in
microseconds, recovered exactly: the calendar computes every business-hours difference as an
integer number of microseconds divided by 3.6e9, so ``bh(x, y)`` is exactly
``(b(y) - b(x)) / 3.6e9``). ``bisect_right(grid, bh(x, tb)) > k`` iff
``b(tb) - b(x) >= _thresholds[k]`` (the least integer whose quotient reaches ``grid[k]``), and
``b`` is non-decreasing in placement time, so the per-bin counts take one bisection per grid edge:
O(grid * log pending) instead of O(pending) business-hours differences, with the same bins.
The counts are kept per supplier for the last bucket they were taken at (``ztb``) and moved by
one when an order placed by ``ztb`` resolves, expires or arrives late, so a rebuild within a
bucket costs O(grid); they are integers, a pure function of the pending orders and ``tb``, so
a restored snapshot recomputes the same ones. A new order waits unclocked in ``fresh`` until
a count at a bucket start after its placement needs it (``observe`` stays free of calendar
calls; an order resolved before that is never clocked); a late one, placed by ``ztb``, is
indexed at once. Orders whose clock cannot be computed exactly (a calendar subclass, a date
outside the calendar's range) stay out of the index and are binned one by one, as before.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Final

import attrs

from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar, require_aware
from consign_core.domain.events import (
    Event,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import CancelReason, Supplier, SupplierSignals
from consign_core.domain.trust._math import (
    Curve,
    curve,
    curve_from_counts,
    default_hazards,
    hazards,
    plural,
    sigmoid,
    signal_shift,
)
from consign_core.domain.trust._types import (
    PendingOrderState,
    PopulationState,
    StockReportState,
    SupplierTrustState,
    TrustAssessment,
    TrustConfig,
    TrustState,
    TrustTier,
    check_id,
    check_instance,
    check_int,
)
from consign_core.errors import ValidationError


__all__ = ["TrustModel"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LN2: Final = math.log(2.0)
_REBASE_EXPONENT: Final = 40.0
"""Scaled counts are re-based once their scale factor reaches e**40 (about 58 half-lives)."""
_MAX_LOG_MULT: Final = 700.0
"""Cap of a quantity odds multiplier's log (exp overflows past 709; no real order gets near)."""
_STOCK_OUT: Final = CancelReason.STOCK_OUT
_DEFAULT_CONFIG: Final = TrustConfig()
_QUARANTINED: Final = TrustTier.QUARANTINED
_RISKY: Final = TrustTier.RISKY
_TRUSTED: Final = TrustTier.TRUSTED
_UNPROVEN: Final = TrustTier.UNPROVEN
_US_PER_HOUR: Final = 3_600_000_000
"""The calendar's business-hours unit: ``bh`` returns integer microseconds / 3.6e9."""
_BREF: Final = datetime(2024, 1, 1, tzinfo=timezone.utc)
"""Origin of the business-microsecond clock (any instant works: only differences are used)."""

# quantity-exponent cells: x = log(q / (factor * usual)) > 0 in steps of 0.25 over [0, 4)
# (16 bins), base logit in steps of 0.5 over [-8, 2) (20 bins); each cell holds
# (weight, cancels, sum x, sum logit)
_X_STEP: Final = 0.25
_X_BINS: Final = 16
_L_LOW: Final = -8.0
_L_STEP: Final = 0.5
_L_BINS: Final = 20
_N_CELLS: Final = _X_BINS * _L_BINS


def _hours(value: datetime, argument: str) -> float:
    """Hours since 1970-01-01 UTC of an aware datetime (NaiveDatetimeError naming argument)."""
    try:
        return (value - _EPOCH).total_seconds() / 3600.0
    except TypeError:
        require_aware(value, argument)
        raise


def _check_aware(value: object, argument: str) -> None:
    if type(value) is not datetime or value.tzinfo is None:
        require_aware(value, argument)  # type: ignore[arg-type]


class _Pending:
    """An open supplier order."""

    __slots__ = ("b", "confirmed", "exceeded", "item_id", "placed_at", "placed_h", "qty")

    def __init__(  # noqa: PLR0917 - positional on the hot path of observe()
        self,
        placed_at: datetime,
        placed_h: float,
        qty: int,
        item_id: str,
        exceeded: bool,  # noqa: FBT001
        confirmed: bool = False,  # noqa: FBT001, FBT002
    ) -> None:
        self.placed_at = placed_at
        self.placed_h = placed_h
        self.qty = qty
        self.item_id = item_id
        self.exceeded = exceeded
        self.confirmed = confirmed
        self.b: int | None = None  # placement on the business-microsecond clock, once indexed


class _Sup:
    """Mutable per-supplier state (see SupplierTrustState for the meaning of each count)."""

    __slots__ = (
        "a0",
        "b0",
        "c",
        "clean",
        "cr",
        "curve",
        "done",
        "fresh",
        "fresh_h",
        "head",
        "head_key",
        "k",
        "lc",
        "lead_n",
        "loose",
        "ls",
        "lz",
        "pb",
        "pending",
        "ph",
        "prior_ver",
        "qls",
        "quarantined",
        "qw",
        "ref",
        "shift",
        "signals",
        "so",
        "so_hours",
        "stock",
        "ver",
        "zbt",
        "zc",
        "zn",
        "ztb",
    )

    def __init__(self, ref: float, n_bins: int) -> None:
        self.signals: SupplierSignals | None = None
        self.shift = 0.0
        self.ref = ref
        self.c = 0.0
        self.k = 0.0
        self.so = 0.0
        self.qw = 0.0
        self.qls = 0.0
        self.cr = 0.0
        self.ls = [0.0] * n_bins
        self.lc = [0.0] * n_bins
        self.lz = [0.0] * n_bins
        self.lead_n = 0
        self.pending: dict[str, _Pending] = {}
        # the pending-order index (module docstring): placement hours and business-microsecond
        # clock of the indexed pending orders, sorted by (ph, pb), so each list is sorted
        self.ph: list[float] = []
        self.pb: list[int] = []
        self.loose = 0  # pending orders outside the index (b is None) and not fresh
        self.fresh: dict[str, _Pending] = {}  # pending orders not clocked yet
        self.fresh_h = math.inf  # a lower bound of their placement hours
        # censored counts per bin of the indexed orders placed by ztb, zbt = b(ztb) (None:
        # no exact clock at ztb, zc all zero), zn = sum(zc); ztb = nan: not taken yet
        self.ztb = math.nan
        self.zbt: int | None = None
        self.zc = [0] * n_bins
        self.zn = 0
        self.done: OrderedDict[str, bool] = OrderedDict()
        self.stock: dict[str, tuple[int, datetime, float]] = {}
        self.so_hours: list[float] = []
        self.quarantined = False
        self.clean = 0
        self.ver = 0
        self.prior_ver = -1
        self.a0 = 0.0
        self.b0 = 0.0
        self.curve: Curve | None = None
        self.head = ""
        self.head_key: tuple[int, int, int] | None = None


class _Pop:
    """Mutable population state."""

    __slots__ = (
        "cells",
        "curve",
        "fitted",
        "hc",
        "hs",
        "k",
        "large",
        "lc",
        "lead_data",
        "logq",
        "ls",
        "lz",
        "mu",
        "ref",
        "strength",
        "ver",
    )

    def __init__(self, cfg: TrustConfig, n_bins: int) -> None:
        self.mu = cfg.default_cancel_rate
        self.strength = cfg.default_prior_strength
        self.fitted = 0
        self.logq = 0.0
        self.large = 0.0
        self.k = cfg.quantity_k_default
        self.cells = [0.0] * (4 * _N_CELLS)
        self.ref = 0.0
        self.ls = [0.0] * n_bins
        self.lc = [0.0] * n_bins
        self.lz = [0.0] * n_bins
        self.hs: list[float] = []
        self.hc: list[float] = []
        self.lead_data = 0.0
        self.ver = 0
        self.curve: Curve | None = None


class TrustModel:
    """Online supplier trust model: learns from supplier order outcomes, answers risk questions.

    Feed it every lifecycle event with :meth:`observe` (it ignores those it does not learn
    from), tell it platform signals with :meth:`register_supplier` and stock levels with
    :meth:`report_stock`, and ask :meth:`assess` before confirming an order. The whole state
    is a plain value: :meth:`snapshot` / :meth:`from_snapshot`.

    Cost: :meth:`observe` is amortized O(1) per event (an automatic :meth:`refit_population`
    runs on a doubling-then-constant schedule whose cost is paid by the events in between);
    :meth:`assess` is a cached lookup plus O(log grid) arithmetic, and rebuilds a supplier's
    lead-time curve (O(grid * log of its pending orders)) at most once per state change and
    refresh bucket.
    """

    def __init__(
        self,
        config: TrustConfig = _DEFAULT_CONFIG,
        *,
        calendar: BusinessCalendar = DEFAULT_CALENDAR,
    ) -> None:
        """Start an empty model (population defaults from ``config``)."""
        check_instance(config, TrustConfig, "config")
        check_instance(calendar, BusinessCalendar, "calendar")
        self._cfg = config
        self._cal = calendar
        self._bh = calendar.business_hours_between
        self._lam = _LN2 / (config.half_life_days * 24.0)
        self._grid = config.lead_grid_hours
        self._edges = (0.0, *config.lead_grid_hours)
        self._n_bins = len(self._edges)  # finite bins + one beyond the grid
        self._z = config.z
        self._mq = config.quantity_prior_orders
        self._tail = config.lead_tail_mean_hours
        self._width = config.curve_refresh_hours
        self._lead_strength = config.lead_prior_strength
        self._dedup = config.dedup_memory_orders
        self._log_factor = math.log(config.quantity_ordinary_factor)
        floor = min(config.stock_exceeded_floor, 1.0 - 1e-9)
        self._floor_odds = floor / (1.0 - floor)
        self._stock_age = config.stock_report_max_age_days * 24.0
        self._z2 = self._z * self._z
        self._h0s, self._h0c = default_hazards(config, self._edges)
        self._exact_clock = type(calendar) is BusinessCalendar
        self._thresholds = tuple(_threshold(g) for g in config.lead_grid_hours)
        self._tb_clock: tuple[float, datetime, int | None] = (math.nan, _EPOCH, None)
        self._sups: dict[str, _Sup] = {}
        self._pop = _Pop(config, self._n_bins)
        self._events = 0
        self._n_pending = 0
        self._next_refit = config.refit_min_events if config.refit_every_events else 0
        self._clock: datetime | None = None
        self._clock_h = -math.inf
        self._handlers: dict[type, Callable[[Any], None]] = {
            SupplierOrderPlaced: self._on_placed,
            SupplierConfirmed: self._on_confirmed,
            SupplierInvoiced: self._on_invoiced,
            SupplierCancelled: self._on_cancelled,
        }
        self._set_population_curve(self._h0s, self._h0c, 0.0)

    # ------------------------------------------------------------------ properties

    @property
    def config(self) -> TrustConfig:
        """The configuration in use."""
        return self._cfg

    @property
    def calendar(self) -> BusinessCalendar:
        """The business calendar lead times are counted in."""
        return self._cal

    def suppliers(self) -> tuple[str, ...]:
        """Ids of every supplier the model knows, sorted."""
        return tuple(sorted(self._sups))

    # ------------------------------------------------------------------ inputs

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
        j = bisect_right(self._grid, max(0.0, self._bh(p.placed_at, at)))
        del sup.pending[supplier_order_id]
        if sup.fresh.pop(supplier_order_id, None) is None:
            self._unindex(sup, p)
        self._n_pending -= 1
        w = self._scale(sup, t)  # first: a re-base replaces the count lists
        sup.lz[j] += w
        w = self._pop_scale(t)
        self._pop.lz[j] += w
        sup.lead_n += 1
        self._remember(sup, supplier_order_id, resolved=False)
        sup.ver += 1
        self._tick(t, at)
        return True

    def observe(self, event: Event) -> None:
        """Learn from one lifecycle event; events the model does not use are ignored.

        Keyed by ``(supplier_id, supplier_order_id)``: a duplicate is ignored, and an invoice
        or cancel for an order never seen placed still counts (without a lead time).
        """
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _new_sup(self, supplier_id: str, ref: float) -> _Sup:
        sup = _Sup(ref if math.isfinite(ref) else 0.0, self._n_bins)
        self._sups[supplier_id] = sup
        return sup

    def _set_stock(self, sup: _Sup, item_id: str, stock: int, at: datetime, t: float) -> None:
        old = sup.stock.get(item_id)
        if old is None or old[2] <= t:
            sup.stock[item_id] = (stock, at, t)

    def _scale(self, sup: _Sup, t: float) -> float:
        """The weight of an event at ``t`` in ``sup``'s scaled units (re-basing if needed)."""
        x = (t - sup.ref) * self._lam
        return math.exp(x) if x <= _REBASE_EXPONENT else self._rebase(sup, t)

    def _rebase(self, sup: _Sup, t: float) -> float:
        """Rescale ``sup``'s counts to reference time ``t``; returns 1.0 (an event's weight)."""
        f = math.exp((sup.ref - t) * self._lam)
        sup.c *= f
        sup.k *= f
        sup.so *= f
        sup.qw *= f
        sup.qls *= f
        sup.cr *= f
        sup.ls = [v * f for v in sup.ls]
        sup.lc = [v * f for v in sup.lc]
        sup.lz = [v * f for v in sup.lz]
        sup.ref = t
        sup.curve = None
        return 1.0

    def _pop_scale(self, t: float) -> float:
        x = (t - self._pop.ref) * self._lam
        return math.exp(x) if x <= _REBASE_EXPONENT else self._rebase_population(t)

    def _rebase_population(self, t: float) -> float:
        pop = self._pop
        f = math.exp((pop.ref - t) * self._lam)
        pop.ls = [v * f for v in pop.ls]
        pop.lc = [v * f for v in pop.lc]
        pop.lz = [v * f for v in pop.lz]
        pop.ref = t
        return 1.0

    def _remember(self, sup: _Sup, order_id: str, *, resolved: bool) -> None:
        done = sup.done
        done[order_id] = resolved
        if len(done) > self._dedup:
            done.popitem(last=False)

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
            j = bisect_right(self._grid, self._bh(p.placed_at, at))  # may raise: nothing changed
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
            if cancel:
                sup.lc[j] += w
                pop.lc[j] += wp
            else:
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

    def _bclock(self, at: datetime) -> int | None:
        """``at`` on the business-microsecond clock, exactly; None if it cannot be (docstring)."""
        if not self._exact_clock:
            return None
        try:
            f = self._bh(_BREF, at)
        except (ValidationError, OverflowError):
            return None  # outside the calendar's range: binned one by one (and raising) later
        n = round(f * _US_PER_HOUR)  # exact while |n| < 2**51 (about 70 years of hours)
        if n / _US_PER_HOUR != f:  # further out: the quotient still identifies n (+-1)
            n += 1 if (n + 1) / _US_PER_HOUR == f else -1
            if n / _US_PER_HOUR != f:
                return None
        return n

    def _index(self, sup: _Sup, p: _Pending) -> None:
        """Add a new pending order to ``sup``'s index (or count it as loose)."""
        b = p.b
        if b is None:
            sup.loose += 1
            return
        ph = sup.ph
        pb = sup.pb
        t = p.placed_h
        i = bisect_right(ph, t)
        while i and ph[i - 1] == t and pb[i - 1] > b:
            i -= 1
        ph.insert(i, t)
        pb.insert(i, b)
        if t <= sup.ztb and sup.zbt is not None:  # a late order, placed by the counted bucket
            sup.zc[bisect_right(self._thresholds, sup.zbt - b)] += 1
            sup.zn += 1

    def _unindex(self, sup: _Sup, p: _Pending) -> None:
        """Remove a pending order from ``sup``'s index (O(log n) search, one memmove)."""
        b = p.b
        if b is None:
            sup.loose -= 1
            return
        ph = sup.ph
        pb = sup.pb
        i = bisect_left(ph, p.placed_h)
        while pb[i] != b:  # an equal (placed_h, b) entry is interchangeable
            i += 1
        del ph[i]
        del pb[i]
        if p.placed_h <= sup.ztb and sup.zbt is not None:
            sup.zc[bisect_right(self._thresholds, sup.zbt - b)] -= 1
            sup.zn -= 1

    def _census(self, sup: _Sup, tb: float) -> None:
        """Count ``sup``'s indexed orders placed by ``tb`` per elapsed-time bin (docstring)."""
        tb_clock = self._tb_clock
        if tb_clock[0] != tb:
            at = _EPOCH + timedelta(hours=tb)
            tb_clock = self._tb_clock = (tb, at, self._bclock(at))
        bt = tb_clock[2]
        fresh = sup.fresh
        if sup.fresh_h <= tb:  # clock and index the new orders placed by tb
            sup.ztb = math.nan  # no counts to maintain while indexing
            for oid in [oid for oid, p in fresh.items() if p.placed_h <= tb]:
                p = fresh.pop(oid)
                p.b = self._bclock(p.placed_at)
                self._index(sup, p)
            sup.fresh_h = min([p.placed_h for p in fresh.values()], default=math.inf)
        zc = sup.zc if not sup.zn else [0] * self._n_bins  # zn == 0: zc is all zero
        sup.ztb = tb
        sup.zbt = bt
        sup.zc = zc
        if bt is None:  # no exact clock at tb: every order is binned one by one
            sup.zn = 0
            return
        hi = sup.zn = bisect_right(sup.ph, tb)
        pb = sup.pb
        thresholds = self._thresholds
        if hi <= 8:  # few orders: one bisection of the grid each (the same counts)
            for i in range(hi):
                zc[bisect_right(thresholds, bt - pb[i])] += 1
        else:  # one bisection of the orders per grid edge
            j = 0
            for n in thresholds:
                lo = bisect_right(pb, bt - n, 0, hi)  # orders with elapsed >= grid[j]
                if lo != hi:
                    zc[j] = hi - lo
                    hi = lo
                    if not hi:
                        return
                j += 1
            zc[j] = hi

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

    # ------------------------------------------------------------------ population fit

    def refit_population(self) -> None:
        """Refit the population: empirical-Bayes prior, typical quantity, k, lead hazards.

        Cost O(suppliers + pending orders + grid). Runs automatically from :meth:`observe`
        after ``refit_min_events`` events, then each time the event count has doubled,
        then every ``max(refit_every_events, 4 * (suppliers + pending))`` events (never if
        ``refit_every_events`` is 0): amortized O(1) per event. Pending orders older than
        the lead-time grid are censored at its end and dropped from the pending map here.
        """
        cfg = self._cfg
        pop = self._pop
        clock = self._clock
        if clock is not None:
            self._fit_prior(self._clock_h)
            pop.k = self._fit_k()
            self._fit_lead(clock, self._clock_h)
        pop.ver += 1
        if cfg.refit_every_events:
            interval = max(
                cfg.refit_min_events,
                min(self._events, cfg.refit_every_events),
                4 * (len(self._sups) + self._n_pending),
            )
            self._next_refit = self._events + interval

    def _fit_prior(self, now_h: float) -> None:
        cfg = self._cfg
        pop = self._pop
        lam = self._lam
        k_sup = 0
        sum_n = 0.0
        sum_c = 0.0
        s1 = 0.0
        qw = 0.0
        qls = 0.0
        min_n = cfg.eb_min_orders
        for sup in self._sups.values():
            f = math.exp(min(0.0, (sup.ref - now_h) * lam))
            if sup.qw:
                qw += sup.qw * f
                qls += sup.qls * f
            n = (sup.c + sup.k) * f
            if n >= min_n:
                c = sup.c * f
                k_sup += 1
                sum_n += n
                sum_c += c
                s1 += c * c / n
        pop.logq = qls / qw if qw > 0 else 0.0
        mu0 = cfg.default_cancel_rate
        s0 = cfg.default_prior_strength
        if k_sup >= cfg.eb_min_suppliers and sum_n > k_sup:
            mu = (sum_c + s0 * mu0) / (sum_n + s0)
            spread = s1 - 2.0 * mu * sum_c + mu * mu * sum_n  # sum n_i (p_i - mu)^2
            rho = (spread / (mu * (1.0 - mu)) - (k_sup - 1)) / (sum_n - k_sup)
            strength = 1.0 / rho - 1.0 if rho > 0 else math.inf
            pop.mu = min(1.0 - 1e-6, max(1e-6, mu))
            pop.strength = min(cfg.prior_strength_max, max(cfg.prior_strength_min, strength))
            pop.fitted = k_sup
        else:
            pop.mu = mu0
            pop.strength = s0
            pop.fitted = 0

    def _fit_k(self) -> float:
        """Penalised logistic MLE of the quantity exponent on the binned large orders."""
        cfg = self._cfg
        cells = self._pop.cells
        rows: list[tuple[float, float, float, float]] = []
        total = 0.0
        for base in range(0, 4 * _N_CELLS, 4):
            w = cells[base]
            if w > 0:
                rows.append((w, cells[base + 1], cells[base + 2] / w, cells[base + 3] / w))
                total += w
        k0 = cfg.quantity_k_default
        if self._pop.large < cfg.quantity_min_large_orders or total == 0:
            return k0
        precision = 1.0 / (cfg.quantity_k_prior_sd**2)
        k = k0
        for _ in range(50):
            grad = -(k - k0) * precision
            hess = -precision
            for w, y, r, lp in rows:
                pi = sigmoid(lp + k * r)
                grad += r * (y - w * pi)
                hess -= w * r * r * pi * (1.0 - pi)
            step = grad / hess
            new_k = min(cfg.quantity_k_max, max(0.0, k - step))
            if abs(new_k - k) < 1e-9:
                k = new_k
                break
            k = new_k
        return k

    def _fit_lead(self, clock: datetime, now_h: float) -> None:
        pop = self._pop
        bh = self._bh
        grid = self._grid
        end = grid[-1]
        last = self._n_bins - 1
        f = math.exp((pop.ref - now_h) * self._lam)
        ds = [v * f for v in pop.ls]
        dc = [v * f for v in pop.lc]
        dz = [v * f for v in pop.lz]
        if self._n_pending:
            for sup in self._sups.values():
                if not sup.pending:
                    continue
                expired: list[str] = []
                for oid, p in sup.pending.items():
                    elapsed = bh(p.placed_at, clock)
                    if elapsed >= end:
                        expired.append(oid)
                    else:
                        dz[bisect_right(grid, elapsed)] += 1.0
                for oid in expired:
                    p = sup.pending.pop(oid)
                    if sup.fresh.pop(oid, None) is None:
                        self._unindex(sup, p)
                    self._n_pending -= 1
                    w = self._scale(sup, now_h)  # first: a re-base replaces sup.lz
                    sup.lz[last] += w
                    w = self._pop_scale(now_h)
                    pop.lz[last] += w
                    dz[last] += 1.0
                    sup.lead_n += 1
                    self._remember(sup, oid, resolved=False)
                    sup.ver += 1
        hs, hc = hazards(
            ds, dc, dz, self._h0s, self._h0c, strength=self._cfg.lead_population_prior_strength
        )
        self._set_population_curve(hs, hc, sum(ds) + sum(dc) + sum(dz))

    def _set_population_curve(self, hs: list[float], hc: list[float], lead_data: float) -> None:
        pop = self._pop
        pop.hs = hs
        pop.hc = hc
        pop.lead_data = lead_data
        pop.curve = curve(hs, hc, self._edges, (pop.ver, -1, -1), estimable=lead_data > 0)

    # ------------------------------------------------------------------ assessment

    def _prior(self, sup: _Sup | None) -> tuple[float, float]:
        pop = self._pop
        if sup is None:
            a0 = pop.mu * pop.strength
            return a0, pop.strength - a0
        if sup.prior_ver != pop.ver:
            mu = pop.mu
            if sup.shift:
                mu = sigmoid(math.log(mu / (1.0 - mu)) + sup.shift)
            sup.a0 = mu * pop.strength
            sup.b0 = pop.strength - sup.a0
            sup.prior_ver = pop.ver
        return sup.a0, sup.b0

    def _supplier_curve(self, sup: _Sup, now_h: float) -> Curve:
        """The supplier's timing curves as of the start ``tb`` of ``now``'s refresh bucket.

        A pure function of the state and the bucket: the supplier's decayed exits (decayed
        to ``tb``), the pending orders placed by ``tb`` (censored at their elapsed business
        hours), the population hazards. Cached until one of those changes.
        """
        pop = self._pop
        width = self._width
        bucket = math.floor(now_h / width)
        key = (pop.ver, sup.ver, bucket)
        cur = sup.curve
        if cur is not None and cur.key == key:
            return cur
        tb = bucket * width
        # work in the supplier's scaled units: scale = 1 / decay(ref -> tb)
        scale = math.exp(min(600.0, max(0.0, (tb - sup.ref) * self._lam)))
        dz = sup.lz
        if sup.pending:
            if sup.ztb != tb:
                self._census(sup, tb)
            if sup.zn:
                dz = dz.copy()
                for j, n in enumerate(sup.zc):
                    if n:
                        dz[j] += n * scale
            bt = sup.zbt
            if bt is None or sup.loose:  # bin one by one what the index cannot
                tb_clock = self._tb_clock  # the last bucket start any census was taken at
                at = tb_clock[1] if tb_clock[0] == tb else _EPOCH + timedelta(hours=tb)
                grid = self._grid
                bh = self._bh
                for p in sup.pending.values():
                    if p.placed_h <= tb and (bt is None or p.b is None):
                        if dz is sup.lz:
                            dz = list(dz)
                        dz[bisect_right(grid, bh(p.placed_at, at))] += scale
        cur = curve_from_counts(
            sup.ls,
            sup.lc,
            dz,
            pop.hs,
            pop.hc,
            self._lead_strength * scale,
            self._edges,
            key,
            pop.lead_data > 0 or sup.lead_n > 0,
        )
        sup.curve = cur
        return cur

    def _cdf2(self, cur: Curve, x: float) -> tuple[float, float]:
        """(G_ship(x), G_cancel(x)): linear within a bin, an exponential tail past the grid."""
        if x <= 0.0:
            return 0.0, 0.0
        edges = self._edges
        fs = cur.fs
        fc = cur.fc
        end = edges[-1]
        if x >= end:
            rest = -math.expm1((end - x) / self._tail)
            gs = fs[-1] * cur.inv_s
            gc = fc[-1] * cur.inv_c
            return gs + (1.0 - gs) * rest, gc + (1.0 - gc) * rest
        j = bisect_right(edges, x) - 1
        lo = edges[j]
        w = (x - lo) / (edges[j + 1] - lo)
        s0 = fs[j]
        c0 = fc[j]
        return (s0 + (fs[j + 1] - s0) * w) * cur.inv_s, (c0 + (fc[j + 1] - c0) * w) * cur.inv_c

    def assess(  # noqa: PLR0912, PLR0915 - one flat hot path (p50 budget 20 µs)
        self,
        supplier_id: str,
        quantity: int,
        now: datetime,
        deadline: datetime,
        *,
        placed_at: datetime | None = None,
        item_id: str | None = None,
    ) -> TrustAssessment:
        """Assess an order of ``quantity`` units from ``supplier_id`` at ``now``.

        ``placed_at`` is when the order was placed at the supplier (``None``: not placed
        yet, treated as placed at ``now``); the by-deadline probabilities condition on the
        order still pending at ``now``. ``item_id`` enables the reported-stock check. An
        unknown supplier gets the population prior. A deadline at or before ``now`` gives
        zero by-deadline probabilities. Never refits, never mutates the learned state.
        """
        if type(quantity) is not int or quantity < 1:
            check_int(quantity, "quantity", 1)
        if type(supplier_id) is not str or not supplier_id:
            check_id(supplier_id, "supplier_id")
        try:
            now_h = (now - _EPOCH).total_seconds() / 3600.0
        except TypeError:
            now_h = _hours(now, "now")  # raises, naming the argument
        if type(deadline) is not datetime or deadline.tzinfo is None:
            _check_aware(deadline, "deadline")
        if placed_at is not None and (type(placed_at) is not datetime or placed_at.tzinfo is None):
            _check_aware(placed_at, "placed_at")
        if item_id is not None and (type(item_id) is not str or not item_id):
            check_id(item_id, "item_id")
        cfg = self._cfg
        pop = self._pop
        sup = self._sups.get(supplier_id)

        # ---- cancel risk: decayed Beta posterior + Wilson upper bound
        if sup is None:
            a0 = pop.mu * pop.strength
            b0 = pop.strength - a0
            c = k = so = ca = na = 0.0
            log_typ = pop.logq
        else:
            if sup.prior_ver != pop.ver:
                self._prior(sup)
            a0 = sup.a0
            b0 = sup.b0
            f = math.exp(min(0.0, (sup.ref - now_h) * self._lam))
            c = sup.c * f
            k = sup.k * f
            so = sup.so * f
            ca = sup.cr * f
            na = ca + k
            mq = self._mq
            log_typ = (sup.qls * f + mq * pop.logq) / (sup.qw * f + mq)
        n_eff = c + k
        total = a0 + b0 + n_eff
        p = (a0 + c) / total
        z2n = self._z2 / total
        upper = (p + 0.5 * z2n + self._z * math.sqrt((p * (1.0 - p) + 0.25 * z2n) / total)) / (
            1.0 + z2n
        )

        # ---- quantity: odds x (q / (factor * usual)) ** k above the ordinary band; stock
        x = math.log(quantity) - log_typ - self._log_factor if quantity > 1 else 0.0
        if x > 0.0:
            mult = math.exp(min(pop.k * x, _MAX_LOG_MULT))
            p = mult * p / (1.0 - p + mult * p)
            upper = mult * upper / (1.0 - upper + mult * upper)
        stock = -1
        if item_id is not None and sup is not None and sup.stock:
            report = sup.stock.get(item_id)
            if report is not None and now_h - report[2] <= cfg.stock_report_max_age_days * 24.0:
                stock = report[0]
        exceeded = 0 <= stock < quantity
        if exceeded and p < cfg.stock_exceeded_floor:
            p = cfg.stock_exceeded_floor
        if upper < p:
            upper = p
        elif upper > 1.0:
            upper = 1.0

        # ---- time to tracking: P(by deadline | pending now), cause first, then time
        if sup is None or (not sup.lead_n and not sup.pending):
            cur = pop.curve
            assert cur is not None  # noqa: S101 - set in __init__ and at every refit
        else:
            cur = self._supplier_curve(sup, now_h)
        bh = self._bh
        if placed_at is None or placed_at == now:
            elapsed = 0.0
            horizon = bh(now, deadline)
        else:
            elapsed = bh(placed_at, now)
            elapsed = max(elapsed, 0.0)
            horizon = bh(placed_at, deadline)
        p_inv = p_can = 0.0
        p_all = p  # P(cancels at all | pending now): the mean until elapsed time says more
        gs_t, gc_t = self._cdf2(cur, elapsed)
        surv = (1.0 - p) * (1.0 - gs_t) + p * (1.0 - gc_t)
        if surv > 1e-12:
            p_all = min(1.0, max(0.0, p * (1.0 - gc_t) / surv))
            if horizon > elapsed:
                gs_d, gc_d = self._cdf2(cur, horizon)
                p_inv = min(1.0, max(0.0, (1.0 - p) * (gs_d - gs_t) / surv))
                p_can = min(1.0 - p_inv, max(0.0, p * (gc_d - gc_t) / surv))
        p_all = min(1.0 - p_inv, max(p_can, p_all))

        # ---- tier and reason
        quarantined = sup is not None and sup.quarantined
        if quarantined:
            tier = _QUARANTINED
        elif exceeded or p >= cfg.risky_min_mean:
            tier = _RISKY
        elif n_eff >= cfg.min_orders_for_trusted and upper <= cfg.trusted_max_upper:
            tier = _TRUSTED
        else:
            tier = _UNPROVEN
        typical = math.exp(log_typ)
        if sup is None or na < 0.5:
            reason = f"{supplier_id}: no recent orders of its own, population prior"
        else:
            counts = (round(ca), round(so), round(na))
            if sup.head_key != counts:
                sup.head_key = counts
                sup.head = (
                    f"{supplier_id}: {plural(ca, 'cancel')} ({plural(so, 'stock-out')})"
                    f" in {plural(na, 'recent order')}"
                )
            reason = sup.head
        if x > 0.0 or exceeded or quarantined:
            reason = self._reason_details(reason, sup, quantity, typical, stock)
        reason = f"{reason}; cancel risk {p:.0%} (up to {upper:.0%})"
        return _assessment(
            supplier_id,
            tier,
            quantity,
            p,
            upper,
            p_inv,
            p_can,
            cur.median,
            cur.p90,
            n_eff,
            exceeded,
            reason,
            typical if typical > 1.0 else 1.0,
            p_all,
        )

    def _reason_details(
        self, head: str, sup: _Sup | None, quantity: int, typical: float, stock: int
    ) -> str:
        """Append the quantity, stock and quarantine parts of the seller-readable reason."""
        cfg = self._cfg
        parts = [head]
        if math.log(quantity) > math.log(typical) + self._log_factor:
            parts.append(f"{quantity} units vs usual {typical:.0f}")
        if 0 <= stock < quantity:
            parts.append(f"{quantity} units > last reported stock {stock}")
        if sup is not None and sup.quarantined:
            parts.append(
                f"quarantined after {cfg.quarantine_stockouts} stock-outs within "
                f"{cfg.quarantine_window_days:g} days "
                f"({sup.clean}/{cfg.quarantine_release_clean_orders} clean orders since)"
            )
        return "; ".join(parts)

    # ------------------------------------------------------------------ persistence

    def snapshot(self) -> TrustState:
        """The whole learned state as a plain value (round-trips through the converter)."""
        pop = self._pop
        suppliers = {sid: _sup_state(sup) for sid, sup in self._sups.items()}
        population = PopulationState(
            cancel_rate=pop.mu,
            prior_strength=pop.strength,
            fitted_suppliers=pop.fitted,
            log_typical_quantity=pop.logq,
            large_orders=pop.large,
            quantity_k=pop.k,
            quantity_cells=tuple(pop.cells),
            reference_hour=pop.ref,
            lead_invoiced=tuple(pop.ls),
            lead_cancelled=tuple(pop.lc),
            lead_censored=tuple(pop.lz),
            hazard_invoice=tuple(pop.hs),
            hazard_cancel=tuple(pop.hc),
            lead_data=pop.lead_data,
        )
        return TrustState(
            config=self._cfg,
            population=population,
            suppliers=suppliers,
            events_observed=self._events,
            next_refit_at=self._next_refit,
            clock=self._clock,
        )

    @classmethod
    def from_snapshot(
        cls, state: TrustState, *, calendar: BusinessCalendar = DEFAULT_CALENDAR
    ) -> TrustModel:
        """Rebuild a model from :meth:`snapshot`'s value; it answers exactly as the original."""
        check_instance(state, TrustState, "state")
        model = cls(state.config, calendar=calendar)
        n_bins = model._n_bins
        ps = state.population
        arrays = (
            ps.lead_invoiced,
            ps.lead_cancelled,
            ps.lead_censored,
            ps.hazard_invoice,
            ps.hazard_cancel,
        )
        if any(len(a) != n_bins for a in arrays) or len(ps.quantity_cells) != 4 * _N_CELLS:
            msg = "state.population arrays do not match the configured lead-time grid"
            raise ValidationError(msg, field="population", value=None)
        pop = model._pop
        pop.mu = ps.cancel_rate
        pop.strength = ps.prior_strength
        pop.fitted = ps.fitted_suppliers
        pop.logq = ps.log_typical_quantity
        pop.large = ps.large_orders
        pop.k = ps.quantity_k
        pop.cells = list(ps.quantity_cells)
        pop.ref = ps.reference_hour
        pop.ls = list(ps.lead_invoiced)
        pop.lc = list(ps.lead_cancelled)
        pop.lz = list(ps.lead_censored)
        model._set_population_curve(list(ps.hazard_invoice), list(ps.hazard_cancel), ps.lead_data)
        for sid, ss in state.suppliers.items():
            sup = model._sups[sid] = _sup_from_state(ss, n_bins, model._cfg, sid)
            sup.fresh = dict(sup.pending)  # clocked and indexed by the first count
            sup.fresh_h = min([p.placed_h for p in sup.pending.values()], default=math.inf)
        model._n_pending = sum(len(s.pending) for s in model._sups.values())
        model._events = state.events_observed
        model._next_refit = state.next_refit_at
        if model._next_refit and model._next_refit <= model._events:
            model._next_refit = model._events + 1
        model._clock = state.clock
        model._clock_h = -math.inf if state.clock is None else _hours(state.clock, "clock")
        return model


def _threshold(edge: float) -> int:
    """The least integer ``n`` with ``n / 3.6e9 >= edge`` (as the calendar's float division)."""
    n = math.ceil(edge * _US_PER_HOUR)
    while n / _US_PER_HOUR < edge:
        n += 1
    while (n - 1) / _US_PER_HOUR >= edge:
        n -= 1
    return n


_new = object.__new__
(
    _set_supplier_id,
    _set_tier,
    _set_quantity,
    _set_p_cancel,
    _set_p_cancel_upper,
    _set_p_invoice,
    _set_p_cancel_by,
    _set_median,
    _set_p90,
    _set_effective_n,
    _set_exceeded,
    _set_reason,
    _set_typical,
    _set_eventually,
) = (TrustAssessment.__dict__[a.name].__set__ for a in attrs.fields(TrustAssessment))


def _assessment(  # noqa: PLR0917 - positional on the hot path of assess()
    supplier_id: str,
    tier: TrustTier,
    quantity: int,
    p_cancel: float,
    p_cancel_upper: float,
    p_invoice: float,
    p_cancel_by: float,
    median: float | None,
    p90: float | None,
    effective_n: float,
    exceeded: bool,  # noqa: FBT001
    reason: str,
    typical: float,
    p_cancel_eventually: float,
) -> TrustAssessment:
    """Build an assessment whose invariants hold by construction, skipping the validators.

    The slots are written through their descriptors (what attrs' own ``__init__`` does for a
    frozen class, minus the validator calls); tests re-run the validators on the output.
    """
    obj: TrustAssessment = _new(TrustAssessment)
    _set_supplier_id(obj, supplier_id)
    _set_tier(obj, tier)
    _set_quantity(obj, quantity)
    _set_p_cancel(obj, p_cancel)
    _set_p_cancel_upper(obj, p_cancel_upper)
    _set_p_invoice(obj, p_invoice)
    _set_p_cancel_by(obj, p_cancel_by)
    _set_median(obj, median)
    _set_p90(obj, p90)
    _set_effective_n(obj, effective_n)
    _set_exceeded(obj, exceeded)
    _set_reason(obj, reason)
    _set_typical(obj, typical)
    _set_eventually(obj, p_cancel_eventually)
    return obj


def _sup_state(sup: _Sup) -> SupplierTrustState:
    return SupplierTrustState(
        signals=sup.signals,
        reference_hour=sup.ref,
        cancelled=sup.c,
        invoiced=sup.k,
        stock_outs=sup.so,
        quantity_weight=sup.qw,
        quantity_log_sum=sup.qls,
        cancels_raw=sup.cr,
        lead_invoiced=tuple(sup.ls),
        lead_cancelled=tuple(sup.lc),
        lead_censored=tuple(sup.lz),
        pending={
            oid: PendingOrderState(
                placed_at=p.placed_at,
                quantity=p.qty,
                item_id=p.item_id,
                stock_exceeded=p.exceeded,
                confirmed=p.confirmed,
            )
            for oid, p in sup.pending.items()
        },
        resolved=dict(sup.done),
        stock={item: StockReportState(stock=s, at=at) for item, (s, at, _) in sup.stock.items()},
        stock_out_hours=tuple(sup.so_hours),
        quarantined=sup.quarantined,
        clean_orders=sup.clean,
    )


def _sup_from_state(ss: SupplierTrustState, n_bins: int, cfg: TrustConfig, sid: str) -> _Sup:
    if not (len(ss.lead_invoiced) == len(ss.lead_cancelled) == len(ss.lead_censored) == n_bins):
        msg = f"state.suppliers[{sid!r}] lead arrays do not match the configured grid"
        raise ValidationError(msg, field="suppliers", value=sid)
    sup = _Sup(ss.reference_hour, n_bins)
    sup.signals = ss.signals
    sup.shift = signal_shift(ss.signals, cfg)
    sup.c = ss.cancelled
    sup.k = ss.invoiced
    sup.so = ss.stock_outs
    sup.qw = ss.quantity_weight
    sup.qls = ss.quantity_log_sum
    sup.cr = ss.cancels_raw
    sup.ls = list(ss.lead_invoiced)
    sup.lc = list(ss.lead_cancelled)
    sup.lz = list(ss.lead_censored)
    sup.lead_n = (
        1 if any(ss.lead_invoiced) or any(ss.lead_cancelled) or any(ss.lead_censored) else 0
    )
    sup.pending = {
        oid: _Pending(
            p.placed_at,
            _hours(p.placed_at, "placed_at"),
            p.quantity,
            p.item_id,
            p.stock_exceeded,
            p.confirmed,
        )
        for oid, p in ss.pending.items()
    }
    sup.done = OrderedDict(ss.resolved)
    sup.stock = {item: (r.stock, r.at, _hours(r.at, "stock.at")) for item, r in ss.stock.items()}
    sup.so_hours = list(ss.stock_out_hours)
    sup.quarantined = ss.quarantined
    sup.clean = ss.clean_orders
    return sup
