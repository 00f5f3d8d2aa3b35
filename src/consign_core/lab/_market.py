"""The simulated outside world as the engine's ports (here: the lab's clock, its records of
each order, and the market with its buyers; the supplier platform is in ``_supplier``).

The production :class:`~consign_core.engine.Engine` talks to these exactly as it talks to the
Coupang and Domeme adapters: it polls them, sends them commands and reads back what they say.
They hand the engine validated values (the adapters' way), answer every command at once and
never fail; what they do is decided by the world's draws (:mod:`consign_core.lab._world`),
never by the policy. They also keep the lab's records of what happened to each order (when
it was confirmed, shipped, cancelled and by whom), which the lab's results are built from.

Nothing here reads the wall clock or draws a random number: time is :class:`LabClock`, moved
by the lab's run loop (:mod:`consign_core.lab._runner`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from typing import Final, TypeVar

from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    OrderRef,
    Tracking,
)
from consign_core.domain.rules import RuleProfile
from consign_core.domain.workflow import BuyerRequestAnswer
from consign_core.engine.ports import (
    BuyerRequest,
    BuyerRequestKind,
    BuyerRequestPage,
    InvoiceUpload,
    ItemResult,
    MarketOrderSnapshot,
    MarketOrderStatus,
    OrderPage,
)
from consign_core.errors import NotFoundError, RejectedError
from consign_core.lab._world import WorldOrder, from_us


__all__ = ["LabClock", "LabOrder", "SimulatedMarket", "empty_page"]

_BATCH: Final = 50  # Coupang: at most 50 orders per acknowledgement / invoice call
_PATIENCE: Final = 0  # buyer heap entry kinds
_STOP: Final = 1


class LabClock:
    """The lab's simulated time, shared by the ports and the run loop (µs since 1970 KST)."""

    __slots__ = ("now", "now_us")

    def __init__(self, now_us: int) -> None:
        """Start at ``now_us``."""
        self.now_us = now_us
        self.now = from_us(now_us)

    def set(self, now_us: int) -> None:
        """Move to ``now_us`` (never backwards)."""
        if now_us > self.now_us:
            self.now_us = now_us
            self.now = from_us(now_us)


class LabOrder:
    """The lab's record of one order: its world and what happened to it on the ports."""

    __slots__ = (
        "ack_us",
        "cancel_us",
        "cancellation",
        "open_so",
        "outcome",
        "outcome_us",
        "placed",
        "request",
        "status",
        "supplier_id",
        "tracking",
        "upload_us",
        "w",
    )

    def __init__(self, w: WorldOrder) -> None:
        """A newly paid order."""
        self.w = w
        self.status = MarketOrderStatus.PAID
        self.ack_us = -1
        self.upload_us = -1
        self.cancel_us = -1
        self.cancellation: Cancellation | None = None
        self.tracking: Tracking | None = None
        self.request: BuyerRequest | None = None
        self.open_so: str | None = None  # the supplier order whose outcome is still to come
        self.placed = 0  # supplier orders placed so far
        self.supplier_id: str | None = None
        self.outcome = 0  # 0 none, 1 invoiced, 2 cancelled by the supplier
        self.outcome_us = -1


class SimulatedMarket:
    """The market and its buyers, as a :class:`~consign_core.engine.ports.MarketPort`.

    Orders are listed once paid (the world's arrival times). A buyer whose patience runs out
    (the world's draw) cancels an order the market still shows as paid, unacknowledged: the
    market cancels it at once and lists the buyer's request; after acknowledgement a buyer may
    ask to stop the shipment, which the seller answers. It is also the buyer messenger (it
    counts the messages) and a :class:`~consign_core.engine.ports.ListingPort`: while a SKU's
    sales are stopped, a buyer who would have ordered it cannot (the world's order is not
    sold: counted in ``lost_orders``, its value in ``lost_value``), and nothing else changes,
    so every other order and draw stays the same whatever the listing did.
    """

    def __init__(
        self,
        profile: RuleProfile,
        clock: LabClock,
        orders: Iterator[WorldOrder],
        *,
        on_cancel: Callable[[LabOrder, Cancellation], None] | None = None,
        on_arrival: Callable[[LabOrder], None] | None = None,
    ) -> None:
        """A market over the world's order stream (in arrival order)."""
        self._market = profile.market
        self._clock = clock
        self._stream = orders
        self._next: WorldOrder | None = next(orders, None)
        self.records: dict[OrderRef, LabOrder] = {}
        """Every order that arrived, by reference (the lab's records)."""
        self.arrived = 0
        """Orders that arrived so far."""
        self.last_paid_us = -1
        """When the latest order arrived (µs), -1 before the first."""
        self.messages = 0
        """Buyer messages sent."""
        self.on_cancel = on_cancel
        """Called when an order is cancelled (any party), before the engine hears of it."""
        self.on_arrival = on_arrival
        """Called when an order is paid."""
        self.lost_orders = 0
        """Orders the world had for a SKU whose sales were stopped: never placed (lost sales)."""
        self.lost_value = 0
        """Their value in KRW."""
        self._stopped: dict[str, int | None] = {}  # SKU -> units left (None: stopped)
        self._paid: list[OrderRef] = []
        self._requests: list[BuyerRequest] = []
        self._buyers: list[tuple[int, int, int, OrderRef]] = []  # (µs, seq, kind, ref)
        self._seq = 0
        # the empty page of the current cursor, reused by idle polls
        self._no_orders: dict[str | None, OrderPage] = {}
        self._no_requests: dict[str | None, BuyerRequestPage] = {}

    # ------------------------------------------------------------------ the lab's side

    @property
    def arrivals_done(self) -> bool:
        """Every order of the stream arrived."""
        return self._next is None

    def next_due_us(self) -> int | None:
        """When the market next changes by itself (an arrival or a buyer's action)."""
        due = None if self._next is None else self._next.paid_us
        if self._buyers and (due is None or self._buyers[0][0] < due):
            due = self._buyers[0][0]
        return due

    def advance(self, now_us: int) -> None:
        """Let orders arrive and buyers act up to ``now_us`` (in time order)."""
        nxt = self._next
        while nxt is not None and nxt.paid_us <= now_us:
            self._arrive(nxt)
            nxt = self._next = next(self._stream, None)
        buyers = self._buyers
        while buyers and buyers[0][0] <= now_us:
            at_us, _, kind, ref = heapq.heappop(buyers)
            record = self.records[ref]
            if kind == _PATIENCE:
                self._buyer_out_of_patience(record, at_us)
            else:
                self._buyer_asks_to_stop(record, at_us)

    def _push(self, at_us: int, kind: int, ref: OrderRef) -> None:
        self._seq += 1
        heapq.heappush(self._buyers, (at_us, self._seq, kind, ref))

    def _arrive(self, w: WorldOrder) -> None:
        if self._stopped and not self._sellable(w):
            self.lost_orders += 1
            self.lost_value += w.order.value
            self.last_paid_us = w.paid_us
            return
        record = LabOrder(w)
        ref = w.order.ref
        self.records[ref] = record
        self._paid.append(ref)
        self.arrived += 1
        self.last_paid_us = w.paid_us
        if w.buyer_cancel_us is not None:
            self._push(w.buyer_cancel_us, _PATIENCE, ref)
        if self.on_arrival is not None:
            self.on_arrival(record)

    def _buyer_out_of_patience(self, record: LabOrder, at_us: int) -> None:
        if record.status is MarketOrderStatus.PAID:
            w = record.w
            cancellation = Cancellation(
                fault=w.buyer_fault or CancelFault.BUYER,
                reason=w.buyer_reason or CancelReason.BUYER_REMORSE,
                at=from_us(at_us),
            )
            self._cancel(record, cancellation, at_us)
            self._request(record, BuyerRequestKind.CANCEL, at_us)
        elif record.status is MarketOrderStatus.ACKNOWLEDGED and record.w.buyer_insists:
            self._request(record, BuyerRequestKind.STOP_SHIPMENT, at_us)

    def _buyer_asks_to_stop(self, record: LabOrder, at_us: int) -> None:
        if record.status is MarketOrderStatus.ACKNOWLEDGED and record.request is None:
            self._request(record, BuyerRequestKind.STOP_SHIPMENT, at_us)

    def _request(self, record: LabOrder, kind: BuyerRequestKind, at_us: int) -> None:
        if record.request is not None:
            return
        w = record.w
        request = BuyerRequest(
            request_id=f"R{w.index}",
            ref=w.order.ref,
            kind=kind,
            at=from_us(at_us),
            reason=w.buyer_reason or CancelReason.BUYER_REMORSE,
        )
        record.request = request
        self._requests.append(request)

    def _cancel(self, record: LabOrder, cancellation: Cancellation, at_us: int) -> None:
        if self.on_cancel is not None:
            self.on_cancel(record, cancellation)
        record.status = MarketOrderStatus.CANCELLED
        record.cancellation = cancellation
        record.cancel_us = at_us

    def _record(self, ref: OrderRef) -> LabOrder:
        record = self.records.get(ref)
        if record is None:
            msg = f"no order {ref} on the simulated market"
            raise NotFoundError(msg, adapter=self._market, status=404)
        return record

    # ------------------------------------------------------------------ MarketPort

    @property
    def market(self) -> str:
        """The market's name."""
        return self._market

    @property
    def ack_batch_limit(self) -> int:
        """Orders per acknowledgement call."""
        return _BATCH

    @property
    def invoice_batch_limit(self) -> int:
        """Waybills per upload call."""
        return _BATCH

    def list_paid_orders(self, cursor: str | None) -> OrderPage:
        """The orders paid after ``cursor`` (a position in the paid list)."""
        start = int(cursor) if cursor else 0
        if start == len(self._paid):
            return empty_page(self._no_orders, cursor, lambda: OrderPage(orders=(), cursor=cursor))
        refs = self._paid[start:]
        records = self.records
        end = start + len(refs)
        return OrderPage(
            orders=tuple(records[ref].w.order for ref in refs),
            cursor=str(end) if end else None,
        )

    def get_order(self, ref: OrderRef) -> MarketOrderSnapshot:
        """The market's view of one order."""
        record = self._record(ref)
        return MarketOrderSnapshot(
            order=record.w.order,
            status=record.status,
            tracking=record.tracking,
            cancellation=record.cancellation,
        )

    def acknowledge(self, refs: Sequence[OrderRef]) -> Sequence[ItemResult]:
        """Confirm orders (발주확인); a cancelled one is refused."""
        results = []
        now_us = self._clock.now_us
        for ref in refs:
            record = self._record(ref)
            if record.status is MarketOrderStatus.CANCELLED:
                results.append(
                    ItemResult(ref=ref, ok=False, code="CANCELLED", message="order cancelled")
                )
                continue
            if record.status is MarketOrderStatus.PAID:
                record.status = MarketOrderStatus.ACKNOWLEDGED
                record.ack_us = now_us
                delay = record.w.stop_delay_us
                if delay is not None:
                    self._push(now_us + delay, _STOP, ref)
            results.append(ItemResult(ref=ref, ok=True))
        return results

    def upload_invoices(self, uploads: Sequence[InvoiceUpload]) -> Sequence[ItemResult]:
        """Upload waybills; the order is shipped (a cancelled one is refused)."""
        results = []
        for upload in uploads:
            record = self._record(upload.ref)
            if record.status is MarketOrderStatus.CANCELLED:
                results.append(
                    ItemResult(ref=upload.ref, ok=False, code="CANCELLED", message="cancelled")
                )
                continue
            self._ship(record, upload.tracking)
            results.append(ItemResult(ref=upload.ref, ok=True))
        return results

    def _ship(self, record: LabOrder, tracking: Tracking | None) -> None:
        if record.status in {MarketOrderStatus.SHIPPED, MarketOrderStatus.DELIVERED}:
            return
        record.status = MarketOrderStatus.SHIPPED
        record.tracking = tracking
        record.upload_us = self._clock.now_us

    def cancel_order(self, ref: OrderRef, cancellation: Cancellation) -> None:
        """Cancel as the seller, with the fault and reason given, at the market's time."""
        record = self._record(ref)
        if record.status is MarketOrderStatus.CANCELLED:
            return
        if record.status in {MarketOrderStatus.SHIPPED, MarketOrderStatus.DELIVERED}:
            msg = f"order {ref} is already shipped"
            raise RejectedError(msg, adapter=self._market, status=400)
        clock = self._clock
        if cancellation.at != clock.now:
            cancellation = Cancellation(
                fault=cancellation.fault,
                reason=cancellation.reason,
                at=clock.now,
                note=cancellation.note,
            )
        self._cancel(record, cancellation, clock.now_us)

    def list_buyer_requests(self, cursor: str | None) -> BuyerRequestPage:
        """Buyers' requests after ``cursor`` (a position in the request list)."""
        start = int(cursor) if cursor else 0
        if start == len(self._requests):
            return empty_page(
                self._no_requests, cursor, lambda: BuyerRequestPage(requests=(), cursor=cursor)
            )
        requests = self._requests[start:]
        end = start + len(requests)
        return BuyerRequestPage(requests=requests, cursor=str(end) if end else None)

    def answer_buyer_request(
        self,
        ref: OrderRef,
        request_id: str,  # noqa: ARG002 - one request per order here
        answer: BuyerRequestAnswer,
        tracking: Tracking | None = None,
    ) -> None:
        """Accept a cancel / stop (the market cancels the order) or say it has shipped."""
        record = self._record(ref)
        if answer is BuyerRequestAnswer.ALREADY_SHIPPED:
            self._ship(record, tracking)
            return
        if record.status is MarketOrderStatus.CANCELLED:
            return  # the buyer's own cancel: accepting it is a no-op
        w = record.w
        request = record.request
        reason = request.reason if request is not None else CancelReason.BUYER_REMORSE
        clock = self._clock
        # the market's fault as logged (a backtest), else the buyer's
        cancellation = Cancellation(
            fault=w.buyer_fault or CancelFault.BUYER, reason=reason, at=clock.now
        )
        self._cancel(record, cancellation, clock.now_us)

    # ------------------------------------------------------------------ ListingPort

    def set_listing(self, market_sku: str, *, selling: bool, quantity: int | None = None) -> None:
        """Stop or resume a SKU's sales (a quantity, when given, caps what buyers can order)."""
        if selling and quantity is None:
            self._stopped.pop(market_sku, None)
        else:
            self._stopped[market_sku] = quantity if selling else None

    def _sellable(self, w: WorldOrder) -> bool:
        """The buyer can order ``w`` (its SKU on sale, enough units left); takes the units."""
        line = w.order.lines[0]
        if line.sku not in self._stopped:
            return True
        left = self._stopped[line.sku]
        if left is None or left < line.quantity:
            return False
        self._stopped[line.sku] = left - line.quantity
        return True

    # ------------------------------------------------------------------ BuyerMessenger

    def send_message(self, ref: OrderRef, template_id: str, text: str) -> None:  # noqa: ARG002
        """Count the message (the buyer reads it; nothing in the world depends on it)."""
        self.messages += 1


_P = TypeVar("_P")


def empty_page(cache: dict[str | None, _P], cursor: str | None, build: Callable[[], _P]) -> _P:
    """The empty page at ``cursor``, built once (an idle poll asks for it again and again)."""
    page = cache.get(cursor)
    if page is None:
        cache.clear()  # only the latest cursor is asked for again
        page = cache[cursor] = build()
    return page
