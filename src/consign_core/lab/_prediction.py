"""How well the trust model predicted the log's outcomes, scored online (each order predicted
from what came before it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import attrs

from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
from consign_core.domain.events import (
    Event,
    SupplierCancelled,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelReason,
    Courier,
    OrderRef,
    Tracking,
)
from consign_core.domain.trust import PredictionScore, TrustConfig, TrustModel, score_predictions
from consign_core.errors import InsufficientHistoryError
from consign_core.lab._log_rows import (
    _item,
    _log_end,
    _sorted,
)
from consign_core.lab._order_log import (
    LoggedOutcome,
    OrderLogRow,
)


__all__ = ["PredictionQuality", "QuestionScores", "prediction_quality"]

_HOUR_US: Final = 3_600_000_000
_DEFAULT_MARKET: Final = "coupang"
_COURIER: Final = Courier.CJ


@attrs.frozen(kw_only=True)
class QuestionScores:
    """The trust model's online forecasts of one question, next to the two baselines."""

    question: str
    """``"supplier_cancels"`` or ``"no_tracking_by_ship_by"``."""
    model: PredictionScore
    """The trust model."""
    global_rate: PredictionScore
    """Baseline: the rate over all suppliers so far."""
    supplier_rate: PredictionScore
    """Baseline: the supplier's raw frequency so far (the global rate before its first)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: each score's n, brier, log_loss, base_rate, mean_predicted, calibration."""
        return {
            "question": self.question,
            "n": self.model.n,
            "model": _score_dict(self.model),
            "global_rate": _score_dict(self.global_rate),
            "supplier_rate": _score_dict(self.supplier_rate),
        }


def _score_dict(score: PredictionScore) -> dict[str, Any]:
    return {
        "n": score.n,
        "brier": score.brier,
        "log_loss": score.log_loss,
        "base_rate": score.base_rate,
        "mean_predicted": score.mean_predicted,
        "calibration_error": score.calibration_error,
    }


@attrs.frozen(kw_only=True)
class PredictionQuality:
    """How well the trust model predicted the log, online (``None``: nothing resolved to score)."""

    supplier_cancels: QuestionScores | None
    """P(the supplier cancels), scored on orders the supplier invoiced or cancelled."""
    no_tracking_by_ship_by: QuestionScores | None
    """P(no tracking by ship_by) = 1 - P(tracking by the deadline), scored on orders whose
    answer is known (tracking, a cancel, or the deadline passed in the log)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "supplier_cancels": None
            if self.supplier_cancels is None
            else self.supplier_cancels.to_dict(),
            "no_tracking_by_ship_by": None
            if self.no_tracking_by_ship_by is None
            else self.no_tracking_by_ship_by.to_dict(),
        }


class _Rates:
    """Running "so far" frequencies: global and per supplier."""

    def __init__(self) -> None:
        self.hits = 0
        self.total = 0
        self.per: dict[str, list[int]] = {}

    def add(self, supplier_id: str, *, hit: bool) -> None:
        self.hits += hit
        self.total += 1
        counts = self.per.setdefault(supplier_id, [0, 0])
        counts[0] += hit
        counts[1] += 1

    def predict(self, supplier_id: str) -> tuple[float, float]:
        p_global = (self.hits + 0.5) / (self.total + 1.0)
        counts = self.per.get(supplier_id)
        p_supplier = counts[0] / counts[1] if counts and counts[1] else p_global
        return p_global, p_supplier


def _score(question: str, rows: list[tuple[float, float, float, bool]]) -> QuestionScores | None:
    try:
        return QuestionScores(
            question=question,
            model=score_predictions((m, y) for m, _, _, y in rows),
            global_rate=score_predictions((g, y) for _, g, _, y in rows),
            supplier_rate=score_predictions((s, y) for _, _, s, y in rows),
        )
    except InsufficientHistoryError:
        return None


def prediction_quality(
    rows: Iterable[OrderLogRow],
    *,
    trust_config: TrustConfig | None = None,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> PredictionQuality:
    """Score the trust model's online forecasts on the log, beside the two baselines.

    Each order is predicted at its ``paid_at`` (taken as the supplier order's placement) from
    what happened at or before that instant: outcomes of earlier orders, and for "no tracking
    by ship_by" only the answers already known (tracking registered, a cancel, or a deadline
    passed). The model then observes the placement, and the outcome when it happens.
    """
    items = _sorted(rows)
    if not items:
        return PredictionQuality(supplier_cancels=None, no_tracking_by_ship_by=None)
    cancel_rows, late_rows = _online_predictions(items, trust_config, calendar)
    return PredictionQuality(
        supplier_cancels=_score("supplier_cancels", list(cancel_rows.values())),
        no_tracking_by_ship_by=_score("no_tracking_by_ship_by", list(late_rows.values())),
    )


_Forecast = tuple[float, float, float, bool]


def _late_answer(row: OrderLogRow, end: datetime) -> tuple[datetime, bool] | None:
    """When "no tracking by ship_by" became known for ``row`` and the answer, or ``None``."""
    at = row.outcome_at
    if row.outcome is LoggedOutcome.INVOICED and at is not None and at < row.ship_by:
        return at, False
    if row.outcome is LoggedOutcome.SUPPLIER_CANCELLED and at is not None:
        return min(at, row.ship_by), True
    if row.outcome is LoggedOutcome.BUYER_CANCELLED:
        # known only if the buyer cancelled at or after the deadline (no tracking by then);
        # an earlier buyer cancel never answers the question
        assert at is not None  # noqa: S101 - validated
        return (row.ship_by, True) if at >= row.ship_by else None
    if row.ship_by <= end:
        return row.ship_by, True
    return None


def _online_predictions(
    items: list[OrderLogRow], trust_config: TrustConfig | None, calendar: BusinessCalendar
) -> tuple[dict[str, _Forecast], dict[str, _Forecast]]:
    """Per order id: (model, global so far, supplier so far, outcome) for both questions."""
    end = _log_end(items)
    model = TrustModel(trust_config or TrustConfig(), calendar=calendar)
    # timeline: (time, priority, seq, kind, row index). At equal times, what is learned of
    # earlier orders comes first (0), then the forecasts (1), then an order's own events at
    # the instant of its forecast (2): a forecast never sees its own answer.
    timeline: list[tuple[datetime, int, int, str, int]] = []
    late_known: dict[int, tuple[datetime, bool]] = {}

    def learn(at: datetime, seq: int, kind: str, i: int) -> None:
        timeline.append((at, 2 if at <= items[i].paid_at else 0, seq, kind, i))

    for i, row in enumerate(items):
        timeline.append((row.paid_at, 1, i, "place", i))
        at = row.outcome_at
        if row.outcome in {LoggedOutcome.INVOICED, LoggedOutcome.SUPPLIER_CANCELLED}:
            assert at is not None  # noqa: S101 - validated
            learn(at, i, "outcome", i)
        elif row.outcome is LoggedOutcome.BUYER_CANCELLED:
            assert at is not None  # noqa: S101 - validated
            learn(at, i, "withdraw", i)  # the supplier order stops being pending then
        answer = _late_answer(row, end)
        if answer is not None:
            late_known[i] = answer
    for i, (at, _late) in late_known.items():
        learn(at, len(items) + i, "late", i)
    timeline.sort(key=lambda e: (e[0], e[1], e[2]))
    cancels = _Rates()
    lates = _Rates()
    q_cancel: dict[int, tuple[float, float, float]] = {}
    q_late: dict[int, tuple[float, float, float]] = {}
    for at, _prio, _seq, kind, i in timeline:
        row = items[i]
        oid = f"{row.order_id}"
        if kind == "place":
            a = model.assess(
                row.supplier_id,
                row.quantity,
                at,
                row.ship_by,
                placed_at=at,
                item_id=_item(row),
            )
            q_cancel[i] = (a.p_cancel, *cancels.predict(row.supplier_id))
            q_late[i] = (1.0 - a.p_invoice_by_deadline, *lates.predict(row.supplier_id))
            model.observe(
                SupplierOrderPlaced(
                    ref=OrderRef(market=row.market or _DEFAULT_MARKET, order_id=row.order_id),
                    at=at,
                    supplier_id=row.supplier_id,
                    supplier_order_id=oid,
                    item_id=_item(row),
                    quantity=row.quantity,
                )
            )
        elif kind == "outcome":
            ref = OrderRef(market=row.market or _DEFAULT_MARKET, order_id=row.order_id)
            cancelled = row.outcome is LoggedOutcome.SUPPLIER_CANCELLED
            cancels.add(row.supplier_id, hit=cancelled)
            event: Event
            if cancelled:
                event = SupplierCancelled(
                    ref=ref,
                    at=at,
                    supplier_id=row.supplier_id,
                    supplier_order_id=oid,
                    reason=row.cancel_reason or CancelReason.STOCK_OUT,
                )
            else:
                event = SupplierInvoiced(
                    ref=ref,
                    at=at,
                    supplier_id=row.supplier_id,
                    supplier_order_id=oid,
                    tracking=Tracking(courier=_COURIER, number=oid),
                )
            model.observe(event)
        elif kind == "withdraw":
            model.withdraw(row.supplier_id, oid, at)
        else:
            lates.add(row.supplier_id, hit=late_known[i][1])
    cancel_rows = {
        items[i].order_id: (*q_cancel[i], items[i].outcome is LoggedOutcome.SUPPLIER_CANCELLED)
        for i in range(len(items))
        if items[i].outcome in {LoggedOutcome.INVOICED, LoggedOutcome.SUPPLIER_CANCELLED}
    }
    late_rows = {
        items[i].order_id: (*q_late[i], late) for i, (_at, late) in sorted(late_known.items())
    }
    return cancel_rows, late_rows
