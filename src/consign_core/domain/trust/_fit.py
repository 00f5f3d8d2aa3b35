"""The supplier trust model's population fit (:meth:`TrustModel.refit_population`).

:class:`_PopulationFit` refits what the model learns across suppliers: the empirical-Bayes
cancel prior (moment matching net of binomial noise), the population's typical quantity, the
quantity exponent ``k`` (a penalised logistic MLE over the binned large orders), the
closed-time weight of the lead-time clock and the population's lead-time hazards (expiring
pending orders older than the grid on the way), on the schedule ``observe`` triggers. The
formulas are in ``consign_core.domain.trust``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import datetime

from consign_core.domain.trust._index import _PendingIndex
from consign_core.domain.trust._math import hazards, sigmoid
from consign_core.domain.trust._records import _N_CELLS


__all__ = ["_PopulationFit"]


class _PopulationFit(_PendingIndex):
    """The population refit: empirical-Bayes prior, typical quantity, quantity exponent, lead
    hazards."""

    def refit_population(self) -> None:
        """Refit the population: empirical-Bayes prior, typical quantity, k, the closed-time
        weight of the lead-time clock, lead hazards.

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
            self._fit_theta(self._clock_h)
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

    def _fit_theta(self, now_h: float) -> None:
        """Refit the closed-time weight: the rate of invoices per closed hour of the calendar
        over their rate per open hour, both per order pending then.

        ``theta = N_closed / (E + 1)``, ``E = N_open * X_closed / X_open`` the closed-hour
        invoices expected if closed hours worked like open ones (``X`` the decayed pending
        hours of each kind, ``N`` the decayed invoices registered in each): the posterior mean
        of the rate ratio with one pseudo-invoice of evidence for 0 (the calendar is right
        until the log says otherwise), at most 1 (calendar hours). A change re-takes every
        supplier's pending-order census on the new clock.
        """
        pop = self._pop
        one = math.exp(min(600.0, max(0.0, (now_h - pop.ref) * self._lam)))
        expected = pop.open_n * pop.closed_x / pop.open_x if pop.open_x > 0.0 else 0.0
        theta = min(1.0, pop.closed_n / (expected + one)) if expected > 0.0 else 0.0
        pop.theta = theta
        if theta != self._theta:
            self._set_theta(theta)
            self._remix()

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
        bh = self._cal_bh
        tau = self._tau
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
                expired: list[tuple[str, float, float]] = []
                for oid, p in sup.pending.items():
                    business = bh(p.placed_at, clock)
                    calendar_hours = now_h - p.placed_h
                    elapsed = tau(business, calendar_hours)
                    if elapsed >= end:
                        expired.append((oid, business, calendar_hours))
                    else:
                        dz[bisect_right(grid, elapsed)] += 1.0
                for oid, business, calendar_hours in expired:
                    p = sup.pending.pop(oid)
                    if sup.fresh.pop(oid, None) is None:
                        self._unindex(sup, p)
                    self._n_pending -= 1
                    w = self._scale(sup, now_h)  # first: a re-base replaces sup.lz
                    sup.lz[last] += w
                    w = self._pop_scale(now_h)
                    pop.lz[last] += w
                    self._count_exposure(business, calendar_hours, w)
                    dz[last] += 1.0
                    sup.lead_n += 1
                    self._remember(sup, oid, resolved=False)
                    sup.ver += 1
        hs, hc = hazards(
            ds, dc, dz, self._h0s, self._h0c, strength=self._cfg.lead_population_prior_strength
        )
        self._set_population_curve(hs, hc, sum(ds) + sum(dc) + sum(dz))
