"""``CoupangClient``: the Coupang Open API (WING) calls a consignment seller needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Literal

from consign_core.adapters.coupang._couriers import courier_to_coupang, validate_waybill
from consign_core.adapters.coupang._items import ItemCalls
from consign_core.adapters.coupang._orders import OrderCalls
from consign_core.adapters.coupang._transport import (
    ORDER_STATUSES,
    RETURN_STATUSES,
    box_id,
    kst_day,
)
from consign_core.adapters.coupang._types import (
    CancelResult,
    Invoice,
    ReturnRequestPage,
    ShipmentBoxResult,
)
from consign_core.adapters.coupang._wire import ReturnRequest
from consign_core.domain.model import CancelReason, Courier
from consign_core.errors import ConfigurationError, ValidationError


__all__ = ["ORDER_STATUSES", "CoupangClient", "cancel_code_for"]


_CANCEL_CODES: Mapping[CancelReason, str] = {
    CancelReason.STOCK_OUT: "CCTTER",  # 재고 연동 오류: the item is sold out
    CancelReason.PRICE_ERROR: "CCPRER",  # 가격등재오류
    CancelReason.OTHER: "CCPNER",  # 제휴사이트 오류 (partner site / address error)
}


def cancel_code_for(reason: CancelReason) -> str:
    """Coupang's ``middleCancelCode`` for a seller cancel, chosen honestly.

    A stock-out is ``CCTTER`` (재고 연동 오류), a price error ``CCPRER``, anything else
    ``CCPNER``; every one of them is a seller-fault cancel (``bigCancelCode`` ``CANERR``). A
    buyer's change of mind or a late delivery has no seller-cancel code: the buyer cancels those,
    so this raises :class:`~consign_core.errors.ValidationError` rather than file them wrongly.
    """
    value: object = reason
    if not isinstance(value, CancelReason):
        msg = f"reason must be a CancelReason, got {reason!r}"
        raise ValidationError(msg, field="reason", value=reason)
    code = _CANCEL_CODES.get(reason)
    if code is None:
        msg = (
            f"Coupang's seller cancel has no honest code for {reason.name}: "
            "the buyer requests that cancel, not the seller"
        )
        raise ValidationError(msg, field="reason", value=reason)
    return code


def _batches(lines: Sequence[Invoice], size: int = 50) -> list[list[Invoice]]:
    """Invoice lines in calls of at most ``size``, never splitting one box across two calls
    (Coupang wants every item of a box in the same call)."""
    boxes: dict[int, list[Invoice]] = {}
    for line in lines:
        boxes.setdefault(line.shipment_box_id, []).append(line)
    batches: list[list[Invoice]] = []
    for group in boxes.values():
        if not batches or len(batches[-1]) + len(group) > size:
            batches.append([])
        batches[-1].extend(group)
    return batches


class CoupangClient(OrderCalls, ItemCalls):
    """A client of Coupang's seller Open API (WING), for one vendor id.

    Every call is signed (:class:`CoupangAuth`), throttled per vendor (default 5 requests/s),
    and mapped into the ``ConsignError`` tree: 401/403 -> ``AuthenticationError``, 404 ->
    ``NotFoundError``, 429 -> ``RateLimitedError``, 5xx and timeouts -> ``TransientError``,
    refusals (including an HTTP 200 ``ERROR`` envelope) -> ``RejectedError``, a reply it cannot
    read -> ``UnexpectedResponseError``. Reads are retried with backoff (stamina), and so are
    the item calls (:meth:`stop_sales`, :meth:`resume_sales`, :meth:`set_quantity`: setting a
    state twice is harmless); other writes are retried only on 429 (refused before taking
    effect), and a seller cancel never.

    ``transport`` takes any :class:`httpx.BaseTransport` (``httpx.MockTransport``, a WSGI
    transport onto a fake gateway); ``clock`` returns the aware time used to sign. The keys and
    ``user_id`` never appear in a repr, a log line or an error.
    """

    def __enter__(self) -> CoupangClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- invoices ---------------------------------------------------------------------------

    def upload_invoices(self, invoices: Sequence[Invoice]) -> list[ShipmentBoxResult]:
        """Upload waybills (INSTRUCT -> DEPARTURE), one :class:`Invoice` per item of each box."""
        return self._invoices("orders/invoices", invoices)

    def update_invoices(self, invoices: Sequence[Invoice]) -> list[ShipmentBoxResult]:
        """Correct waybills already uploaded (DEPARTURE and later; resets to DEPARTURE)."""
        return self._invoices("orders/updateInvoices", invoices)

    def _invoices(self, tail: str, invoices: Sequence[Invoice]) -> list[ShipmentBoxResult]:
        lines = list(invoices)
        for index, line in enumerate(lines):
            checked: object = line
            if not isinstance(checked, Invoice):
                msg = f"invoices[{index}] must be an Invoice, got {type(line).__name__}"
                raise ValidationError(msg, field="invoices", value=line)
        results: list[ShipmentBoxResult] = []
        for batch in _batches(lines):
            body = {
                "vendorId": self.vendor_id,
                "orderSheetInvoiceApplyDtos": [line.to_wire() for line in batch],
            }
            reply = self._call("POST", self._vendor(self._writes, tail), body=body,
                               retry="throttled_only")  # fmt: skip
            boxes = list(dict.fromkeys(line.shipment_box_id for line in batch))
            results.extend(self._box_results(reply, boxes))
        return results

    # --- cancels, returns, stop-shipment -----------------------------------------------------

    def cancel_order(
        self, order_id: int, items: Mapping[int, int], *, reason: CancelReason
    ) -> CancelResult:
        """Cancel items of an order as the seller (ACCEPT or INSTRUCT), with an honest reason.

        ``items`` maps each ``vendorItemId`` to the units to cancel; a box of an order with
        several boxes is cancelled call by call. Every seller cancel counts against the seller
        (주문이행), and this call is **never retried**: after a timeout, read the order back.
        Needs ``user_id`` (the WING login id) on the client.
        """
        order = box_id(order_id, "order_id")
        code = cancel_code_for(reason)
        if self._user_id is None:
            msg = "cancel_order needs the client's user_id (the WING login id)"
            raise ConfigurationError(msg)
        pairs = list(items.items())
        if not pairs:
            msg = "items must name at least one vendor item to cancel"
            raise ValidationError(msg, field="items", value=items)
        for item, count in pairs:
            box_id(item, "items (vendor item id)")
            box_id(count, "items (count)")
        body = {
            "orderId": order,
            "vendorItemIds": [item for item, _ in pairs],
            "receiptCounts": [count for _, count in pairs],
            "bigCancelCode": "CANERR",
            "middleCancelCode": code,
            "vendorId": self.vendor_id,
            "userId": self._user_id,
        }
        path = self._vendor(self._cancels, f"orders/{order}/cancel")
        reply = self._call("POST", path, body=body, retry="never")
        data = reply.data if isinstance(reply.data, dict) else {}
        failed_raw = data.get("failedItemIds", data.get("failedVendorItemIds")) or []
        failed = self._structure(failed_raw, tuple[int, ...], "$.data.failedItemIds")
        return CancelResult(order_id=order, failed_vendor_item_ids=failed)

    def return_requests(
        self,
        created_from: date | datetime,
        created_to: date | datetime,
        *,
        cancel_type: Literal["RETURN", "CANCEL"] = "RETURN",
        status: str | None = None,
        order_id: int | None = None,
        next_token: str | None = None,
        max_per_page: int = 50,
    ) -> ReturnRequestPage:
        """Return and cancel requests (v6), a page at a time.

        ``cancel_type="CANCEL"`` without ``status`` or ``order_id`` lists the cancels buyers
        made in ACCEPT; ``status="RU"`` lists stop-shipment requests (출고중지요청).
        """
        start = kst_day(created_from, "created_from")
        end = kst_day(created_to, "created_to")
        if end < start or end - start > timedelta(days=31):
            msg = f"created_to must be 0 to 31 days after created_from, got {start} to {end}"
            raise ValidationError(msg, field="created_to", value=created_to)
        if cancel_type not in ("RETURN", "CANCEL"):
            msg = f"cancel_type must be 'RETURN' or 'CANCEL', got {cancel_type!r}"
            raise ValidationError(msg, field="cancel_type", value=cancel_type)
        query = [("createdAtFrom", start.isoformat()), ("createdAtTo", end.isoformat())]
        if status is not None:
            if status not in RETURN_STATUSES:
                msg = f"status must be one of CC, PR, RU, UC, got {status!r}"
                raise ValidationError(msg, field="status", value=status)
            query.append(("status", status))
        query.append(("cancelType", cancel_type))
        if order_id is not None:
            query.append(("orderId", str(box_id(order_id, "order_id"))))
        if cancel_type == "RETURN" and status is None and order_id is None:
            msg = "a RETURN query needs status or order_id (Coupang refuses it otherwise)"
            raise ValidationError(msg, field="status", value=None)
        if next_token is not None:
            query.append(("nextToken", str(next_token)))
        if max_per_page != 50:
            query.append(("maxPerPage", str(box_id(max_per_page, "max_per_page"))))
        reply = self._call("GET", self._vendor(self._returns, "returnRequests"), query=query)
        items = self._structure(reply.data, tuple[ReturnRequest, ...], "$.data")
        return ReturnRequestPage(items=items, next_token=reply.next_token)

    def stopped_shipment(self, receipt_id: int, cancel_count: int) -> None:
        """Answer a stop-shipment request: not shipped, stopped (출고중지완료).

        ``cancel_count`` is the receipt's whole ``cancelCountSum``.
        """
        receipt = box_id(receipt_id, "receipt_id")
        body = {
            "vendorId": self.vendor_id,
            "receiptId": receipt,
            "cancelCount": box_id(cancel_count, "cancel_count"),
        }
        path = self._vendor(self._writes, f"returnRequests/{receipt}/stoppedShipment")
        self._result_code(self._call("PUT", path, body=body, retry="throttled_only"))

    def completed_shipment(
        self, receipt_id: int, *, courier: Courier | str, invoice_number: str
    ) -> None:
        """Answer a stop-shipment request: already shipped (이미출고), with the waybill."""
        receipt = box_id(receipt_id, "receipt_id")
        code = courier_to_coupang(courier) if isinstance(courier, Courier) else courier
        validate_waybill(code, invoice_number)
        body = {
            "vendorId": self.vendor_id,
            "receiptId": receipt,
            "deliveryCompanyCode": code,
            "invoiceNumber": invoice_number,
        }
        path = self._vendor(self._writes, f"returnRequests/{receipt}/completedShipment")
        self._result_code(self._call("PUT", path, body=body, retry="throttled_only"))
