"""The boundary: Coupang's order sheets as the domain's ``MarketOrder`` and ``Recipient``."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from consign_core.adapters.coupang._wire import KST, OrderSheet, Receiver
from consign_core.domain.model import MarketOrder, OrderLine, OrderRef, Recipient
from consign_core.errors import UnexpectedResponseError, ValidationError


__all__ = ["MARKET", "order_ref", "split_order_ref", "to_market_order", "to_recipient"]

MARKET = "coupang"
"""The market name in every :class:`~consign_core.domain.model.OrderRef` of this adapter."""


def order_ref(order_id: int, shipment_box_id: int) -> OrderRef:
    """The domain ref of one shipment box: ``"{orderId}-{shipmentBoxId}"`` on market ``coupang``.

    Coupang acknowledges, invoices and cancels per shipment box, and one order may have
    several boxes, so the box is the unit; the order id comes first, as sellers know it.
    """
    return OrderRef(market=MARKET, order_id=f"{order_id}-{shipment_box_id}")


def split_order_ref(ref: OrderRef) -> tuple[int, int]:
    """``(order_id, shipment_box_id)`` back from :func:`order_ref`; ValidationError otherwise."""
    order, _, box = ref.order_id.partition("-")
    digits = re.compile(r"[0-9]{1,30}")
    if ref.market != MARKET or not digits.fullmatch(order) or not digits.fullmatch(box):
        msg = f"not a Coupang order ref (orderId-shipmentBoxId): {ref}"
        raise ValidationError(msg, field="ref", value=ref)
    return int(order), int(box)


def to_recipient(receiver: Receiver, *, memo: str | None = None) -> Recipient:
    """The domain's :class:`Recipient` from an order sheet's ``receiver``.

    The phone is the safe number (안심번호), else the receiver's number. A receiver the domain
    refuses (no name, no phone, no address) raises UnexpectedResponseError naming the JSON path,
    never the value.
    """
    phone = receiver.safe_number or receiver.receiver_number or ""
    fields = {
        "name": receiver.name,
        "phone": phone,
        "zip_code": receiver.post_code or "",
        "address1": receiver.addr1,
        "address2": receiver.addr2 or "",
        "memo": memo or "",
    }
    try:
        return Recipient(**fields)
    except ValidationError as exc:
        wire = {
            "name": "receiver.name",
            "phone": "receiver.safeNumber",
            "zip_code": "receiver.postCode",
            "address1": "receiver.addr1",
            "address2": "receiver.addr2",
            "memo": "parcelPrintMessage",
        }.get(exc.field or "", "receiver")
        msg = f"unexpected response: $.data.{wire} is not usable (personal data: value not shown)"
        raise UnexpectedResponseError(msg, adapter=MARKET) from None


def to_market_order(
    sheet: OrderSheet, *, default_ship_within: timedelta = timedelta(days=3)
) -> MarketOrder | None:
    """The domain order of one order sheet, or ``None`` when nothing is left to ship.

    One line per item with units left to ship (``shippingCount - holdCountForCancel -
    cancelCount``), SKU = ``vendorItemId``, unit price = ``salesPrice``; ``ship_by`` is the end of
    the earliest ``estimatedShippingDate`` (KST), or ``paid_at + default_ship_within`` when the
    sheet has none; the receiver becomes the order's :class:`Recipient`.
    """
    lines = [
        OrderLine(
            sku=str(item.vendor_item_id),
            quantity=item.shippable_count,
            unit_price=max(0, item.sales_price.units),
        )
        for item in sheet.order_items
        if not item.canceled and item.shippable_count > 0
    ]
    if not lines:
        return None
    dates = [i.estimated_shipping_date for i in sheet.order_items if i.estimated_shipping_date]
    if dates:
        ship_by = datetime.combine(min(dates), time(23, 59, 59), KST)
    else:
        ship_by = sheet.paid_at + default_ship_within
    ship_by = max(ship_by, sheet.paid_at)
    return MarketOrder(
        ref=order_ref(sheet.order_id, sheet.shipment_box_id),
        lines=lines,
        paid_at=sheet.paid_at,
        ship_by=ship_by,
        recipient=to_recipient(sheet.receiver, memo=sheet.parcel_print_message),
    )
