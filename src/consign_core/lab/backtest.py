"""Backtests on a log of real orders: what would each policy have done, and how good is trust?

Input: an order-log CSV (:func:`read_order_log`), one row per order with
``order_id,supplier_id,quantity,paid_at,ship_by,outcome,outcome_at`` and optional ``market``,
``sku``, ``unit_price``, ``confirmed_at``, ``shipped_at``, ``cancel_fault``, ``cancel_reason``
(``docs/backtest.md``). A bad row stops the read with :class:`OrderLogError` naming the line
and the field; :func:`load_order_log` with ``on_bad_rows="skip"`` leaves bad rows out instead,
each kept with its line, field and reason (an :class:`OrderLog` passed as the rows is counted
in ``skipped_rows``); no row is silently dropped.

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

from consign_core._exports import publish
from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
from consign_core.domain.model import (
    CancelFault,
    CancelReason,
    Courier,
)
from consign_core.domain.rules import RuleProfile, get_profile
from consign_core.domain.timing import (
    DEFAULT_POLICY_NAMES,
    ConfirmationPolicy,
    ExpectedCostWeights,
    make_policy,
)
from consign_core.domain.trust import TrustConfig, TrustModel
from consign_core.errors import ConfigurationError
from consign_core.lab._as_logged import AS_LOGGED, AsLogged
from consign_core.lab._history import RatesReport, SupplierView, rates_report, trust_table
from consign_core.lab._log_csv import (
    format_order_log,
    load_order_log,
    load_order_log_text,
    parse_order_log,
    read_order_log,
    write_order_log,
)
from consign_core.lab._log_rows import (
    _CANCELLED_OUTCOMES,
    _item,
    _line_sku,
    _log_end,
    _logged_fault,
    _market_order,
    _market_rows,
    _sorted,
    log_markets,
    rows_from_records,
    truncate_log,
)
from consign_core.lab._order_log import (
    COLUMNS,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    BadRows,
    LoggedOutcome,
    OrderLog,
    OrderLogError,
    OrderLogRow,
    SkippedRow,
)
from consign_core.lab._prediction import (
    PredictionQuality,
    QuestionScores,
    prediction_quality,
)
from consign_core.lab._results import SCHEMA_VERSION, PolicyResult, percentile
from consign_core.lab._runner import DEFAULT_CADENCE_MINUTES, LabConfig, run_world
from consign_core.lab._world import (
    BuyerModel,
    FixedOutcome,
    PersonModel,
    SourceDraws,
    WorldOrder,
    to_us,
)


__all__ = [
    "AS_LOGGED",
    "COLUMNS",
    "MAX_QUANTITY",
    "MAX_UNIT_PRICE",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "BacktestReport",
    "BadRows",
    "LoggedOutcome",
    "OrderLog",
    "OrderLogError",
    "OrderLogRow",
    "PredictionQuality",
    "QuestionScores",
    "RatesReport",
    "SkippedRow",
    "SupplierView",
    "backtest",
    "format_order_log",
    "load_order_log",
    "load_order_log_text",
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
_COURIER: Final = Courier.CJ


# --------------------------------------------------------------------------------------
# counterfactual replay
# --------------------------------------------------------------------------------------


def _world_orders(
    rows: Sequence[OrderLogRow],
    market: str,
    buyer: BuyerModel | None,
    seed: int,
    *,
    as_logged: bool = False,
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
            # as logged, tracking reaches the market when the seller uploaded it
            at = (row.shipped_at or row.outcome_at) if as_logged else row.outcome_at
            fixed = FixedOutcome(cancelled=False, at=at, reason=None)
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
        elif buyer is not None and not as_logged:
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


def _result_tuple(value: Iterable[PolicyResult]) -> tuple[PolicyResult, ...]:
    return tuple(value)


def _plain_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


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
    skipped_rows: int = 0
    """Bad rows the read left out (``on_bad_rows="skip"``), each reported when read."""
    calendar: str = "KR"
    """The country whose business days were counted (a ``holidays`` country code)."""
    notes: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    """What the reader must know to read the figures (e.g. no alternate suppliers)."""

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
            "skipped_rows": self.skipped_rows,
            "calendar": self.calendar,
            "notes": list(self.notes),
        }


def _no_alternates_note(profile: RuleProfile) -> str | None:
    """Why waiting cannot help when the log holds no alternate supplier (and the market counts
    a stock-out whoever cancels it), so ``expected-cost`` confirms at once."""
    if not profile.stock_out_counts_any_fault:
        return None
    return (
        f"the log has no alternate suppliers, so a stock-out cannot be rerouted; "
        f"{profile.display_name} counts a stock-out cancel whoever cancels, so waiting cannot "
        "avoid it and expected-cost confirms at once"
    )


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
        "buyer_fault_cancels": sum(_logged_fault(r) is CancelFault.BUYER for r in rows),
        "late_shipments": late,
        "confirmed": len(hours),
        "median_hours_to_confirm": percentile(hours, 0.5),
        "p90_hours_to_confirm": percentile(hours, 0.9),
    }


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
    policies. ``rows`` may be an :class:`OrderLog`: its skipped rows count in ``skipped_rows``.
    """
    skipped = len(rows.skipped) if isinstance(rows, OrderLog) else 0
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
    orders_all = [_market_order(r, chosen) for r in items]
    results = []
    total = len(items) * len(policies)
    shipped = frozenset(
        _market_order(r, chosen).ref for r in items if r.outcome is LoggedOutcome.INVOICED
    )
    for k, name in enumerate(policies):
        policy_params = dict((params or {}).get(name, {}))
        as_logged = name == AS_LOGGED
        if as_logged:
            if policy_params:
                msg = f"policy {AS_LOGGED!r} takes no parameters, got {sorted(policy_params)}"
                raise ConfigurationError(msg)
            policy: ConfirmationPolicy = _as_logged_policy(items, chosen)
        else:
            policy = make_policy(name, **policy_params)
        base = k * len(items)

        def report(done: int, _total: int, base: int = base) -> None:
            if progress is not None:
                progress(base + done, total)

        config = LabConfig(
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
            cadence_minutes=0 if as_logged else DEFAULT_CADENCE_MINUTES,
            person_never_cancels=frozenset(o.ref for o in orders_all) if as_logged else shipped,
        )
        orders = _world_orders(items, chosen, chosen_buyer, seed, as_logged=as_logged)
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
        skipped_rows=skipped,
        calendar=calendar.country,
        notes=[note for note in (_no_alternates_note(profile),) if note is not None],
    )


def _as_logged_policy(rows: Sequence[OrderLogRow], market: str) -> AsLogged:
    # A log without confirmation times (no column, or the column empty on every row)
    # confirms at payment.
    has_column = any(r.confirmed_at is not None for r in rows)
    confirmed = {_market_order(r, market).ref: r.confirmed_at for r in rows}
    return AsLogged(confirmed, has_column=has_column)


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds() / 3600.0
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


publish(__name__, __all__)
