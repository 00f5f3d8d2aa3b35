"""Backtests on a log of real orders: what would each policy have done, and how good is trust?

Input: an order-log CSV (:func:`read_order_log`), one row per order with
``order_id,supplier_id,quantity,paid_at,ship_by,outcome,outcome_at`` and optional ``market``,
``sku``, ``unit_price``, ``confirmed_at``, ``shipped_at``, ``cancel_fault``, ``cancel_reason``
(``docs/backtest.md``). A bad row stops the read with :class:`OrderLogError` naming the line
and the field; no row is silently dropped.

- :func:`backtest` replays the log through the same engine as the simulator (the real
  workflow, policy, trust model and ledger), strictly online: the trust model learns each
  supplier outcome when it happens, and no decision sees a later event. The supplier side is
  the log's truth (tracking or a cancel at ``outcome_at``); what a policy changes is when the
  seller confirms, hence who bears a cancel, whether the buyer cancels first, and the delay.
  Logged buyer cancels happen under every policy (after a confirmation they arrive as a stop
  request the seller approves); with ``extra_buyer_cancels`` the simulator's
  :class:`~consign_core.lab.sim.BuyerModel` adds the cancels that waiting *longer than the seller
  historically did* would have caused (seeded, the same for every policy). The log holds no
  alternate suppliers, so there is no rerouting. The replay stops at the log's last time.
- :func:`prediction_quality` scores the trust model's online forecasts of "the supplier
  cancels" and "no tracking by ship_by" (Brier score, log loss) against two baselines: the
  global rate so far and the supplier's raw frequency so far.
- :func:`rates_report` is the cancel-rate / penalty report of the log as it happened, and
  :func:`trust_table` the trust model's view of every supplier at the end of the log.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
from consign_core.domain.cancel_rate import Headroom, LedgerReport, compute_report
from consign_core.domain.cancel_rate import Ledger as _Ledger
from consign_core.domain.events import (
    Event,
    InvoiceUploaded,
    OrderCancelled,
    OrderPaid,
    SupplierCancelled,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    MarketOrder,
    OrderLine,
    OrderRef,
    Tracking,
)
from consign_core.domain.rules import RuleProfile, get_profile
from consign_core.domain.timing import DEFAULT_POLICY_NAMES, ExpectedCostWeights, make_policy
from consign_core.domain.trust import PredictionScore, TrustConfig, TrustModel, score_predictions
from consign_core.errors import ConfigurationError, InsufficientHistoryError
from consign_core.lab._driver import EngineConfig, LogRecord, run_world
from consign_core.lab._order_log import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    LoggedOutcome,
    OrderLogError,
    OrderLogRow,
    format_order_log,
    parse_order_log,
    read_order_log,
    write_order_log,
)
from consign_core.lab._results import SCHEMA_VERSION, PolicyResult, percentile
from consign_core.lab._world import (
    BuyerModel,
    FixedOutcome,
    PersonModel,
    SourceDraws,
    WorldOrder,
    to_us,
)


__all__ = [
    "COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "BacktestReport",
    "LoggedOutcome",
    "OrderLogError",
    "OrderLogRow",
    "PredictionQuality",
    "QuestionScores",
    "RatesReport",
    "SupplierView",
    "backtest",
    "format_order_log",
    "log_markets",
    "parse_order_log",
    "prediction_quality",
    "rates_report",
    "read_order_log",
    "rows_from_records",
    "truncate_log",
    "trust_table",
    "write_order_log",
]

_HOUR_US: Final = 3_600_000_000
_DEFAULT_MARKET: Final = "coupang"
_COURIER: Final = "CJ"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def rows_from_records(records: Iterable[LogRecord]) -> list[OrderLogRow]:
    """Order-log rows from :func:`consign_core.lab.sim.simulate_log` records, in payment order."""
    rows = []
    for rec in records:
        order = rec.order
        line = order.lines[0]
        cancellation = rec.cancellation
        outcome = LoggedOutcome(rec.outcome)
        cancelled = outcome in {LoggedOutcome.SUPPLIER_CANCELLED, LoggedOutcome.BUYER_CANCELLED}
        fault = cancellation.fault if cancellation is not None and cancelled else None
        reason = cancellation.reason if cancellation is not None and cancelled else None
        if cancelled and fault is None:
            fault = CancelFault.SELLER if outcome is LoggedOutcome.SUPPLIER_CANCELLED else None
        rows.append(
            OrderLogRow(
                order_id=order.ref.order_id,
                supplier_id=rec.supplier_id or "unknown",
                quantity=line.quantity,
                paid_at=order.paid_at,
                ship_by=order.ship_by,
                outcome=outcome,
                outcome_at=rec.outcome_at,
                market=order.ref.market,
                sku=line.sku,
                unit_price=line.unit_price,
                confirmed_at=rec.confirmed_at,
                shipped_at=rec.shipped_at,
                cancel_fault=fault,
                cancel_reason=reason,
            )
        )
    rows.sort(key=lambda r: (r.paid_at, r.order_id))
    return rows


def truncate_log(rows: Iterable[OrderLogRow], at: datetime) -> list[OrderLogRow]:
    """The log as it looked at ``at``: the orders paid by then, with whatever happened later
    removed (an order whose outcome came later is ``open``)."""

    def known(value: datetime | None) -> datetime | None:
        return value if value is not None and value <= at else None

    out = []
    for row in rows:
        if row.paid_at > at:
            continue
        if row.outcome_at is not None and row.outcome_at <= at:
            out.append(
                attrs.evolve(
                    row,
                    confirmed_at=known(row.confirmed_at),
                    shipped_at=known(row.shipped_at),
                )
            )
        else:
            out.append(
                attrs.evolve(
                    row,
                    outcome=LoggedOutcome.OPEN,
                    outcome_at=None,
                    cancel_fault=None,
                    cancel_reason=None,
                    confirmed_at=known(row.confirmed_at),
                    shipped_at=known(row.shipped_at),
                )
            )
    return out


def log_markets(rows: Iterable[OrderLogRow]) -> tuple[str, ...]:
    """The markets named in the log's ``market`` column, sorted (empty if none is named).

    Aliases count as their market (``smartstore`` is ``naver``)."""
    return tuple(sorted({get_profile(r.market).market for r in rows if r.market is not None}))


def _market_rows(
    rows: Sequence[OrderLogRow], market: str | None
) -> tuple[str, list[OrderLogRow], int]:
    """(market, the rows of that market, rows of other markets left out)."""
    markets = log_markets(rows)
    if market is None:
        if len(markets) > 1:
            msg = (
                f"the log has orders from several markets ({', '.join(markets)}); "
                "choose one with --market"
            )
            raise ConfigurationError(msg)
        market = markets[0] if markets else _DEFAULT_MARKET
    chosen = get_profile(market).market
    kept = [r for r in rows if r.market is None or get_profile(r.market).market == chosen]
    return chosen, kept, len(rows) - len(kept)


def _log_end(rows: Sequence[OrderLogRow]) -> datetime:
    times = [r.paid_at for r in rows]
    times.extend(
        value
        for r in rows
        for value in (r.outcome_at, r.confirmed_at, r.shipped_at)
        if value is not None
    )
    return max(times)


def _item(row: OrderLogRow) -> str:
    return row.sku if row.sku is not None else f"{row.supplier_id}-item"


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace("/", "%2F")


def _line_sku(row: OrderLogRow) -> str:
    """The replay's line SKU: one per (supplier, item), never shared by two (``/`` escaped)."""
    return f"{_escape(row.supplier_id)}/{_escape(_item(row))}"


def _lines(*lines: OrderLine) -> Any:
    return lines  # MarketOrder.lines' converter parameter type is not inferable


def _market_order(row: OrderLogRow, market: str) -> MarketOrder:
    return MarketOrder(
        ref=OrderRef(market=market, order_id=row.order_id),
        lines=_lines(
            OrderLine(sku=_line_sku(row), quantity=row.quantity, unit_price=row.unit_price or 0)
        ),
        paid_at=row.paid_at,
        ship_by=row.ship_by,
    )


def _sorted(rows: Iterable[OrderLogRow]) -> list[OrderLogRow]:
    return sorted(rows, key=lambda r: r.paid_at)


# --------------------------------------------------------------------------------------
# counterfactual replay
# --------------------------------------------------------------------------------------


def _world_orders(
    rows: Sequence[OrderLogRow],
    market: str,
    buyer: BuyerModel | None,
    seed: int,
) -> list[WorldOrder]:
    rng = random.Random(f"consign-core/backtest/{seed}/buyers")  # noqa: S311 - a simulation
    out = []
    for index, row in enumerate(rows):
        order = _market_order(row, market)
        paid_us = to_us(row.paid_at)
        fixed: FixedOutcome | None = None
        buyer_us: int | None = None
        insists = False
        buyer_fault: CancelFault | None = None
        buyer_reason: CancelReason | None = None
        threshold = rng.expovariate(1.0)  # drawn for every row: the same stream for all
        if row.outcome is LoggedOutcome.INVOICED:
            assert row.outcome_at is not None  # noqa: S101 - validated
            fixed = FixedOutcome(cancelled=False, at=row.outcome_at, reason=None)
        elif row.outcome is LoggedOutcome.SUPPLIER_CANCELLED:
            assert row.outcome_at is not None  # noqa: S101 - validated
            reason = row.cancel_reason or CancelReason.STOCK_OUT
            fixed = FixedOutcome(cancelled=True, at=row.outcome_at, reason=reason)
        if row.outcome is LoggedOutcome.BUYER_CANCELLED:
            assert row.outcome_at is not None  # noqa: S101 - validated
            buyer_us = to_us(row.outcome_at)
            insists = True
            # booked as the market booked it (e.g. seller fault, delivery_delay), never
            # turned into buyer remorse
            buyer_fault = row.cancel_fault
            buyer_reason = row.cancel_reason
        elif buyer is not None:
            end = row.confirmed_at or row.outcome_at
            already = 0.0 if end is None else (end - row.paid_at).total_seconds() / 3600.0
            hours = buyer.patience_hours(threshold, already)
            if hours < 24.0 * 60:
                buyer_us = paid_us + int(hours * _HOUR_US)
        out.append(
            WorldOrder(
                index,
                order,
                paid_us,
                to_us(row.ship_by),
                ((row.supplier_id, _item(row)),),
                (SourceDraws(0.0, 0.0, 0.0, -1),),
                buyer_us,
                None,
                buyer_insists=insists,
                fixed_outcomes=(fixed,),
                buyer_fault=buyer_fault,
                buyer_reason=buyer_reason,
            )
        )
    return out


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


def _result_tuple(value: Iterable[PolicyResult]) -> tuple[PolicyResult, ...]:
    return tuple(value)


def _plain_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen(kw_only=True)
class BacktestReport:
    """Per policy the simulator's metrics on the log, plus the trust model's prediction quality."""

    market: str
    """The market whose rules were applied."""
    rows: int
    """Rows replayed."""
    excluded_rows: int
    """Rows of other markets, left out (and reported, never silently)."""
    start: datetime
    """The first payment in the log."""
    end: datetime
    """The last time in the log; the replay stops there."""
    results: tuple[PolicyResult, ...] = attrs.field(converter=_result_tuple)
    """One result per policy, in the order asked."""
    prediction: PredictionQuality
    """The trust model's online prediction quality on the log."""
    history: Mapping[str, Any] = attrs.field(converter=_plain_dict)
    """What the log itself says: cancels by kind, late shipments, hours to confirm."""

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON of ``consign-core backtest --json`` (``docs/backtest.md``)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "command": "backtest",
            "market": self.market,
            "rows": self.rows,
            "excluded_rows": self.excluded_rows,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "history": dict(self.history),
            "policies": [r.to_dict() for r in self.results],
            "prediction_quality": self.prediction.to_dict(),
        }


def _history(rows: Sequence[OrderLogRow]) -> dict[str, Any]:
    hours = sorted(
        (r.confirmed_at - r.paid_at).total_seconds() / 3600.0
        for r in rows
        if r.confirmed_at is not None
    )
    seller = sum(_logged_fault(r) is CancelFault.SELLER for r in rows)
    late = 0
    end = _log_end(rows)
    for r in rows:
        shipped = r.shipped_at or (r.outcome_at if r.outcome is LoggedOutcome.INVOICED else None)
        cancelled = r.outcome_at if r.outcome in _CANCELLED_OUTCOMES else None
        on_time = (shipped is not None and shipped < r.ship_by) or (
            cancelled is not None and cancelled < r.ship_by
        )
        late += not on_time and r.ship_by <= end
    return {
        "orders": len(rows),
        "invoiced": sum(r.outcome is LoggedOutcome.INVOICED for r in rows),
        "supplier_cancelled": sum(r.outcome is LoggedOutcome.SUPPLIER_CANCELLED for r in rows),
        "buyer_cancelled": sum(r.outcome is LoggedOutcome.BUYER_CANCELLED for r in rows),
        "open": sum(r.outcome is LoggedOutcome.OPEN for r in rows),
        "seller_fault_cancels": seller,
        "late_shipments": late,
        "confirmed": len(hours),
        "median_hours_to_confirm": percentile(hours, 0.5),
        "p90_hours_to_confirm": percentile(hours, 0.9),
    }


_CANCELLED_OUTCOMES: Final = frozenset(
    {LoggedOutcome.SUPPLIER_CANCELLED, LoggedOutcome.BUYER_CANCELLED}
)


def _logged_fault(row: OrderLogRow) -> CancelFault | None:
    """Who the market held at fault for a logged cancel (defaults: a supplier cancel is the
    seller's, a buyer cancel the buyer's); ``None`` for an order not cancelled."""
    if row.outcome is LoggedOutcome.SUPPLIER_CANCELLED:
        return row.cancel_fault or CancelFault.SELLER
    if row.outcome is LoggedOutcome.BUYER_CANCELLED:
        return row.cancel_fault or CancelFault.BUYER
    return None


def backtest(
    rows: Iterable[OrderLogRow],
    policies: Sequence[str] = DEFAULT_POLICY_NAMES,
    *,
    market: str | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    weights: ExpectedCostWeights | None = None,
    person: PersonModel | None = None,
    buyer: BuyerModel | None = None,
    extra_buyer_cancels: bool = True,
    seed: int = 0,
    trust_config: TrustConfig | None = None,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestReport:
    """Replay the log under each policy (see the module docs) and score the trust model.

    ``market`` picks the rule profile (default: the log's only market, else coupang); rows of
    other markets are left out and counted in ``excluded_rows``. ``params`` maps a policy
    name to its parameters. ``progress(done, total)`` counts replayed orders over all
    policies.
    """
    all_rows = list(rows)
    if not all_rows:
        msg = "the order log has no rows"
        raise ConfigurationError(msg)
    chosen, kept, excluded = _market_rows(all_rows, market)
    if not kept:
        msg = f"the order log has no orders of market {chosen!r}"
        raise ConfigurationError(msg)
    items = _sorted(kept)
    profile: RuleProfile = get_profile(chosen)
    start = items[0].paid_at
    end = _log_end(items)
    sources: dict[str, tuple[tuple[str, str], ...]] = {
        _line_sku(r): ((r.supplier_id, _item(r)),) for r in items
    }
    chosen_buyer = (buyer or BuyerModel()) if extra_buyer_cancels else None
    results = []
    total = len(items) * len(policies)
    for k, name in enumerate(policies):
        policy_params = dict((params or {}).get(name, {}))
        policy = make_policy(name, **policy_params)
        base = k * len(items)

        def report(done: int, _total: int, base: int = base) -> None:
            if progress is not None:
                progress(base + done, total)

        config = EngineConfig(
            policy=policy,
            policy_name=name,
            policy_params={key: _plain(v) for key, v in policy_params.items()},
            profile=profile,
            calendar=calendar,
            trust=TrustModel(trust_config or TrustConfig(), calendar=calendar),
            weights=weights or ExpectedCostWeights(),
            person=person or PersonModel(),
            start=start,
            place_delay_us=0,
            suppliers=None,
            seed=None,
            total_orders=len(items),
            progress=report,
            progress_every=max(1, len(items) // 100),
            end_us=to_us(end),
        )
        orders = _world_orders(items, chosen, chosen_buyer, seed)
        results.append(run_world(config, orders, sources))
    return BacktestReport(
        market=chosen,
        rows=len(items),
        excluded_rows=excluded,
        start=start,
        end=end,
        results=results,
        prediction=prediction_quality(items, trust_config=trust_config, calendar=calendar),
        history=_history(items),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds() / 3600.0
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# --------------------------------------------------------------------------------------
# rates and trust tables of the log as it happened
# --------------------------------------------------------------------------------------


def _history_events(rows: Sequence[OrderLogRow], market: str) -> list[Event]:
    events: list[Event] = []
    for row in rows:
        order = _market_order(row, market)
        events.append(OrderPaid(order=order))
        ref = order.ref
        shipped = row.shipped_at or (
            row.outcome_at if row.outcome is LoggedOutcome.INVOICED else None
        )
        if shipped is not None:
            events.append(
                InvoiceUploaded(
                    ref=ref, at=shipped, tracking=Tracking(courier=_COURIER, number=row.order_id)
                )
            )
        if row.outcome in _CANCELLED_OUTCOMES:
            assert row.outcome_at is not None  # noqa: S101 - validated
            supplier = row.outcome is LoggedOutcome.SUPPLIER_CANCELLED
            fault = _logged_fault(row)
            assert fault is not None  # noqa: S101 - a cancelled row
            reason = row.cancel_reason or (
                CancelReason.STOCK_OUT if supplier else CancelReason.BUYER_REMORSE
            )
            events.append(
                OrderCancelled(
                    ref=ref,
                    cancellation=Cancellation(fault=fault, reason=reason, at=row.outcome_at),
                )
            )
    return events


@attrs.frozen(kw_only=True)
class RatesReport:
    """The log's cancel-rate / penalty report at one instant, with the headroom left."""

    report: LedgerReport
    """Every metric of the market's profile."""
    headroom: Headroom
    """How many more seller-fault stock-out cancels (1-unit orders) fit before a threshold."""
    rows: int
    """Rows of the market paid by the report's time (the orders it knows of)."""
    excluded_rows: int
    """Rows of other markets left out."""

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON of ``consign-core rates --json``."""
        report = self.report
        return {
            "schema_version": SCHEMA_VERSION,
            "command": "rates",
            "market": report.market,
            "at": report.at.isoformat(),
            "rows": self.rows,
            "excluded_rows": self.excluded_rows,
            "status": report.status.value,
            "metrics": [
                {
                    "name": m.name,
                    "title": m.title,
                    "status": m.status.value,
                    "quantity": m.quantity.value,
                    "value": m.value,
                    "numerator": m.numerator,
                    "denominator": m.denominator,
                    "suspended": m.suspended,
                    "window_start": m.window_start.isoformat(),
                    "next_expiry": None if m.next_expiry is None else m.next_expiry.isoformat(),
                    "cancels_to_warning": m.cancels_to_warning,
                    "cancels_to_sanction": m.cancels_to_sanction,
                    "describe": m.describe(),
                }
                for m in report.metrics
            ],
            "headroom": {
                "cancels_to_warning": self.headroom.cancels_to_warning,
                "cancels_to_sanction": self.headroom.cancels_to_sanction,
                "metric": self.headroom.metric,
                "describe": self.headroom.describe(),
            },
        }


def rates_report(
    rows: Iterable[OrderLogRow],
    market: str,
    *,
    at: datetime | None = None,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> RatesReport:
    """The ledger's report of the log as it happened, at ``at`` (default: the log's last time).

    Cancellations use the logged ``cancel_fault``/``cancel_reason`` (defaults: a supplier
    cancel is a seller-fault stock-out, a buyer cancel is buyer remorse); a shipment is the
    ``shipped_at`` time (or ``outcome_at`` of an invoiced order).
    """
    all_rows = list(rows)
    chosen, kept, excluded = _market_rows(all_rows, market)
    if not kept:
        msg = f"the order log has no orders of market {chosen!r}"
        raise ConfigurationError(msg)
    when = at if at is not None else _log_end(kept)
    profile = get_profile(chosen)
    events = _history_events(kept, chosen)
    report = compute_report(profile, events, when, calendar=calendar)
    ledger = _Ledger(profile, calendar=calendar)
    for event in sorted(events, key=lambda e: e.at):
        if event.at > when:
            break
        ledger.observe(event)
    paid = sum(r.paid_at <= when for r in kept)  # the orders the report knows of at ``when``
    return RatesReport(
        report=report, headroom=ledger.headroom(when), rows=paid, excluded_rows=excluded
    )


@attrs.frozen(kw_only=True)
class SupplierView:
    """One supplier as the trust model sees it at the end of the log, with its raw counts."""

    supplier_id: str
    """The supplier."""
    tier: str
    """trusted, unproven, risky or quarantined."""
    p_cancel: float
    """P(cancel) of a 1-unit order now."""
    p_cancel_upper: float
    """Its upper confidence bound."""
    effective_orders: float
    """Decayed resolved orders behind the estimate."""
    median_hours_to_tracking: float | None
    """Median business hours to tracking."""
    p90_hours_to_tracking: float | None
    """90th percentile of the same."""
    orders: int
    """Orders in the log paid by the table's time."""
    supplier_cancels: int
    """Of which the supplier had cancelled by then."""
    invoiced: int
    """Of which the supplier had shipped by then."""
    reason: str
    """The trust model's one-line reason."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return attrs.asdict(self)


def trust_table(
    rows: Iterable[OrderLogRow],
    *,
    at: datetime | None = None,
    trust_config: TrustConfig | None = None,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> list[SupplierView]:
    """Every supplier of the log as the trust model sees it at ``at`` (default: the log's end),
    riskiest first.

    Only what is known at ``at`` counts: the orders paid by then (so the suppliers listed),
    and the invoices, cancels and buyer cancels (a withdrawn supplier order) up to then."""
    items = _sorted(rows)
    if not items:
        return []
    when = at if at is not None else _log_end(items)
    items = [r for r in items if r.paid_at <= when]  # nothing paid after ``at`` is known
    model = TrustModel(trust_config or TrustConfig(), calendar=calendar)
    # (time, rank, row, event): an order's placement (rank 0) before what follows it (1)
    events: list[tuple[datetime, int, int, Event | None]] = []
    counts: dict[str, list[int]] = {}
    for i, row in enumerate(items):
        ref = OrderRef(market=row.market or _DEFAULT_MARKET, order_id=row.order_id)
        c = counts.setdefault(row.supplier_id, [0, 0, 0])
        c[0] += 1
        known = row.outcome_at is not None and row.outcome_at <= when
        events.append(
            (
                row.paid_at,
                0,
                i,
                SupplierOrderPlaced(
                    ref=ref,
                    at=row.paid_at,
                    supplier_id=row.supplier_id,
                    supplier_order_id=row.order_id,
                    item_id=_item(row),
                    quantity=row.quantity,
                ),
            )
        )
        if row.outcome is LoggedOutcome.SUPPLIER_CANCELLED and row.outcome_at is not None:
            c[1] += known
            events.append(
                (
                    row.outcome_at,
                    1,
                    i,
                    SupplierCancelled(
                        ref=ref,
                        at=row.outcome_at,
                        supplier_id=row.supplier_id,
                        supplier_order_id=row.order_id,
                        reason=row.cancel_reason or CancelReason.STOCK_OUT,
                    ),
                )
            )
        elif row.outcome is LoggedOutcome.INVOICED and row.outcome_at is not None:
            c[2] += known
            events.append(
                (
                    row.outcome_at,
                    1,
                    i,
                    SupplierInvoiced(
                        ref=ref,
                        at=row.outcome_at,
                        supplier_id=row.supplier_id,
                        supplier_order_id=row.order_id,
                        tracking=Tracking(courier=_COURIER, number=row.order_id),
                    ),
                )
            )
        elif row.outcome is LoggedOutcome.BUYER_CANCELLED and row.outcome_at is not None:
            events.append((row.outcome_at, 1, i, None))  # withdrawn: no longer pending
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    for moment, _rank, i, event in events:
        if moment > when:
            break
        if event is None:
            row = items[i]
            model.withdraw(row.supplier_id, row.order_id, moment)
        else:
            model.observe(event)
    views = []
    for supplier_id, (orders, cancelled, invoiced) in counts.items():
        a = model.assess(supplier_id, 1, when, when + timedelta(hours=72))
        views.append(
            SupplierView(
                supplier_id=supplier_id,
                tier=a.tier.value,
                p_cancel=a.p_cancel,
                p_cancel_upper=a.p_cancel_upper,
                effective_orders=a.effective_n,
                median_hours_to_tracking=a.median_hours_to_invoice,
                p90_hours_to_tracking=a.p90_hours_to_invoice,
                orders=orders,
                supplier_cancels=cancelled,
                invoiced=invoiced,
                reason=a.reason,
            )
        )
    views.sort(key=lambda v: (-v.p_cancel, v.supplier_id))
    return views
