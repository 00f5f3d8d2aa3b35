"""``CoupangMarket``: the engine's :class:`~consign_core.engine.ports.MarketPort` on a client.

Order refs are ``OrderRef(market="coupang", order_id="{orderId}-{shipmentBoxId}")``
(:func:`~consign_core.adapters.coupang.order_ref`): Coupang acknowledges, invoices and cancels
per shipment box, and one order may have several boxes, so the box is the unit.

Paid orders come through overlapping minute windows (``searchType=timeFrame``): each poll reads
``window``-long windows from the cursor's start up to now, and the next poll starts again
``overlap`` before now, because a paid order takes about ten minutes to show in the lists. The
cursor is a short JSON text the engine stores: the next window start and the shipment boxes
already reported since then, so nothing is reported twice and nothing is lost across restarts.
The very first poll (no cursor) reads the backlog with day paging (``initial_lookback``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta, timezone

from consign_core.adapters.coupang._client import CoupangClient, cancel_code_for
from consign_core.adapters.coupang._cursors import (
    OrderCursor,
    encode_receipts,
    minute,
    seen_receipts,
)
from consign_core.adapters.coupang._domain import (
    MARKET,
    order_ref,
    split_order_ref,
    to_market_order,
)
from consign_core.adapters.coupang._mapping import (
    box_or_none,
    buyer_reason,
    coupang_courier_code,
    snapshot_of,
)
from consign_core.adapters.coupang._types import Invoice
from consign_core.adapters.coupang._wire import KST, OrderSheet, ReturnRequest
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    MarketOrder,
    OrderRef,
    Tracking,
)
from consign_core.domain.workflow import (
    BuyerRequestAnswer,
    BuyerRequestKind,
)
from consign_core.engine.ports import (
    BuyerRequest,
    BuyerRequestPage,
    InvoiceUpload,
    ItemResult,
    MarketOrderSnapshot,
    MarketOrderStatus,
    OrderPage,
)
from consign_core.errors import (
    ConfigurationError,
    NotFoundError,
    RejectedError,
    UnexpectedResponseError,
    ValidationError,
)


__all__ = ["CoupangMarket"]

_log = logging.getLogger("consign_core.adapters.coupang")
_GONE = ("취소 또는 반품", "cancel")  # the single read of a cancelled box answers 400


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _positive(name: str, value: timedelta, *, most: timedelta | None = None) -> timedelta:
    raw: object = value
    if not isinstance(raw, timedelta) or value < timedelta(minutes=1):
        msg = f"{name} must be a timedelta of at least one minute, got {value!r}"
        raise ConfigurationError(msg)
    if most is not None and value > most:
        msg = f"{name} must be at most {most}, got {value}"
        raise ConfigurationError(msg)
    return value


class CoupangMarket:
    """The :class:`~consign_core.engine.ports.MarketPort` for one Coupang seller account.

    Args:
        client: the :class:`~consign_core.adapters.coupang.CoupangClient` (it signs, throttles
            and retries; give it ``user_id`` for seller cancels).
        clock: the aware time windows end at (default: the real UTC clock).
        window: the length of one minute-window read (default 10 minutes, as Coupang advises).
        overlap: how far before now each poll starts again (default 15 minutes: paid orders
            show in the lists about 10 minutes late).
        initial_lookback: how far back the first poll (no cursor) reads paid orders, by day
            (default 7 days, at most 31).
        request_lookback: how far back buyer requests are read (default 3 days).
        windows_per_page: minute windows read per :meth:`list_paid_orders` call (default 6).
        default_ship_within: the ship-by of a sheet without ``estimatedShippingDate``.
    """

    def __init__(
        self,
        client: CoupangClient,
        *,
        clock: Callable[[], datetime] | None = None,
        window: timedelta = timedelta(minutes=10),
        overlap: timedelta = timedelta(minutes=15),
        initial_lookback: timedelta = timedelta(days=7),
        request_lookback: timedelta = timedelta(days=3),
        windows_per_page: int = 6,
        default_ship_within: timedelta = timedelta(days=3),
    ) -> None:
        given: object = client
        if not isinstance(given, CoupangClient):
            msg = f"client must be a CoupangClient, got {type(client).__name__}"
            raise ConfigurationError(msg)
        pages: object = windows_per_page
        if isinstance(pages, bool) or not isinstance(pages, int) or windows_per_page < 1:
            msg = f"windows_per_page must be an integer >= 1, got {windows_per_page!r}"
            raise ConfigurationError(msg)
        self._client = client
        self._clock = clock or _utcnow
        self._window = _positive("window", window, most=timedelta(hours=23))
        self._overlap = _positive("overlap", overlap, most=timedelta(hours=23))
        self._lookback = _positive("initial_lookback", initial_lookback, most=timedelta(days=31))
        self._request_lookback = _positive(
            "request_lookback", request_lookback, most=timedelta(days=31)
        )
        self._windows_per_page = windows_per_page
        self._ship_within = _positive("default_ship_within", default_ship_within)
        self._items: dict[int, tuple[tuple[int, int], ...]] = {}  # box -> (vendor item, units)
        self._receipts: dict[int, int] = {}  # receipt id -> cancelCountSum
        self._buyer_cancels: dict[int, Cancellation] = {}  # box -> the buyer's cancel in ACCEPT

    def __repr__(self) -> str:
        return f"CoupangMarket({self._client!r})"

    __str__ = __repr__

    # ------------------------------------------------------------------ MarketPort

    @property
    def market(self) -> str:
        """``"coupang"``."""
        return MARKET

    @property
    def ack_batch_limit(self) -> int:
        """50 boxes per acknowledgement, Coupang's limit."""
        return 50

    @property
    def invoice_batch_limit(self) -> int:
        """50 waybills per upload call."""
        return 50

    def list_paid_orders(self, cursor: str | None) -> OrderPage:
        """Paid (ACCEPT) orders not reported since ``cursor``; see the module docs."""
        now = minute(self._now())
        state = OrderCursor.decode(cursor) if cursor is not None else None
        if state is None or state.day_token is not None:
            return self._backlog(now, state)
        orders: list[MarketOrder] = []
        seen = dict(state.seen)
        start = state.start
        reads = 0
        while reads < self._windows_per_page and start < now:
            end = min(start + self._window, now)
            sheets = self._client.order_sheets_by_time_frame(start, end, status="ACCEPT")
            orders += self._fresh(sheets, seen)
            reads += 1
            start = end
        has_more = start < now
        next_start = start if has_more else min(start, now - self._overlap)
        next_start = max(next_start, state.start)
        return OrderPage(
            orders=tuple(orders),
            cursor=OrderCursor(start=next_start, seen=seen).trimmed().encode(),
            has_more=has_more,
        )

    def get_order(self, ref: OrderRef) -> MarketOrderSnapshot:
        """The box as Coupang shows it: ACCEPT -> paid, INSTRUCT -> acknowledged, DEPARTURE,
        DELIVERING and NONE_TRACKING -> shipped, FINAL_DELIVERY -> delivered, every item
        cancelled -> cancelled (the single read refuses a cancelled box; the order's boxes
        are read then)."""
        order_id, box = split_order_ref(ref)
        try:
            sheet = self._client.order_sheet(box)
        except RejectedError as exc:
            if not any(hint in str(exc).lower() for hint in _GONE):
                raise
            sheet = self._from_order(order_id, box)
        if sheet.order_id != order_id:
            msg = f"unexpected response: box {box} belongs to order {sheet.order_id}, not {ref}"
            raise UnexpectedResponseError(msg, adapter=MARKET)
        return self._snapshot(sheet)

    def acknowledge(self, refs: Sequence[OrderRef]) -> Sequence[ItemResult]:
        """Press 발주확인 on the boxes (50 per call); an already acknowledged box succeeds."""
        boxes: dict[OrderRef, int] = {}
        results: dict[OrderRef, ItemResult] = {}
        for ref in refs:
            box = box_or_none(ref)
            if box is None:
                results[ref] = ItemResult(ref=ref, ok=False, code="INVALID_REF", message=str(ref))
            else:
                boxes[ref] = box
        answers = {r.shipment_box_id: r for r in self._client.acknowledge(boxes.values())}
        for ref, box in boxes.items():
            answer = answers.get(box)
            if answer is None:
                results[ref] = ItemResult(ref=ref, ok=False, code="NO_RESULT", retryable=True)
            elif not answer.succeeded and answer.result_code == "INVALID_STATUS" and (
                self._already(ref, (MarketOrderStatus.ACKNOWLEDGED, MarketOrderStatus.SHIPPED,
                                    MarketOrderStatus.DELIVERED))
            ):  # fmt: skip
                results[ref] = ItemResult(ref=ref, ok=True, code="ALREADY_ACKNOWLEDGED")
            else:
                results[ref] = ItemResult(
                    ref=ref,
                    ok=answer.succeeded,
                    code=answer.result_code,
                    message=answer.message,
                    retryable=answer.retry_required,
                )
        return [results[ref] for ref in dict.fromkeys(refs)]

    def upload_invoices(self, uploads: Sequence[InvoiceUpload]) -> Sequence[ItemResult]:
        """Upload waybills (INSTRUCT -> DEPARTURE): one invoice line per item of each box.

        ``tracking.courier`` is a Coupang code as the engine's courier map gives it (a
        :class:`Courier` value or a Domeme code is mapped too); a waybill Coupang would refuse
        fails its order here, with ``INVALID_INVOICE_NUMBER``, without a call.
        """
        results: dict[OrderRef, ItemResult] = {}
        batches: list[list[Invoice]] = [[]]
        wanted: dict[int, tuple[OrderRef, Tracking]] = {}
        for upload in uploads:
            ref = upload.ref
            if ref in results or any(ref == seen for seen, _ in wanted.values()):
                continue  # the same order twice in one call: uploaded once
            try:
                lines = self._invoice_lines(ref, upload.tracking)
            except ValidationError as exc:
                results[ref] = ItemResult(
                    ref=ref, ok=False, code="INVALID_INVOICE_NUMBER", message=str(exc)
                )
                continue
            except (NotFoundError, RejectedError) as exc:
                code = exc.vendor_code or "ORDER_NOT_AVAILABLE"
                results[ref] = ItemResult(ref=ref, ok=False, code=code, message=str(exc))
                continue
            if len(batches[-1]) + len(lines) > 50:
                batches.append([])
            batches[-1].extend(lines)
            wanted[lines[0].shipment_box_id] = (ref, upload.tracking)
        for batch in batches:
            if not batch:
                continue
            for answer in self._client.upload_invoices(batch):
                ref, tracking = wanted[answer.shipment_box_id]
                if not answer.succeeded and answer.result_code == "INVALID_STATUS":
                    snapshot = self._quiet_snapshot(ref)
                    if snapshot is not None and snapshot.tracking is not None and (
                        snapshot.tracking.number == tracking.number
                    ):  # fmt: skip
                        results[ref] = ItemResult(ref=ref, ok=True, code="ALREADY_UPLOADED")
                        continue
                results[ref] = ItemResult(
                    ref=ref,
                    ok=answer.succeeded,
                    code=answer.result_code,
                    message=answer.message,
                    retryable=answer.retry_required,
                )
        out = []
        for upload in uploads:
            result = results.get(upload.ref)
            out.append(result or ItemResult(ref=upload.ref, ok=False, code="NO_RESULT",
                                            retryable=True))  # fmt: skip
        return out

    def cancel_order(self, ref: OrderRef, cancellation: Cancellation) -> None:
        """Cancel the box's remaining units as the seller, with the honest reason code: a
        stock-out is always ``CCTTER`` (재고 연동 오류). Reasons Coupang has no seller code for
        (a buyer's change of mind, a delay) are refused with :class:`RejectedError`: the buyer
        files those. Never retried here (the engine reads the order back)."""
        order_id, box = split_order_ref(ref)
        try:
            cancel_code_for(cancellation.reason)
        except ValidationError as exc:
            msg = f"cannot cancel {ref} as the seller: {exc}"
            raise RejectedError(msg, adapter=MARKET, vendor_code="NO_HONEST_CODE") from None
        self._remember(self._client.order_sheet(box))  # fresh counts: a cancel is never stale
        items = dict(self._box_items(box))
        result = self._client.cancel_order(order_id, items, reason=cancellation.reason)
        if not result.succeeded:
            failed = ", ".join(str(i) for i in result.failed_vendor_item_ids)
            msg = f"Coupang did not cancel items {failed} of {ref}"
            raise RejectedError(msg, adapter=MARKET, vendor_code="PARTIAL")

    def list_buyer_requests(self, cursor: str | None) -> BuyerRequestPage:
        """Buyers' cancels made in ACCEPT (v6 ``cancelType=CANCEL``) and stop-shipment
        requests (``status=RU``) of the last ``request_lookback``, each reported once: the
        cursor holds the receipt ids already reported."""
        seen = seen_receipts(cursor)
        today = self._now().astimezone(KST).date()
        first = (self._now() - self._request_lookback).astimezone(KST).date()
        found: list[BuyerRequest] = []
        for kind, status in ((BuyerRequestKind.CANCEL, None), (BuyerRequestKind.STOP_SHIPMENT,
                                                                "RU")):  # fmt: skip
            for receipt in self._receipt_pages(first, today, status):
                self._note(receipt, kind)
                if receipt.receipt_id in seen:
                    continue
                if kind is BuyerRequestKind.STOP_SHIPMENT and (
                    receipt.receipt_status != "RELEASE_STOP_UNCHECKED"
                ):
                    continue
                found += self._requests_of(receipt, kind)
                seen[receipt.receipt_id] = receipt.created_at.astimezone(KST).date().isoformat()
        found.sort(key=lambda r: r.at)
        keep = {k: v for k, v in seen.items() if v >= first.isoformat()}
        return BuyerRequestPage(requests=found, cursor=encode_receipts(keep))

    def answer_buyer_request(
        self,
        ref: OrderRef,
        request_id: str,
        answer: BuyerRequestAnswer,
        tracking: Tracking | None = None,
    ) -> None:
        """``ACCEPT_CANCEL``: nothing to do (Coupang cancels in ACCEPT by itself);
        ``STOP_SHIPMENT``: ``stoppedShipment`` with the receipt's ``cancelCountSum``;
        ``ALREADY_SHIPPED``: ``completedShipment`` with the waybill."""
        split_order_ref(ref)
        if answer is BuyerRequestAnswer.ACCEPT_CANCEL:
            return
        text = request_id.strip()
        if not (text.isascii() and text.isdigit()):
            msg = f"request_id must be a Coupang receiptId (digits), got {request_id!r}"
            raise ValidationError(msg, field="request_id", value=request_id)
        receipt = int(text)
        if answer is BuyerRequestAnswer.STOP_SHIPMENT:
            count = self._receipts.get(receipt) or self._receipt_count(ref, receipt)
            self._client.stopped_shipment(receipt, count)
            return
        if tracking is None:
            msg = "an already-shipped answer needs the waybill (tracking)"
            raise ValidationError(msg, field="tracking", value=None)
        code = coupang_courier_code(tracking.courier)
        if code is None:
            msg = f"courier {tracking.courier.value} has no Coupang deliveryCompanyCode"
            raise ValidationError(msg, field="tracking.courier", value=tracking.courier)
        self._client.completed_shipment(receipt, courier=code, invoice_number=tracking.number)

    def set_listing(self, market_sku: str, *, selling: bool, quantity: int | None = None) -> None:
        """The :class:`~consign_core.engine.ports.ListingPort` call: ``market_sku`` is the
        ``vendorItemId``. Stopping: ``sales/stop``, then the quantity if given; resuming: the
        quantity first if given, then ``sales/resume`` (so the item never shows on sale with a
        stale stock). Each call is idempotent on Coupang.

        A SKU that is not a ``vendorItemId`` (digits) is refused for good
        (:class:`~consign_core.errors.RejectedError`); an item Coupang does not know raises
        :class:`~consign_core.errors.NotFoundError`.
        """
        raw: object = market_sku
        text = raw.strip() if isinstance(raw, str) else ""
        if not (text.isascii() and text.isdigit() and int(text) > 0):
            msg = f"market_sku must be a Coupang vendorItemId (digits), got {market_sku!r}"
            raise RejectedError(msg, adapter=MARKET, vendor_code="NOT_A_VENDOR_ITEM")
        item = int(text)
        client = self._client
        if selling:
            if quantity is not None:
                client.set_quantity(item, quantity)
            client.resume_sales(item)
        else:
            client.stop_sales(item)
            if quantity is not None:
                client.set_quantity(item, quantity)
        _log.info("coupang vendor item %d: sales %s", item, "resumed" if selling else "stopped")

    # ------------------------------------------------------------------ internals

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            msg = "the clock must return an aware datetime"
            raise ConfigurationError(msg)
        return now

    def _backlog(self, now: datetime, state: OrderCursor | None) -> OrderPage:
        """The first poll: ACCEPT sheets of the last ``initial_lookback``, by day pages."""
        if state is None:
            first = (now - self._lookback).date()
            state = OrderCursor(start=now - self._overlap, seen={}, day_from=first, day_token="")
        day_from = state.day_from or now.date()
        page = self._client.order_sheets(
            day_from, max(now.date(), day_from), status="ACCEPT",
            next_token=state.day_token or None,
        )  # fmt: skip
        seen = dict(state.seen)
        orders = self._fresh(page.items, seen)
        more = page.next_token is not None
        nxt = OrderCursor(
            start=state.start,
            seen=seen,
            day_from=day_from if more else None,
            day_token=page.next_token if more else None,
        )
        return OrderPage(orders=tuple(orders), cursor=nxt.trimmed().encode(), has_more=True)

    def _note(self, receipt: ReturnRequest, kind: BuyerRequestKind) -> None:
        """Remember what later calls need: the receipt's units (for ``stoppedShipment``) and,
        for a buyer's cancel in ACCEPT, the cancellation :meth:`get_order` reports."""
        if receipt.cancel_count_sum is not None:
            self._receipts[receipt.receipt_id] = receipt.cancel_count_sum
        if kind is BuyerRequestKind.CANCEL and receipt.fault_by_type in (None, "CUSTOMER"):
            cancellation = Cancellation(
                fault=CancelFault.BUYER,
                reason=buyer_reason(receipt),
                at=receipt.created_at,
                note="cancelled by the buyer before acknowledgement",
            )
            for item in receipt.return_items:
                if item.shipment_box_id is not None:
                    self._buyer_cancels[item.shipment_box_id] = cancellation

    def _fresh(self, sheets: Iterable[OrderSheet], seen: dict[int, str]) -> list[MarketOrder]:
        out: list[MarketOrder] = []
        for sheet in sheets:
            self._remember(sheet)
            if sheet.shipment_box_id in seen or sheet.status != "ACCEPT":
                continue
            try:
                order = to_market_order(sheet, default_ship_within=self._ship_within)
            except UnexpectedResponseError as exc:
                _log.warning("coupang box %d skipped: %s", sheet.shipment_box_id, exc)
                continue
            seen[sheet.shipment_box_id] = minute(sheet.paid_at).isoformat()
            if order is not None:
                out.append(order)
        return out

    def _remember(self, sheet: OrderSheet) -> None:
        self._items[sheet.shipment_box_id] = tuple(
            (item.vendor_item_id, item.shippable_count)
            for item in sheet.order_items
            if not item.canceled and item.shippable_count > 0
        )

    def _box_items(self, box: int) -> tuple[tuple[int, int], ...]:
        items = self._items.get(box)
        if not items:
            self._remember(self._client.order_sheet(box))
            items = self._items.get(box)
        if not items:
            msg = f"box {box} has nothing left to ship or cancel"
            raise RejectedError(msg, adapter=MARKET, vendor_code="NOTHING_LEFT")
        return items

    def _invoice_lines(self, ref: OrderRef, tracking: Tracking) -> list[Invoice]:
        order_id, box = split_order_ref(ref)
        code = coupang_courier_code(tracking.courier)
        if code is None:
            msg = f"courier {tracking.courier.value} has no Coupang deliveryCompanyCode"
            raise ValidationError(msg, field="tracking.courier", value=tracking.courier)
        return [
            Invoice(
                shipment_box_id=box,
                order_id=order_id,
                vendor_item_id=item,
                courier=code,
                invoice_number=tracking.number,
            )
            for item, _ in self._box_items(box)
        ]

    def _from_order(self, order_id: int, box: int) -> OrderSheet:
        for sheet in self._client.order_sheets_by_order(order_id):
            if sheet.shipment_box_id == box:
                return sheet
        msg = f"Coupang has no box {box} in order {order_id}"
        raise NotFoundError(msg, adapter=MARKET, status=404)

    def _snapshot(self, sheet: OrderSheet) -> MarketOrderSnapshot:
        self._remember(sheet)
        return snapshot_of(
            sheet,
            ship_within=self._ship_within,
            buyer_cancel=self._buyer_cancels.get(sheet.shipment_box_id),
        )

    def _quiet_snapshot(self, ref: OrderRef) -> MarketOrderSnapshot | None:
        try:
            return self.get_order(ref)
        except (RejectedError, NotFoundError, UnexpectedResponseError):
            return None

    def _already(self, ref: OrderRef, statuses: tuple[MarketOrderStatus, ...]) -> bool:
        snapshot = self._quiet_snapshot(ref)
        return snapshot is not None and snapshot.status in statuses

    def _receipt_pages(
        self, first: date, last: date, status: str | None
    ) -> Iterable[ReturnRequest]:
        token: str | None = None
        for _ in range(100):
            if status is None:
                page = self._client.return_requests(
                    first, last, cancel_type="CANCEL", next_token=token
                )
            else:
                page = self._client.return_requests(first, last, status=status, next_token=token)
            yield from page.items
            token = page.next_token
            if token is None:
                return

    def _requests_of(self, receipt: ReturnRequest, kind: BuyerRequestKind) -> list[BuyerRequest]:
        boxes = list(dict.fromkeys(
            i.shipment_box_id for i in receipt.return_items if i.shipment_box_id is not None
        ))  # fmt: skip
        if not boxes:
            boxes = [s.shipment_box_id for s in self._client.order_sheets_by_order(
                receipt.order_id)]  # fmt: skip
        return [
            BuyerRequest(
                request_id=str(receipt.receipt_id),
                ref=order_ref(receipt.order_id, box),
                kind=kind,
                at=receipt.created_at,
                reason=buyer_reason(receipt),
            )
            for box in boxes
        ]

    def _receipt_count(self, ref: OrderRef, receipt: int) -> int:
        order_id, _ = split_order_ref(ref)
        today = self._now().astimezone(KST).date()
        first = (self._now() - self._request_lookback).astimezone(KST).date()
        page = self._client.return_requests(first, today, order_id=order_id)
        for item in page.items:
            if item.receipt_id == receipt and item.cancel_count_sum is not None:
                return item.cancel_count_sum
        msg = f"Coupang lists no open receipt {receipt} for {ref}"
        raise NotFoundError(msg, adapter=MARKET, status=404)
