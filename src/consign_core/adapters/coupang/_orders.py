"""The order-sheet calls of ``CoupangClient``: lists, single reads, history, acknowledgement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from consign_core.adapters.coupang._transport import (
    ClientCore,
    box_id,
    check_status,
    kst_day,
    kst_minute,
)
from consign_core.adapters.coupang._types import OrderSheetPage, ShipmentBoxResult
from consign_core.adapters.coupang._wire import OrderHistory, OrderSheet
from consign_core.errors import ValidationError


__all__ = ["OrderCalls"]


class OrderCalls(ClientCore):
    """Order sheets (발주서) and 발주확인."""

    def order_sheets(
        self,
        created_from: date | datetime,
        created_to: date | datetime,
        *,
        status: str,
        next_token: str | None = None,
        max_per_page: int = 50,
    ) -> OrderSheetPage:
        """One page of order sheets created between two days (KST), in ``status``.

        Dates or aware datetimes (their KST day is used); at most 31 days apart. Pass the page's
        ``next_token`` back for the next page; it is ``None`` on the last one.
        """
        start = kst_day(created_from, "created_from")
        end = kst_day(created_to, "created_to")
        if end < start or end - start > timedelta(days=31):
            msg = f"created_to must be 0 to 31 days after created_from, got {start} to {end}"
            raise ValidationError(msg, field="created_to", value=created_to)
        size: object = max_per_page
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= max_per_page <= 50:
            msg = f"max_per_page must be an integer from 1 to 50, got {max_per_page!r}"
            raise ValidationError(msg, field="max_per_page", value=max_per_page)
        query = [
            ("createdAtFrom", self._day(start)),
            ("createdAtTo", self._day(end)),
            ("maxPerPage", str(max_per_page)),
            ("status", check_status(status)),
        ]
        if next_token is not None:
            token: object = next_token
            if not isinstance(token, str) or not next_token:
                msg = f"next_token must be a non-empty string, got {next_token!r}"
                raise ValidationError(msg, field="next_token", value=next_token)
            query.append(("nextToken", next_token))
        reply = self._call("GET", self._vendor(self._orders, "ordersheets"), query=query)
        items = self._structure(reply.data, tuple[OrderSheet, ...], "$.data")
        return OrderSheetPage(items=items, next_token=reply.next_token)

    def order_sheets_by_time_frame(
        self, created_from: datetime, created_to: datetime, *, status: str
    ) -> tuple[OrderSheet, ...]:
        """Order sheets created in a minute window (``searchType=timeFrame``), shorter than 24 h.

        No paging: the whole window comes at once, so keep windows short (Coupang advises
        about 10 minutes, overlapping) to stay clear of gateway timeouts.
        """
        start = kst_minute(created_from, "created_from")
        end = kst_minute(created_to, "created_to")
        if not timedelta(0) < end - start < timedelta(hours=24):
            msg = (
                "created_to must be after created_from and less than 24 h later, "
                f"got {start} to {end}"
            )
            raise ValidationError(msg, field="created_to", value=created_to)
        suffix = "+09:00" if self._offsets else ""
        query = [
            ("createdAtFrom", start.strftime("%Y-%m-%dT%H:%M") + suffix),
            ("createdAtTo", end.strftime("%Y-%m-%dT%H:%M") + suffix),
            ("searchType", "timeFrame"),
            ("status", check_status(status)),
        ]
        reply = self._call("GET", self._vendor(self._orders, "ordersheets"), query=query)
        return self._structure(reply.data, tuple[OrderSheet, ...], "$.data")

    def order_sheet(self, shipment_box_id: int) -> OrderSheet:
        """One order sheet by its shipment box id (fresher than the lists, which lag ~10 min)."""
        box = box_id(shipment_box_id, "shipment_box_id")
        reply = self._call("GET", self._vendor(self._orders, f"ordersheets/{box}"))
        return self._structure(reply.data, OrderSheet, "$.data")

    def order_sheets_by_order(self, order_id: int) -> tuple[OrderSheet, ...]:
        """Every order sheet (shipment box) of one order; the wire gives an object or a list."""
        order = box_id(order_id, "order_id")
        reply = self._call("GET", self._vendor(self._orders, f"{order}/ordersheets"))
        if isinstance(reply.data, dict):
            return (self._structure(reply.data, OrderSheet, "$.data"),)
        return self._structure(reply.data, tuple[OrderSheet, ...], "$.data")

    def order_history(self, shipment_box_id: int) -> OrderHistory:
        """A box's delivery-status history, newest first."""
        box = box_id(shipment_box_id, "shipment_box_id")
        reply = self._call("GET", self._vendor(self._orders, f"ordersheets/{box}/history"))
        return self._structure(reply.data, OrderHistory, "$.data")

    # --- acknowledgement and invoices --------------------------------------------------------

    def acknowledge(self, shipment_box_ids: Iterable[int]) -> list[ShipmentBoxResult]:
        """Press 발주확인 (ACCEPT -> INSTRUCT) on boxes, 50 per call, one result per box.

        Retried only on 429. After a timeout or a 5xx the outcome is unknown: read the boxes
        back (:meth:`order_sheet`) before trying again.
        """
        boxes = list(dict.fromkeys(box_id(b, "shipment_box_ids[]") for b in shipment_box_ids))
        results: list[ShipmentBoxResult] = []
        path = self._vendor(self._writes, "ordersheets/acknowledgement")
        for start in range(0, len(boxes), 50):
            batch = boxes[start : start + 50]
            body = {"vendorId": self.vendor_id, "shipmentBoxIds": batch}
            reply = self._call("PUT", path, body=body, retry="throttled_only")
            results.extend(self._box_results(reply, batch))
        return results
