"""An in-memory market (Coupang-like) implementing
:class:`~consign_core.engine.ports.MarketPort`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import attrs

from consign_core.domain.calendar import require_aware
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    Courier,
    MarketOrder,
    OrderRef,
    Tracking,
)
from consign_core.domain.serialization import structure, unstructure
from consign_core.domain.workflow._types import BuyerRequestAnswer, BuyerRequestKind
from consign_core.engine.ports import (
    BuyerRequest,
    BuyerRequestPage,
    InvoiceUpload,
    ItemResult,
    MarketOrderSnapshot,
    MarketOrderStatus,
    OrderPage,
)
from consign_core.errors import NotFoundError, RejectedError
from consign_core.testing._builders import T0
from consign_core.testing._faults import Faults


T = TypeVar("T")

__all__ = ["COUPANG_COURIERS", "InMemoryMarket", "SentMessage"]

COUPANG_COURIERS: frozenset[Courier] = frozenset(Courier)
"""Couriers the fake market accepts by default: every :class:`Courier` (Coupang has a
``deliveryCompanyCode`` for each of them); pass ``couriers=`` to refuse some."""


def page_start(cursor: str | None, adapter: str) -> int:
    """The feed position a fake's cursor stands for; a cursor it never issued is refused
    (HTTP 400), as a vendor refuses a forged ``nextToken``."""
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdigit()):
        msg = f"invalid cursor {cursor!r}"
        raise RejectedError(msg, adapter=adapter, status=400)
    return int(cursor)


@attrs.frozen(kw_only=True)
class SentMessage:
    """A message the fake market delivered to a buyer."""

    ref: OrderRef
    """The order."""
    template_id: str
    """The template it came from."""
    text: str
    """The text."""


@attrs.define(kw_only=True)
class _Record:
    order: MarketOrder
    status: MarketOrderStatus = MarketOrderStatus.PAID
    tracking: Tracking | None = None
    cancellation: Cancellation | None = None
    acks: int = 0
    uploads: int = 0
    open_request: str | None = None


class InMemoryMarket:
    """A market in memory that behaves like Coupang's order API, for tests and examples.

    - :meth:`add_order` makes an order paid (결제완료); it shows up in :meth:`list_paid_orders`.
    - :meth:`buyer_cancels` scripts a buyer: before acknowledgement the order is cancelled at
      once and a ``CANCEL`` request is listed; after it, a ``STOP_SHIPMENT`` request waits for
      :meth:`answer_buyer_request`.
    - Acknowledging twice succeeds and is counted in ``duplicate_acknowledgements``; a second
      invoice upload is refused (like Coupang) and counted in ``duplicate_uploads``; a second
      cancel is refused and counted in ``duplicate_cancels``.
    - ``faults`` injects timeouts, 5xx and throttling (see :class:`Faults`); ``calls`` counts
      every call by method name; ``messages`` keeps what buyers were sent (it is also a
      :class:`~consign_core.engine.ports.BuyerMessenger`).
    - ``on_change`` is called after every change (to persist the fake, e.g. in a crash test);
      :meth:`dump` / :meth:`load` turn the whole fake into JSON-ready data and back.
    - It is a :class:`~consign_core.engine.ports.ListingPort`: :meth:`set_listing` stops or
      resumes a SKU's sales (and may set its quantity). While a SKU is stopped, or its
      quantity is below the order's, no buyer can buy it: :meth:`add_order` refuses the order
      (returns ``False``, counted in ``refused_orders``) and it is never listed as paid.
    """

    def __init__(
        self,
        market: str = "coupang",
        *,
        ack_batch_limit: int = 50,
        invoice_batch_limit: int = 50,
        page_size: int = 100,
        faults: Faults | None = None,
        couriers: frozenset[Courier] = COUPANG_COURIERS,
        now: datetime = T0,
    ) -> None:
        """A fake market named ``market``; ``now`` is its clock (move it with :meth:`advance`)."""
        self._market = market
        self._ack_limit = ack_batch_limit
        self._invoice_limit = invoice_batch_limit
        self._page_size = page_size
        self.faults = faults if faults is not None else Faults()
        """The failure injection in use."""
        self.couriers = couriers
        """Accepted couriers."""
        self.now = require_aware(now, "now")
        """The fake's clock."""
        self.calls: Counter[str] = Counter()
        """Calls by method name (including failed ones)."""
        self.messages: list[SentMessage] = []
        """Messages sent to buyers."""
        self.duplicate_acknowledgements = 0
        """Acknowledgements of orders that were already acknowledged."""
        self.duplicate_uploads = 0
        """Invoice uploads for orders that already had one."""
        self.duplicate_cancels = 0
        """Seller cancellations of orders that were already cancelled."""
        self.refused_orders = 0
        """Orders :meth:`add_order` refused because their item was not on sale."""
        self.listings: dict[str, tuple[bool, int | None]] = {}
        """SKU -> ``(selling, quantity)`` as last set (a SKU never set is on sale)."""
        self.on_change: Callable[[], None] | None = None
        """Called after every change."""
        self._orders: dict[OrderRef, _Record] = {}
        self._feed: list[OrderRef] = []
        self._requests: list[BuyerRequest] = []
        self._answers: dict[str, BuyerRequestAnswer] = {}

    # ------------------------------------------------------------------ MarketPort

    @property
    def market(self) -> str:
        """The market's name."""
        return self._market

    @property
    def ack_batch_limit(self) -> int:
        """Most orders per :meth:`acknowledge` call."""
        return self._ack_limit

    @property
    def invoice_batch_limit(self) -> int:
        """Most waybills per :meth:`upload_invoices` call."""
        return self._invoice_limit

    def list_paid_orders(self, cursor: str | None) -> OrderPage:
        """Orders paid after ``cursor``, oldest first, ``page_size`` at a time."""
        return self._call("list_paid_orders", lambda: self._page_orders(cursor))

    def get_order(self, ref: OrderRef) -> MarketOrderSnapshot:
        """The current view of one order."""
        return self._call("get_order", lambda: self._snapshot(ref))

    def acknowledge(self, refs: Sequence[OrderRef]) -> Sequence[ItemResult]:
        """Acknowledge up to ``ack_batch_limit`` orders."""
        if len(refs) > self._ack_limit:
            self.calls["acknowledge"] += 1
            msg = f"at most {self._ack_limit} orders per acknowledgement, got {len(refs)}"
            raise RejectedError(msg, adapter=self._market, status=400)
        return self._call("acknowledge", lambda: self._changed([self._ack(r) for r in refs]))

    def upload_invoices(self, uploads: Sequence[InvoiceUpload]) -> Sequence[ItemResult]:
        """Upload waybills (only acknowledged orders take one)."""
        if len(uploads) > self._invoice_limit:
            self.calls["upload_invoices"] += 1
            msg = f"at most {self._invoice_limit} invoices per upload, got {len(uploads)}"
            raise RejectedError(msg, adapter=self._market, status=400)
        return self._call(
            "upload_invoices", lambda: self._changed([self._upload(u) for u in uploads])
        )

    def cancel_order(self, ref: OrderRef, cancellation: Cancellation) -> None:
        """Cancel as the seller (only paid or acknowledged orders)."""
        self._call("cancel_order", lambda: self._cancel(ref, cancellation))

    def list_buyer_requests(self, cursor: str | None) -> BuyerRequestPage:
        """Buyer requests after ``cursor``."""
        return self._call("list_buyer_requests", lambda: self._page_requests(cursor))

    def answer_buyer_request(
        self,
        ref: OrderRef,
        request_id: str,
        answer: BuyerRequestAnswer,
        tracking: Tracking | None = None,
    ) -> None:
        """Answer a buyer request."""
        self._call("answer_buyer_request", lambda: self._answer(ref, request_id, answer, tracking))

    # ------------------------------------------------------------------ ListingPort

    def set_listing(self, market_sku: str, *, selling: bool, quantity: int | None = None) -> None:
        """Stop or resume the sales of ``market_sku`` (and set its quantity when given);
        setting the state it already has succeeds."""

        def apply() -> None:
            old = self.listings.get(market_sku, (True, None))
            self.listings[market_sku] = (selling, old[1] if quantity is None else quantity)
            self._changed(None)

        self._call("set_listing", apply)

    def is_selling(self, sku: str, quantity: int = 1) -> bool:
        """A buyer can buy ``quantity`` of ``sku`` now (on sale, enough quantity)."""
        selling, left = self.listings.get(sku, (True, None))
        return selling and (left is None or left >= quantity)

    # ------------------------------------------------------------------ BuyerMessenger

    def send_message(self, ref: OrderRef, template_id: str, text: str) -> None:
        """Deliver a message to the buyer of ``ref``."""
        message = SentMessage(ref=ref, template_id=template_id, text=text)

        def send() -> None:
            self.messages.append(message)
            self._changed(None)

        self._call("send_message", send)

    # ------------------------------------------------------------------ scripting

    def advance(self, now: datetime) -> None:
        """Move the fake's clock (never backwards)."""
        require_aware(now, "now")
        self.now = max(self.now, now)

    def add_order(self, order: MarketOrder) -> bool:
        """A buyer pays for ``order``; it appears in :meth:`list_paid_orders`.

        Returns ``False`` (and lists nothing) when a line's SKU is not on sale (stopped with
        :meth:`set_listing`, or not enough quantity): the buyer could not buy it.
        """
        if order.ref in self._orders:
            msg = f"order {order.ref} already exists"
            raise ValueError(msg)
        if not all(self.is_selling(line.sku, line.quantity) for line in order.lines):
            self.refused_orders += 1
            self._changed(None)
            return False
        for line in order.lines:
            selling, left = self.listings.get(line.sku, (True, None))
            if left is not None:
                self.listings[line.sku] = (selling, left - line.quantity)
        self._orders[order.ref] = _Record(order=order)
        self._feed.append(order.ref)
        self._changed(None)
        return True

    def buyer_cancels(
        self, ref: OrderRef, *, reason: CancelReason = CancelReason.BUYER_REMORSE
    ) -> BuyerRequest | None:
        """The buyer of ``ref`` cancels now; returns the listed request (``None`` if the order
        is already cancelled or shipped; the open one if a stop-shipment request is open)."""
        record = self._record(ref)
        if record.status is MarketOrderStatus.PAID:
            kind = BuyerRequestKind.CANCEL
            record.status = MarketOrderStatus.CANCELLED
            record.cancellation = Cancellation(fault=CancelFault.BUYER, reason=reason, at=self.now)
        elif record.status is MarketOrderStatus.ACKNOWLEDGED:
            if record.open_request is not None:  # one stop-shipment request at a time
                return next(q for q in self._requests if q.request_id == record.open_request)
            kind = BuyerRequestKind.STOP_SHIPMENT
        else:
            return None
        request = BuyerRequest(
            request_id=f"R{len(self._requests) + 1}", ref=ref, kind=kind, at=self.now, reason=reason
        )
        self._requests.append(request)
        record.open_request = request.request_id if kind is BuyerRequestKind.STOP_SHIPMENT else None
        self._changed(None)
        return request

    def deliver(self, ref: OrderRef) -> None:
        """The courier delivered ``ref`` (only shipped orders)."""
        record = self._record(ref)
        if record.status is MarketOrderStatus.SHIPPED:
            record.status = MarketOrderStatus.DELIVERED
            self._changed(None)

    def order_status(self, ref: OrderRef) -> MarketOrderStatus:
        """The status of ``ref`` (no fault injection, no call counting)."""
        return self._record(ref).status

    def snapshot_of(self, ref: OrderRef) -> MarketOrderSnapshot:
        """The view of ``ref`` (no fault injection, no call counting)."""
        return self._snapshot(ref)

    def refs(self) -> list[OrderRef]:
        """Every order, in the order they were paid."""
        return list(self._feed)

    def acknowledgements(self, ref: OrderRef) -> int:
        """How many acknowledgements of ``ref`` the market accepted (1 is right)."""
        return self._record(ref).acks

    # ------------------------------------------------------------------ persistence

    def dump(self) -> dict[str, Any]:
        """The whole fake as JSON-ready data (for :meth:`load`)."""
        return {
            "now": self.now.isoformat(),
            "orders": [
                {
                    "order": unstructure(r.order),
                    "status": r.status.value,
                    "tracking": None if r.tracking is None else unstructure(r.tracking),
                    "cancellation": None if r.cancellation is None else unstructure(r.cancellation),
                    "acks": r.acks,
                    "uploads": r.uploads,
                    "open_request": r.open_request,
                }
                for r in (self._orders[ref] for ref in self._feed)
            ],
            "requests": [
                {
                    "request_id": q.request_id,
                    "ref": unstructure(q.ref),
                    "kind": q.kind.value,
                    "at": q.at.isoformat(),
                    "reason": q.reason.value,
                }
                for q in self._requests
            ],
            "answers": {k: v.value for k, v in self._answers.items()},
            "messages": [[unstructure(m.ref), m.template_id, m.text] for m in self.messages],
            "duplicates": [
                self.duplicate_acknowledgements,
                self.duplicate_uploads,
                self.duplicate_cancels,
            ],
            "calls": dict(self.calls),
            "listings": [[sku, s, q] for sku, (s, q) in sorted(self.listings.items())],
            "refused_orders": self.refused_orders,
        }

    def load(self, data: dict[str, Any]) -> None:
        """Replace the fake's state with :meth:`dump`'s data."""
        self.now = datetime.fromisoformat(data["now"])
        self._orders = {}
        self._feed = []
        for row in data["orders"]:
            order: MarketOrder = structure(row["order"], MarketOrder)
            tracking = row["tracking"]
            cancellation = row["cancellation"]
            self._orders[order.ref] = _Record(
                order=order,
                status=MarketOrderStatus(row["status"]),
                tracking=None if tracking is None else structure(tracking, Tracking),
                cancellation=None
                if cancellation is None
                else structure(cancellation, Cancellation),
                acks=row["acks"],
                uploads=row["uploads"],
                open_request=row["open_request"],
            )
            self._feed.append(order.ref)
        self._requests = [
            BuyerRequest(
                request_id=q["request_id"],
                ref=structure(q["ref"], OrderRef),
                kind=BuyerRequestKind(q["kind"]),
                at=datetime.fromisoformat(q["at"]),
                reason=CancelReason(q["reason"]),
            )
            for q in data["requests"]
        ]
        self._answers = {k: BuyerRequestAnswer(v) for k, v in data["answers"].items()}
        self.messages = [
            SentMessage(ref=structure(m[0], OrderRef), template_id=m[1], text=m[2])
            for m in data["messages"]
        ]
        self.duplicate_acknowledgements, self.duplicate_uploads, self.duplicate_cancels = data[
            "duplicates"
        ]
        self.calls = Counter(data["calls"])
        self.listings = {sku: (s, q) for sku, s, q in data.get("listings", ())}
        self.refused_orders = data.get("refused_orders", 0)

    # ------------------------------------------------------------------ internals

    def _call(self, method: str, effect: Callable[[], T]) -> T:
        self.calls[method] += 1
        return self.faults.call(self._market, method, effect)

    def _changed(self, value: T) -> T:
        if self.on_change is not None:
            self.on_change()
        return value

    def _record(self, ref: OrderRef) -> _Record:
        record = self._orders.get(ref)
        if record is None:
            msg = f"no order {ref}"
            raise NotFoundError(msg, adapter=self._market, status=404)
        return record

    def _snapshot(self, ref: OrderRef) -> MarketOrderSnapshot:
        r = self._record(ref)
        return MarketOrderSnapshot(
            order=r.order, status=r.status, tracking=r.tracking, cancellation=r.cancellation
        )

    def _page_orders(self, cursor: str | None) -> OrderPage:
        start = page_start(cursor, self._market)
        refs = self._feed[start : start + self._page_size]
        end = start + len(refs)
        return OrderPage(
            orders=tuple(self._orders[r].order for r in refs),
            cursor=str(end) if end else None,
            has_more=end < len(self._feed),
        )

    def _page_requests(self, cursor: str | None) -> BuyerRequestPage:
        start = page_start(cursor, self._market)
        requests = self._requests[start : start + self._page_size]
        end = start + len(requests)
        return BuyerRequestPage(
            requests=tuple(requests),
            cursor=str(end) if end else None,
            has_more=end < len(self._requests),
        )

    def _ack(self, ref: OrderRef) -> ItemResult:
        record = self._orders.get(ref)
        if record is None:
            return ItemResult(
                ref=ref, ok=False, code="NOT_FOUND_SHIPMENT_BOX", message=f"{ref} not found"
            )
        if record.status is MarketOrderStatus.PAID:
            record.status = MarketOrderStatus.ACKNOWLEDGED
            record.acks += 1
            return ItemResult(ref=ref, ok=True)
        if record.status is MarketOrderStatus.CANCELLED:
            return ItemResult(
                ref=ref,
                ok=False,
                code="CANCELLED",
                message="배송상태를 변경할 수 없습니다. 주문내역을 확인해주세요.",
            )
        record.acks += 1
        self.duplicate_acknowledgements += 1
        return ItemResult(ref=ref, ok=True)

    def _upload(self, upload: InvoiceUpload) -> ItemResult:  # noqa: PLR0911 - Coupang's result codes
        ref = upload.ref
        record = self._orders.get(ref)
        if record is None:
            return ItemResult(ref=ref, ok=False, code="NOT_FOUND_SHIPMENT_BOX")
        if upload.tracking.courier not in self.couriers:
            return ItemResult(
                ref=ref,
                ok=False,
                code="INVALID_INVOICE_NUMBER",
                message=f"courier {upload.tracking.courier.value} is not accepted",
            )
        if record.status is MarketOrderStatus.ACKNOWLEDGED and record.open_request is None:
            record.status = MarketOrderStatus.SHIPPED
            record.tracking = upload.tracking
            record.uploads += 1
            return ItemResult(ref=ref, ok=True)
        if record.status in (MarketOrderStatus.SHIPPED, MarketOrderStatus.DELIVERED):
            self.duplicate_uploads += 1
            return ItemResult(ref=ref, ok=False, code="NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD")
        if record.status is MarketOrderStatus.CANCELLED:
            return ItemResult(ref=ref, ok=False, code="ORDER_DELIVERY_CANCELED")
        if record.open_request is not None:
            return ItemResult(
                ref=ref, ok=False, code="ORDER_DELIVERY_PARTIAL_STOP_REQUESTED", retryable=True
            )
        return ItemResult(
            ref=ref, ok=False, code="INVALID_STATUS", message="배송진행상태가 유효하지 않습니다"
        )

    def _cancel(self, ref: OrderRef, cancellation: Cancellation) -> None:
        record = self._record(ref)
        if record.status is MarketOrderStatus.CANCELLED:
            self.duplicate_cancels += 1
            msg = f"{ref} is already cancelled"
            raise RejectedError(msg, adapter=self._market, status=400)
        if record.status not in (MarketOrderStatus.PAID, MarketOrderStatus.ACKNOWLEDGED):
            msg = (
                f"{ref} is {record.status.value}; only paid or acknowledged orders can be cancelled"
            )
            raise RejectedError(msg, adapter=self._market, status=400)
        record.status = MarketOrderStatus.CANCELLED
        record.cancellation = cancellation
        record.open_request = None
        self._changed(None)

    def _answer(
        self, ref: OrderRef, request_id: str, answer: BuyerRequestAnswer, tracking: Tracking | None
    ) -> None:
        request = next((q for q in self._requests if q.request_id == request_id), None)
        if request is None or request.ref != ref:
            msg = f"no request {request_id} for {ref}"
            raise NotFoundError(msg, adapter=self._market, status=404)
        if request_id in self._answers:
            msg = f"request {request_id} was already answered"
            raise RejectedError(msg, adapter=self._market, status=400)
        record = self._record(ref)
        if answer is BuyerRequestAnswer.ACCEPT_CANCEL:
            if record.status is not MarketOrderStatus.CANCELLED:
                record.status = MarketOrderStatus.CANCELLED
                record.cancellation = Cancellation(
                    fault=CancelFault.BUYER, reason=request.reason, at=self.now
                )
        elif record.open_request != request_id:
            msg = f"request {request_id} is not open"
            raise RejectedError(msg, adapter=self._market, status=400)
        elif answer is BuyerRequestAnswer.STOP_SHIPMENT:
            record.status = MarketOrderStatus.CANCELLED
            record.cancellation = Cancellation(
                fault=CancelFault.BUYER, reason=request.reason, at=self.now
            )
            record.open_request = None
        elif tracking is None or tracking.courier not in self.couriers:
            msg = f"already shipped needs a waybill with an accepted courier, got {tracking}"
            raise RejectedError(msg, adapter=self._market, status=400)
        else:
            record.status = MarketOrderStatus.SHIPPED
            record.tracking = tracking
            record.open_request = None
            record.uploads += 1
        self._answers[request_id] = answer
        self._changed(None)
