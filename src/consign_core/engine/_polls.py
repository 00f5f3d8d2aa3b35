"""How the engine polls: the market's paid orders and buyer requests, the supplier's change
feed and orders, and the due wake-ups; each poll returns the workflow events it found."""

from __future__ import annotations

import heapq
import logging
from datetime import datetime
from typing import Any

from consign_core.domain._prevalidated import new_wake_up
from consign_core.domain.events import (
    BuyerCancelRequested,
    OrderPaid,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
)
from consign_core.domain.model import (
    CancelFault,
    MarketOrder,
    OrderRef,
    SupplierOrderStatus,
)
from consign_core.domain.timing import SupplierOrderState
from consign_core.domain.workflow._types import (
    OrderState,
    PriceChanged,
    StockChanged,
    SupplierCancelOutcome,
    SupplierCancelResult,
    SupplierCancelState,
    WorkflowEvent,
)
from consign_core.engine._exec import Run, as_adapter_error
from consign_core.engine._listing import Listing
from consign_core.errors import (
    AdapterError,
)


__all__ = ["Polling"]

_CURSOR_ORDERS = "market.orders"
_CURSOR_REQUESTS = "market.requests"
_CURSOR_CHANGES = "supplier.changes"
_CURSOR_SUPPLIER_ORDERS = "supplier.orders"


class Polling(Listing):
    """The engine's polls (a part of :class:`~consign_core.engine.Engine`; the listing
    mirror it feeds is :class:`~consign_core.engine._listing.Listing`)."""

    # ------------------------------------------------------------------ polls

    def _cursor(self, name: str) -> str | None:
        if name not in self._cursors:
            self._cursors[name] = self._store.cursor(name)
        return self._cursors[name]

    def _set_cursor(self, name: str, value: str | None, run: Run) -> None:
        if value is not None and value != self._cursors.get(name):
            self._cursors[name] = value
            run.batch.cursors[name] = value

    def _poll_orders(self, run: Run) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        seen: set[OrderRef] = set()
        cursor = self._cursor(_CURSOR_ORDERS)
        for _ in range(self._settings.max_pages):
            try:
                page = self._market.list_paid_orders(cursor)
            except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
                exc = as_adapter_error(caught)
                self._poll_error("market orders", exc, run)
                break
            fresh = [o for o in page.orders if o.ref not in self._states and o.ref not in seen]
            market = self._market.market
            if any(o.ref.market != market for o in fresh):
                fresh = self._own_market_only(fresh, run)
            known = self._store.known(o.ref for o in fresh) if fresh else set()
            for order in fresh:
                if order.ref in known:
                    continue
                seen.add(order.ref)
                out.append((order.ref, OrderPaid(order=order)))
                if self._log.isEnabledFor(logging.INFO):
                    self._log.info(
                        "order %s: paid, taking it in",
                        order.ref,
                        extra={"order_ref": str(order.ref)},
                    )
            cursor = page.cursor or cursor
            self._set_cursor(_CURSOR_ORDERS, cursor, run)
            if not page.has_more:
                break
        run.new_orders += len(out)
        return out

    def _own_market_only(self, orders: list[MarketOrder], run: Run) -> list[MarketOrder]:
        """Keep the orders of this engine's market (names compare case-insensitively); say so
        loudly for any other: an adapter listing another market's orders is misconfigured."""
        market = self._market.market.strip().casefold()
        kept = []
        for order in orders:
            if order.ref.market.strip().casefold() == market:
                kept.append(order)
                continue
            msg = (
                f"market orders: {order.ref} is not an order of market "
                f"{self._market.market!r}; skipped (check the adapter's market name)"
            )
            run.poll_errors.append(msg)
            self._log.error("%s", msg, extra={"order_ref": str(order.ref)})
        return kept

    def _poll_requests(
        self, run: Run, arriving: set[OrderRef]
    ) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        cursor = self._cursor(_CURSOR_REQUESTS)
        for _ in range(self._settings.max_pages):
            try:
                page = self._market.list_buyer_requests(cursor)
            except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
                exc = as_adapter_error(caught)
                self._poll_error("buyer requests", exc, run)
                break
            states = self._states
            unknown = {
                r.ref for r in page.requests if r.ref not in arriving and r.ref not in states
            }
            if unknown:
                unknown -= self._store.known(unknown)
            if unknown and not self._past_grace(unknown, run):
                # Not seen paid yet: read this page again next run rather than lose it.
                self._log.info(
                    "buyer requests for orders not taken in yet: %s", sorted(map(str, unknown))
                )
                break
            for request in page.requests:
                if request.ref in unknown:
                    continue  # an order this engine never took in, past the grace: reported
                event = BuyerCancelRequested(
                    ref=request.ref,
                    at=request.at,
                    reason=request.reason,
                    request_id=request.request_id,
                )
                out.append((request.ref, event))
                self._log.info(
                    "order %s: buyer asked to %s",
                    request.ref,
                    request.kind.value,
                    extra={"order_ref": str(request.ref)},
                )
            cursor = page.cursor or cursor
            self._set_cursor(_CURSOR_REQUESTS, cursor, run)
            if not page.has_more:
                break
        return out

    def _past_grace(self, unknown: set[OrderRef], run: Run) -> bool:
        """True once every order in ``unknown`` has held the request feed back for
        ``unknown_request_grace``: their requests are then skipped and reported, so that one
        order this engine never takes in (paid before it started, handled by hand) cannot
        stop every later buyer request."""
        since = self._unknown_requests
        if len(since) > 1_000:
            self._unknown_requests = since = {r: t for r, t in since.items() if r in unknown}
        now = run.now
        grace = self._settings.unknown_request_grace
        for ref in unknown:  # every one starts its grace when first seen
            since.setdefault(ref, now)
        if any(now - since[ref] < grace for ref in unknown):
            return False
        for ref in sorted(unknown, key=str):
            del since[ref]
            msg = (
                f"buyer requests: a request about {ref}, an order this engine never took in, "
                f"was skipped after waiting {grace} for it; handle it by hand"
            )
            run.poll_errors.append(msg)
            self._log.error("%s", msg, extra={"order_ref": str(ref)})
        return True

    def _poll_changes(self, run: Run) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        stock_changed: dict[tuple[str, str], None] = {}  # for the listing mirror
        cursor = self._cursor(_CURSOR_CHANGES)
        for _ in range(self._settings.max_pages):
            try:
                page = self._supplier.list_changes(cursor)
            except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
                exc = as_adapter_error(caught)
                self._poll_error("supplier changes", exc, run)
                break
            for change in page.changes:
                key = (change.supplier_id, change.item_id)
                refs = sorted(self._by_item.get(key, ()), key=str)
                if change.stock is not None:
                    self._report_stock(
                        change.supplier_id, change.item_id, change.stock, change.at, run
                    )
                    stock_changed[key] = None
                    stock_event = StockChanged(
                        supplier_id=change.supplier_id,
                        item_id=change.item_id,
                        stock=change.stock,
                        at=change.at,
                    )
                    out += [(ref, stock_event) for ref in refs]
                if change.unit_cost is not None:
                    price_event = PriceChanged(
                        supplier_id=change.supplier_id,
                        item_id=change.item_id,
                        unit_cost=change.unit_cost,
                        at=change.at,
                    )
                    out += [(ref, price_event) for ref in refs]
            cursor = page.cursor or cursor
            self._set_cursor(_CURSOR_CHANGES, cursor, run)
            if not page.has_more:
                break
        if stock_changed:
            self._mirror_listing(stock_changed, run)
        return out

    def _due_supplier_orders(self, now: datetime) -> list[str]:
        """The open supplier orders to ask about in this run (all, or those due by cadence)."""
        open_orders = self._open_supplier
        if not self._settings.supplier_poll_every:
            return list(open_orders)
        due = self._supplier_due
        if len(due) > 2 * len(open_orders) + 1_000:  # forget orders no longer open
            self._supplier_due = due = {i: t for i, t in due.items() if i in open_orders}
        return [i for i in open_orders if due.get(i, now) <= now]  # unseen: due now

    def _poll_supplier_orders(self, run: Run) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        if self._order_feed is not None:
            return self._poll_order_feed(run)
        ids = self._due_supplier_orders(run.now)
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        batch = self._settings.supplier_poll_batch
        every = self._settings.supplier_poll_every
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            try:
                orders = self._supplier.get_orders(chunk)
            except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
                exc = as_adapter_error(caught)
                self._poll_error("supplier orders", exc, run)
                break
            if every:
                next_at = run.now + every
                for i in chunk:
                    self._supplier_due[i] = next_at
            for order in orders:
                out += self._supplier_change(order, run.now)
        return out

    def _poll_order_feed(self, run: Run) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        """With a :class:`~consign_core.engine.ports.SupplierOrderFeed`: ask once about each
        supplier order taken on since the last run (but the ones this engine just placed, whose
        placement answer was their first read), then read what changed."""
        feed = self._order_feed
        assert feed is not None  # noqa: S101 - checked by the caller
        seen: dict[str, Any] = {}
        unpolled = [i for i in self._unpolled if i in self._open_supplier]
        batch = self._settings.supplier_poll_batch
        for start in range(0, len(unpolled), batch):
            chunk = unpolled[start : start + batch]
            try:
                orders = self._supplier.get_orders(chunk)
            except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
                self._poll_error("supplier orders", as_adapter_error(caught), run)
                break
            for i in chunk:
                del self._unpolled[i]
            for order in orders:
                seen[order.supplier_order_id] = order
        if len(self._unpolled) > 2 * len(self._open_supplier) + 1_000:
            self._unpolled = {i: None for i in self._unpolled if i in self._open_supplier}
        cursor = self._cursor(_CURSOR_SUPPLIER_ORDERS)
        for _ in range(self._settings.max_pages):
            try:
                page = feed.list_changed_orders(cursor)
            except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
                self._poll_error("supplier order feed", as_adapter_error(caught), run)
                break
            for order in page.orders:  # the latest state of each, once per run
                seen.pop(order.supplier_order_id, None)
                seen[order.supplier_order_id] = order
            cursor = page.cursor or cursor
            self._set_cursor(_CURSOR_SUPPLIER_ORDERS, cursor, run)
            if not page.has_more:
                break
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        for order in seen.values():
            out += self._supplier_change(order, run.now)
        return out

    def _supplier_change(
        self, order: Any, now: datetime
    ) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        """The events of one supplier order's current state (none if nothing is new)."""
        status = order.status
        if status is SupplierOrderStatus.PLACED:
            return []  # nothing new
        known = self._open_supplier.get(order.supplier_order_id)
        if known is None or (
            status is SupplierOrderStatus.CONFIRMED and known[1] is SupplierOrderState.CONFIRMED
        ):
            return []
        state = self._states.get(known[0])
        return [] if state is None else self._supplier_events(state, order, now)

    def _supplier_events(
        self, state: OrderState, order: Any, now: datetime
    ) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        ref = state.order.ref
        sid, oid = order.supplier_id, order.supplier_order_id
        status = order.status
        if (
            status is SupplierOrderStatus.CONFIRMED
            and state.supplier_state is SupplierOrderState.PLACED
        ):
            return [
                (ref, SupplierConfirmed(ref=ref, at=now, supplier_id=sid, supplier_order_id=oid))
            ]
        if status is SupplierOrderStatus.INVOICED:
            return [
                (
                    ref,
                    SupplierInvoiced(
                        ref=ref,
                        at=now,
                        supplier_id=sid,
                        supplier_order_id=oid,
                        tracking=order.tracking,
                    ),
                )
            ]
        if status is SupplierOrderStatus.CANCELLED:
            cancellation = order.cancellation
            asked = state.supplier_cancel in (
                SupplierCancelState.PENDING,
                SupplierCancelState.REQUESTED,
            )
            if asked or cancellation.fault is CancelFault.BUYER:
                # The cancellation the seller asked for: not the supplier's failure.
                result = SupplierCancelResult(
                    ref=ref, at=now, supplier_order_id=oid, outcome=SupplierCancelOutcome.CANCELLED
                )
                return [(ref, result)]
            event = SupplierCancelled(
                ref=ref,
                at=cancellation.at,
                supplier_id=sid,
                supplier_order_id=oid,
                reason=cancellation.reason,
                note=cancellation.note,
            )
            return [(ref, event)]
        return []

    def _due_wakeups(self, now: datetime) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        while self._wakes and self._wakes[0][0] <= now:
            at, _, ref = heapq.heappop(self._wakes)
            state = self._states.get(ref)
            if state is not None and state.wake_at == at:
                out.append((ref, new_wake_up(ref=ref, at=at)))
        return out

    def _poll_error(self, what: str, exc: AdapterError, run: Run) -> None:
        run.poll_errors.append(f"{what}: {exc}")
        self._log.warning("polling %s failed, retrying next run: %s", what, exc)
