"""Pure numerical helpers of the supplier trust model (hazards, curves, signal shifts)."""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left

from consign_core.domain.model import SupplierSignals
from consign_core.domain.trust._types import TrustConfig


__all__ = [
    "Curve",
    "curve",
    "curve_from_counts",
    "default_hazards",
    "hazards",
    "plural",
    "quantile",
    "sigmoid",
    "signal_shift",
]


class Curve:
    """Cumulative incidence of each cause on the grid edges, their inverse totals, quantiles.

    ``fs[j] * inv_s`` is G_ship(e_j), the distribution of the time to tracking given that
    the order ships; likewise ``fc``/``inv_c`` for cancels.
    """

    __slots__ = ("fc", "fs", "inv_c", "inv_s", "key", "median", "p90")

    def __init__(  # noqa: PLR0917 - a plain record
        self,
        fs: list[float],
        fc: list[float],
        inv_s: float,
        inv_c: float,
        median: float | None,
        p90: float | None,
        key: tuple[int, int, int],
    ) -> None:
        self.fs = fs
        self.fc = fc
        self.inv_s = inv_s
        self.inv_c = inv_c
        self.median = median
        self.p90 = p90
        self.key = key


def sigmoid(x: float) -> float:
    """The logistic function, without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def signal_shift(signals: SupplierSignals | None, cfg: TrustConfig) -> float:
    """Log-odds shift of a supplier's prior mean from its platform signals (clamped)."""
    if signals is None:
        return 0.0
    shift = 0.0
    if signals.seller_rank is not None:
        shift += cfg.rank_weight * (
            math.log1p(signals.seller_rank) - math.log1p(cfg.rank_reference)
        )
    if signals.seller_score is not None:
        score = signals.seller_score
        score = score / 100.0 if score > 1.0 else score
        score = min(1.0, max(0.0, score))
        shift += cfg.score_weight * (math.log(1.01 - score) - math.log(1.01 - cfg.score_reference))
    if signals.avg_dispatch_days is not None:
        days = min(30.0, max(0.0, signals.avg_dispatch_days))
        shift += cfg.dispatch_weight * (days - cfg.dispatch_reference_days)
    bound = cfg.signal_max_shift
    return min(bound, max(-bound, shift))


def default_hazards(cfg: TrustConfig, edges: tuple[float, ...]) -> tuple[list[float], list[float]]:
    """Per-bin hazards of the default curve: exponential time to the first event.

    Rates: invoice 1/mean, cancel chosen so that P(cancel) = default_cancel_rate.
    """
    rate_s = 1.0 / cfg.default_mean_hours_to_invoice
    p0 = cfg.default_cancel_rate
    rate_c = rate_s * p0 / (1.0 - p0)
    total = rate_s + rate_c
    share_s = rate_s / total
    hs: list[float] = []
    hc: list[float] = []
    for lo, hi in itertools.pairwise(edges):
        h = 1.0 - math.exp(-total * (hi - lo))
        hs.append(h * share_s)
        hc.append(h * (1.0 - share_s))
    hs.append(share_s)
    hc.append(1.0 - share_s)
    return hs, hc


def hazards(
    ds: list[float],
    dc: list[float],
    dz: list[float],
    prior_s: list[float],
    prior_c: list[float],
    *,
    strength: float,
) -> tuple[list[float], list[float]]:
    """Shrunk discrete-time cause-specific hazards, per bin ``j``::

        h_j = (d_j + strength * prior_j) / (n_j + strength),  n_j = entered_j - censored_j / 2

    (actuarial at-risk count). Counts may be in any common scale if ``strength`` is too.
    """
    n_bins = len(ds)
    hs = [0.0] * n_bins
    hc = [0.0] * n_bins
    entered = 0.0
    for j in range(n_bins - 1, -1, -1):
        s = ds[j]
        c = dc[j]
        z = dz[j]
        entered += s + c + z
        denominator = entered - 0.5 * z + strength
        hs[j] = (s + strength * prior_s[j]) / denominator
        hc[j] = (c + strength * prior_c[j]) / denominator
    return hs, hc


def quantile(f: list[float], edges: tuple[float, ...], q: float) -> float | None:
    """The x with F(x) = q by linear interpolation on the grid; None beyond the grid."""
    if f[-1] < q:
        return None
    j = bisect_left(f, q)
    if j == 0:
        return 0.0
    lo = f[j - 1]
    return edges[j - 1] + (q - lo) / (f[j] - lo) * (edges[j] - edges[j - 1])


def _finish(  # noqa: PLR0917 - internal
    fs: list[float],
    fc: list[float],
    surv: float,
    tail_s: float,
    tail_c: float,
    edges: tuple[float, ...],
    key: tuple[int, int, int],
    estimable: bool,  # noqa: FBT001
) -> Curve:
    surv = max(0.0, surv)
    both = tail_s + tail_c
    share = tail_s / both if both > 0 else 0.5
    inf_s = fs[-1] + surv * share
    inf_c = fc[-1] + surv * (1.0 - share)
    inv_s = 1.0 / inf_s if inf_s > 0 else 0.0
    inv_c = 1.0 / inf_c if inf_c > 0 else 0.0
    median = quantile(fs, edges, 0.5 * inf_s) if estimable else None
    p90 = quantile(fs, edges, 0.9 * inf_s) if estimable else None
    return Curve(fs, fc, inv_s, inv_c, median, p90, key)


def curve(
    hs: list[float],
    hc: list[float],
    edges: tuple[float, ...],
    key: tuple[int, int, int],
    *,
    estimable: bool,
) -> Curve:
    """Aalen-Johansen CIFs from discrete hazards, kept with their totals (time given cause).

    ``F_ship(e_{j+1}) = F_ship(e_j) + S(e_j) h_ship_j`` and ``S(e_{j+1}) = S(e_j)(1 - h_ship_j
    - h_cancel_j)``; the mass left beyond the grid, ``S(e_G)``, goes to the causes in the
    ratio of the last (open) bin's hazards. ``G = F / F(inf)``.
    """
    last = len(edges) - 1
    fs = [0.0]
    fc = [0.0]
    surv = 1.0
    acc_s = acc_c = 0.0
    for j in range(last):
        s = hs[j]
        c = hc[j]
        acc_s += surv * s
        acc_c += surv * c
        fs.append(acc_s)
        fc.append(acc_c)
        surv *= 1.0 - s - c
    return _finish(fs, fc, surv, hs[last], hc[last], edges, key, estimable)


def curve_from_counts(  # noqa: PLR0917 - hot path, positional
    ds: list[float],
    dc: list[float],
    dz: list[float],
    prior_s: list[float],
    prior_c: list[float],
    strength: float,
    edges: tuple[float, ...],
    key: tuple[int, int, int],
    estimable: bool,  # noqa: FBT001
) -> Curve:
    """``curve(*hazards(...))`` fused into two passes (the per-supplier rebuild)."""
    last = len(ds) - 1
    den = [0.0] * (last + 1)
    entered = 0.0
    j = last
    while j >= 0:
        z = dz[j]
        entered += ds[j] + dc[j] + z
        den[j] = 1.0 / (entered - 0.5 * z + strength)
        j -= 1
    fs = [0.0] * (last + 1)
    fc = [0.0] * (last + 1)
    surv = 1.0
    acc_s = acc_c = 0.0
    for j in range(last):
        r = den[j]
        h_s = (ds[j] + strength * prior_s[j]) * r
        h_c = (dc[j] + strength * prior_c[j]) * r
        acc_s += surv * h_s
        acc_c += surv * h_c
        fs[j + 1] = acc_s
        fc[j + 1] = acc_c
        surv *= 1.0 - h_s - h_c
    r = den[last]
    tail_s = (ds[last] + strength * prior_s[last]) * r
    tail_c = (dc[last] + strength * prior_c[last]) * r
    return _finish(fs, fc, surv, tail_s, tail_c, edges, key, estimable)


def plural(count: float, noun: str) -> str:
    """``"1 cancel"``, ``"3 cancels"``: a rounded count with its noun."""
    n = round(count)
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
