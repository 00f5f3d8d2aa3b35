"""Supplier trust model: calibrated numbers behind "trusted: confirm at once; else wait".

:class:`TrustModel` learns online from supplier order outcomes (the lifecycle events
:class:`~consign_core.domain.events.SupplierOrderPlaced`, ``SupplierConfirmed``,
``SupplierInvoiced`` and ``SupplierCancelled``) and answers, per order,
:meth:`TrustModel.assess` -> :class:`TrustAssessment`: a tier, P(the supplier cancels),
its upper bound, P(tracking by the deadline | pending now), P(cancel before the deadline |
pending now), median and p90 business hours to tracking, the effective sample size and a
one-line reason. ``docs/trust.md`` has the derivations, the defaults and a worked example.

The model in short (times in hours; ``lam = ln 2 / (24 * half_life_days)``):

**Forgetting.** An outcome at ``t_i`` weighs ``exp(-lam (now - t_i))`` at ``now``. Counts are
stored scaled by ``exp(lam (t_i - ref))`` against a per-supplier reference time, so an update
is one ``exp`` and an addition, and a read one multiplication.

**Cancel risk.** Decayed supplier cancels ``c`` (any reason) and invoices ``k`` give the
posterior ``Beta(a0 + c, b0 + k)``: ``theta = (a0 + c) / n`` with ``n = a0 + b0 + c + k``, the
risk of an ordinary-size order. A cancel enters ``c`` divided by the odds multiplier ``M``
the model applied to its order (see *Quantity*; 1 for an ordinary or unknown order), so an
expected cancel counts less and no cancel lowers the risk. The upper bound is Wilson's
one-sided score bound on ``a0 + c`` in ``n`` with ``z`` the normal quantile of
``confidence`` (1.645 at 0.95)::

    upper = (theta + z²/2n + z sqrt(theta(1-theta)/n + z²/4n²)) / (1 + z²/n)

**Cold start (empirical Bayes).** ``a0 + b0 = s`` and ``a0 / s = mu`` are fitted by moment
matching over the suppliers with at least ``eb_min_orders`` decayed orders, net of binomial
noise: with ``K`` suppliers, ``N = sum n_i``, ``mu = (sum c_i + s0 mu0) / (N + s0)`` and
``V = sum n_i (c_i/n_i - mu)²``, ``rho = (V / (mu(1-mu)) - (K-1)) / (N - K)`` and
``s = 1/rho - 1`` clamped to ``[prior_strength_min, prior_strength_max]``. Platform signals
shift a supplier's prior mean in log-odds by ``w_rank (log1p(rank) - log1p(rank_ref)) +
w_score (log(1.01 - score) - log(1.01 - score_ref)) + w_dispatch (days - days_ref)``,
clamped to ``± signal_max_shift``.

**Quantity.** ``usual`` is the decayed geometric mean of the quantities the supplier
invoiced (with ``quantity_prior_orders`` pseudo-orders of the population's). Orders up to
``quantity_ordinary_factor`` (2) times ``usual`` get the base risk; a larger order scales the
odds by ``M = (q / (2 usual)) ** k``::

    logit p(q) = logit theta + k max(0, log(q / (2 usual)))

(the same shift moves the upper bound). ``k`` is a penalised logistic MLE over resolved
large orders (offset: the base logit known before each outcome) once
``quantity_min_large_orders`` of them have resolved, ``quantity_k_default`` (1.0) before.
An order above the item's last reported stock gets ``p >= stock_exceeded_floor`` (0.95).

**Time to tracking**, on the lead-time clock ``tau = bh + theta (calendar hours - bh)``:
business hours of the calendar plus ``theta`` of the closed hours in between, ``theta`` the
closed-time weight refitted from the log (invoices per closed hour over invoices per open hour,
per pending order: ``N_closed / (N_open X_closed / X_open + 1)``, at most 1; exactly 0 while
suppliers keep the calendar). Discrete-time competing risks on the
grid ``lead_grid_hours`` with decayed per-bin counts of invoices, cancels and censored exits,
per supplier and for the population. Hazards are shrunk toward the population's,
``h_j = (d_j + m H_j) / (n_j + m)`` with ``n_j`` the actuarial at-risk count (pending orders
are censored at their elapsed time, never dropped); the population's are shrunk toward a
default exponential curve. Aalen-Johansen gives ``F_ship`` and ``F_cancel``; normalising
each gives the time distribution given the cause, ``G_ship`` and ``G_cancel`` (a constant
hazard within each bin), which the order's own ``p`` combines (cause first, then time)::

    S(t) = (1-p)(1 - G_ship(t)) + p (1 - G_cancel(t))
    P(invoiced by D | pending at t) = (1-p) (G_ship(D) - G_ship(t)) / S(t)
    P(cancelled by D | pending at t) = p (G_cancel(D) - G_cancel(t)) / S(t)

Median and p90 are quantiles of ``G_ship``.

**Hard trigger.** ``quarantine_stockouts`` stock-out cancels within ``quarantine_window_days``
quarantine a supplier until ``quarantine_release_clean_orders`` invoices in a row.

**Tiers.** QUARANTINED if the trigger holds; RISKY if ``p >= risky_min_mean`` or the order
exceeds the reported stock; TRUSTED if ``effective_n >= min_orders_for_trusted`` and
``upper <= trusted_max_upper``; UNPROVEN otherwise.

The evaluation helpers (:func:`score_predictions`, :func:`predict_online`,
:func:`compare_with_baselines`) score online forecasts with the Brier score, log loss and
calibration bins against the global-rate and raw-frequency baselines.
"""

from __future__ import annotations

from consign_core._exports import publish
from consign_core.domain.trust._eval import (
    BaselineComparison,
    CalibrationBin,
    OnlinePrediction,
    PredictionScore,
    compare_with_baselines,
    predict_online,
    score_predictions,
)
from consign_core.domain.trust._model import TrustModel
from consign_core.domain.trust._types import (
    DEFAULT_LEAD_GRID_HOURS,
    PendingOrderState,
    PopulationState,
    StockReportState,
    SupplierTrustState,
    TrustAssessment,
    TrustConfig,
    TrustState,
    TrustTier,
)


__all__ = [
    "DEFAULT_LEAD_GRID_HOURS",
    "BaselineComparison",
    "CalibrationBin",
    "OnlinePrediction",
    "PendingOrderState",
    "PopulationState",
    "PredictionScore",
    "StockReportState",
    "SupplierTrustState",
    "TrustAssessment",
    "TrustConfig",
    "TrustModel",
    "TrustState",
    "TrustTier",
    "compare_with_baselines",
    "predict_online",
    "score_predictions",
]

publish(__name__, __all__)
