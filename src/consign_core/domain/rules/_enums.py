"""The vocabulary of a rule profile: the enums its value types are made of.

What a metric counts (:class:`CountedEvent`), in which unit (:class:`CountUnit`), over which
denominator and window kind, how a condition compares and joins, the statuses
(:class:`MetricStatus`) and when a late shipment is booked (:class:`LateBooking`). All plain
:class:`enum.Enum`, serialised by value.
"""

from __future__ import annotations

import enum
from typing import Final

from consign_core.domain.calendar import PenaltyKind
from consign_core.domain.model import MarketOrder


class CountedEvent(enum.Enum):
    """A kind of event that a metric can count against the seller.

    Each cancellation or late shipment falls into exactly one kind, so point weights never
    double count. Cancel reasons are taken as recorded; nothing re-labels a cancellation.
    """

    STOCK_OUT_CANCEL = "stock_out_cancel"
    """품절취소: a seller-fault cancellation with reason STOCK_OUT (or, if the profile's
    ``stock_out_counts_any_fault`` is set, any cancellation with reason STOCK_OUT)."""
    SELLER_FAULT_CANCEL = "seller_fault_cancel"
    """A seller-fault cancellation for any reason other than a stock-out."""
    LATE_SHIPMENT = "late_shipment"
    """발송지연: the order was not shipped (waybill uploaded) before its ship-by deadline."""
    LONG_LATE_SHIPMENT = "long_late_shipment"
    """Still unshipped ``ShipByRule.long_late_business_days`` business days after the deadline
    (Naver's extra penalty for a long delay)."""

    @property
    def penalty_kind(self) -> PenaltyKind:
        """The :class:`~consign_core.domain.calendar.PenaltyKind` a moratorium suspends it under."""
        return _PENALTY_KIND[self]


_PENALTY_KIND: Final = {
    CountedEvent.STOCK_OUT_CANCEL: PenaltyKind.STOCK_OUT_CANCEL,
    CountedEvent.SELLER_FAULT_CANCEL: PenaltyKind.SELLER_FAULT_CANCEL,
    CountedEvent.LATE_SHIPMENT: PenaltyKind.LATE_SHIPMENT,
    CountedEvent.LONG_LATE_SHIPMENT: PenaltyKind.LATE_SHIPMENT,
}


class CountUnit(enum.Enum):
    """What one counted event weighs: a 20-unit order is 1 ORDER, 1 LINE and 20 UNITs."""

    ORDER = "order"
    """Each order counts once, whatever its size."""
    LINE = "line"
    """Each order line counts once (eBay counts transactions, i.e. line items)."""
    UNIT = "unit"
    """Each unit of quantity counts: a 20-set group order counts 20."""

    def amount(self, order: MarketOrder) -> int:
        """The weight of ``order`` in this unit (1, the number of lines, or the quantity)."""
        if self is CountUnit.ORDER:
            return 1
        if self is CountUnit.LINE:
            return len(order.lines)
        return order.quantity


class Denominator(enum.Enum):
    """What a rate metric divides by; every denominator event is weighed in the metric's unit."""

    NONE = "none"
    """No denominator: the metric is a plain count (or sum of points)."""
    ORDERS_PAID = "orders_paid"
    """Orders paid (OrderPaid) within the window."""
    ORDERS_DUE = "orders_due"
    """Orders whose late-shipment check fell within the window (the ship-by deadline, or the
    booking day under :attr:`LateBooking.NEXT_BUSINESS_DAY`), excluding orders cancelled
    before their deadline: the natural base of an on-time / late shipment rate."""
    ORDERS_SHIPPED = "orders_shipped"
    """Orders shipped (InvoiceUploaded) within the window."""


class WindowKind(enum.Enum):
    """How a metric's window moves with time."""

    ROLLING_DAYS = "rolling_days"
    """The last ``length`` x 24 hours: events at ``t`` with ``now - length days < t <= now``."""
    CALENDAR_MONTH = "calendar_month"
    """The current KST calendar month to date, plus the ``length - 1`` months before it."""


class MetricQuantity(enum.Enum):
    """Which number of a metric a :class:`Condition` looks at."""

    COUNT = "count"
    """The numerator: a count of events, or a sum of points."""
    RATE = "rate"
    """numerator / denominator; higher is worse (cancellation rate, penalty ratio)."""
    SUCCESS_RATE = "success_rate"
    """1 - numerator / denominator; lower is worse (order fulfilment, on-time shipment)."""


class Comparison(enum.Enum):
    """How a condition compares its quantity with its value."""

    AT_LEAST = "at_least"
    """quantity >= value (for COUNT and RATE)."""
    ABOVE = "above"
    """quantity > value (for COUNT and RATE)."""
    AT_MOST = "at_most"
    """quantity <= value (for SUCCESS_RATE)."""
    BELOW = "below"
    """quantity < value (for SUCCESS_RATE)."""


class Combine(enum.Enum):
    """How a :class:`Threshold` joins its conditions."""

    ALL = "all"
    """Every condition must hold (Naver: points >= 10 AND ratio >= 40%)."""
    ANY = "any"
    """At least one condition must hold (eBay loses Top Rated at > 0.5% OR 4+ defects)."""


class MetricStatus(enum.Enum):
    """Where a metric (or a seller) stands against its thresholds."""

    OK = "ok"
    """Below every threshold."""
    WARNING = "warning"
    """The warning threshold is met (e.g. Coupang 주의/Caution)."""
    SANCTION = "sanction"
    """The sanction threshold is met (e.g. Naver's penalty stage, Amazon deactivation)."""

    @property
    def severity(self) -> int:
        """0 for OK, 1 for WARNING, 2 for SANCTION; handy for ``max``."""
        return _SEVERITY[self]


_SEVERITY: Final = {MetricStatus.OK: 0, MetricStatus.WARNING: 1, MetricStatus.SANCTION: 2}


class LateBooking(enum.Enum):
    """When a late shipment is booked (which also dates it for windows and moratoria)."""

    DEADLINE = "deadline"
    """At the ship-by deadline itself."""
    NEXT_BUSINESS_DAY = "next_business_day"
    """At 00:00 KST of the first business day after the deadline day. Naver: a 10/10 deadline
    was penalised on 10/13 and a 9/30 deadline fell into the 10/1 moratorium [N5]."""
