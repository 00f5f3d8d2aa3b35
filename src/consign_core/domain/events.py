"""Lifecycle events of a consignment order.

An event is an immutable fact with a timezone-aware time ``at`` and the market order it is
about (``ref``). The workflow, the supplier trust model and the cancel-rate ledger all learn
from the same events, so a simulation, a backtest and production see the same stream.

- :class:`OrderPaid`: the buyer paid (결제완료); carries the whole order.
- :class:`SupplierOrderPlaced`: the seller ordered from the supplier.
- :class:`SupplierConfirmed`: the supplier accepted the order.
- :class:`SupplierInvoiced`: the supplier registered a waybill (운송장).
- :class:`SupplierCancelled`: the supplier cancelled, e.g. out of stock (품절).
- :class:`MarketAcknowledged`: the seller confirmed the order on the market (발주확인).
- :class:`InvoiceUploaded`: the waybill was uploaded to the market (배송지시).
- :class:`BuyerCancelRequested`: the buyer asked to cancel.
- :class:`OrderCancelled`: the market order was cancelled (판매취소), with fault and reason.
- :class:`Delivered`: the order reached the buyer.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    int_at_least,
    member_of,
    non_empty_str,
    optional,
    string,
)
from consign_core.domain.model import Cancellation, CancelReason, MarketOrder, OrderRef, Tracking


__all__ = [
    "EVENT_TYPES",
    "BuyerCancelRequested",
    "Delivered",
    "Event",
    "InvoiceUploaded",
    "MarketAcknowledged",
    "OrderCancelled",
    "OrderPaid",
    "SupplierCancelled",
    "SupplierConfirmed",
    "SupplierInvoiced",
    "SupplierOrderPlaced",
]


@attrs.frozen(kw_only=True)
class OrderPaid:
    """The buyer paid for a market order (결제완료); the order's life starts here."""

    order: MarketOrder
    """The order as paid."""

    @property
    def ref(self) -> OrderRef:
        """The order's identity."""
        return self.order.ref

    @property
    def at(self) -> datetime:
        """When the buyer paid."""
        return self.order.paid_at


@attrs.frozen(kw_only=True)
class SupplierOrderPlaced:
    """The seller placed (and on Domeme, paid for) an order at a supplier."""

    ref: OrderRef
    """The market order this fulfils."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When it was placed."""
    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    supplier_order_id: str = attrs.field(validator=non_empty_str)
    """The supplier's order number."""
    item_id: str = attrs.field(validator=non_empty_str)
    """The supplier item ordered."""
    quantity: int = attrs.field(validator=int_at_least(1))
    """Units ordered."""
    reported_stock: int | None = attrs.field(default=None, validator=optional(int_at_least(0)))
    """The item's stock as last reported by the supplier when the order was placed."""


@attrs.frozen(kw_only=True)
class SupplierConfirmed:
    """The supplier accepted the order and is preparing it."""

    ref: OrderRef
    """The market order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the supplier accepted."""
    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    supplier_order_id: str = attrs.field(validator=non_empty_str)
    """The supplier's order number."""


@attrs.frozen(kw_only=True)
class SupplierInvoiced:
    """The supplier registered a waybill (운송장): the goods are with the courier."""

    ref: OrderRef
    """The market order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the tracking number was registered."""
    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    supplier_order_id: str = attrs.field(validator=non_empty_str)
    """The supplier's order number."""
    tracking: Tracking
    """The supplier's waybill."""


@attrs.frozen(kw_only=True)
class SupplierCancelled:
    """The supplier cancelled its order (e.g. 품절, out of stock)."""

    ref: OrderRef
    """The market order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the supplier cancelled."""
    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    supplier_order_id: str = attrs.field(validator=non_empty_str)
    """The supplier's order number."""
    reason: CancelReason = attrs.field(validator=member_of(CancelReason))
    """Why, as the supplier said it."""
    note: str = attrs.field(default="", validator=string)
    """The supplier's own words, if any."""


@attrs.frozen(kw_only=True)
class MarketAcknowledged:
    """The seller confirmed the order on the market (발주확인; Coupang 결제완료 -> 상품준비중)."""

    ref: OrderRef
    """The market order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the market accepted the acknowledgement."""


@attrs.frozen(kw_only=True)
class InvoiceUploaded:
    """The waybill was uploaded to the market (운송장 등록; Coupang 배송지시)."""

    ref: OrderRef
    """The market order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the market accepted the upload."""
    tracking: Tracking
    """The waybill uploaded to the market."""


@attrs.frozen(kw_only=True)
class BuyerCancelRequested:
    """The buyer asked to cancel (or to stop shipment, 출고중지, after confirmation)."""

    ref: OrderRef
    """The market order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the request was made."""
    reason: CancelReason = attrs.field(
        default=CancelReason.BUYER_REMORSE, validator=member_of(CancelReason)
    )
    """The buyer's stated reason."""
    request_id: str | None = attrs.field(default=None, validator=optional(non_empty_str))
    """The market's id for the request, needed to answer it."""


@attrs.frozen(kw_only=True)
class OrderCancelled:
    """The market order was cancelled (판매취소), with the fault and reason as they are."""

    ref: OrderRef
    """The market order."""
    cancellation: Cancellation
    """Who is at fault, why, and when."""

    @property
    def at(self) -> datetime:
        """When the cancellation took effect."""
        return self.cancellation.at


@attrs.frozen(kw_only=True)
class Delivered:
    """The order reached the buyer (배송완료)."""

    ref: OrderRef
    """The market order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When it was delivered."""


Event: TypeAlias = (
    OrderPaid
    | SupplierOrderPlaced
    | SupplierConfirmed
    | SupplierInvoiced
    | SupplierCancelled
    | MarketAcknowledged
    | InvoiceUploaded
    | BuyerCancelRequested
    | OrderCancelled
    | Delivered
)
"""Any lifecycle event."""

EVENT_TYPES: tuple[type[Event], ...] = (
    OrderPaid,
    SupplierOrderPlaced,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierCancelled,
    MarketAcknowledged,
    InvoiceUploaded,
    BuyerCancelRequested,
    OrderCancelled,
    Delivered,
)
"""Every event class, in lifecycle order."""
