"""The simulated supplier platform (Domeme) as the engine's supplier port, with the order feed
(see :mod:`consign_core.lab._market` for the world's other ports)."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Final

from consign_core.domain._prevalidated import new_cancellation, new_supplier_order, new_tracking
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    Courier,
    OrderRef,
    SupplierItem,
    SupplierOrder,
    SupplierOrderStatus,
)
from consign_core.domain.workflow import SupplierCancelOutcome
from consign_core.engine.ports import (
    VENDOR_CODE_STOCK_OUT,
    ChangePage,
    ItemChange,
    PlaceOrderRequest,
    SupplierOrderPage,
)
from consign_core.errors import NotFoundError, RejectedError
from consign_core.lab._market import LabClock, LabOrder, empty_page
from consign_core.lab._world import FixedOutcome, Scenario, WorldOrder, WorldSupplier, from_us
from consign_core.lab._world import outcome_of as _outcome_of


__all__ = ["SimulatedSupplier"]

_TRACKING_COURIER: Final = Courier.CJ
_PLATFORM: Final = "domeme"
_MICROSECOND: Final = from_us(1) - from_us(0)


class SimulatedSupplier:
    """The supplier platform (Domeme) as a :class:`~consign_core.engine.ports.SupplierPort`
    with an order feed (:class:`~consign_core.engine.ports.SupplierOrderFeed`).

    A placed order ships (tracking) or is cancelled by its supplier (판매취소) at the time and
    for the reason the world's hidden draws give for the moment it was placed
    (:func:`~consign_core.lab._world.outcome_of`), or as the backtest's log says. Its change
    feed stays empty unless the scenario has sold-out episodes
    (``Scenario.stock_outs_per_item_month``): the world draws a reported stock per order (an
    input of the order's hidden outcome), not a stock per item. An episode is an item's own
    stock: stock 0 is published when it starts and the supplier's stock level when it ends,
    and an order placed for the item meanwhile is refused as sold out (see
    ``docs/simulate.md``).
    """

    def __init__(
        self,
        clock: LabClock,
        records: dict[OrderRef, LabOrder],
        *,
        scenario: Scenario | None,
        suppliers: dict[str, WorldSupplier] | None,
        place_delay_us: int,
    ) -> None:
        """A platform over the market's records (the world of each order)."""
        self._clock = clock
        self._records = records
        self._scenario = scenario
        self._suppliers = suppliers
        self._place_delay_us = place_delay_us
        self._orders: dict[str, SupplierOrder] = {}
        self._owner: dict[str, LabOrder] = {}
        self._due: list[tuple[int, int, str, bool, CancelReason]] = []
        self._seq = 0
        self._log: list[str] = []  # supplier order ids, one per status change
        self._changes: list[ItemChange] = []
        self._stock: dict[tuple[str, str], int] = {}
        self._no_changes: dict[str | None, ChangePage] = {}
        self._no_orders: dict[str | None, SupplierOrderPage] = {}
        self.supplier_cancels = 0
        """Supplier orders the suppliers cancelled."""
        self.rerouted = 0
        """Supplier orders placed after a first one for the same market order."""
        self._stock_events: list[tuple[int, int, str, str, int]] = []  # (µs, seq, sid, item, n)
        self._sold_out: set[tuple[str, str]] = set()
        self.stock_refusals = 0
        """Orders refused because their item was sold out (a sold-out episode)."""
        if suppliers is not None:
            self._schedule_stock_outs(suppliers)

    # ------------------------------------------------------------------ the lab's side

    def next_due_us(self) -> int | None:
        """When a supplier next ships or cancels an order, or an item sells out or is back."""
        due = self._due[0][0] if self._due else None
        events = self._stock_events
        if events and (due is None or events[0][0] < due):
            due = events[0][0]
        return due

    def advance(self, now_us: int) -> None:
        """Let the suppliers ship or cancel what is due by ``now_us``."""
        if self._stock_events:
            self._publish_stock(now_us)
        due = self._due
        while due and due[0][0] <= now_us:
            at_us, _, order_id, cancelled, reason = heapq.heappop(due)
            order = self._orders[order_id]
            if order.status is not SupplierOrderStatus.PLACED:
                continue  # the seller cancelled it meanwhile
            record = self._owner[order_id]
            at = from_us(at_us)
            if cancelled:
                self.supplier_cancels += 1
                # its own order's next state, from values validated when it was placed
                new = new_supplier_order(
                    supplier_id=order.supplier_id,
                    supplier_order_id=order_id,
                    order_ref=order.order_ref,
                    item_id=order.item_id,
                    quantity=order.quantity,
                    placed_at=order.placed_at,
                    status=SupplierOrderStatus.CANCELLED,
                    cancellation=new_cancellation(
                        fault=CancelFault.SELLER, reason=reason, at=at, note="판매취소"
                    ),
                )
            else:
                new = new_supplier_order(
                    supplier_id=order.supplier_id,
                    supplier_order_id=order_id,
                    order_ref=order.order_ref,
                    item_id=order.item_id,
                    quantity=order.quantity,
                    placed_at=order.placed_at,
                    status=SupplierOrderStatus.INVOICED,
                    tracking=new_tracking(courier=_TRACKING_COURIER, number=order_id),
                )
            self._orders[order_id] = new
            self._log.append(order_id)
            if record.open_so == order_id:
                record.open_so = None
                record.outcome = 2 if cancelled else 1
                record.outcome_us = at_us

    # ------------------------------------------------------------------ SupplierPort

    @property
    def platform(self) -> str:
        """The platform's name."""
        return _PLATFORM

    def place_order(self, request: PlaceOrderRequest) -> SupplierOrder:
        """Place (and pay for) an order; its outcome is the world's."""
        record = self._records.get(request.order_ref)
        if record is None:
            msg = f"no market order {request.order_ref} in the simulated world"
            raise RejectedError(msg, adapter=_PLATFORM, status=400)
        if self._sold_out and (request.supplier_id, request.item_id) in self._sold_out:
            self.stock_refusals += 1
            msg = f"{request.supplier_id}/{request.item_id} is sold out (품절)"
            raise RejectedError(
                msg, adapter=_PLATFORM, status=400, vendor_code=VENDOR_CODE_STOCK_OUT
            )
        w = record.w
        source = 0
        for k, (supplier_id, item_id) in enumerate(w.sources):
            if supplier_id == request.supplier_id and item_id == request.item_id:
                source = k
                break
        clock = self._clock
        order_id = request.idempotency_key
        order = SupplierOrder(
            supplier_id=request.supplier_id,
            supplier_order_id=order_id,
            order_ref=request.order_ref,
            item_id=request.item_id,
            quantity=request.quantity,
            placed_at=clock.now,
        )
        self._orders[order_id] = order
        self._owner[order_id] = record
        record.placed += 1
        if record.placed > 1:
            self.rerouted += 1
        record.supplier_id = request.supplier_id
        record.outcome = 0
        record.open_so = order_id
        outcome = self._outcome(w, source, request.quantity, clock.now_us + self._place_delay_us)
        if outcome is not None:
            cancelled, at_us, reason = outcome
            self._seq += 1
            heapq.heappush(self._due, (at_us, self._seq, order_id, cancelled, reason))
        return order

    def _outcome(
        self, w: WorldOrder, source: int, quantity: int, placed_us: int
    ) -> tuple[bool, int, CancelReason] | None:
        fixed = w.fixed_outcomes
        if fixed is not None:
            outcome: FixedOutcome | None = fixed[source] if source < len(fixed) else None
            if outcome is None:
                return None
            at_us = max((outcome.at - from_us(0)) // _MICROSECOND, placed_us)
            return outcome.cancelled, at_us, outcome.reason or CancelReason.STOCK_OUT
        suppliers = self._suppliers
        scenario = self._scenario
        if suppliers is None or scenario is None:
            return None
        placed_at = from_us(placed_us)
        supplier = suppliers[w.sources[source][0]]
        cancelled, at, reason = _outcome_of(
            supplier, w.draws[source], quantity, placed_at, placed_us, scenario
        )
        return cancelled, max((at - from_us(0)) // _MICROSECOND, placed_us), reason

    def find_order(self, idempotency_key: str) -> SupplierOrder | None:
        """The order placed with ``idempotency_key`` (it is the order's id here)."""
        return self._orders.get(idempotency_key)

    def get_orders(self, supplier_order_ids: Sequence[str]) -> Sequence[SupplierOrder]:
        """The current state of these orders."""
        orders = self._orders
        return [orders[i] for i in supplier_order_ids if i in orders]

    def cancel_order(self, supplier_order_id: str, memo: str) -> SupplierCancelOutcome:  # noqa: ARG002
        """The seller's cancel (구매취소): at once while not shipped, refused after."""
        order = self._orders.get(supplier_order_id)
        if order is None:
            msg = f"no supplier order {supplier_order_id}"
            raise NotFoundError(msg, adapter=_PLATFORM, status=404)
        if order.status is SupplierOrderStatus.CANCELLED:
            return SupplierCancelOutcome.CANCELLED
        if order.status is SupplierOrderStatus.INVOICED:
            return SupplierCancelOutcome.REFUSED
        clock = self._clock
        self._orders[supplier_order_id] = SupplierOrder(
            supplier_id=order.supplier_id,
            supplier_order_id=supplier_order_id,
            order_ref=order.order_ref,
            item_id=order.item_id,
            quantity=order.quantity,
            placed_at=order.placed_at,
            status=SupplierOrderStatus.CANCELLED,
            cancellation=Cancellation(
                fault=CancelFault.BUYER,
                reason=CancelReason.BUYER_REMORSE,
                at=clock.now,
                note="구매취소",
            ),
        )
        self._log.append(supplier_order_id)
        record = self._owner[supplier_order_id]
        if record.open_so == supplier_order_id:
            record.open_so = None
        return SupplierCancelOutcome.CANCELLED

    def list_changes(self, cursor: str | None) -> ChangePage:
        """Stock reports after ``cursor`` (a position in the feed)."""
        start = int(cursor) if cursor else 0
        if start == len(self._changes):
            return empty_page(
                self._no_changes, cursor, lambda: ChangePage(changes=(), cursor=cursor)
            )
        changes = self._changes[start:]
        end = start + len(changes)
        return ChangePage(changes=changes, cursor=str(end) if end else None)

    def get_stock(self, supplier_id: str, item_id: str) -> SupplierItem:
        """The last reported stock of an item."""
        stock = self._stock.get((supplier_id, item_id))
        if stock is None:
            msg = f"no stock report for {supplier_id}/{item_id}"
            raise NotFoundError(msg, adapter=_PLATFORM, status=404)
        return SupplierItem(supplier_id=supplier_id, item_id=item_id, stock=stock, unit_cost=0)

    # ------------------------------------------------------------------ sold-out episodes

    def _schedule_stock_outs(self, suppliers: dict[str, WorldSupplier]) -> None:
        """Queue every item's sold-out episode as two stock changes: 0, then its stock."""
        events = self._stock_events
        for supplier_id in sorted(suppliers):
            supplier = suppliers[supplier_id]
            restock = max(1, round(supplier.stock_level))
            for item_id in sorted(supplier.stock_outs):
                for start_us, end_us in supplier.stock_outs[item_id]:
                    self._seq += 1
                    events.append((start_us, self._seq, supplier_id, item_id, 0))
                    self._seq += 1
                    events.append((end_us, self._seq, supplier_id, item_id, restock))
        heapq.heapify(events)

    def _publish_stock(self, now_us: int) -> None:
        events = self._stock_events
        while events and events[0][0] <= now_us:
            at_us, _, supplier_id, item_id, stock = heapq.heappop(events)
            key = (supplier_id, item_id)
            if stock == 0:
                self._sold_out.add(key)
            else:
                self._sold_out.discard(key)
            self._stock[key] = stock
            self._changes.append(
                ItemChange(supplier_id=supplier_id, item_id=item_id, at=from_us(at_us), stock=stock)
            )

    # ------------------------------------------------------------------ SupplierOrderFeed

    def list_changed_orders(self, cursor: str | None) -> SupplierOrderPage:
        """Orders whose status changed after ``cursor`` (a position in the change log)."""
        start = int(cursor) if cursor else 0
        if start == len(self._log):
            return empty_page(
                self._no_orders, cursor, lambda: SupplierOrderPage(orders=(), cursor=cursor)
            )
        ids = self._log[start:]
        end = start + len(ids)
        orders = self._orders
        return SupplierOrderPage(
            orders=tuple(orders[i] for i in ids), cursor=str(end) if end else None
        )
