"""An in-memory supplier platform (Domeme-like): a
:class:`~consign_core.engine.ports.SupplierPort`."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from consign_core.domain._prevalidated import new_supplier_order
from consign_core.domain._validators import member_of, probability
from consign_core.domain.calendar import require_aware
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    Courier,
    OrderRef,
    SupplierItem,
    SupplierOrder,
    SupplierOrderStatus,
    Tracking,
)
from consign_core.domain.serialization import structure, unstructure
from consign_core.domain.workflow._types import SupplierCancelOutcome
from consign_core.engine.ports import (
    VENDOR_CODE_STOCK_OUT,
    ChangePage,
    ItemChange,
    PlaceOrderRequest,
    SupplierOrderPage,
)
from consign_core.errors import NotFoundError, RejectedError
from consign_core.testing._builders import T0
from consign_core.testing._faults import Faults
from consign_core.testing._market import page_start


T = TypeVar("T")

__all__ = ["Fate", "InMemorySupplier", "SupplierBehaviour"]


@attrs.frozen(kw_only=True)
class Fate:
    """What the supplier will do with one order: ship it or cancel it, and when."""

    ships: bool = True
    """Ship (register a waybill) or cancel (판매취소)."""
    after: timedelta = timedelta(hours=20)
    """How long after placement it happens."""
    reason: CancelReason = CancelReason.STOCK_OUT
    """Why, when it cancels."""


@attrs.frozen(kw_only=True)
class SupplierBehaviour:
    """How a fake supplier behaves by default (every order's :class:`Fate` is drawn from it
    with a ``random.Random`` seeded by the supplier's seed and the order's idempotency key,
    so the same order gets the same fate in every run, whatever the retries)."""

    confirm_after: timedelta = timedelta(hours=1)
    """Placement to the supplier's acceptance (WAITCHK -> WAITDELI)."""
    invoice_after: timedelta = timedelta(hours=20)
    """Placement to the waybill (a slow supplier has a long one)."""
    invoice_jitter: timedelta = timedelta(0)
    """Uniform extra delay in ``[0, invoice_jitter]``."""
    cancel_probability: float = attrs.field(default=0.0, validator=probability)
    """Chance the supplier cancels an order."""
    cancel_after: timedelta = timedelta(hours=6)
    """Placement to the supplier's cancellation."""
    cancel_reason: CancelReason = CancelReason.STOCK_OUT
    """The supplier's reason when it cancels."""
    accept_cancel_requests: bool = True
    """Whether the supplier accepts a buyer cancel filed after it accepted the order."""
    accept_cancel_after: timedelta = timedelta(hours=2)
    """How long it takes to accept such a request."""
    courier: Courier = attrs.field(default=Courier.CJ, validator=member_of(Courier))
    """The supplier's courier (CJ대한통운 by default)."""


@attrs.define(kw_only=True)
class _Item:
    stock: int | None
    unit_cost: int


@attrs.define(kw_only=True)
class _Order:
    order: SupplierOrder
    key: str
    fate: Fate
    cancel_requested: bool = False
    cancel_accepted: bool = False


def _moved(
    order: SupplierOrder,
    status: SupplierOrderStatus,
    *,
    tracking: Tracking | None = None,
    cancellation: Cancellation | None = None,
) -> SupplierOrder:
    """``order`` in a new status: built without re-validating the fields it already had (the
    fake moves its own valid orders on; a test pins the result to the validating constructor)."""
    return new_supplier_order(
        supplier_id=order.supplier_id,
        supplier_order_id=order.supplier_order_id,
        order_ref=order.order_ref,
        item_id=order.item_id,
        quantity=order.quantity,
        placed_at=order.placed_at,
        status=status,
        tracking=tracking,
        cancellation=cancellation,
    )


class InMemorySupplier:
    """A supplier platform in memory that behaves like Domeme's buyer API.

    - Orders are placed at once (and "paid": a second placement with the same idempotency key
      makes a second, paid order, exactly as on Domeme; ``duplicate_orders`` counts them).
    - :meth:`advance` moves time: orders are accepted after ``confirm_after`` and then either
      invoiced or cancelled according to their :class:`Fate` (per supplier
      :class:`SupplierBehaviour`, or scripted per order with :meth:`script`).
    - A buyer cancel (:meth:`cancel_order`) of an order not yet accepted is immediate; of an
      accepted one it is a request the supplier accepts later (or not); of a shipped one it is
      refused.
    - :meth:`set_stock` / :meth:`set_price` publish changes on the change feed; stock also
      limits placements (a sold-out placement raises
      :class:`~consign_core.errors.RejectedError` with ``vendor_code="STOCK_OUT"``).
    - ``faults``, ``calls``, ``on_change``, :meth:`dump` and :meth:`load` as on the market fake.
    """

    def __init__(
        self,
        platform: str = "domeme",
        *,
        behaviour: SupplierBehaviour | None = None,
        behaviours: Mapping[str, SupplierBehaviour] | None = None,
        faults: Faults | None = None,
        seed: int = 0,
        now: datetime = T0,
        page_size: int = 100,
    ) -> None:
        """A fake platform; ``behaviours`` by supplier id override the default ``behaviour``."""
        self._platform = platform
        self.behaviour = behaviour if behaviour is not None else SupplierBehaviour()
        """The default behaviour."""
        self.behaviours: dict[str, SupplierBehaviour] = dict(behaviours or {})
        """Behaviour by supplier id."""
        self.faults = faults if faults is not None else Faults()
        """The failure injection in use."""
        self.seed = seed
        """Seed of the per-order fates."""
        self.now = require_aware(now, "now")
        """The fake's clock."""
        self.calls: Counter[str] = Counter()
        """Calls by method name."""
        self.placements: Counter[str] = Counter()
        """Orders placed per idempotency key (more than 1 is a duplicate)."""
        self.on_change: Callable[[], None] | None = None
        """Called after every change."""
        self.cancel_memos: dict[str, str] = {}
        """The memo of the last cancel request, by supplier order id."""
        self.requests: dict[str, PlaceOrderRequest] = {}
        """The request each order was placed with (its delivery details and option code), by
        supplier order id; held in memory only (not in :meth:`dump`)."""
        self._page_size = page_size
        self._items: dict[tuple[str, str], _Item] = {}
        self._orders: dict[str, _Order] = {}
        self._by_key: dict[str, str] = {}
        self._scripted: dict[str, Fate] = {}
        self._feed: list[ItemChange] = []
        self._order_log: list[str] = []  # supplier order ids, one per status change
        self._due: list[tuple[datetime, int, str]] = []
        self._serial = 0

    # ------------------------------------------------------------------ SupplierPort

    @property
    def platform(self) -> str:
        """The platform's name."""
        return self._platform

    def place_order(self, request: PlaceOrderRequest) -> SupplierOrder:
        """Place (and pay for) an order."""
        return self._call("place_order", lambda: self._changed(self._place(request)))

    def find_order(self, idempotency_key: str) -> SupplierOrder | None:
        """The first order placed with ``idempotency_key``."""

        def find() -> SupplierOrder | None:
            order_id = self._by_key.get(idempotency_key)
            return None if order_id is None else self._orders[order_id].order

        return self._call("find_order", find)

    def get_orders(self, supplier_order_ids: Sequence[str]) -> Sequence[SupplierOrder]:
        """The current state of these orders."""

        def read() -> list[SupplierOrder]:
            entries = map(self._orders.get, supplier_order_ids)
            return [entry.order for entry in entries if entry is not None]

        return self._call("get_orders", read)

    def cancel_order(self, supplier_order_id: str, memo: str) -> SupplierCancelOutcome:
        """Ask to cancel an order."""

        def cancel() -> SupplierCancelOutcome:
            outcome = self._cancel(supplier_order_id)
            self.cancel_memos[supplier_order_id] = memo
            return self._changed(outcome)

        return self._call("cancel_order", cancel)

    def list_changes(self, cursor: str | None) -> ChangePage:
        """Stock and price changes after ``cursor``."""

        def page() -> ChangePage:
            start = page_start(cursor, self._platform)
            changes = self._feed[start : start + self._page_size]
            end = start + len(changes)
            return ChangePage(
                changes=tuple(changes),
                cursor=str(end) if end else None,
                has_more=end < len(self._feed),
            )

        return self._call("list_changes", page)

    def list_changed_orders(self, cursor: str | None) -> SupplierOrderPage:
        """Orders whose status changed after ``cursor``, each in its current state
        (:class:`~consign_core.engine.ports.SupplierOrderFeed`)."""

        def page() -> SupplierOrderPage:
            start = page_start(cursor, self._platform)
            ids = self._order_log[start : start + self._page_size]
            end = start + len(ids)
            return SupplierOrderPage(
                orders=tuple(self._orders[i].order for i in ids),
                cursor=str(end) if end else None,
                has_more=end < len(self._order_log),
            )

        return self._call("list_changed_orders", page)

    def get_stock(self, supplier_id: str, item_id: str) -> SupplierItem:
        """One item's stock and cost."""

        def read() -> SupplierItem:
            item = self._items.get((supplier_id, item_id))
            if item is None:
                msg = f"no item {supplier_id}/{item_id}"
                raise NotFoundError(msg, adapter=self._platform, status=404)
            return SupplierItem(
                supplier_id=supplier_id, item_id=item_id, stock=item.stock, unit_cost=item.unit_cost
            )

        return self._call("get_stock", read)

    # ------------------------------------------------------------------ scripting

    def add_item(
        self, supplier_id: str, item_id: str, *, stock: int | None = None, unit_cost: int = 5_000
    ) -> None:
        """List an item; ``stock=None`` means unlimited."""
        self._items[(supplier_id, item_id)] = _Item(stock=stock, unit_cost=unit_cost)

    def set_stock(self, supplier_id: str, item_id: str, stock: int) -> None:
        """The supplier changes an item's stock now (0 = sold out); published on the feed."""
        change = ItemChange(supplier_id=supplier_id, item_id=item_id, at=self.now, stock=stock)
        self._item(supplier_id, item_id).stock = stock
        self._feed.append(change)
        self._changed(None)

    def set_price(self, supplier_id: str, item_id: str, unit_cost: int) -> None:
        """The supplier changes an item's unit cost now; published on the feed."""
        change = ItemChange(
            supplier_id=supplier_id, item_id=item_id, at=self.now, unit_cost=unit_cost
        )
        self._item(supplier_id, item_id).unit_cost = unit_cost
        self._feed.append(change)
        self._changed(None)

    def script(self, ref: OrderRef, fate: Fate, *, attempt: int | None = None) -> None:
        """Fix the fate of the supplier order(s) for market order ``ref`` (all attempts, or
        only ``attempt``)."""
        key = f"{ref.market}:{ref.order_id}" + ("" if attempt is None else f":{attempt}")
        self._scripted[key] = fate

    def advance(self, now: datetime) -> None:
        """Move time to ``now`` and let the suppliers act (accept, ship, cancel)."""
        require_aware(now, "now")
        if now <= self.now:
            return
        changed = False
        while self._due and self._due[0][0] <= now:
            due, _, order_id = heapq.heappop(self._due)
            self.now = max(self.now, due)
            changed = self._act(order_id) or changed
        self.now = now
        if changed:
            self._changed(None)

    def orders(self) -> list[SupplierOrder]:
        """Every supplier order, in the order placed (no fault injection)."""
        return [o.order for o in self._orders.values()]

    @property
    def duplicate_orders(self) -> int:
        """Orders placed with an idempotency key that already had one (each costs money)."""
        return sum(count - 1 for count in self.placements.values() if count > 1)

    # ------------------------------------------------------------------ persistence

    def dump(self) -> dict[str, Any]:
        """The whole fake as JSON-ready data (for :meth:`load`)."""
        return {
            "now": self.now.isoformat(),
            "serial": self._serial,
            "items": [[s, i, it.stock, it.unit_cost] for (s, i), it in self._items.items()],
            "orders": [
                [unstructure(o.order), o.key, _fate_data(o.fate), o.cancel_requested]
                for o in self._orders.values()
            ],
            "cancel_accepted": [i for i, o in self._orders.items() if o.cancel_accepted],
            "feed": [unstructure(c) for c in self._feed],
            "order_log": list(self._order_log),
            "due": [[d.isoformat(), n, i] for d, n, i in self._due],
            "placements": dict(self.placements),
            "calls": dict(self.calls),
            "cancel_memos": dict(self.cancel_memos),
        }

    def load(self, data: dict[str, Any]) -> None:
        """Replace the fake's state with :meth:`dump`'s data."""
        self.now = datetime.fromisoformat(data["now"])
        self._serial = data["serial"]
        self._items = {(s, i): _Item(stock=st, unit_cost=c) for s, i, st, c in data["items"]}
        self._orders = {}
        self._by_key = {}
        listed = data.get("cancel_accepted")  # older dumps: every request was accepted
        accepted = None if listed is None else set(listed)
        for raw, key, fate, requested in data["orders"]:
            order: SupplierOrder = structure(raw, SupplierOrder)
            order_id = order.supplier_order_id
            self._orders[order_id] = _Order(
                order=order,
                key=key,
                fate=_fate_from(fate),
                cancel_requested=requested,
                cancel_accepted=requested if accepted is None else order_id in accepted,
            )
            self._by_key.setdefault(key, order.supplier_order_id)
        self._feed = [structure(c, ItemChange) for c in data["feed"]]
        self._order_log = list(data.get("order_log", ()))
        self._due = [(datetime.fromisoformat(d), n, i) for d, n, i in data["due"]]
        heapq.heapify(self._due)
        self.placements = Counter(data["placements"])
        self.calls = Counter(data["calls"])
        self.cancel_memos = dict(data.get("cancel_memos", {}))

    # ------------------------------------------------------------------ internals

    def _call(self, method: str, effect: Callable[[], T]) -> T:
        self.calls[method] += 1
        return self.faults.call(self._platform, method, effect)

    def _changed(self, value: T) -> T:
        if self.on_change is not None:
            self.on_change()
        return value

    def _item(self, supplier_id: str, item_id: str) -> _Item:
        item = self._items.get((supplier_id, item_id))
        if item is None:
            item = _Item(stock=None, unit_cost=5_000)
            self._items[(supplier_id, item_id)] = item
        return item

    def _behaviour(self, supplier_id: str) -> SupplierBehaviour:
        return self.behaviours.get(supplier_id, self.behaviour)

    def _fate(self, request: PlaceOrderRequest) -> Fate:
        ref = request.order_ref
        for key in (request.idempotency_key, f"{ref.market}:{ref.order_id}"):
            scripted = self._scripted.get(key)
            if scripted is not None:
                return scripted
        b = self._behaviour(request.supplier_id)
        rng = random.Random(f"{self.seed}|{request.idempotency_key}")  # noqa: S311 - test double
        if rng.random() < b.cancel_probability:
            return Fate(ships=False, after=b.cancel_after, reason=b.cancel_reason)
        return Fate(ships=True, after=b.invoice_after + rng.random() * b.invoice_jitter)

    def _schedule(self, at: datetime, order_id: str) -> None:
        heapq.heappush(self._due, (at, self._serial, order_id))
        self._serial += 1

    def _place(self, request: PlaceOrderRequest) -> SupplierOrder:
        item = self._item(request.supplier_id, request.item_id)
        if item.stock is not None:
            if item.stock < request.quantity:
                msg = f"item {request.item_id} is sold out (품절)"
                raise RejectedError(
                    msg, adapter=self._platform, status=400, vendor_code=VENDOR_CODE_STOCK_OUT
                )
            item.stock -= request.quantity
        self._serial += 1
        order = SupplierOrder(
            supplier_id=request.supplier_id,
            supplier_order_id=f"D{self._serial:08d}",
            order_ref=request.order_ref,
            item_id=request.item_id,
            quantity=request.quantity,
            placed_at=self.now,
        )
        fate = self._fate(request)
        self._orders[order.supplier_order_id] = _Order(
            order=order, key=request.idempotency_key, fate=fate
        )
        self._by_key.setdefault(request.idempotency_key, order.supplier_order_id)
        self.placements[request.idempotency_key] += 1
        self.requests[order.supplier_order_id] = request
        b = self._behaviour(request.supplier_id)
        first = min(b.confirm_after, fate.after)
        self._schedule(self.now + first, order.supplier_order_id)
        if fate.after > first:
            self._schedule(self.now + fate.after, order.supplier_order_id)
        return order

    def _act(self, order_id: str) -> bool:
        """Do whatever is due for ``order_id`` at ``self.now``; True if something changed."""
        entry = self._orders[order_id]
        order = entry.order
        if not order.is_open:
            return False
        b = self._behaviour(order.supplier_id)
        elapsed = self.now - order.placed_at
        if entry.fate.after <= elapsed:
            if entry.fate.ships:
                tracking = Tracking(
                    courier=b.courier, number=f"{6_000_000_000 + int(order_id[1:]):012d}"
                )
                entry.order = _moved(order, SupplierOrderStatus.INVOICED, tracking=tracking)
                self._order_log.append(order_id)
            else:
                accepted = entry.cancel_accepted
                cancellation = Cancellation(
                    fault=CancelFault.BUYER if accepted else CancelFault.SELLER,
                    reason=entry.fate.reason,
                    at=self.now,
                    note="구매취소 요청 승인" if accepted else "판매취소",
                )
                entry.order = _moved(
                    order, SupplierOrderStatus.CANCELLED, cancellation=cancellation
                )
                self._order_log.append(order_id)
            return True
        if order.status is SupplierOrderStatus.PLACED and elapsed >= b.confirm_after:
            entry.order = _moved(order, SupplierOrderStatus.CONFIRMED)
            self._order_log.append(order_id)
            return True
        return False

    def _cancel(self, order_id: str) -> SupplierCancelOutcome:
        entry = self._orders.get(order_id)
        if entry is None:
            msg = f"no supplier order {order_id}"
            raise NotFoundError(msg, adapter=self._platform, status=404)
        order = entry.order
        if order.status is SupplierOrderStatus.CANCELLED:
            return SupplierCancelOutcome.CANCELLED
        if order.status is SupplierOrderStatus.INVOICED:
            return SupplierCancelOutcome.REFUSED
        if order.status is SupplierOrderStatus.PLACED:
            self._buyer_cancel(entry)
            return SupplierCancelOutcome.CANCELLED
        b = self._behaviour(order.supplier_id)
        if not entry.cancel_requested:
            entry.cancel_requested = True
            if b.accept_cancel_requests:
                accept_at = self.now + b.accept_cancel_after
                # Accepted unless the supplier ships or cancels (판매취소) on its own first.
                if order.placed_at + entry.fate.after > accept_at:
                    entry.cancel_accepted = True
                    entry.fate = Fate(
                        ships=False,
                        after=accept_at - order.placed_at,
                        reason=CancelReason.BUYER_REMORSE,
                    )
                    self._schedule(accept_at, order_id)
        return SupplierCancelOutcome.REQUESTED

    def _buyer_cancel(self, entry: _Order) -> None:
        order = entry.order
        item = self._items.get((order.supplier_id, order.item_id))
        if item is not None and item.stock is not None:
            item.stock += order.quantity
        cancellation = Cancellation(
            fault=CancelFault.BUYER, reason=CancelReason.BUYER_REMORSE, at=self.now, note="구매취소"
        )
        entry.order = attrs.evolve(
            order, status=SupplierOrderStatus.CANCELLED, cancellation=cancellation
        )
        self._order_log.append(order.supplier_order_id)


def _fate_data(fate: Fate) -> list[Any]:
    return [fate.ships, fate.after.total_seconds(), fate.reason.value]


def _fate_from(data: list[Any]) -> Fate:
    ships, seconds, reason = data
    return Fate(ships=ships, after=timedelta(seconds=seconds), reason=CancelReason(reason))
