"""``CoupangClient``: the Coupang Open API (WING) calls a consignment seller needs."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import attrs
import httpx
import stamina

from consign_core.adapters.coupang._auth import CoupangAuth
from consign_core.adapters.coupang._couriers import courier_to_coupang, validate_waybill
from consign_core.adapters.coupang._throttle import Throttle
from consign_core.adapters.coupang._types import (
    CancelResult,
    Invoice,
    OrderSheetPage,
    ReturnRequestPage,
    ShipmentBoxResult,
)
from consign_core.adapters.coupang._wire import (
    KST,
    OrderHistory,
    OrderSheet,
    ReturnRequest,
    WireBoxResults,
    decode_json,
    make_coupang_converter,
    structure_at,
)
from consign_core.domain.model import CancelReason, Courier
from consign_core.errors import (
    AdapterError,
    AuthenticationError,
    ConfigurationError,
    NaiveDatetimeError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    UnexpectedResponseError,
    ValidationError,
)


__all__ = ["ORDER_STATUSES", "CoupangClient", "cancel_code_for"]

_log = logging.getLogger("consign_core.adapters.coupang")
_ADAPTER = "coupang"
_API = "/v2/providers/openapi/apis/api"
_T = TypeVar("_T")
_Retry = Literal["read", "throttled_only", "never"]

ORDER_STATUSES = frozenset(
    {"ACCEPT", "INSTRUCT", "DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING"}
)
"""The order-sheet statuses Coupang lists."""
_RETURN_STATUSES = frozenset({"RU", "UC", "CC", "PR"})
_OK_CODES = frozenset({"200", "SUCCESS", "OK", "PARTIAL"})
_ERROR_CODES = frozenset({"ERROR", "FAIL", "FAILURE"})
_AUTH_HINTS = ("signature", "hmac", "not authorized", "not allowed ip", "access denied")

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


def _retry_hook(*, reads: bool, wait_max: float) -> Callable[[Exception], bool | float]:
    """stamina's ``on=`` hook: retry 429 for any call (it is refused at the gateway, before it
    takes effect), transient failures for reads only; honour ``Retry-After`` up to
    ``wait_max`` seconds and give up (raise to the caller) when Coupang asks for longer."""

    def hook(exc: Exception) -> bool | float:
        if isinstance(exc, RateLimitedError):
            if exc.retry_after is None:
                return True
            return exc.retry_after if exc.retry_after <= wait_max else False
        return reads and isinstance(exc, TransientError)

    return hook


@attrs.frozen
class _Reply:
    code: str
    message: str
    data: object
    next_token: str | None
    body: Mapping[str, object]


def _box_id(value: object, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{argument} must be a positive integer id, got {value!r}"
        raise ValidationError(msg, field=argument, value=value)
    return value


def _kst_day(value: object, argument: str) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(argument, value)
        return value.astimezone(KST).date()
    if isinstance(value, date):
        return value
    msg = f"{argument} must be a date or an aware datetime, got {value!r}"
    raise ValidationError(msg, field=argument, value=value)


def _kst_minute(value: object, argument: str) -> datetime:
    if not isinstance(value, datetime):
        msg = f"{argument} must be an aware datetime, got {value!r}"
        raise ValidationError(msg, field=argument, value=value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(argument, value)
    return value.astimezone(KST).replace(second=0, microsecond=0)


def _check_status(status: object) -> str:
    if not isinstance(status, str) or status not in ORDER_STATUSES:
        allowed = ", ".join(sorted(ORDER_STATUSES))
        msg = f"status must be one of {allowed}, got {status!r}"
        raise ValidationError(msg, field="status", value=status)
    return status


def _encode_query(pairs: Sequence[tuple[str, str]]) -> str:
    """The query exactly as sent and signed: ``+`` as ``%2B``, ``:`` kept (Coupang's examples)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=':')}" for k, v in pairs)


class CoupangClient:
    """A client of Coupang's seller Open API (WING), for one vendor id.

    Every call is signed (:class:`CoupangAuth`), throttled per vendor (default 5 requests/s),
    and mapped into the ``ConsignError`` tree: 401/403 -> ``AuthenticationError``, 404 ->
    ``NotFoundError``, 429 -> ``RateLimitedError``, 5xx and timeouts -> ``TransientError``,
    refusals (including an HTTP 200 ``ERROR`` envelope) -> ``RejectedError``, a reply it cannot
    read -> ``UnexpectedResponseError``. Reads are retried with backoff (stamina); writes are
    retried only on 429 (refused before taking effect), and a seller cancel never.

    ``transport`` takes any :class:`httpx.BaseTransport` (``httpx.MockTransport``, a WSGI
    transport onto a fake gateway); ``clock`` returns the aware time used to sign. The keys and
    ``user_id`` never appear in a repr, a log line or an error.
    """

    def __init__(
        self,
        vendor_id: str,
        access_key: str,
        secret_key: str,
        *,
        base_url: str = "https://api-gateway.coupang.com",
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
        user_id: str | None = None,
        requests_per_second: float = 5.0,
        throttle: Throttle | None = None,
        timeout: float = 10.0,
        extended_timeout_ms: int | None = None,
        retry_attempts: int = 3,
        retry_timeout: float = 30.0,
        retry_wait_initial: float = 0.5,
        retry_wait_max: float = 5.0,
        retry_wait_jitter: float = 0.5,
        order_api_version: str = "v5",
        write_api_version: str = "v4",
        cancel_api_version: str = "v5",
        return_api_version: str = "v6",
    ) -> None:
        vendor: object = vendor_id
        if not isinstance(vendor, str) or not re.fullmatch(r"[A-Za-z0-9]{1,32}", vendor_id):
            msg = f"vendor_id must be letters and digits like 'A00012345', got {vendor_id!r}"
            raise ConfigurationError(msg)
        user: object = user_id
        if user is not None and (not isinstance(user, str) or not user_id):
            msg = "user_id must be a non-empty string (the WING login id; not shown)"
            raise ConfigurationError(msg)
        attempts: object = retry_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or retry_attempts < 1:
            msg = f"retry_attempts must be an integer >= 1, got {retry_attempts!r}"
            raise ConfigurationError(msg)
        for name, version in (
            ("order_api_version", order_api_version),
            ("write_api_version", write_api_version),
            ("cancel_api_version", cancel_api_version),
            ("return_api_version", return_api_version),
        ):
            if not re.fullmatch(r"v[0-9]{1,2}", str(version)):
                msg = f"{name} must look like 'v5', got {version!r}"
                raise ConfigurationError(msg)
        self.vendor_id = vendor_id
        self._auth = CoupangAuth(access_key=access_key, secret_key=secret_key, clock=clock)
        self._secrets = tuple(s for s in (access_key, secret_key, user_id) if s)
        self._user_id = user_id
        self._throttle = throttle or Throttle.for_vendor(vendor_id, requests_per_second)
        headers = {
            "Content-Type": "application/json;charset=UTF-8",
            "Accept": "application/json",
            "X-Requested-By": vendor_id,
        }
        if extended_timeout_ms is not None:
            headers["X-EXTENDED-TIMEOUT"] = str(int(extended_timeout_ms))
        base: object = base_url
        if not isinstance(base, str) or not re.fullmatch(
            r"https?://[^\s/?#]+(/[^\s?#]*)?", base_url
        ):
            msg = f"base_url must be an http(s) URL without query, got {base_url!r}"
            raise ConfigurationError(msg)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=self._auth,
            transport=transport,
            timeout=timeout,
            headers=headers,
            follow_redirects=False,
            trust_env=False,
        )
        self._converter = make_coupang_converter()
        self._retry = {
            "attempts": retry_attempts,
            "timeout": retry_timeout,
            "wait_initial": retry_wait_initial,
            "wait_max": retry_wait_max,
            "wait_jitter": retry_wait_jitter,
        }
        self._read_hook = _retry_hook(reads=True, wait_max=retry_wait_max)
        self._write_hook = _retry_hook(reads=False, wait_max=retry_wait_max)
        self._orders = order_api_version
        self._offsets = int(order_api_version[1:]) >= 5  # v5 queries carry +09:00
        self._writes = write_api_version
        self._cancels = cancel_api_version
        self._returns = return_api_version

    def __repr__(self) -> str:
        return f"CoupangClient(vendor_id={self.vendor_id!r}, base_url={str(self._http.base_url)!r})"

    __str__ = __repr__

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> CoupangClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- order sheets ------------------------------------------------------------------------

    def _vendor(self, version: str, tail: str) -> str:
        return f"{_API}/{version}/vendors/{self.vendor_id}/{tail}"

    def _day(self, value: date) -> str:
        return value.isoformat() + ("+09:00" if self._offsets else "")

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
        start = _kst_day(created_from, "created_from")
        end = _kst_day(created_to, "created_to")
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
            ("status", _check_status(status)),
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
        start = _kst_minute(created_from, "created_from")
        end = _kst_minute(created_to, "created_to")
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
            ("status", _check_status(status)),
        ]
        reply = self._call("GET", self._vendor(self._orders, "ordersheets"), query=query)
        return self._structure(reply.data, tuple[OrderSheet, ...], "$.data")

    def order_sheet(self, shipment_box_id: int) -> OrderSheet:
        """One order sheet by its shipment box id (fresher than the lists, which lag ~10 min)."""
        box = _box_id(shipment_box_id, "shipment_box_id")
        reply = self._call("GET", self._vendor(self._orders, f"ordersheets/{box}"))
        return self._structure(reply.data, OrderSheet, "$.data")

    def order_sheets_by_order(self, order_id: int) -> tuple[OrderSheet, ...]:
        """Every order sheet (shipment box) of one order; the wire gives an object or a list."""
        order = _box_id(order_id, "order_id")
        reply = self._call("GET", self._vendor(self._orders, f"{order}/ordersheets"))
        if isinstance(reply.data, dict):
            return (self._structure(reply.data, OrderSheet, "$.data"),)
        return self._structure(reply.data, tuple[OrderSheet, ...], "$.data")

    def order_history(self, shipment_box_id: int) -> OrderHistory:
        """A box's delivery-status history, newest first."""
        box = _box_id(shipment_box_id, "shipment_box_id")
        reply = self._call("GET", self._vendor(self._orders, f"ordersheets/{box}/history"))
        return self._structure(reply.data, OrderHistory, "$.data")

    # --- acknowledgement and invoices --------------------------------------------------------

    def acknowledge(self, shipment_box_ids: Iterable[int]) -> list[ShipmentBoxResult]:
        """Press 발주확인 (ACCEPT -> INSTRUCT) on boxes, 50 per call, one result per box.

        Retried only on 429. After a timeout or a 5xx the outcome is unknown: read the boxes
        back (:meth:`order_sheet`) before trying again.
        """
        boxes = list(dict.fromkeys(_box_id(b, "shipment_box_ids[]") for b in shipment_box_ids))
        results: list[ShipmentBoxResult] = []
        path = self._vendor(self._writes, "ordersheets/acknowledgement")
        for start in range(0, len(boxes), 50):
            batch = boxes[start : start + 50]
            body = {"vendorId": self.vendor_id, "shipmentBoxIds": batch}
            reply = self._call("PUT", path, body=body, retry="throttled_only")
            results.extend(self._box_results(reply, batch))
        return results

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
        for start in range(0, len(lines), 50):
            batch = lines[start : start + 50]
            body = {
                "vendorId": self.vendor_id,
                "orderSheetInvoiceApplyDtos": [line.to_wire() for line in batch],
            }
            reply = self._call("POST", self._vendor(self._writes, tail), body=body,
                               retry="throttled_only")  # fmt: skip
            boxes = list(dict.fromkeys(line.shipment_box_id for line in batch))
            results.extend(self._box_results(reply, boxes))
        return results

    def _box_results(self, reply: _Reply, boxes: Sequence[int]) -> list[ShipmentBoxResult]:
        data = self._structure(reply.data, WireBoxResults, "$.data")
        by_box = {item.shipment_box_id: item for item in data.response_list}
        out: list[ShipmentBoxResult] = []
        for box in boxes:
            item = by_box.get(box)
            if item is None:
                out.append(
                    ShipmentBoxResult(
                        shipment_box_id=box,
                        succeeded=False,
                        retry_required=True,
                        result_code="NO_RESULT",
                        message="the answer had no result for this box",
                    )
                )
            else:
                out.append(
                    ShipmentBoxResult(
                        shipment_box_id=box,
                        succeeded=item.succeed,
                        retry_required=item.retry_required,
                        result_code=item.result_code or ("OK" if item.succeed else "UNKNOWN"),
                        message=self._clean(item.result_message or ""),
                    )
                )
        return out

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
        order = _box_id(order_id, "order_id")
        code = cancel_code_for(reason)
        if self._user_id is None:
            msg = "cancel_order needs the client's user_id (the WING login id)"
            raise ConfigurationError(msg)
        pairs = list(items.items())
        if not pairs:
            msg = "items must name at least one vendor item to cancel"
            raise ValidationError(msg, field="items", value=items)
        for item, count in pairs:
            _box_id(item, "items (vendor item id)")
            _box_id(count, "items (count)")
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
        start = _kst_day(created_from, "created_from")
        end = _kst_day(created_to, "created_to")
        if end < start or end - start > timedelta(days=31):
            msg = f"created_to must be 0 to 31 days after created_from, got {start} to {end}"
            raise ValidationError(msg, field="created_to", value=created_to)
        if cancel_type not in ("RETURN", "CANCEL"):
            msg = f"cancel_type must be 'RETURN' or 'CANCEL', got {cancel_type!r}"
            raise ValidationError(msg, field="cancel_type", value=cancel_type)
        query = [("createdAtFrom", start.isoformat()), ("createdAtTo", end.isoformat())]
        if status is not None:
            if status not in _RETURN_STATUSES:
                msg = f"status must be one of CC, PR, RU, UC, got {status!r}"
                raise ValidationError(msg, field="status", value=status)
            query.append(("status", status))
        query.append(("cancelType", cancel_type))
        if order_id is not None:
            query.append(("orderId", str(_box_id(order_id, "order_id"))))
        if cancel_type == "RETURN" and status is None and order_id is None:
            msg = "a RETURN query needs status or order_id (Coupang refuses it otherwise)"
            raise ValidationError(msg, field="status", value=None)
        if next_token is not None:
            query.append(("nextToken", str(next_token)))
        if max_per_page != 50:
            query.append(("maxPerPage", str(_box_id(max_per_page, "max_per_page"))))
        reply = self._call("GET", self._vendor(self._returns, "returnRequests"), query=query)
        items = self._structure(reply.data, tuple[ReturnRequest, ...], "$.data")
        return ReturnRequestPage(items=items, next_token=reply.next_token)

    def stopped_shipment(self, receipt_id: int, cancel_count: int) -> None:
        """Answer a stop-shipment request: not shipped, stopped (출고중지완료).

        ``cancel_count`` is the receipt's whole ``cancelCountSum``.
        """
        receipt = _box_id(receipt_id, "receipt_id")
        body = {
            "vendorId": self.vendor_id,
            "receiptId": receipt,
            "cancelCount": _box_id(cancel_count, "cancel_count"),
        }
        path = self._vendor(self._writes, f"returnRequests/{receipt}/stoppedShipment")
        self._result_code(self._call("PUT", path, body=body, retry="throttled_only"))

    def completed_shipment(
        self, receipt_id: int, *, courier: Courier | str, invoice_number: str
    ) -> None:
        """Answer a stop-shipment request: already shipped (이미출고), with the waybill."""
        receipt = _box_id(receipt_id, "receipt_id")
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

    def _result_code(self, reply: _Reply) -> None:
        data = reply.data if isinstance(reply.data, dict) else {}
        code = data.get("resultCode")
        if code is not None and str(code).upper() not in _OK_CODES:
            message = self._clean(str(data.get("resultMessage") or reply.message))
            msg = f"Coupang refused the request: {message}"
            raise RejectedError(
                msg,
                adapter=_ADAPTER,
                vendor_code=str(code)[:64],
            )

    # --- plumbing ----------------------------------------------------------------------------

    def _structure(self, value: object, target: type[_T], path: str) -> _T:
        return structure_at(self._converter, value, target, path, adapter=_ADAPTER)

    def _clean(self, text: str) -> str:
        """A vendor message fit for an error or a log: no secrets, one line, bounded."""
        for secret in self._secrets:
            text = text.replace(secret, "<hidden>")
        text = " ".join(text.split())
        return text if len(text) <= 200 else text[:197] + "..."

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: object = None,
        retry: _Retry = "read",
    ) -> _Reply:
        url = path + ("?" + _encode_query(query) if query else "")
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        if retry == "never":
            return self._once(method, url, content)
        on = self._read_hook if retry == "read" else self._write_hook
        for attempt in stamina.retry_context(on=on, **self._retry):  # type: ignore[arg-type]
            with attempt:
                return self._once(method, url, content)
        msg = "unreachable"
        raise AssertionError(msg)  # pragma: no cover

    def _once(self, method: str, url: str, content: bytes | None) -> _Reply:
        self._throttle.acquire()
        request = self._http.build_request(method, url, content=content)
        where = f"{method} {request.url.path}"
        try:
            response = self._http.send(request)
        except httpx.TimeoutException as exc:
            _log.warning("coupang %s timed out", where)
            msg = f"{where} timed out ({type(exc).__name__}); the outcome is unknown"
            raise TransientError(msg, adapter=_ADAPTER) from None
        except httpx.TransportError as exc:
            _log.warning("coupang %s failed: %s", where, type(exc).__name__)
            msg = f"{where} failed to connect ({type(exc).__name__})"
            raise TransientError(msg, adapter=_ADAPTER) from None
        except httpx.HTTPError as exc:
            msg = f"{where} failed ({type(exc).__name__})"
            raise AdapterError(msg, adapter=_ADAPTER) from None
        _log.debug("coupang %s -> %d", where, response.status_code)
        return self._reply(where, response)

    def _reply(self, where: str, response: httpx.Response) -> _Reply:
        status = response.status_code
        try:
            payload = decode_json(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            payload = None
        body: Mapping[str, object] = payload if isinstance(payload, dict) else {}
        request_id = body.get("transactionId") or response.headers.get("x-request-id")
        rid = self._clean(str(request_id))[:80] if request_id else None
        message = self._clean(str(body.get("message") or "")) if body else ""
        data = body.get("data")
        if status >= 300:
            raise self._error(
                where, status=status, message=message, data=data, request_id=rid, response=response
            )
        if not isinstance(payload, dict):
            msg = (
                f"unexpected response: {where} answered HTTP {status} "
                "with a body that is not a JSON object"
            )
            raise UnexpectedResponseError(msg, adapter=_ADAPTER, status=status, request_id=rid)
        code = body.get("code")
        if code is None and isinstance(data, dict):
            code = data.get("code")
            if not message and data.get("message") is not None:
                message = self._clean(str(data.get("message")))
        if code is None and "data" not in body:
            msg = f"unexpected response: $.code is missing ({where})"
            raise UnexpectedResponseError(msg, adapter=_ADAPTER, status=status, request_id=rid)
        text = "" if code is None else str(code).strip().upper()
        if isinstance(code, dict | list) or (text and len(text) > 32):
            msg = f"unexpected response: $.code must be a number or a short string ({where})"
            raise UnexpectedResponseError(msg, adapter=_ADAPTER, status=status, request_id=rid)
        numeric = re.fullmatch(r"[0-9]{1,4}", text) is not None
        if text in _ERROR_CODES or (numeric and int(text) >= 300):
            envelope_status = int(text) if numeric else 400
            raise self._error(
                where,
                status=envelope_status,
                message=message,
                data=data,
                request_id=rid,
                response=response,
            )
        if text and text not in _OK_CODES and not numeric:
            msg = f"unexpected response: $.code must be a success or error code, got {text[:32]!r}"
            raise UnexpectedResponseError(msg, adapter=_ADAPTER, status=status, request_id=rid)
        token = body.get("nextToken")
        if token is not None and not isinstance(token, str | int):
            msg = f"unexpected response: $.nextToken must be a string, got {token!r}"
            raise UnexpectedResponseError(msg, adapter=_ADAPTER, status=status, request_id=rid)
        next_token = str(token) if token not in (None, "") else None
        return _Reply(code=text, message=message, data=data, next_token=next_token, body=body)

    def _error(
        self,
        where: str,
        *,
        status: int,
        message: str,
        data: object,
        request_id: str | None,
        response: httpx.Response,
    ) -> AdapterError:
        vendor_code = None
        if isinstance(data, dict) and data.get("resultCode") is not None:
            vendor_code = self._clean(str(data.get("resultCode")))[:64]
        said = message or ("a non-JSON body" if response.content else "an empty body")
        text = f"{where} -> HTTP {status}: {said}"
        kwargs: dict[str, Any] = {
            "adapter": _ADAPTER,
            "status": status,
            "vendor_code": vendor_code,
            "request_id": request_id,
        }
        _log.warning("coupang %s -> HTTP %d (%s)", where, status, vendor_code or "-")
        lowered = message.lower()
        if status in (401, 403) or (status < 500 and any(h in lowered for h in _AUTH_HINTS)):
            return AuthenticationError(text, **kwargs)
        if status in (301, 302, 303, 307, 308):
            return AuthenticationError(
                f"{text} (Coupang redirects blocked IPs or vendor ids)", **kwargs
            )
        if status == 404:
            return NotFoundError(text, **kwargs)
        if status == 429:
            retry_after = _retry_after(response.headers.get("retry-after"))
            return RateLimitedError(text, retry_after=retry_after, **kwargs)
        if status >= 500 or status == 408:
            return TransientError(text, **kwargs)
        return RejectedError(text, **kwargs)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds <= 3600 else None
