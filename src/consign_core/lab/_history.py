"""The log as it happened: its cancel-rate metrics and the trust model's table of suppliers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    Cancellation,
    CancelReason,
    Courier,
    OrderRef,
    Tracking,
)
from consign_core.domain.rules import get_profile
from consign_core.domain.trust import TrustConfig, TrustModel
from consign_core.errors import ConfigurationError
from consign_core.lab._log_rows import (
    _CANCELLED_OUTCOMES,
    _item,
    _log_end,
    _logged_fault,
    _market_order,
    _market_rows,
    _sorted,
)
from consign_core.lab._order_log import (
    LoggedOutcome,
    OrderLog,
    OrderLogRow,
)
from consign_core.lab._results import SCHEMA_VERSION


__all__ = ["RatesReport", "SupplierView", "rates_report", "trust_table"]

_HOUR_US: Final = 3_600_000_000
_DEFAULT_MARKET: Final = "coupang"
_COURIER: Final = Courier.CJ


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
    skipped_rows: int = 0
    """Bad rows the read left out (``on_bad_rows="skip"``), each reported when read."""
    calendar: str = "KR"
    """The country whose business days were counted (a ``holidays`` country code)."""

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
                    "evaluated": m.evaluated,
                    "minimum_volume": m.minimum_volume,
                    "reason": m.reason,
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
            "skipped_rows": self.skipped_rows,
            "calendar": self.calendar,
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
    ``shipped_at`` time (or ``outcome_at`` of an invoiced order). ``rows`` may be an
    :class:`~consign_core.lab.backtest.OrderLog`: its skipped rows count in ``skipped_rows``.
    """
    skipped = len(rows.skipped) if isinstance(rows, OrderLog) else 0
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
        report=report,
        headroom=ledger.headroom(when),
        rows=paid,
        excluded_rows=excluded,
        skipped_rows=skipped,
        calendar=calendar.country,
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
