"""Helpers that build plausible orders for tests and examples."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST, BusinessCalendar, require_aware
from consign_core.domain.model import MarketOrder, OrderLine, OrderRef


__all__ = ["T0", "make_order"]

T0 = datetime(2025, 9, 1, 10, 0, tzinfo=KST)
"""A fixed start time for tests and examples: Monday 2025-09-01 10:00 KST (a business day)."""


def make_order(
    order_id: str,
    *,
    sku: str = "SKU-1",
    quantity: int = 1,
    unit_price: int = 10_000,
    paid_at: datetime = T0,
    ship_by: datetime | None = None,
    market: str = "coupang",
    business_days: int = 3,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> MarketOrder:
    """A one-line paid market order; ``ship_by`` defaults to ``business_days`` business days
    after payment on ``calendar`` (end of that day, KST)."""
    require_aware(paid_at, "paid_at")
    if ship_by is None:
        day = calendar.add_business_days(paid_at.astimezone(KST).date(), business_days)
        ship_by = datetime(day.year, day.month, day.day, 23, 59, tzinfo=KST)
        ship_by = max(ship_by, paid_at + timedelta(hours=1))
    return MarketOrder(
        ref=OrderRef(market=market, order_id=order_id),
        # ``MarketOrder.lines`` has ``converter=tuple``, which mypy's attrs plugin types as
        # ``Iterable[_T_co]``; the cast keeps this call type-checked elsewhere.
        lines=_lines(OrderLine(sku=sku, quantity=quantity, unit_price=unit_price)),
        paid_at=paid_at,
        ship_by=ship_by,
    )


def _lines(*lines: OrderLine) -> Any:
    return lines
