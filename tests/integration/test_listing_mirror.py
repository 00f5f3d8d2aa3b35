"""The market listing follows the supplier's stock: the engine's listing mirror."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consign_core.domain.model import Cancellation, OrderRef, Tracking
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import ExpectedCostWeights, make_policy
from consign_core.domain.workflow import BuyerRequestAnswer
from consign_core.domain.workflow._commands import SetListing
from consign_core.engine import Engine, EngineSettings
from consign_core.engine.ports import (
    VENDOR_CODE_STOCK_OUT,
    BuyerRequestPage,
    InvoiceUpload,
    ItemResult,
    ListingPort,
    MarketOrderSnapshot,
    MarketPort,
    OrderPage,
    PlaceOrderRequest,
)
from consign_core.errors import NotFoundError, RejectedError, StoreError, TransientError
from consign_core.lab import _runner as runner
from consign_core.lab._market import LabClock, SimulatedMarket
from consign_core.lab._scenario import with_stock_outs
from consign_core.lab._supplier import SimulatedSupplier
from consign_core.lab._world import World, WorldOrder, build_world, to_us
from consign_core.lab.sim import get_scenario, simulate
from consign_core.store import InMemoryStore, OutboxStatus, SQLiteStore
from consign_core.store._codec import decode_command, encode_command
from consign_core.store._types import Store
from consign_core.testing import T0, InMemoryMarket, InMemorySupplier, make_order


SOURCES = {"SKU-1": [("S1", "I1"), ("S2", "I2")], "SOLO": ("S1", "I9")}


class OldMarket:
    """An older embedder's market port: every MarketPort method, no ``set_listing``."""

    def __init__(self, inner: InMemoryMarket) -> None:
        self.inner = inner

    @property
    def market(self) -> str:
        return self.inner.market

    @property
    def ack_batch_limit(self) -> int:
        return self.inner.ack_batch_limit

    @property
    def invoice_batch_limit(self) -> int:
        return self.inner.invoice_batch_limit

    def list_paid_orders(self, cursor: str | None) -> OrderPage:
        return self.inner.list_paid_orders(cursor)

    def get_order(self, ref: OrderRef) -> MarketOrderSnapshot:
        return self.inner.get_order(ref)

    def acknowledge(self, refs: Sequence[OrderRef]) -> Sequence[ItemResult]:
        return self.inner.acknowledge(refs)

    def upload_invoices(self, uploads: Sequence[InvoiceUpload]) -> Sequence[ItemResult]:
        return self.inner.upload_invoices(uploads)

    def cancel_order(self, ref: OrderRef, cancellation: Cancellation) -> None:
        self.inner.cancel_order(ref, cancellation)

    def list_buyer_requests(self, cursor: str | None) -> BuyerRequestPage:
        return self.inner.list_buyer_requests(cursor)

    def answer_buyer_request(
        self,
        ref: OrderRef,
        request_id: str,
        answer: BuyerRequestAnswer,
        tracking: Tracking | None = None,
    ) -> None:
        self.inner.answer_buyer_request(ref, request_id, answer, tracking)


class Rig:
    def __init__(
        self,
        *,
        store: Store | None = None,
        settings: EngineSettings | None = None,
        market: MarketPort | None = None,
    ) -> None:
        self.fake = InMemoryMarket()
        self.port: MarketPort = market if market is not None else self.fake
        self.supplier = InMemorySupplier()
        self.store: Store = store if store is not None else InMemoryStore()
        self.settings = settings
        self.now = T0
        self.engine = self.new_engine()

    def new_engine(self) -> Engine:
        return Engine(
            self.port,
            self.supplier,
            self.store,
            policy=make_policy("confirm-immediately"),
            profile=COUPANG,
            sources=SOURCES,
            messenger=self.fake,
            settings=self.settings,
        )

    def run(self, hours: float = 0.25) -> None:
        self.now += timedelta(hours=hours)
        self.fake.advance(self.now)
        self.supplier.advance(self.now)
        self.engine.run_once(self.now)

    def listing_entries(self) -> list[SetListing]:
        outbox = getattr(self.store, "outbox", None)
        assert outbox is not None
        return [e.command for e in outbox() if isinstance(e.command, SetListing)]


def test_the_only_source_selling_out_stops_the_listing_and_a_restock_resumes_it() -> None:
    rig = Rig()
    rig.supplier.set_stock("S1", "I9", 0)
    rig.run()
    assert rig.fake.listings["SOLO"] == (False, None)
    assert rig.fake.add_order(make_order("1", sku="SOLO", paid_at=rig.now)) is False
    assert rig.fake.refused_orders == 1
    rig.supplier.set_stock("S1", "I9", 5)
    rig.run()
    assert rig.fake.listings["SOLO"] == (True, None)
    assert rig.fake.add_order(make_order("2", sku="SOLO", paid_at=rig.now)) is True
    assert [c.selling for c in rig.listing_entries()] == [False, True]


def test_a_sku_with_an_alternate_in_stock_keeps_selling_until_every_source_is_out() -> None:
    rig = Rig()
    rig.supplier.set_stock("S1", "I1", 0)
    rig.run()
    assert rig.fake.calls["set_listing"] == 0
    assert rig.fake.is_selling("SKU-1")
    rig.supplier.set_stock("S2", "I2", 0)
    rig.run()
    assert rig.fake.listings["SKU-1"] == (False, None)
    rig.supplier.set_stock("S2", "I2", 3)  # the alternate is back: the order can be rerouted
    rig.run()
    assert rig.fake.is_selling("SKU-1")
    assert rig.fake.calls["set_listing"] == 2


def test_only_changes_are_sent() -> None:
    rig = Rig()
    rig.supplier.set_stock("S1", "I9", 0)
    rig.run()
    rig.supplier.set_stock("S1", "I9", 0)  # reported sold out again
    rig.run()
    rig.supplier.set_stock("S1", "I9", 4)
    rig.supplier.set_stock("S1", "I9", 7)  # two restocks in one poll: one command
    rig.run()
    assert rig.fake.calls["set_listing"] == 2
    assert len(rig.listing_entries()) == 2


def test_a_restock_of_an_item_never_stopped_sends_nothing() -> None:
    rig = Rig()
    rig.supplier.set_stock("S1", "I9", 9)
    rig.run()
    assert rig.fake.calls["set_listing"] == 0
    assert rig.listing_entries() == []


def test_mirroring_switched_off_leaves_the_listing_alone() -> None:
    rig = Rig(settings=EngineSettings(mirror_listing=False))
    rig.supplier.set_stock("S1", "I9", 0)
    rig.run()
    assert rig.fake.calls["set_listing"] == 0
    assert rig.fake.is_selling("SOLO")


def test_a_market_port_without_set_listing_keeps_working() -> None:
    inner = InMemoryMarket()
    rig = Rig(market=OldMarket(inner))
    rig.fake = inner
    assert not isinstance(rig.port, ListingPort)
    rig.supplier.set_stock("S1", "I9", 0)
    inner.add_order(make_order("1", sku="SKU-1", paid_at=rig.now))
    rig.run()
    rig.run(hours=2)
    assert rig.listing_entries() == []
    assert inner.acknowledgements(make_order("1").ref) == 1


def test_a_timeout_is_retried_blindly_on_a_later_run() -> None:
    rig = Rig()
    rig.fake.faults.fail_next("set_listing", TransientError("timed out", adapter="coupang"))
    rig.supplier.set_stock("S1", "I9", 0)
    rig.run()
    assert rig.fake.is_selling("SOLO")  # the first send failed
    rig.run(hours=1)  # past the back-off
    assert rig.fake.listings["SOLO"] == (False, None)
    assert rig.fake.calls["set_listing"] == 2


def test_a_newer_state_supersedes_a_pending_one() -> None:
    rig = Rig()
    rig.fake.faults.fail_next("set_listing", TransientError("timed out", adapter="coupang"))
    rig.supplier.set_stock("S1", "I9", 0)
    rig.run(hours=0.001)
    rig.supplier.set_stock("S1", "I9", 2)  # restocked before the stop was retried
    rig.run(hours=0.001)
    rig.run(hours=2)
    assert rig.fake.is_selling("SOLO")
    outbox = getattr(rig.store, "outbox")()  # noqa: B009 - the in-memory store's audit trail
    stop = next(e for e in outbox if isinstance(e.command, SetListing) and not e.command.selling)
    assert stop.status is OutboxStatus.DONE
    assert stop.result.startswith("superseded")
    assert rig.fake.calls["set_listing"] == 2  # the failed stop, then the resume


def test_an_unknown_item_is_refused_for_good_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    rig = Rig()
    rig.fake.faults.fail_next("set_listing", NotFoundError("no item SOLO", adapter="coupang"))
    rig.supplier.set_stock("S1", "I9", 0)
    with caplog.at_level(logging.INFO, logger="consign_core.engine"):
        rig.run()
        rig.run(hours=2)
    assert rig.fake.calls["set_listing"] == 1
    outbox = getattr(rig.store, "outbox")()  # noqa: B009 - the in-memory store's audit trail
    assert [e.status for e in outbox] == [OutboxStatus.FAILED]
    assert "listing SOLO: stop sales" in caplog.text
    assert "no item SOLO" in caplog.text


def test_the_listing_state_and_a_pending_command_survive_a_restart(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "engine.db")
    rig = Rig(store=store)
    rig.fake.faults.fail_next("set_listing", TransientError("timed out", adapter="coupang"))
    rig.supplier.set_stock("S1", "I9", 0)
    rig.run()
    assert rig.fake.is_selling("SOLO")
    rig.engine = rig.new_engine()  # a restart: the pending entry is read back from disk
    rig.run(hours=1)
    assert rig.fake.listings["SOLO"] == (False, None)
    rig.engine = rig.new_engine()
    rig.supplier.set_stock("S1", "I9", 0)  # sold out again: already stopped, nothing to send
    rig.run()
    assert rig.fake.calls["set_listing"] == 2
    store.close()


def test_no_new_paid_orders_reach_the_engine_while_stopped() -> None:
    rig = Rig()
    rig.supplier.set_stock("S1", "I9", 0)
    rig.run()
    refused = [
        rig.fake.add_order(make_order(f"{i}", sku="SOLO", paid_at=rig.now)) for i in range(3)
    ]
    rig.run()
    assert refused == [False, False, False]
    assert rig.engine.active_orders() == []


_AWARE = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(timezone(timedelta(hours=9))),
)


@given(
    sku=st.text(min_size=1, max_size=20).filter(str.strip),
    selling=st.booleans(),
    quantity=st.none() | st.integers(min_value=0, max_value=10**6),
    at=_AWARE,
)
def test_a_listing_command_round_trips_through_the_store_codec(
    sku: str, selling: bool, quantity: int | None, at: datetime
) -> None:
    command = SetListing(
        market="coupang", market_sku=sku, selling=selling, quantity=quantity, at=at
    )
    decoded: object = decode_command(command.kind.value, encode_command(command))
    assert decoded == command


def test_an_unreadable_listing_command_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="set_listing"):
        decode_command("set_listing", '["coupang","X","yes",null,"2026-01-01T00:00:00+09:00"]')


def test_the_listing_command_refuses_bad_values_naming_the_field() -> None:
    with pytest.raises(ValueError, match="quantity"):
        SetListing(market="coupang", market_sku="X", selling=False, quantity=-1, at=T0)
    with pytest.raises(ValueError, match="selling"):
        SetListing(market="coupang", market_sku="X", selling="no", at=T0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# The lab: sold-out episodes, the simulated market honouring a stopped SKU
# --------------------------------------------------------------------------------------


def _stock_world(seed: int = 3, orders: int = 300) -> World:
    scenario = with_stock_outs(get_scenario("default")).evolve(days=30.0, suppliers=20)
    return build_world(scenario, seed, orders)


def test_a_default_world_has_no_sold_out_episodes() -> None:
    world = build_world(get_scenario("default").evolve(days=30.0, suppliers=20), 3, 50)
    assert all(not s.stock_outs for s in world.suppliers)


def test_episodes_are_drawn_with_the_world_and_never_overlap() -> None:
    world = _stock_world()
    again = _stock_world()
    start, end = to_us(world.scenario.start), to_us(world.scenario.end)
    episodes = {s.supplier_id: s.stock_outs for s in world.suppliers}
    assert episodes == {s.supplier_id: s.stock_outs for s in again.suppliers}
    assert episodes != {s.supplier_id: s.stock_outs for s in _stock_world(seed=4).suppliers}
    assert sum(len(e) for per in episodes.values() for e in per.values()) > 0
    for per_item in episodes.values():
        for spans in per_item.values():
            for (a, b), (c, _) in itertools.pairwise(spans):
                assert a < b <= c
            assert all(start <= a < end for a, _ in spans)


def test_episodes_change_no_other_draw_of_the_world() -> None:
    base = build_world(get_scenario("default").evolve(days=30.0, suppliers=20), 3, 300)
    with_outs = _stock_world()

    def key(w: WorldOrder) -> tuple[object, ...]:
        draws = tuple((d.u_cancel, d.z_time, d.u_reason, d.reported_stock) for d in w.draws)
        return (w.order, w.paid_us, w.sources, draws, w.buyer_cancel_us, w.stop_delay_us)

    assert [key(w) for w in base.orders()] == [key(w) for w in with_outs.orders()]
    assert base.sku_sources == with_outs.sku_sources


def test_the_simulated_supplier_publishes_episodes_and_refuses_orders_in_them() -> None:
    world = _stock_world()
    supplier = next(s for s in world.suppliers if s.stock_outs)
    item, spans = next(iter(supplier.stock_outs.items()))
    begin, end = spans[0]
    clock = LabClock(begin - 1)
    market = SimulatedMarket(world.profile, clock, world.orders())
    lab = SimulatedSupplier(
        clock, market.records, scenario=world.scenario, suppliers=world.by_id, place_delay_us=0
    )
    assert lab.next_due_us() is not None
    clock.set(begin)
    lab.advance(begin)
    changes = lab.list_changes(None).changes
    assert (supplier.supplier_id, item, 0) in {(c.supplier_id, c.item_id, c.stock) for c in changes}
    market.advance(next(world.orders()).paid_us)  # one order on the market to place for
    ref = next(iter(market.records))
    request = PlaceOrderRequest(
        order_ref=ref,
        supplier_id=supplier.supplier_id,
        item_id=item,
        quantity=1,
        idempotency_key="k1",
    )
    with pytest.raises(RejectedError) as caught:
        lab.place_order(request)
    assert caught.value.vendor_code == VENDOR_CODE_STOCK_OUT
    assert lab.stock_refusals == 1
    clock.set(end)
    lab.advance(end)
    back = lab.list_changes(None).changes[-1]
    assert (back.supplier_id, back.item_id) == (supplier.supplier_id, item)
    assert back.stock is not None
    assert back.stock > 0


def test_the_simulated_market_loses_the_orders_of_a_stopped_sku() -> None:
    world = _stock_world(orders=200)
    orders = list(world.orders())
    clock = LabClock(to_us(world.scenario.start))
    market = SimulatedMarket(world.profile, clock, iter(orders))
    assert isinstance(market, ListingPort)
    sku = orders[0].order.lines[0].sku
    market.set_listing(sku, selling=False)
    middle = orders[len(orders) // 2].paid_us
    market.advance(middle)
    lost = [w for w in orders if w.paid_us <= middle and w.order.lines[0].sku == sku]
    assert market.lost_orders == len(lost)
    assert market.lost_value == sum(w.order.value for w in lost)
    assert all(w.order.ref not in market.records for w in lost)
    market.set_listing(sku, selling=True)
    market.advance(orders[-1].paid_us)
    later = [w for w in orders if w.paid_us > middle and w.order.lines[0].sku == sku]
    assert all(w.order.ref in market.records for w in later)
    assert market.arrived + market.lost_orders == len(orders)


def test_mirroring_the_listing_turns_stock_out_cancels_into_lost_sales(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = get_scenario("default").evolve(days=40.0, suppliers=20)
    markets: list[SimulatedMarket] = []

    class Watched(SimulatedMarket):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            markets.append(self)

    monkeypatch.setattr(runner, "SimulatedMarket", Watched)
    results = {}
    for mirror in (True, False):  # the scenario's switch reaches the engine's settings
        scenario = with_stock_outs(base, mirror_listing=mirror)
        results[mirror] = simulate(scenario, "confirm-immediately", seed=1, orders=600)
    mirrored, unmirrored = results[True], results[False]
    assert markets[0].lost_orders > 0
    assert markets[1].lost_orders == 0
    assert mirrored.unsold_orders == markets[0].lost_orders
    assert unmirrored.unsold_orders == 0
    assert mirrored.orders + markets[0].lost_orders == unmirrored.orders == 600
    assert mirrored.stock_out_cancels < unmirrored.stock_out_cancels
    lost = ExpectedCostWeights()
    priced = lost.lost_sale_fixed * markets[0].lost_orders
    assert mirrored.cost.lost_sales >= priced  # the unsold orders are priced as lost sales
    assert mirrored.seller_fault_cancels < unmirrored.seller_fault_cancels
