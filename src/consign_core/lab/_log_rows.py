"""The order log's rows as the lab reads them: from simulated records, cut at a time, by market."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from consign_core.domain.model import (
    CancelFault,
    Courier,
    MarketOrder,
    OrderLine,
    OrderRef,
)
from consign_core.domain.rules import get_profile
from consign_core.errors import ConfigurationError
from consign_core.lab._order_log import (
    LoggedOutcome,
    OrderLogRow,
)
from consign_core.lab._runner import LogRecord


__all__ = ["log_markets", "rows_from_records", "truncate_log"]

_HOUR_US: Final = 3_600_000_000
_DEFAULT_MARKET: Final = "coupang"
_COURIER: Final = Courier.CJ


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
