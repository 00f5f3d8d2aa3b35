"""The supplier trust model's base layer: its state and the bookkeeping shared by every layer.

:class:`_ModelCore` builds the whole state of a model (configuration and derived constants,
supplier and population records, event count, clock) and holds the small operations the other
layers share: re-basing decayed counts, remembering settled orders, a supplier's cached prior,
the population's curve, the ``config`` / ``calendar`` properties and ``suppliers()``. The
layers above it (``_index``, ``_fit``, ``_learn``, ``_assess``) are combined into
:class:`~consign_core.domain.trust.TrustModel` in ``consign_core.domain.trust._model``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Final

from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
from consign_core.domain.trust._math import curve, default_hazards, sigmoid
from consign_core.domain.trust._records import (
    _DEFAULT_CONFIG,
    _EPOCH,
    _LN2,
    _REBASE_EXPONENT,
    _Pop,
    _Sup,
    _threshold,
)
from consign_core.domain.trust._types import TrustConfig, check_instance


__all__ = ["_ModelCore"]

_ONE_HOUR: Final = timedelta(hours=1)


class _ModelCore:
    """The model's state and the bookkeeping every layer uses.

    Holds the configuration and the derived constants, the supplier and population records, the
    event count and the clock; re-bases decayed counts, remembers settled orders, caches a
    supplier's prior and sets the population's curve. No public behaviour of its own.
    """

    def __init__(
        self,
        config: TrustConfig = _DEFAULT_CONFIG,
        *,
        calendar: BusinessCalendar = DEFAULT_CALENDAR,
    ) -> None:
        """Start an empty model (population defaults from ``config``); the event handlers are
        bound by the learning layer."""
        check_instance(config, TrustConfig, "config")
        check_instance(calendar, BusinessCalendar, "calendar")
        self._cfg = config
        self._cal = calendar
        self._cal_bh = calendar.business_hours_between  # the calendar's own business hours
        self._bh = self._cal_bh  # the lead-time clock (see _set_theta)
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
        self._theta = 0.0  # the closed-time weight in use (the population's, see _tau)
        self._zver = 0  # bumped at each change of theta: older census counts are stale
        self._open_hour = (-1, False)  # the last UTC hour classified by _open_at
        self._sups: dict[str, _Sup] = {}
        self._pop = _Pop(config, self._n_bins)
        self._events = 0
        self._n_pending = 0
        self._next_refit = config.refit_min_events if config.refit_every_events else 0
        self._clock: datetime | None = None
        self._clock_h = -math.inf
        self._set_population_curve(self._h0s, self._h0c, 0.0)

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
        pop.open_n *= f
        pop.closed_n *= f
        pop.open_x *= f
        pop.closed_x *= f
        pop.ref = t
        return 1.0

    def _tau(self, business: float, calendar_hours: float) -> float:
        """Lead-time clock: business hours plus ``theta`` of the closed hours in between.

        ``theta`` (learned by the population refit, 0 until then) is how much work a closed
        hour of the calendar sees relative to an open one: 0 when suppliers keep to the
        calendar (every lead time is in business hours, as before), 1 when they work
        around the clock (calendar hours). Every lead time, elapsed time and horizon of the
        model is measured on this clock.
        """
        theta = self._theta
        if not theta:
            return business
        return business + theta * (calendar_hours - business)

    def _set_theta(self, theta: float) -> None:
        """Use the closed-time weight ``theta``: ``_bh(start, end)`` becomes the lead-time
        clock between two instants (the calendar's own method while ``theta`` is 0)."""
        self._theta = theta
        if not theta:
            self._bh = self._cal_bh
            return
        business_hours = self._cal_bh
        epoch = _EPOCH

        def clock(start: datetime, end: datetime) -> float:
            business = business_hours(start, end)  # raises first, naming the argument
            hours = (end - epoch).total_seconds() / 3600.0
            hours -= (start - epoch).total_seconds() / 3600.0
            return business + theta * (hours - business)

        self._bh = clock

    def _count_exposure(self, business: float, calendar_hours: float, w: float) -> None:
        """Add an order's pending time, split into open and closed hours, to the theta fit."""
        pop = self._pop
        if business > 0.0:
            pop.open_x += w * business
        closed = calendar_hours - business
        if closed > 0.0:
            pop.closed_x += w * closed

    def _open_at(self, t: float) -> bool:
        """Whether the calendar is open in the UTC hour holding ``t`` (hours since the epoch).

        Business windows are whole hours of a whole-hour offset zone, so an hour is open or
        closed as a whole; one calendar call per hour, remembered for the next event.
        """
        hour = math.floor(t)
        memo = self._open_hour
        if memo[0] == hour:
            return memo[1]
        start = _EPOCH + timedelta(hours=hour)
        state = self._cal_bh(start, start + _ONE_HOUR) > 0.0
        self._open_hour = (hour, state)
        return state

    def _remember(self, sup: _Sup, order_id: str, *, resolved: bool) -> None:
        done = sup.done
        done[order_id] = resolved
        if len(done) > self._dedup:
            done.popitem(last=False)

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

    def _set_population_curve(self, hs: list[float], hc: list[float], lead_data: float) -> None:
        pop = self._pop
        pop.hs = hs
        pop.hc = hc
        pop.lead_data = lead_data
        pop.curve = curve(hs, hc, self._edges, (pop.ver, -1, -1), estimable=lead_data > 0)
