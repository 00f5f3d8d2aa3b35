"""The engine when things go wrong at its edges: failed runs, odd adapters, stray requests."""

from __future__ import annotations

import attrs
import pytest

from consign_core.domain.model import CancelFault, Cancellation, CancelReason, OrderRef
from consign_core.domain.workflow import (
    CancelPurpose,
    CancelSupplierOrder,
    OrderStatus,
    SupplierCancelState,
)
from consign_core.engine.ports import MarketOrderSnapshot, MarketOrderStatus, OrderPage
from consign_core.errors import StoreError, TransientError
from consign_core.store import OutboxEntry, StoreBatch
from consign_core.testing import (
    Fate,
    InMemoryMarket,
    InMemorySupplier,
    SupplierBehaviour,
    make_order,
)

from .test_engine import HOUR, World


def _views(w: World) -> tuple[object, object]:
    return w.engine.trust.snapshot(), w.engine.ledger.report(w.now)


def test_a_failed_run_reloads_the_models_as_a_restart_would_without_counting_twice() -> None:
    w = World(supplier=InMemorySupplier(behaviour=SupplierBehaviour(cancel_probability=0.05)))
    for day in range(40):  # past the ledger's memory of orders and the trust model's dedup
        for k in range(8):
            w.add(f"{day}-{k}", sku="SOLO")
        w.run_until(24, step=4)
    assert w.store.snapshot("engine") is None  # no snapshot yet: the journal is everything
    commit = w.store.commit

    def locked_once(batch: object) -> None:
        w.store.commit = commit  # type: ignore[method-assign]
        msg = "cannot write to the store: database is locked"
        raise StoreError(msg)

    w.store.commit = locked_once  # type: ignore[method-assign]
    with pytest.raises(StoreError):
        w.run(1)
    w.run(0)  # the same engine goes on: it reloads from the store
    reloaded = _views(w)
    w.restart()
    assert _views(w) == reloaded
    assert w.engine.trust.assess("S1", 1, w.now, w.now + 48 * HOUR).effective_n < 320


class _LosesCancelResponses(InMemoryMarket):
    """A market whose first cancel times out after taking effect and whose read-back carries no
    cancellation details (the port allows it)."""

    lose_next_cancel = True

    def cancel_order(self, ref: OrderRef, cancellation: Cancellation) -> None:
        super().cancel_order(ref, cancellation)
        if self.lose_next_cancel:
            self.lose_next_cancel = False
            msg = "read timeout"
            raise TransientError(msg, adapter="coupang")

    def get_order(self, ref: OrderRef) -> MarketOrderSnapshot:
        return attrs.evolve(super().get_order(ref), cancellation=None)


def test_a_stock_out_cancel_read_back_without_details_keeps_its_filed_fault_and_reason() -> None:
    w = World(market=_LosesCancelResponses())
    ref = w.add("1", sku="SOLO")  # one source: a stock-out ends in the seller's cancel
    w.supplier.script(ref, Fate(ships=False, after=3 * HOUR, reason=CancelReason.STOCK_OUT))
    w.run_until(30)
    cancellation = w.state(ref).cancellation
    assert cancellation is not None
    assert (cancellation.fault, cancellation.reason) == (CancelFault.SELLER, CancelReason.STOCK_OUT)
    fulfilment = w.engine.ledger.report(w.now).metrics[0]
    assert (fulfilment.numerator, fulfilment.denominator) == (1, 1)  # counted against the seller


def test_a_placement_being_retried_is_not_sent_once_the_buyer_has_cancelled() -> None:
    w = World()
    ref = w.add("1", sku="SOLO")
    w.supplier.faults.fail_next("place_order", TransientError("503", adapter="domeme"))
    w.run()  # the placement fails for now: retried later
    assert w.state(ref).place_pending
    w.market.buyer_cancels(ref)
    w.run(0.1)  # learns of the cancel in the run that would have retried the placement
    w.run_until(3)
    assert w.supplier.orders() == []  # nothing bought for a cancelled order
    assert w.supplier.calls["place_order"] == 1
    state = w.state(ref)
    assert state.status is OrderStatus.CANCELLED
    assert state.cancellation is not None
    assert state.cancellation.fault is CancelFault.BUYER


def test_an_adapter_that_raises_something_else_fails_its_poll_not_the_run() -> None:
    w = World()
    refs = [w.add(str(i)) for i in range(5)]
    w.run()
    w.run(4)  # placed and acknowledged; the supplier ships at 20 h

    def broken(cursor: str | None) -> object:
        msg = "https://api.example/orders?aid=SECRET-KEY: unexpected field"  # a third party's words
        raise ValueError(msg)

    w.market.list_paid_orders = broken  # type: ignore[method-assign, assignment]
    report = w.run(20)
    assert any("unexpected ValueError" in e for e in report.poll_errors), report.poll_errors
    assert not any("SECRET" in e for e in report.poll_errors)  # only the type is quoted
    w.run(1)
    assert all(w.market.order_status(r) is MarketOrderStatus.SHIPPED for r in refs)


def test_a_command_whose_adapter_raises_something_else_is_retried() -> None:
    w = World()
    ref = w.add("1")
    place = w.supplier.place_order
    calls = []

    def flaky(request: object) -> object:
        calls.append(request)
        if len(calls) == 1:
            raise KeyError("orderNo")  # a reply the adapter could not read
        return place(request)  # type: ignore[arg-type]

    w.supplier.place_order = flaky  # type: ignore[method-assign, assignment]
    report = w.run()
    assert report.commands_retrying == 1
    w.run_until(24)
    assert w.state(ref).status is OrderStatus.SHIPPED
    assert len(w.supplier.orders()) == 1


class _NamedCoupang(InMemoryMarket):
    """An adapter that spells its market's name differently from its order refs."""

    @property
    def market(self) -> str:
        return "Coupang"


def test_market_names_compare_case_insensitively_and_a_foreign_order_is_reported() -> None:
    w = World(market=_NamedCoupang())
    ours = w.add("1")
    foreign = make_order("2", paid_at=w.now)
    foreign = attrs.evolve(foreign, ref=OrderRef(market="naver", order_id="2"))
    w.market.add_order(foreign)
    report = w.run()
    assert report.new_orders == 1
    assert w.engine.order(ours) is not None
    assert w.engine.order(foreign.ref) is None
    assert any("naver:2" in e and "skipped" in e for e in report.poll_errors)


class _HidesSomeOrders(InMemoryMarket):
    """A paid-order feed that never lists some orders (paid before the engine started)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: set[OrderRef] = set()

    def list_paid_orders(self, cursor: str | None) -> OrderPage:
        page = super().list_paid_orders(cursor)
        orders = tuple(o for o in page.orders if o.ref not in self.hidden)
        return OrderPage(orders=orders, cursor=page.cursor, has_more=page.has_more)


def test_a_request_about_an_order_never_taken_in_blocks_the_feed_only_for_the_grace() -> None:
    market = _HidesSomeOrders()
    w = World(market=market)
    old = make_order("OLD-1", paid_at=w.now)
    market.add_order(old)
    market.hidden.add(old.ref)
    market.buyer_cancels(old.ref)  # about an order this engine will never see paid
    ref = w.add("NEW-1", sku="SOLO")
    w.run()
    market.buyer_cancels(ref)
    report = w.run(0.5)  # within the grace (1 h): the feed waits for OLD-1
    assert w.state(ref).buyer_reason is None
    assert report.poll_errors == ()
    report = w.run(1)  # past it: OLD-1's request is skipped and reported, NEW-1's handled
    assert any("OLD-1" in e and "skipped" in e for e in report.poll_errors)
    assert w.state(ref).buyer_reason is not None
    w.run_until(6)
    assert w.market.order_status(ref) is MarketOrderStatus.CANCELLED


def test_a_stored_legacy_sold_out_cancel_still_counts_as_the_suppliers_stock_out() -> None:
    w = World("await-invoice")
    ref = w.add("1")
    w.run()  # placed at S1, not yet accepted
    [placed] = w.supplier.orders()
    # What an older version stored on the supplier's sold-out notice: a cancel at S1 in flight.
    legacy = StoreBatch()
    legacy.states[ref] = w.state(ref).evolve(
        stock_out_known=True,
        cancel_purpose=CancelPurpose.STOCK_OUT,
        supplier_cancel=SupplierCancelState.PENDING,
    )
    cancel = CancelSupplierOrder(
        ref=ref, supplier_id="S1", supplier_order_id=placed.supplier_order_id, memo="품절"
    )
    legacy.outbox[10_000] = OutboxEntry(entry_id=10_000, command=cancel, created_at=w.now)
    w.store.commit(legacy)
    w.restart()  # the new version loads it and finishes it
    w.run(0.25)
    [first, second] = w.supplier.orders()
    assert first.status.value == "cancelled"
    assert second.supplier_id == "S2"  # rerouted as before
    supplier = w.engine.trust.snapshot().suppliers["S1"]
    assert supplier.resolved == {first.supplier_order_id: True}  # an outcome, not a withdrawal
    assessment = w.engine.trust.assess("S1", 1, w.now, w.now + 48 * HOUR)
    assert assessment.effective_n > 0
    w.restart()  # journaled like any supplier cancel
    assert w.engine.trust.snapshot().suppliers["S1"] == supplier
