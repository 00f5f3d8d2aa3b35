"""The whole consignment flow over loopback: the production Engine between Coupang and Domeme.

``CoupangMarket`` talks to :class:`~consign_core.testing.fake_coupang.FakeCoupang` and
``DomemeSupplier`` to :class:`~consign_core.testing.fake_domeme.FakeDomeme`, each served on its
own real loopback socket (port 0); one simulated clock drives both fakes, both clients and the
engine. The tests play the buyers (they pay and cancel on Coupang) and the suppliers (they
confirm, ship or cancel on Domeme) and check what each side ends up holding.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stamina

from consign_core.adapters.coupang import CoupangClient, CoupangMarket, Throttle, order_ref
from consign_core.adapters.domeme import DomemeClient, DomemeSupplier
from consign_core.domain.model import CancelFault, CancelReason, OrderRef
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.domain.workflow import OrderStatus
from consign_core.engine import Engine, EngineSettings, RunReport
from consign_core.errors import ConfigurationError
from consign_core.store import InMemoryStore, SQLiteStore, Store
from consign_core.testing import T0
from consign_core.testing.fake_coupang import FakeCoupang, FakeReceiver, Fault
from consign_core.testing.fake_domeme import DomemeFault, FakeDomeme, FakeDomemeServer


VENDOR = "A00012345"
ITEM, SOLO = 3_000_000_001, 3_000_000_009  # Coupang vendorItemIds (the engine's SKUs)
PRIMARY, ALTERNATE, ONLY = "1001", "1002", "1009"  # Domeme item numbers
SOURCES = {
    str(ITEM): [("S1", PRIMARY), ("S2", ALTERNATE)],
    str(SOLO): [("S1", ONLY)],
}
RECEIVER = FakeReceiver(
    name="박수령", safe_number="0502-9876-5432", post_code="48058", addr1="부산광역시 해운대구 1"
)
SECRETS = ("test-secret-key", "test-access-key", "wing-login", "test-api-key", "test-password")


class Clock:
    """One simulated clock for both fakes, both clients and the engine."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class RandomFaultCoupang(FakeCoupang):
    """FakeCoupang that also fails a seeded share of the calls it receives at random."""

    def __init__(self, *, fault_rate: float, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fault_rate = fault_rate
        self._rng = random.Random(seed)
        self.random_faults: Counter[Fault] = Counter()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        staged = super()._take_fault(method, path)
        if staged is not None or self._rng.random() >= self.fault_rate:
            return staged
        fault = self._rng.choice(list(Fault))
        self.random_faults[fault] += 1
        return fault


class World:
    """Coupang and Domeme on loopback sockets, the adapters on them, and the engine."""

    def __init__(
        self,
        policy: str,
        *,
        fault_rate: float = 0.0,
        settings: EngineSettings | None = None,
        seed: int = 11,
        store: Store | None = None,
    ) -> None:
        self.clock = Clock()
        self.coupang = RandomFaultCoupang(
            fault_rate=fault_rate,
            seed=seed,
            vendor_id=VENDOR,
            user_id="wing-login",
            clock=self.clock,
            requests_per_second=None,
            listing_delay=timedelta(minutes=10),
            timeout_delay=0.4,
        )
        self.domeme = FakeDomeme(
            clock=self.clock,
            emoney=10_000_000,
            rate_limit_per_minute=10**9,  # the quota is the benchmark's business
            session_ttl=timedelta(days=30),
            fault_rate=fault_rate,
            seed=seed,
        )
        self.domeme.add_item(PRIMARY, seller_id="S1", price=8_000, stock=500)
        self.domeme.add_item(ALTERNATE, seller_id="S2", price=8_500, stock=500)
        self.domeme.add_item(ONLY, seller_id="S1", price=12_000, stock=500)
        self.coupang_url = self.coupang.start()
        self.domeme_server = FakeDomemeServer(self.domeme)
        self.domeme_server.start()
        self.coupang_client = CoupangClient(
            VENDOR,
            "test-access-key",
            "test-secret-key",
            base_url=self.coupang_url,
            clock=self.clock,
            user_id="wing-login",
            throttle=Throttle(500.0),
            timeout=0.25,
            retry_wait_initial=0.0,
            retry_wait_max=0.01,
            retry_wait_jitter=0.0,
        )
        self.domeme_client = DomemeClient(
            "test-api-key",
            "buyer1",
            "test-password",
            base_url=self.domeme_server.url,
            clock=self.clock,
            timeout=5.0,
            rate_limit_per_minute=10**9,
            rate_limit_per_day=None,
        )
        self.policy = policy
        self.settings = settings
        self.store: Store = store if store is not None else InMemoryStore()
        self.engine = self.new_engine()

    def new_engine(self) -> Engine:
        self.market = CoupangMarket(self.coupang_client, clock=self.clock)
        self.supplier = DomemeSupplier(
            self.domeme_client,
            shop_name="하늘가게",
            feed_every=timedelta(minutes=5),
        )
        return Engine(
            self.market,
            self.supplier,
            self.store,
            policy=make_policy(self.policy),
            profile=COUPANG,
            sources=SOURCES,
            settings=self.settings,
        )

    def restart(self) -> None:
        """A new process: new adapters and a new engine on the same store and fakes."""
        self.engine = self.new_engine()

    def run(self, minutes: float = 0.0) -> RunReport:
        self.clock.now += timedelta(minutes=minutes)
        return self.engine.run_once(self.clock.now)

    def run_for(
        self, hours: float, step_minutes: float = 10.0, act: Callable[[], None] | None = None
    ) -> None:
        end = self.clock.now + timedelta(hours=hours)
        while self.clock.now < end:
            if act is not None:
                act()
            self.run(step_minutes)

    def pay(self, vendor_item_id: int = ITEM, quantity: int = 1) -> tuple[int, OrderRef]:
        box = self.coupang.add_order_sheet(
            paid_at=self.clock.now,
            vendor_item_id=vendor_item_id,
            quantity=quantity,
            receiver=RECEIVER,
        )
        return box, order_ref(self.coupang.order_id_of(box), box)

    def domeme_orders_of(self, ref: OrderRef) -> list[Any]:
        """FakeDomeme's orders for one market order (by the key in their seller memo)."""
        return [o for o in self.domeme.orders.values() if f"{ref}:" in o.memo]

    def ack_sends(self) -> Counter[int]:
        sent: Counter[int] = Counter()
        for call in self.coupang.calls:
            if call.method == "PUT" and call.path.endswith("ordersheets/acknowledgement"):
                sent.update(call.body["shipmentBoxIds"])
        return sent

    def uploads(self) -> Counter[int]:
        sent: Counter[int] = Counter()
        for call in self.coupang.calls:
            if call.method == "POST" and call.path.endswith("orders/invoices"):
                sent.update(d["shipmentBoxId"] for d in call.body["orderSheetInvoiceApplyDtos"])
        return sent

    def close(self) -> None:
        self.coupang_client.close()
        self.domeme_client.close()
        self.coupang.stop()
        self.domeme_server.stop()


class Suppliers:
    """The Domeme suppliers as the tests play them: confirm after an hour, ship after three;
    orders whose number is in ``cancel`` are cancelled (판매취소, the memo says 품절) instead,
    before or after confirming."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.cancel_unconfirmed: set[str] = set()
        self.cancel_confirmed: set[str] = set()
        self.hold: set[str] = set()

    def __call__(self) -> None:
        fake = self.world.domeme
        now = self.world.clock.now
        for order in list(fake.orders.values()):
            age = now - order.placed_at
            no = order.order_no
            if no in self.hold or order.status_mode not in {"WAITCHK", "WAITDELI"}:
                continue
            if no in self.cancel_unconfirmed:
                fake.cancel_by_supplier(no, "품절로 인한 판매취소")
            elif age >= timedelta(hours=1) and order.status_mode == "WAITCHK":
                fake.confirm(no)
            elif no in self.cancel_confirmed and age >= timedelta(hours=2):
                fake.cancel_by_supplier(no, "재고 부족으로 판매취소")
            elif age >= timedelta(hours=3) and no not in self.cancel_confirmed:
                fake.invoice(no, courier="DAEHAN")


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


@pytest.fixture
def immediate() -> Iterator[World]:
    world = World("confirm-immediately")
    yield world
    world.close()


@pytest.fixture
def waiting() -> Iterator[World]:
    world = World("await-invoice")
    yield world
    world.close()


def test_loopback_coupang_orders_become_domeme_orders_and_ship_on_coupang(
    immediate: World,
) -> None:
    w = immediate
    suppliers = Suppliers(w)
    paid = [w.pay() for _ in range(3)]
    assert w.run(11).new_orders == 3
    for box, ref in paid:
        [placed] = w.domeme_orders_of(ref)
        assert placed.item_no == PRIMARY
        assert placed.quantity == 1
        name, _, zip_code, address1, *_ = placed.deliinfo.split("|")
        assert (name, zip_code, address1) == (RECEIVER.name, RECEIVER.post_code, RECEIVER.addr1)
        state = w.engine.order(ref)
        assert state is not None
        assert state.supplier_order_id == placed.order_no
        assert state.last_reason  # the decision explains itself
        assert w.coupang.status_of(box) == "INSTRUCT"
    w.run_for(6, act=suppliers)
    for box, ref in paid:
        [placed] = w.domeme_orders_of(ref)
        assert w.coupang.status_of(box) == "DEPARTURE"
        assert w.coupang.invoice_of(box) == ("CJGLS", placed.tracking)
        state = w.engine.order(ref)
        assert state is not None
        assert state.status is OrderStatus.SHIPPED
    assert set(w.ack_sends().values()) == {1}
    assert set(w.uploads().values()) == {1}
    assert w.domeme.duplicate_orders == 0


def test_loopback_domeme_sold_out_item_is_ordered_from_the_alternate_before_confirmation(
    waiting: World,
) -> None:
    w = waiting
    w.domeme.set_stock(PRIMARY, 0)  # sold out at S1: setOrder would be refused
    box, ref = w.pay()
    w.run(11)
    [placed] = w.domeme_orders_of(ref)
    assert placed.item_no == ALTERNATE
    assert w.coupang.status_of(box) == "ACCEPT"  # await-invoice: not confirmed yet
    w.run_for(6, act=Suppliers(w))
    state = w.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.SHIPPED
    assert state.supplier_id == "S2"
    assert w.coupang.status_of(box) == "DEPARTURE"
    assert w.coupang.invoice_of(box) == ("CJGLS", placed.tracking)
    assert w.coupang.seller_cancels == []
    assert [c.mode for c in w.domeme.calls_of("setOrder")] == ["setOrder"]  # S1 never paid


def test_loopback_domeme_buying_the_last_units_keeps_the_order_despite_the_sold_out_notice(
    waiting: World,
) -> None:
    w = waiting
    w.domeme.set_stock(PRIMARY, 1)  # the last unit at S1
    box, ref = w.pay()
    w.run(11)  # paid on Domeme: S1's stock drops to 0, and the change feed reports it sold out
    w.run(11)
    assert w.engine.stock[("S1", PRIMARY)] == 0
    [placed] = w.domeme_orders_of(ref)
    assert placed.item_no == PRIMARY
    state = w.engine.order(ref)
    assert state is not None
    assert state.stock_out_known  # our own purchase: kept, confirmed only on tracking
    assert w.coupang.status_of(box) == "ACCEPT"
    w.run_for(6, act=Suppliers(w))
    assert [o.item_no for o in w.domeme_orders_of(ref)] == [PRIMARY]  # never rerouted
    assert w.domeme.calls_of("setOrdDeny") == []  # never cancelled by the seller
    state = w.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.SHIPPED
    assert w.coupang.invoice_of(box) == ("CJGLS", w.domeme_orders_of(ref)[0].tracking)
    assert w.coupang.seller_cancels == []


def test_loopback_domeme_supplier_stock_out_before_confirmation_is_rerouted(
    waiting: World,
) -> None:
    w = waiting
    suppliers = Suppliers(w)
    box, ref = w.pay()
    w.run(11)
    [first] = w.domeme_orders_of(ref)
    assert first.item_no == PRIMARY
    suppliers.cancel_unconfirmed.add(first.order_no)  # 판매취소: 품절
    w.run_for(8, act=suppliers)
    orders = {o.item_no: o for o in w.domeme_orders_of(ref)}
    assert orders[PRIMARY].status_mode == "DENYSELL"
    assert orders[ALTERNATE].status_mode == "WAITOK"
    state = w.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.SHIPPED
    assert state.cancellation is None
    assert w.coupang.status_of(box) == "DEPARTURE"
    assert w.coupang.invoice_of(box) == ("CJGLS", orders[ALTERNATE].tracking)
    assert w.coupang.seller_cancels == []
    assert w.ack_sends() == Counter({box: 1})
    assert w.domeme.emoney == 10_000_000 - orders[ALTERNATE].amount  # the first was refunded


def test_loopback_coupang_stock_out_without_alternate_is_cancelled_as_a_stock_out(
    waiting: World,
) -> None:
    w = waiting
    suppliers = Suppliers(w)
    box, ref = w.pay(SOLO)
    w.run(11)
    [only] = w.domeme_orders_of(ref)
    suppliers.cancel_unconfirmed.add(only.order_no)
    w.run_for(8, act=suppliers)
    state = w.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.CANCELLED
    assert state.cancellation is not None
    assert state.cancellation.reason is CancelReason.STOCK_OUT
    assert w.coupang.status_of(box) == "CANCELLED"
    [cancel] = w.coupang.seller_cancels
    assert (cancel["bigCancelCode"], cancel["middleCancelCode"]) == ("CANERR", "CCTTER")
    assert w.ack_sends() == Counter()  # never confirmed: the buyer saw no 발주확인
    assert len(w.domeme_orders_of(ref)) == 1


def test_loopback_coupang_stock_out_after_confirmation_is_recorded_as_seller_fault(
    immediate: World,
) -> None:
    w = immediate
    suppliers = Suppliers(w)
    box, ref = w.pay()
    w.run(11)
    assert w.coupang.status_of(box) == "INSTRUCT"  # confirmed at once
    [placed] = w.domeme_orders_of(ref)
    suppliers.cancel_confirmed.add(placed.order_no)
    w.run_for(8, act=suppliers)
    state = w.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.CANCELLED
    assert state.cancellation is not None
    assert state.cancellation.fault is CancelFault.SELLER
    assert state.cancellation.reason is CancelReason.STOCK_OUT
    [cancel] = w.coupang.seller_cancels
    assert cancel["middleCancelCode"] == "CCTTER"
    assert w.coupang.status_of(box) == "CANCELLED"
    assert len(w.domeme_orders_of(ref)) == 1  # not rerouted after confirmation (the default)


def test_loopback_domeme_restart_between_placement_and_waybill_ships_once(
    immediate: World,
) -> None:
    w = immediate
    suppliers = Suppliers(w)
    paid = [w.pay() for _ in range(4)]
    w.run(11)
    w.run_for(1.5, act=suppliers)  # placed and confirmed on Domeme, no waybill yet
    w.restart()  # the new DomemeSupplier has never seen these orders
    w.run_for(6, act=suppliers)
    for box, ref in paid:
        [placed] = w.domeme_orders_of(ref)
        assert w.coupang.invoice_of(box) == ("CJGLS", placed.tracking)
        state = w.engine.order(ref)
        assert state is not None
        assert state.status is OrderStatus.SHIPPED
    assert w.domeme.duplicate_orders == 0
    assert set(w.ack_sends().values()) == {1}


def test_loopback_coupang_buyer_cancel_before_confirmation_cancels_the_domeme_order(
    waiting: World,
) -> None:
    w = waiting
    suppliers = Suppliers(w)
    box, ref = w.pay()
    w.run(11)
    [placed] = w.domeme_orders_of(ref)
    suppliers.hold.add(placed.order_no)
    w.coupang.buyer_cancel(box)
    w.run_for(6, act=suppliers)
    state = w.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.CANCELLED
    assert state.cancellation is not None
    assert state.cancellation.penalised is False
    assert w.coupang.seller_cancels == []
    assert w.domeme.orders[placed.order_no].status_mode == "DENYBUY"
    assert w.domeme.emoney == 10_000_000  # refunded


def test_loopback_domeme_and_coupang_with_20_percent_faults_lose_no_order() -> None:
    w = World("confirm-immediately", fault_rate=0.2, seed=3)
    try:
        suppliers = Suppliers(w)
        paid = [w.pay() for _ in range(30)]
        w.run_for(2, act=suppliers)
        paid += [w.pay(SOLO) for _ in range(10)]
        w.run_for(46, act=suppliers)
        # About one call in five failed on each side (the fakes draw the faults, seeded).
        assert 0.1 < sum(w.coupang.random_faults.values()) / len(w.coupang.calls) < 0.3
        assert len({c.mode for c in w.domeme.calls}) >= 5
        for box, ref in paid:
            [placed] = w.domeme_orders_of(ref)  # one order, paid once
            assert w.coupang.status_of(box) == "DEPARTURE", ref
            assert w.coupang.invoice_of(box) == ("CJGLS", placed.tracking)
            state = w.engine.order(ref)
            assert state is not None
            assert state.status is OrderStatus.SHIPPED
        assert w.domeme.duplicate_orders == 0
        assert (w.coupang.duplicate_acknowledgements, w.coupang.duplicate_uploads) == (0, 0)
    finally:
        w.close()


def test_loopback_coupang_and_domeme_logs_show_no_secret_or_personal_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    w = World("await-invoice", fault_rate=0.2, seed=5)
    try:
        suppliers = Suppliers(w)
        paid = [w.pay() for _ in range(6)]
        w.domeme.inject(DomemeFault.TIMEOUT_AFTER, mode="setOrder")
        w.domeme.inject(DomemeFault.SERVER_ERROR, mode="getOrderView", times=2)
        w.coupang.inject(Fault.SERVER_ERROR, path="orders/invoices")
        w.domeme.expire_sessions()
        w.run_for(12, act=suppliers)
        assert all(w.coupang.status_of(box) == "DEPARTURE" for box, _ in paid)
        shown = [caplog.text]
        shown += [repr(x) for x in (w.market, w.supplier, w.coupang_client, w.domeme_client)]
        shown += [str(x) for x in (w.market, w.supplier, w.coupang_client, w.domeme_client)]
        shown += [repr(w.engine.order(ref)) for _, ref in paid]
        text = "\n".join(shown)
        for secret in SECRETS:
            assert secret not in text
        for personal in (RECEIVER.name, RECEIVER.safe_number, RECEIVER.addr1, "050298765432"):
            assert personal not in text
        assert "domeme" in caplog.text  # the adapters did log
    finally:
        w.close()


def test_loopback_domeme_reroute_after_a_restart_on_sqlite_still_reaches_the_buyer(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    w = World("await-invoice", store=store)
    try:
        suppliers = Suppliers(w)
        box, ref = w.pay()
        w.run(11)
        [first] = w.domeme_orders_of(ref)
        w.restart()  # a new process: the order state comes back from the SQLite file
        suppliers.cancel_unconfirmed.add(first.order_no)  # 판매취소: 품절, after the restart
        w.run_for(8, act=suppliers)
        state = w.engine.order(ref)
        assert state is not None
        assert state.escalation is None, state.escalation
        assert state.status is OrderStatus.SHIPPED
        assert w.coupang.status_of(box) == "DEPARTURE"
    finally:
        w.close()
        store.close()


def test_loopback_domeme_item_change_feed_is_read_once_per_changes_every(
    immediate: World,
) -> None:
    w = immediate
    every = w.supplier.changes_every
    runs = 120
    for _ in range(runs):
        w.run(1)
    reads = len(w.domeme.calls_of("getAllSupplyChk"))
    assert reads == len(range(0, runs, int(every / timedelta(minutes=1))))
    w.domeme.set_stock(ONLY, 0)  # the sold-out notice still arrives within ``every``
    for _ in range(int(every / timedelta(minutes=1))):
        w.run(1)
    assert w.engine.stock[("S1", ONLY)] == 0


@pytest.mark.parametrize("bad", [timedelta(minutes=-1), 300, None])
def test_loopback_domeme_changes_every_must_be_a_non_negative_timedelta(bad: object) -> None:
    client = DomemeClient("test-api-key", "buyer1", "test-password")
    try:
        with pytest.raises(ConfigurationError, match=r"changes_every must be a timedelta >= 0"):
            DomemeSupplier(client, shop_name="s", changes_every=bad)  # type: ignore[arg-type]
    finally:
        client.close()
