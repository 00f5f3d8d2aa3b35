"""The market boundary: order sheets and receipts as the port's snapshots, courier codes."""

from __future__ import annotations

from datetime import timedelta

from consign_core.adapters.coupang._couriers import (
    COUPANG_COURIERS,
    courier_from_coupang,
    courier_to_coupang,
)
from consign_core.adapters.coupang._domain import (
    MARKET,
    order_ref,
    split_order_ref,
    to_market_order,
    to_recipient,
)
from consign_core.adapters.coupang._wire import OrderSheet, ReturnRequest
from consign_core.domain.model import (
    Cancellation,
    CancelReason,
    Courier,
    MarketOrder,
    OrderLine,
    OrderRef,
    Tracking,
)
from consign_core.engine.ports import MarketOrderSnapshot, MarketOrderStatus
from consign_core.errors import UnexpectedResponseError, ValidationError


__all__ = [
    "box_or_none",
    "buyer_reason",
    "coupang_courier_code",
    "snapshot_of",
    "whole_order",
]

_STATUS = {
    "ACCEPT": MarketOrderStatus.PAID,
    "INSTRUCT": MarketOrderStatus.ACKNOWLEDGED,
    "DEPARTURE": MarketOrderStatus.SHIPPED,
    "DELIVERING": MarketOrderStatus.SHIPPED,
    "NONE_TRACKING": MarketOrderStatus.SHIPPED,
    "FINAL_DELIVERY": MarketOrderStatus.DELIVERED,
}
_NAMES = {row.name: row.code for row in COUPANG_COURIERS}


def coupang_courier_code(courier: Courier) -> str | None:
    """Coupang's ``deliveryCompanyCode`` for ``courier``; ``None`` when Coupang has none."""
    try:
        return courier_to_coupang(courier)
    except ValidationError:
        return None


def _courier_of(name_or_code: str) -> Courier | None:
    """The courier of an order sheet's ``deliveryCompanyName`` (a name, or sometimes a code)."""
    text = name_or_code.strip()
    return courier_from_coupang(_NAMES.get(text, text))


def snapshot_of(
    sheet: OrderSheet, *, ship_within: timedelta, buyer_cancel: Cancellation | None = None
) -> MarketOrderSnapshot:
    """The port's view of one order sheet (see :meth:`CoupangMarket.get_order`);
    ``buyer_cancel`` is the buyer's cancellation when the box was cancelled in ACCEPT."""
    cancelled = all(
        item.canceled or item.cancel_count >= item.shipping_count for item in sheet.order_items
    )
    order = to_market_order(sheet, default_ship_within=ship_within)
    if order is None:  # nothing left to ship: the order as it was bought
        order = whole_order(sheet, ship_within)
    status = MarketOrderStatus.CANCELLED if cancelled else _STATUS.get(sheet.status)
    if status is None:
        msg = f"unexpected response: $.data.status {sheet.status[:32]!r} is not a known status"
        raise UnexpectedResponseError(msg, adapter=MARKET)
    tracking = None
    if sheet.invoice_number and sheet.delivery_company_name:
        courier = _courier_of(sheet.delivery_company_name)
        if courier is not None:  # a courier the library has no name for (DIRECT): no waybill
            tracking = Tracking(courier=courier, number=sheet.invoice_number)
    cancellation = buyer_cancel if cancelled else None
    return MarketOrderSnapshot(
        order=order, status=status, tracking=tracking, cancellation=cancellation
    )


def buyer_reason(receipt: ReturnRequest) -> CancelReason:
    """The buyer's stated reason (``cancelReasonCategory1/2``), as it is: a delay is a delay,
    a wrong price a wrong price, anything else a change of mind (단순변심)."""
    text = f"{receipt.cancel_reason_category1 or ''} {receipt.cancel_reason_category2 or ''}"
    if "지연" in text:
        return CancelReason.DELIVERY_DELAY
    if "가격" in text:
        return CancelReason.PRICE_ERROR
    return CancelReason.BUYER_REMORSE


def whole_order(sheet: OrderSheet, ship_within: timedelta) -> MarketOrder:
    lines = [
        OrderLine(
            sku=str(item.vendor_item_id),
            quantity=max(1, item.shipping_count),
            unit_price=max(0, item.sales_price.units),
        )
        for item in sheet.order_items
    ]
    if not lines:
        msg = "unexpected response: $.data.orderItems is empty"
        raise UnexpectedResponseError(msg, adapter=MARKET)
    try:
        recipient = to_recipient(sheet.receiver, memo=sheet.parcel_print_message)
    except UnexpectedResponseError:
        recipient = None
    return MarketOrder(
        ref=order_ref(sheet.order_id, sheet.shipment_box_id),
        lines=lines,
        paid_at=sheet.paid_at,
        ship_by=sheet.paid_at + ship_within,
        recipient=recipient,
    )


def box_or_none(ref: OrderRef) -> int | None:
    try:
        return split_order_ref(ref)[1]
    except ValidationError:
        return None
