"""How the supplier trust model answers: :meth:`TrustModel.assess` and what it reads.

:class:`_Assessing` computes an order's :class:`~consign_core.domain.trust.TrustAssessment`:
the decayed Beta posterior with its Wilson upper bound, the quantity and reported-stock
adjustments, the time-to-tracking probabilities from the supplier's lead-time curve (rebuilt
at most once per state change and refresh bucket, from the pending-order census), the tier and
the seller-readable reason. :func:`_assessment` builds the result without re-running its
validators (its invariants hold by construction). Never mutates the learned state.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import datetime, timedelta

import attrs

from consign_core.domain.trust._index import _PendingIndex
from consign_core.domain.trust._math import Curve, curve_from_counts, plural
from consign_core.domain.trust._records import (
    _EPOCH,
    _MAX_LOG_MULT,
    _QUARANTINED,
    _RISKY,
    _TRUSTED,
    _UNPROVEN,
    _check_aware,
    _hours,
    _Sup,
)
from consign_core.domain.trust._types import TrustAssessment, TrustTier, check_id, check_int


__all__ = ["_Assessing", "_assessment"]


class _Assessing(_PendingIndex):
    """Answering: :meth:`assess` and the supplier's lead-time curve behind it."""

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
            if sup.ztb != tb or sup.zv != self._zver:
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
        """(G_ship(x), G_cancel(x)): a constant hazard within a bin, an exponential tail past the
        grid."""
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
        ds = fs[j + 1] - s0
        dc = fc[j + 1] - c0
        # a constant hazard within the bin: the share of the bin's exits that happened by x
        # is (1 - r**w) / (1 - r), r = S(e_{j+1}) / S(e_j) (the uniform share w when r -> 1)
        left = 1.0 - s0 - c0
        out = ds + dc
        if out > 1e-9 and left > out:
            share = out / left
            w = (1.0 - (1.0 - share) ** w) / share
        return (s0 + ds * w) * cur.inv_s, (c0 + dc * w) * cur.inv_c

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
        bh = self._cal_bh  # on the lead-time clock: + theta of the closed hours (_set_theta)
        theta = self._theta
        if placed_at is None or placed_at == now:
            elapsed = 0.0
            horizon = bh(now, deadline)
            if theta:
                horizon += theta * ((deadline - now).total_seconds() / 3600.0 - horizon)
        else:
            elapsed = bh(placed_at, now)
            horizon = bh(placed_at, deadline)
            if theta:
                elapsed += theta * ((now - placed_at).total_seconds() / 3600.0 - elapsed)
                horizon += theta * ((deadline - placed_at).total_seconds() / 3600.0 - horizon)
            elapsed = max(elapsed, 0.0)
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
