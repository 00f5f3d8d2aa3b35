"""Scoring online predictions of supplier cancels: Brier score, log loss, calibration bins.

Re-exported by :mod:`consign_core.domain.trust`. :func:`predict_online` replays an event stream
through a :class:`~consign_core.domain.trust.TrustModel` and records, for every supplier order, the
model's P(cancel) made from the events strictly before the order's placement, next to two
baselines (the global cancel rate so far, and the supplier's raw cancel frequency so far).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

import attrs

from consign_core.domain._validators import aware_datetime, int_at_least, non_empty_str, probability
from consign_core.domain.events import (
    Event,
    SupplierCancelled,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import Supplier
from consign_core.domain.trust._model import TrustModel
from consign_core.domain.trust._types import TrustTier, check_instance, check_int, is_probability
from consign_core.errors import InsufficientHistoryError, ValidationError


__all__ = [
    "BaselineComparison",
    "CalibrationBin",
    "OnlinePrediction",
    "PredictionScore",
    "compare_with_baselines",
    "predict_online",
    "score_predictions",
]


@attrs.frozen(kw_only=True)
class CalibrationBin:
    """Predictions whose probability fell in ``[lower, upper)`` (the last bin includes 1)."""

    lower: float
    """Lower edge of the bin."""
    upper: float
    """Upper edge of the bin."""
    count: int
    """Predictions in the bin."""
    mean_predicted: float | None
    """Their mean predicted probability (``None`` if the bin is empty)."""
    observed_rate: float | None
    """The fraction of them that happened (``None`` if empty)."""


@attrs.frozen(kw_only=True)
class PredictionScore:
    """How good a set of probability forecasts of a binary outcome was."""

    n: int
    """Number of scored predictions."""
    brier: float
    """Mean squared error of the probability (0 is perfect; lower is better)."""
    log_loss: float
    """Mean negative log-likelihood, probabilities clipped to [eps, 1 - eps]."""
    base_rate: float
    """The fraction of outcomes that happened."""
    mean_predicted: float
    """The mean predicted probability (equals ``base_rate`` for calibration-in-the-large)."""
    calibration_error: float
    """Expected calibration error: sum over bins of ``count/n * |mean_predicted - observed|``."""
    bins: tuple[CalibrationBin, ...]
    """The calibration (reliability) table, equal-width bins over [0, 1]."""


def score_predictions(
    predictions: Iterable[tuple[float, bool]], bins: int = 10, *, eps: float = 1e-15
) -> PredictionScore:
    """Score ``(probability, happened)`` pairs: Brier, log loss and a calibration table.

    Raises :class:`~consign_core.errors.ValidationError` for a probability outside [0, 1]
    and :class:`~consign_core.errors.InsufficientHistoryError` for no predictions at all.
    """
    check_int(bins, "bins", 1)
    if not is_probability(eps) or not 0.0 < eps < 0.5:
        msg = f"eps must be in (0, 0.5), got {eps!r}"
        raise ValidationError(msg, field="eps", value=eps)
    count = [0] * bins
    sum_p = [0.0] * bins
    sum_y = [0] * bins
    n = 0
    brier = 0.0
    loss = 0.0
    for pair in predictions:
        try:
            p, happened = pair
        except (TypeError, ValueError):
            msg = f"a prediction must be a (probability, happened) pair, got {pair!r}"
            raise ValidationError(msg, field="predictions", value=pair) from None
        if not is_probability(p):
            msg = f"a prediction must be a probability in [0, 1], got {p!r}"
            raise ValidationError(msg, field="predictions", value=p)
        y = 1 if happened else 0
        n += 1
        brier += (p - y) ** 2
        clipped = min(1.0 - eps, max(eps, p))
        loss -= math.log(clipped) if y else math.log(1.0 - clipped)
        b = min(int(p * bins), bins - 1)
        count[b] += 1
        sum_p[b] += p
        sum_y[b] += y
    if n == 0:
        msg = "no predictions to score"
        raise InsufficientHistoryError(msg)
    table: list[CalibrationBin] = []
    ece = 0.0
    for b in range(bins):
        c = count[b]
        mean_p = sum_p[b] / c if c else None
        rate = sum_y[b] / c if c else None
        if mean_p is not None and rate is not None:
            ece += c / n * abs(mean_p - rate)
        table.append(
            CalibrationBin(
                lower=b / bins,
                upper=(b + 1) / bins,
                count=c,
                mean_predicted=mean_p,
                observed_rate=rate,
            )
        )
    return PredictionScore(
        n=n,
        brier=brier / n,
        log_loss=loss / n,
        base_rate=sum(sum_y) / n,
        mean_predicted=sum(sum_p) / n,
        calibration_error=ece,
        bins=tuple(table),
    )


@attrs.frozen(kw_only=True)
class OnlinePrediction:
    """One supplier order's P(cancel) forecasts, made before it was placed, and its outcome."""

    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    supplier_order_id: str = attrs.field(validator=non_empty_str)
    """The supplier order."""
    placed_at: datetime = attrs.field(validator=aware_datetime)
    """When it was placed (the prediction time)."""
    quantity: int = attrs.field(validator=int_at_least(1))
    """Units ordered."""
    p_model: float = attrs.field(validator=probability)
    """The trust model's ``p_cancel``."""
    p_model_upper: float = attrs.field(validator=probability)
    """The trust model's ``p_cancel_upper``."""
    tier: TrustTier
    """The trust model's tier."""
    p_global: float = attrs.field(validator=probability)
    """Baseline: all suppliers' cancel rate so far, ``(cancels + 0.5) / (resolved + 1)``."""
    p_supplier: float = attrs.field(validator=probability)
    """Baseline: this supplier's raw cancel frequency so far (the global rate if none)."""
    prior_orders: int = attrs.field(validator=int_at_least(0))
    """This supplier's resolved orders seen before the prediction."""
    cancelled: bool | None = None
    """The outcome: True cancelled by the supplier, False invoiced, None still pending."""


@attrs.frozen(kw_only=True)
class BaselineComparison:
    """The model's score next to the two baselines', on the same resolved predictions."""

    model: PredictionScore
    """The trust model."""
    global_rate: PredictionScore
    """The global cancel rate so far."""
    supplier_rate: PredictionScore
    """The supplier's raw cancel frequency so far."""


def predict_online(
    events: Iterable[Event],
    *,
    model: TrustModel | None = None,
    suppliers: Iterable[Supplier] = (),
) -> tuple[OnlinePrediction, ...]:
    """Replay ``events`` in order through ``model`` (a fresh default one if ``None``).

    Just before each new :class:`~consign_core.domain.events.SupplierOrderPlaced` is observed, the
    model and both baselines predict that order's P(cancel) from the events strictly before
    it (plus the stock it reports, which the seller sees before ordering); the outcome is
    filled in when the order is invoiced or cancelled. Orders still pending at the end keep
    ``cancelled=None`` (excluded from scoring). The model learns as it goes, including its
    automatic population refits, exactly as in production.
    """
    trust = TrustModel() if model is None else model
    check_instance(trust, TrustModel, "model")
    for supplier in suppliers:
        trust.register_supplier(supplier)
    rows: list[dict[str, object]] = []
    index: dict[tuple[str, str], int] = {}
    resolved: set[tuple[str, str]] = set()
    per_supplier: dict[str, list[int]] = {}
    cancels = 0
    total = 0
    for event in events:
        if isinstance(event, SupplierOrderPlaced):
            key = (event.supplier_id, event.supplier_order_id)
            if key not in index and key not in resolved:
                if event.reported_stock is not None:
                    trust.report_stock(
                        event.supplier_id, event.item_id, event.reported_stock, event.at
                    )
                a = trust.assess(
                    event.supplier_id, event.quantity, event.at, event.at, item_id=event.item_id
                )
                p_global = (cancels + 0.5) / (total + 1.0)
                counts = per_supplier.get(event.supplier_id)
                seen = counts[1] if counts else 0
                index[key] = len(rows)
                rows.append(
                    {
                        "supplier_id": event.supplier_id,
                        "supplier_order_id": event.supplier_order_id,
                        "placed_at": event.at,
                        "quantity": event.quantity,
                        "p_model": a.p_cancel,
                        "p_model_upper": a.p_cancel_upper,
                        "tier": a.tier,
                        "p_global": p_global,
                        "p_supplier": counts[0] / seen if counts and seen else p_global,
                        "prior_orders": seen,
                        "cancelled": None,
                    }
                )
        elif isinstance(event, SupplierInvoiced | SupplierCancelled):
            key = (event.supplier_id, event.supplier_order_id)
            if key not in resolved:
                resolved.add(key)
                cancelled = isinstance(event, SupplierCancelled)
                cancels += cancelled
                total += 1
                counts = per_supplier.setdefault(event.supplier_id, [0, 0])
                counts[0] += cancelled
                counts[1] += 1
                i = index.get(key)
                if i is not None:
                    rows[i]["cancelled"] = cancelled
        trust.observe(event)
    return tuple(OnlinePrediction(**row) for row in rows)  # type: ignore[arg-type]


def compare_with_baselines(
    predictions: Iterable[OnlinePrediction],
    *,
    bins: int = 10,
    min_prior_orders: int = 0,
    max_prior_orders: int | None = None,
) -> BaselineComparison:
    """Score the model and both baselines on the resolved predictions, optionally only those
    made when the supplier had between ``min_prior_orders`` and ``max_prior_orders`` resolved
    orders (e.g. ``max_prior_orders=5`` for the cold-start regime)."""
    chosen = [
        p
        for p in predictions
        if p.cancelled is not None
        and p.prior_orders >= min_prior_orders
        and (max_prior_orders is None or p.prior_orders <= max_prior_orders)
    ]
    return BaselineComparison(
        model=score_predictions(((p.p_model, bool(p.cancelled)) for p in chosen), bins),
        global_rate=score_predictions(((p.p_global, bool(p.cancelled)) for p in chosen), bins),
        supplier_rate=score_predictions(((p.p_supplier, bool(p.cancelled)) for p in chosen), bins),
    )
