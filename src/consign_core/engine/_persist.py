"""How the engine keeps its models: trust and ledger observations, the journal, snapshots,
and loading everything back from the store."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import attrs

from consign_core.domain._prevalidated import new_market_order, new_order_paid
from consign_core.domain.cancel_rate import Headroom, Ledger, LedgerState
from consign_core.domain.events import (
    Delivered,
    Event,
    InvoiceUploaded,
    OrderCancelled,
    OrderPaid,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelReason,
    MarketOrder,
)
from consign_core.domain.serialization import structure, unstructure
from consign_core.domain.trust import TrustModel, TrustState
from consign_core.domain.workflow import make_decider
from consign_core.domain.workflow._types import (
    CancelPurpose,
    OrderState,
    SupplierCancelResult,
    WorkflowContext,
)
from consign_core.engine._exec import Run
from consign_core.engine._settings import EngineBase
from consign_core.store._types import (
    ClockAdvanced,
    JournalRecord,
    OrderWithdrawn,
    StockReported,
)


__all__ = ["Persistence"]

_TRUST_EVENTS = (SupplierOrderPlaced, SupplierConfirmed, SupplierInvoiced, SupplierCancelled)
_SNAPSHOT = "engine"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Persistence(EngineBase):
    """The engine's models and their persistence (part of :class:`~consign_core.engine.Engine`)."""

    # ------------------------------------------------------------------ trust, ledger, journal

    def _journal(self, record: JournalRecord, run: Run) -> None:
        self._last_seq += 1
        run.batch.journal.append((self._last_seq, record))

    def _observe(self, event: Event, run: Run | None, *, journal: bool) -> None:
        if isinstance(event, _TRUST_EVENTS):
            self._trust.observe(event)
        else:
            if run is not None and event.at > run.now:
                # paid (or cancelled...) after the run's ``now``: a skewed clock or a fake filled
                # ahead. Booked at ``now``, so the ledger's clock never runs ahead of the engine
                # and ``ledger.headroom(now)`` keeps working.
                event = _at_most(event, run.now)
            clock = self._ledger.now
            if clock is not None and event.at < clock:
                event = _at_least(event, clock)
            self._ledger.observe(event)
        if journal and run is not None:
            if type(event) is OrderPaid and event.order.recipient is not None:
                # The ledger needs the order's value and times, never the buyer's details.
                event = OrderPaid(order=attrs.evolve(event.order, recipient=None))
            self._journal(event, run)

    def _report_stock(
        self, supplier_id: str, item_id: str, stock: int, at: datetime, run: Run | None
    ) -> None:
        self._stock[(supplier_id, item_id)] = stock
        self._trust.report_stock(supplier_id, item_id, stock, at)
        if run is not None:
            self._journal(StockReported(supplier_id, item_id, stock, at), run)

    def _seller_cancelled_supplier_order(
        self, state: OrderState, supplier_id: str, event: SupplierCancelResult, run: Run
    ) -> None:
        """Tell the trust model about a supplier order the seller's cancel took down: the
        supplier's stock-out for a legacy sold-out cancel (``CancelPurpose.STOCK_OUT``, started
        by an older version on the supplier's sold-out notice; nothing starts one now), else a
        withdrawal."""
        if state.cancel_purpose is CancelPurpose.STOCK_OUT:
            stock_out = SupplierCancelled(
                ref=state.order.ref,
                at=event.at,
                supplier_id=supplier_id,
                supplier_order_id=event.supplier_order_id,
                reason=CancelReason.STOCK_OUT,
                note="cancelled after the supplier's sold-out notice",
            )
            self._observe(stock_out, run, journal=True)
        else:
            self._withdraw(supplier_id, event.supplier_order_id, event.at, run)

    def _withdraw(
        self, supplier_id: str, supplier_order_id: str, at: datetime, run: Run | None
    ) -> None:
        """The seller's cancel of a supplier order went through: the trust model stops
        counting it as pending (it is neither a shipment nor the supplier's failure)."""
        if self._trust.withdraw(supplier_id, supplier_order_id, at) and run is not None:
            self._journal(OrderWithdrawn(supplier_id, supplier_order_id, at), run)

    def _advance_ledger(self, now: datetime, run: Run | None) -> None:
        clock = self._ledger.now
        if clock is None or now > clock:
            self._ledger.advance(now)
            if run is not None:
                self._journal(ClockAdvanced(now), run)

    def _snapshot(self, run: Run) -> None:
        data = {
            "trust": unstructure(self._trust.snapshot()),
            "ledger": self._ledger.snapshot_data(),
            "stock": [[s, i, n] for (s, i), n in sorted(self._stock.items())],
        }
        run.batch.snapshots[_SNAPSHOT] = (self._last_seq, data)
        run.batch.prune_journal_through = self._last_seq
        self._schedule_snapshot(self._last_seq, data["ledger"])

    def _schedule_snapshot(self, position: int, ledger: Any) -> None:
        size = len(ledger.get("orders", ())) + len(ledger.get("pending", ()))
        self._snapshot_due = position + max(self._settings.snapshot_every, 8 * size)

    # ------------------------------------------------------------------ loading

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        store = self._store
        self._states = {}
        self._open_supplier = {}
        self._supplier_due = {}
        self._unpolled = {}
        self._by_item = {}
        self._wakes = []
        self._pending = {e.entry_id: e for e in store.pending_outbox()}
        self._fresh = set()
        self._cursors = {}
        self._last_outbox, self._last_seq = store.last_ids()
        snapshot = store.snapshot(_SNAPSHOT)
        position = 0
        if snapshot is None and self._loaded_once:
            # A reload after a failed run: start again from the models as given, never from
            # live ones that already hold the journal (it would be counted twice).
            self._trust = TrustModel.from_snapshot(self._trust_initial, calendar=self._calendar)
            self._ledger = Ledger.from_snapshot(self._ledger_initial, calendar=self._calendar)
            self._stock = {}
        if snapshot is not None:
            position, data = snapshot
            trust_state: TrustState = structure(data["trust"], TrustState)
            ledger_state: LedgerState = structure(data["ledger"], LedgerState)
            self._trust = TrustModel.from_snapshot(trust_state, calendar=self._calendar)
            self._ledger = Ledger.from_snapshot(ledger_state, calendar=self._calendar)
            self._stock = {(s, i): n for s, i, n in data["stock"]}
        self._schedule_snapshot(position, {} if snapshot is None else snapshot[1]["ledger"])
        for _, record in store.journal_after(position):
            self._replay(record)
        run = self._new_run(_EPOCH)  # a container for the indexes only; nothing is committed
        for state in store.load_active():
            self._put(state, run)
        self._ctx = WorkflowContext(
            now=self._ledger.now or _EPOCH,  # replaced by each run's time
            decide=make_decider(
                self._policy,
                self._trust,
                _LedgerView(self._ledger),
                self._profile,
                margin=self._settings.safety_margin,
                unconfirmed_cancel_fault=self._settings.unconfirmed_supplier_cancel_fault,
            ),
            sources=self._sources,
            stock=self._stock,
            templates=self._templates,
            calendar=self._calendar,
            unconfirmed_supplier_cancel_fault=self._settings.unconfirmed_supplier_cancel_fault,
            reroute_after_confirmation=self._settings.reroute_after_confirmation,
            safety_margin=self._settings.safety_margin,
            notify_delays=self._settings.notify_delays,
            reask_on_supplier_confirmation=self._reask_on_confirmation,
        )
        self._loaded = True
        self._loaded_once = True
        self._log.info(
            "engine loaded: %d active orders, %d pending commands, %d journal records replayed",
            len(self._states),
            len(self._pending),
            self._last_seq - position,
        )

    def _replay(self, record: JournalRecord) -> None:
        kind = type(record)
        if kind is ClockAdvanced:
            assert isinstance(record, ClockAdvanced)  # noqa: S101 - narrowed for mypy
            self._advance_ledger(record.at, None)
        elif kind is StockReported:
            assert isinstance(record, StockReported)  # noqa: S101 - narrowed for mypy
            self._report_stock(record.supplier_id, record.item_id, record.stock, record.at, None)
        elif kind is OrderWithdrawn:
            assert isinstance(record, OrderWithdrawn)  # noqa: S101 - narrowed for mypy
            self._withdraw(record.supplier_id, record.supplier_order_id, record.at, None)
        else:
            assert not isinstance(record, tuple)  # noqa: S101 - the engine's records are above
            self._observe(record, None, journal=False)


class _LedgerView:
    """The ledger as ``decide`` sees it: a time before the ledger's clock (a wall clock that
    stepped back) is read at the ledger's clock instead of raising."""

    __slots__ = ("_ledger",)

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def headroom(self, now: datetime, order: MarketOrder | None = None) -> Headroom:
        clock = self._ledger.now
        return self._ledger.headroom(now if clock is None or now >= clock else clock, order)


def _at_most(event: Event, now: datetime) -> Event:
    """``event`` moved back to ``now`` (an order paid after the engine's time is booked at the
    time the engine learned of it; its ship-by deadline is kept)."""
    if isinstance(event, OrderPaid):
        return _paid_at(event.order, now)
    if isinstance(event, OrderCancelled):
        return OrderCancelled(ref=event.ref, cancellation=attrs.evolve(event.cancellation, at=now))
    if isinstance(event, InvoiceUploaded | Delivered):
        return attrs.evolve(event, at=now)
    return event


def _at_least(event: Event, clock: datetime) -> Event:
    """``event`` moved to ``clock`` (the ledger takes events in time order only).

    An order paid before the ledger's clock (the market lists orders a few minutes late) is
    booked at the time the engine learned of it.
    """
    if isinstance(event, OrderPaid):
        return _paid_at(event.order, clock)
    if isinstance(event, OrderCancelled):
        return OrderCancelled(
            ref=event.ref, cancellation=attrs.evolve(event.cancellation, at=clock)
        )
    if isinstance(event, InvoiceUploaded | Delivered):
        return attrs.evolve(event, at=clock)
    return event


def _paid_at(order: MarketOrder, at: datetime) -> OrderPaid:
    """``order`` booked as paid at ``at``, its deadline kept unless it was earlier.

    Built from the validated ``order`` and the engine's own aware ``at``, with ``paid_at <=
    ship_by`` by construction, so without re-running the validators (the lab books every
    order this way, a few minutes after it was paid).
    """
    moved = new_market_order(
        ref=order.ref,
        lines=order.lines,
        paid_at=at,
        ship_by=order.ship_by if order.ship_by >= at else at,
        recipient=order.recipient,
    )
    return new_order_paid(order=moved)
