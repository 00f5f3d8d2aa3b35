"""FakeCoupang's order-sheet state machine: the reads it answers and the writes that move
boxes and receipts through Coupang's statuses (ACCEPT -> INSTRUCT -> DEPARTURE ..., cancels,
stop-shipment answers)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from consign_core.testing._coupang_model import (
    CANCEL_CODES,
    DESC,
    KST,
    STATUSES,
    WAYBILL_LENGTHS,
    Box,
    Item,
    Receipt,
    Reply,
    error,
)


__all__ = ["SheetBook"]


class SheetBook:
    """The gateway's books: every handler here runs under the fake's lock, called by the
    router with the parsed query and body, and answers a :class:`Reply`."""

    vendor_id: str
    listing_delay: timedelta
    seller_cancels: list[dict[str, Any]]
    duplicate_acknowledgements: int
    duplicate_uploads: int
    _clock: Callable[[], datetime]
    _user_id: str | None
    _boxes: dict[int, Box]
    _receipts: dict[int, Receipt]
    _used_invoices: set[tuple[str, str]]

    # --- reads -----------------------------------------------------------------------------

    def _stamp(self, moment: datetime, *, v5: bool) -> str:
        local = moment.astimezone(KST)
        return local.isoformat(timespec="seconds") if v5 else local.strftime("%Y-%m-%dT%H:%M:%S")

    def _money(self, amount: int, *, v5: bool) -> object:
        return {"currencyCode": "KRW", "units": amount, "nanos": 0} if v5 else amount

    def _sheet(self, box: Box, *, v5: bool) -> dict[str, Any]:
        r = box.receiver
        return {
            "shipmentBoxId": box.shipment_box_id,
            "orderId": box.order_id,
            "orderedAt": self._stamp(box.paid_at - timedelta(seconds=30), v5=v5),
            "orderer": {"name": r.name, "email": "", "safeNumber": r.safe_number,
                        "ordererNumber": None},
            "paidAt": self._stamp(box.paid_at, v5=v5),
            "status": box.status,
            "shippingPrice": self._money(0, v5=v5),
            "remotePrice": self._money(0, v5=v5),
            "remoteArea": False,
            "parcelPrintMessage": box.message,
            "splitShipping": False,
            "ableSplitShipping": False,
            "receiver": {"name": r.name, "safeNumber": r.safe_number, "receiverNumber": None,
                         "addr1": r.addr1, "addr2": r.addr2, "postCode": r.post_code},
            "orderItems": [
                {
                    "vendorItemPackageId": 0,
                    "vendorItemPackageName": "",
                    "productId": 7000000000 + i.vendor_item_id % 1000,
                    "vendorItemId": i.vendor_item_id,
                    "vendorItemName": i.name,
                    "shippingCount": i.count,
                    "salesPrice": self._money(i.unit_price, v5=v5),
                    "orderPrice": self._money(i.unit_price * i.count, v5=v5),
                    "discountPrice": self._money(0, v5=v5),
                    "externalVendorSkuCode": "",
                    "etcInfoHeader": None,
                    "etcInfoValue": None,
                    "etcInfoValues": None,
                    "sellerProductId": 14000000000 + i.vendor_item_id % 1000,
                    "sellerProductName": i.name,
                    "sellerProductItemName": i.name,
                    "firstSellerProductItemName": i.name,
                    "cancelCount": i.cancel_count,
                    "holdCountForCancel": i.hold,
                    "estimatedShippingDate": i.estimated_shipping_date.isoformat(),
                    "plannedShippingDate": "",
                    "invoiceNumberUploadDate": "",
                    "extraProperties": {},
                    "pricingBadge": False,
                    "usedProduct": False,
                    "confirmDate": "",
                    "deliveryChargeTypeName": "무료",
                    "canceled": i.cancel_count >= i.count,
                }
                for i in box.items
            ],
            "overseaShippingInfoDto": {"personalCustomsClearanceCode": None, "ordererSsn": None,
                                       "ordererPhoneNumber": None},
            "deliveryCompanyName": box.courier,
            "invoiceNumber": box.invoice,
            "inTrasitDateTime": "",
            "deliveredDate": "",
            "refer": "안드로이드앱",
            "shipmentType": "THIRD_PARTY",
        }  # fmt: skip

    @staticmethod
    def _when(text: str | None, name: str, *, minute: bool) -> datetime:
        if not text:
            raise error(400, f"{name} is required.")
        value = text.strip()
        naive, _, offset = value.partition("+")
        try:
            fmt = "%Y-%m-%dT%H:%M" if minute else "%Y-%m-%d"
            moment = datetime.strptime(naive, fmt)  # noqa: DTZ007 - KST is attached below
        except ValueError:
            raise error(400, f"{name} has an invalid format: {value}") from None
        if offset and offset != "09:00":
            raise error(400, f"{name} has an invalid offset: {value}")
        return moment.replace(tzinfo=KST)

    def _list(self, query: dict[str, str], *, v5: bool) -> Reply:
        status = query.get("status")
        if status not in STATUSES:
            raise error(400, f"status is invalid: {status}")
        minute = query.get("searchType") == "timeFrame"
        start = self._when(query.get("createdAtFrom"), "createdAtFrom", minute=minute)
        end = self._when(query.get("createdAtTo"), "createdAtTo", minute=minute)
        if minute:
            if not timedelta(0) < end - start < timedelta(hours=24):
                raise error(400, "The time range should be less than 24 hours.")
            end = end + timedelta(minutes=1)
        else:
            if not timedelta(0) <= end - start <= timedelta(days=31):
                raise error(400, "endTime-startTime range should less than31.")
            end = end + timedelta(days=1)
        visible = self._clock() - self.listing_delay
        boxes = sorted(
            (b for b in self._boxes.values()
             if b.status == status and not b.cancelled and start <= b.paid_at < end
             and b.paid_at <= visible),
            key=lambda b: b.shipment_box_id,
        )  # fmt: skip
        if minute:
            data = [self._sheet(b, v5=v5) for b in boxes]
            return Reply(200, {"code": 200, "message": "OK", "data": data})
        size = int(query.get("maxPerPage") or 50)
        if not 1 <= size <= 50:
            raise error(400, "maxPerPage must be between 1 and 50.")
        token = query.get("nextToken")
        if token:
            if not re.fullmatch(r"[0-9]{1,30}", token):
                raise error(400, "nextToken is invalid.")
            boxes = [b for b in boxes if b.shipment_box_id >= int(token)]
        page, rest = boxes[:size], boxes[size:]
        next_token = str(rest[0].shipment_box_id) if rest else ""
        data = [self._sheet(b, v5=v5) for b in page]
        return Reply(200, {"code": 200, "message": "OK", "data": data, "nextToken": next_token})

    def _box(self, shipment_box_id: int) -> Box:
        box = self._boxes.get(shipment_box_id)
        if box is None:
            raise error(400, f"shipmentBoxId ({shipment_box_id}) is not found.")
        return box

    def _one(self, shipment_box_id: int, *, v5: bool) -> Reply:
        box = self._box(shipment_box_id)
        if box.cancelled:
            raise Reply(400, {"code": 400, "message": "해당 주문이 취소 또는 반품되었습니다."})
        return Reply(200, {"code": "200", "message": "OK", "data": self._sheet(box, v5=v5)})

    def _by_order(self, order_id: int, *, v5: bool) -> Reply:
        boxes = [b for b in self._boxes.values() if b.order_id == order_id]
        if not boxes:
            raise error(400, f"orderId ({order_id}) is not found.")
        sheets = [self._sheet(b, v5=v5) for b in boxes]
        data: object = sheets[0] if len(sheets) == 1 else sheets
        return Reply(200, {"code": "200", "message": "OK", "data": data})

    def _history(self, shipment_box_id: int) -> Reply:
        box = self._box(shipment_box_id)
        details = [
            {"deliveryStatus": s, "deliveryStatusDesc": DESC.get(s, s),
             "updatedAt": self._stamp(at, v5=True)}
            for s, at in reversed(box.history)
        ]  # fmt: skip
        data = {"shipmentBoxId": box.shipment_box_id, "details": details}
        return Reply(200, {"code": 200, "message": "OK", "data": data})

    # --- writes ----------------------------------------------------------------------------

    @staticmethod
    def _results(results: list[dict[str, Any]], what: str) -> Reply:
        ok = sum(1 for r in results if r["succeed"])
        code = 0 if ok == len(results) else (99 if ok == 0 else 1)
        text = {0: "All succeeded.", 1: "Partial errors.", 99: "All failed."}[code]
        data = {
            "responseKey": -7326489997410939972,
            "responseCode": code,
            "responseMessage": f"apply {what} result - {text}",
            "responseList": results,
        }
        return Reply(200, {"code": "200", "message": "OK", "data": data})

    @staticmethod
    def _result(box_id: int, code: str, message: str, *, retry: bool) -> dict[str, Any]:
        return {"shipmentBoxId": box_id, "succeed": code == "OK", "resultCode": code,
                "retryRequired": retry, "resultMessage": message}  # fmt: skip

    def _ack(self, body: Any) -> Reply:
        ids = body.get("shipmentBoxIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids:
            raise error(400, "shipmentBoxIds is required.")
        if len(ids) > 50:
            raise error(400, "Request up to 50 at a time.")
        results = []
        for raw in ids:
            box = self._boxes.get(raw) if isinstance(raw, int) else None
            if box is None:
                results.append(
                    self._result(
                        raw,
                        "NOT_FOUND_SHIPMENT_BOX",
                        f"shipmentBoxId ({raw}) is not found.",
                        retry=True,
                    )
                )
            elif box.cancelled or any(i.hold or i.cancel_count for i in box.items):
                results.append(
                    self._result(
                        raw,
                        "INVALID_STATUS",
                        "배송상태를 변경할 수 없습니다. 주문내역을 확인해주세요.",
                        retry=False,
                    )
                )
            elif box.status != "ACCEPT":
                self.duplicate_acknowledgements += 1
                results.append(
                    self._result(
                        raw, "INVALID_STATUS", "배송진행상태가 유효하지 않습니다.", retry=False
                    )
                )
            else:
                box.status = "INSTRUCT"
                box.history.append(("INSTRUCT", self._clock()))
                results.append(self._result(raw, "OK", "request succeeded.", retry=False))
        return self._results(results, "instructStatus")

    def _invoices(self, body: Any, *, update: bool) -> Reply:
        dtos = body.get("orderSheetInvoiceApplyDtos") if isinstance(body, dict) else None
        if not isinstance(dtos, list) or not dtos:
            raise error(400, "orderSheetInvoiceApplyDtos is required.")
        per_box: dict[int, list[dict[str, Any]]] = {}
        for dto in dtos:
            if not isinstance(dto, dict) or not isinstance(dto.get("shipmentBoxId"), int):
                raise error(400, "shipmentBoxId is required.")
            per_box.setdefault(dto["shipmentBoxId"], []).append(dto)
        results = []
        for box_id, lines in per_box.items():
            code, message, retry = self._invoice_check(box_id, lines, update=update)
            if code == "INVALID_STATUS" and not update and self._boxes[box_id].invoice:
                self.duplicate_uploads += 1
            if code == "OK":
                box = self._boxes[box_id]
                box.courier = str(lines[0]["deliveryCompanyCode"])
                box.invoice = str(lines[0]["invoiceNumber"])
                self._used_invoices.add((box.courier, box.invoice))
                box.status = "DEPARTURE"
                box.history.append(("DEPARTURE", self._clock()))
            results.append(self._result(box_id, code, message, retry=retry))
        return self._results(results, "invoice")

    def _invoice_check(  # noqa: PLR0911 - one answer per check, as Coupang orders them
        self, box_id: int, lines: list[dict[str, Any]], *, update: bool
    ) -> tuple[str, str, bool]:
        box = self._boxes.get(box_id)
        if box is None:
            return "NOT_FOUND_SHIPMENT_BOX", f"shipmentBoxId ({box_id}) is not found.", False
        stop = any(r.box == box_id and r.receipt_status == "RELEASE_STOP_UNCHECKED"
                   for r in self._receipts.values())  # fmt: skip
        if box.cancelled or stop:
            return "ORDER_DELIVERY_CANCELED", "취소 또는 출고중지요청된 주문입니다.", False
        allowed = (
            ("DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING")
            if update
            else ("INSTRUCT",)
        )
        if box.status not in allowed:
            return (
                "INVALID_STATUS",
                (
                    "배송진행상태가 유효하지 않습니다. "
                    f"[합포장번호 : {box_id}] [주문번호 : {box.order_id}]"
                ),
                False,
            )
        known = {i.vendor_item_id for i in box.items}
        if {line.get("vendorItemId") for line in lines} != known:
            return "NOT_FOUND_VENDOR_ITEM", "합포장건 중 누락된 vendorItemId가 있습니다.", False
        for line in lines:
            courier, number = line.get("deliveryCompanyCode"), line.get("invoiceNumber")
            if not isinstance(courier, str) or courier not in WAYBILL_LENGTHS:
                return "INVALID_INVOICE_NUMBER", "지원되지 않는 택배사 코드입니다.", True
            if not isinstance(number, str):
                return "INVALID_INVOICE_NUMBER", "지원되지 않는 택배사 코드입니다.", True
            lengths = WAYBILL_LENGTHS[courier]
            if not re.fullmatch(r"[0-9]+", number) or (
                lengths is not None and len(number) not in lengths
            ):
                return "INVALID_INVOICE_NUMBER", "운송장 번호가 규격에 맞지 않습니다.", True
            if (courier, number) in self._used_invoices and (box.courier, box.invoice) != (
                courier,
                number,
            ):
                return "DUPLICATE_INVOICE_NUMBER", "중복된 운송장 번호입니다.", True
        return "OK", "request succeeded.", False

    def _cancel(self, order_id: int, body: Any) -> Reply:
        if not isinstance(body, dict):
            raise error(400, "Request body is required.")
        user = body.get("userId")
        if not isinstance(user, str) or not user or (self._user_id not in (None, user)):
            raise Reply(
                400, {"code": 400, "message": "업체 ID에 맞는 올바른 유저 ID를 입력해주세요."}
            )
        if (
            body.get("bigCancelCode") != "CANERR"
            or body.get("middleCancelCode") not in CANCEL_CODES
        ):
            raise Reply(400, {"code": 400, "message": "취소사유 중분류 코드를 확인해 주세요."})
        items, counts = body.get("vendorItemIds"), body.get("receiptCounts")
        if not isinstance(items, list) or not isinstance(counts, list) or len(items) != len(counts):
            raise error(400, "vendorItemIds and receiptCounts must have the same length.")
        boxes = [b for b in self._boxes.values() if b.order_id == order_id and not b.cancelled]
        failed: list[int] = []
        plan: list[tuple[Box, Item, int]] = []
        for item_id, count in zip(items, counts, strict=True):
            found = [(b, i) for b in boxes for i in b.items if i.vendor_item_id == item_id]
            if not found or found[0][0].status not in ("ACCEPT", "INSTRUCT"):
                failed.append(item_id)
                continue
            box, item = found[0]
            if not isinstance(count, int) or count < 1 or count > item.count - item.cancel_count:
                raise Reply(
                    400, {"code": 400, "message": "취소 가능한 개수보다 요청한 개수가 더 많습니다."}
                )
            plan.append((box, item, count))
        if not plan:
            text = "해당 벤더아이템이 결제완료/상품지시 중 상태가 아닙니다."
            raise Reply(400, {"code": 400, "message": text})
        for box, item, count in plan:
            item.cancel_count += count
            if all(i.cancel_count >= i.count for i in box.items):
                box.cancelled = True
                box.history.append(("CANCEL", self._clock()))
        self.seller_cancels.append(dict(body))
        data = {"orderId": order_id, "failedItemIds": failed}
        return Reply(200, {"code": "PARTIAL" if failed else "200", "message": "OK", "data": data})

    def _receipt_json(self, r: Receipt) -> dict[str, Any]:
        box = self._boxes[r.box]
        names = {i.vendor_item_id: i.name for i in box.items}
        return {
            "receiptId": r.receipt_id,
            "orderId": r.order_id,
            "paymentId": r.order_id + 1,
            "receiptType": r.receipt_type,
            "receiptStatus": r.receipt_status,
            "createdAt": r.created_at.astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S"),
            "modifiedAt": r.created_at.astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S"),
            "requesterName": box.receiver.name,
            "requesterPhoneNumber": box.receiver.safe_number,
            "cancelReasonCategory1": "고객변심",
            "cancelReasonCategory2": "단순변심",
            "cancelReason": "단순변심",
            "cancelCountSum": sum(c for _, c in r.items),
            "releaseStopStatus": r.release_stop_status,
            "faultByType": r.fault_by_type,
            "preRefund": False,
            "returnItems": [
                {"vendorItemId": item_id, "vendorItemName": names.get(item_id, ""),
                 "cancelCount": count, "purchaseCount": count, "shipmentBoxId": r.box,
                 "releaseStatus": "N" if r.receipt_status == "RELEASE_STOP_UNCHECKED" else "Y"}
                for item_id, count in r.items
            ],
        }  # fmt: skip

    def _returns(self, query: dict[str, str]) -> Reply:
        start = self._when(query.get("createdAtFrom"), "createdAtFrom", minute=False)
        end = self._when(query.get("createdAtTo"), "createdAtTo", minute=False)
        if not timedelta(0) <= end - start <= timedelta(days=31):
            raise error(400, "endTime-startTime range should less than31.")
        kind = query.get("cancelType") or "RETURN"
        status, order = query.get("status"), query.get("orderId")
        if kind == "RETURN" and not status and not order:
            raise error(400, "OrderId can't be null, if doesn't pass the parameter status")
        wanted = {
            "RU": {"RELEASE_STOP_UNCHECKED"},
            "UC": {"RELEASE_STOP_UNCHECKED", "RETURNS_UNCHECKED"},
            "CC": {"RETURNS_COMPLETED"},
            "PR": {"REQUEST_COUPANG_CHECK"},
        }
        if status and status not in wanted:
            raise error(400, f"status is invalid: {status}")
        found = [
            r for r in sorted(self._receipts.values(), key=lambda r: r.receipt_id)
            if r.receipt_type == kind
            and start <= r.created_at < end + timedelta(days=1)
            and (not status or r.receipt_status in wanted[status])
            and (not order or str(r.order_id) == order)
        ]  # fmt: skip
        size = int(query.get("maxPerPage") or 50)
        token = query.get("nextToken")
        if token and re.fullmatch(r"[0-9]{1,30}", token):
            found = [r for r in found if r.receipt_id >= int(token)]
        page, rest = found[:size], found[size:]
        data = [self._receipt_json(r) for r in page]
        next_token = str(rest[0].receipt_id) if rest else ""
        return Reply(200, {"code": 200, "message": "OK", "data": data, "nextToken": next_token})

    def _receipt(self, receipt_id: int) -> Receipt:
        receipt = self._receipts.get(receipt_id)
        if receipt is None:
            raise error(400, f"receiptId ({receipt_id}) is not found.")
        if receipt.receipt_status != "RELEASE_STOP_UNCHECKED":
            raise error(400, "출고중지요청 상태가 아닙니다.")
        return receipt

    def _stopped(self, receipt_id: int, body: Any) -> Reply:
        receipt = self._receipt(receipt_id)
        total = sum(c for _, c in receipt.items)
        if not isinstance(body, dict) or body.get("cancelCount") != total:
            raise error(
                500, "[INTERNAL_SERVER_ERROR] 취소반품접수수량과 cancelCount가 일치하지 않습니다."
            )
        receipt.receipt_status = "RETURNS_COMPLETED"
        receipt.release_stop_status = "처리(출고중지)"
        box = self._boxes[receipt.box]
        for item in box.items:
            item.cancel_count, item.hold = item.count, 0
        box.cancelled = True
        box.history.append(("CANCEL", self._clock()))
        data = {"resultCode": "SUCCESS", "resultMessage": "출고중지 처리되었습니다."}
        return Reply(200, {"code": "200", "message": "OK", "data": data})

    def _completed(self, receipt_id: int, body: Any) -> Reply:
        receipt = self._receipt(receipt_id)
        if not isinstance(body, dict):
            raise error(400, "Request body is required.")
        courier, number = body.get("deliveryCompanyCode"), body.get("invoiceNumber")
        if (
            courier not in WAYBILL_LENGTHS
            or not isinstance(number, str)
            or not re.fullmatch(r"[0-9]+", number)
        ):
            raise error(400, "지원되지 않는 택배사 코드 또는 운송장 번호입니다.")
        receipt.receipt_status = "RETURNS_UNCHECKED"
        receipt.release_stop_status = "처리(이미출고)"
        box = self._boxes[receipt.box]
        box.courier, box.invoice = str(courier), number
        box.status = "DEPARTURE"
        box.history.append(("DEPARTURE", self._clock()))
        data = {"code": "200", "message": "OK", "resultCode": "SUCCESS", "resultMessage": "OK"}
        return Reply(200, {"data": data})
