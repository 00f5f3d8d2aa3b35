"""The buyer's delivery details end to end: from the market order to the supplier order.

The recipient travels from the market order (Coupang's order sheet ``receiver``) through the
engine's state to :class:`~consign_core.engine.ports.PlaceOrderRequest` and Domeme's
``deliinfo``; the option code travels from the SKU's source to Domeme's ``item[...]``. The
details are kept by the store apart from the order states, survive a restart, are purged a
retention after the order ended (never while it is open), and show in no repr, log line,
error message, journal or outbox row.
"""

from __future__ import annotations

import logging
import sqlite3
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import httpx
import pytest
import stamina

from consign_core import PlaceOrderRequest, Recipient
from consign_core.adapters.domeme import DomemeClient, DomemeSupplier
from consign_core.domain.model import MarketOrder, OrderRef, SupplierOrder
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.domain.workflow import OrderStatus
from consign_core.engine import Engine, EngineSettings
from consign_core.engine.ports import VENDOR_CODE_STOCK_OUT
from consign_core.errors import (
    ConfigurationError,
    RejectedError,
    TransientError,
    ValidationError,
)
from consign_core.store import InMemoryStore, SQLiteStore, Store
from consign_core.testing import T0, Fate, InMemoryMarket, InMemorySupplier, make_order
from consign_core.testing.fake_domeme import FakeDomeme
from tests.integration.test_consignment_loopback import RECEIVER, Suppliers, World


BUYER = Recipient(
    name="김수령",
    phone="0502-1234-5678",
    zip_code="06236",
    address1="서울특별시 강남구 테헤란로 123",
    address2="4층 401호",
    memo="부재 시 경비실에 맡겨주세요",
)
PERSONAL = (BUYER.name, BUYER.phone, BUYER.address1, BUYER.address2, BUYER.memo)
SKU = "SKU-1"


def paid(order_id: str, recipient: Recipient | None = BUYER) -> MarketOrder:
    return attrs.evolve(make_order(order_id, sku=SKU), recipient=recipient)


def assert_no_personal_data(text: str) -> None:
    for value in PERSONAL:
        assert value not in text


class RecordingSupplier(InMemorySupplier):
    """InMemorySupplier that also remembers the requests it refused or timed out on."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[PlaceOrderRequest] = []

    def place_order(self, request: PlaceOrderRequest) -> SupplierOrder:
        self.asked.append(request)
        return super().place_order(request)


Opener = Callable[[], Store]


@pytest.fixture(params=["memory", "sqlite"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the store again, as a restarted process does (the same object in memory)."""
    opened: list[Store] = []

    def reopen() -> Store:
        if request.param == "memory":
            if not opened:
                opened.append(InMemoryStore())
            return opened[0]
        if opened:
            opened[-1].close()
        opened.append(SQLiteStore(tmp_path / "engine.db"))
        return opened[-1]

    yield reopen
    if opened:
        opened[-1].close()


def engine_on(
    market: InMemoryMarket,
    supplier: InMemorySupplier,
    store: Store,
    *,
    sources: dict[str, object] | None = None,
    settings: EngineSettings | None = None,
    policy: str = "confirm-immediately",
) -> Engine:
    return Engine(
        market,
        supplier,
        store,
        policy=make_policy(policy),
        profile=COUPANG,
        sources=sources if sources is not None else {SKU: ("S1", "I1")},
        settings=settings,
    )


# --------------------------------------------------------------------------------------
# The recipient reaches the supplier order, across a restart
# --------------------------------------------------------------------------------------


def test_the_recipient_reaches_the_place_order_request(open_store: Opener) -> None:
    market, supplier = InMemoryMarket(), RecordingSupplier()
    market.add_order(paid("1001"))
    engine_on(market, supplier, open_store()).run_once(T0)
    [request] = supplier.asked
    assert request.recipient == BUYER
    assert request.option is None


def test_the_recipient_survives_a_restart_and_reaches_the_retried_request(
    open_store: Opener,
) -> None:
    market, supplier = InMemoryMarket(), RecordingSupplier()
    market.add_order(paid("1001"))
    supplier.faults.fail_next("place_order", TransientError("timed out", adapter="domeme"))
    engine_on(market, supplier, open_store()).run_once(T0)
    assert supplier.orders() == []  # the placement timed out: pending in the outbox
    restarted = engine_on(market, supplier, open_store())  # a new process on the store
    [state] = restarted.active_orders()
    assert state.order.recipient == BUYER
    restarted.run_once(T0 + timedelta(hours=1))
    [placed] = supplier.orders()
    assert supplier.requests[placed.supplier_order_id].recipient == BUYER
    assert [r.recipient for r in supplier.asked] == [BUYER, BUYER]


def test_an_order_without_delivery_details_is_placed_without_them(open_store: Opener) -> None:
    market, supplier = InMemoryMarket(), RecordingSupplier()
    market.add_order(paid("1001", recipient=None))  # as the policy lab's orders are
    engine_on(market, supplier, open_store()).run_once(T0)
    [request] = supplier.asked
    assert request.recipient is None


# --------------------------------------------------------------------------------------
# The option code: from the source the order is placed at
# --------------------------------------------------------------------------------------


def test_the_option_comes_from_the_source_and_an_alternate_has_its_own() -> None:
    market, supplier = InMemoryMarket(), RecordingSupplier()
    market.add_order(paid("1001"))
    sold_out = RejectedError("품절", adapter="domeme", vendor_code=VENDOR_CODE_STOCK_OUT)
    supplier.faults.fail_next("place_order", sold_out)
    sources: dict[str, object] = {SKU: [("S1", "I1", "00_01"), ("S2", "I2", "02")]}
    engine = engine_on(market, supplier, InMemoryStore(), sources=sources)
    engine.run_once(T0)
    assert [(r.supplier_id, r.item_id, r.option) for r in supplier.asked] == [
        ("S1", "I1", "00_01"),
        ("S2", "I2", "02"),
    ]


def test_an_alternate_after_a_restart_gets_the_recipient_and_its_own_option(
    open_store: Opener,
) -> None:
    market, supplier = InMemoryMarket(), RecordingSupplier()
    order = paid("1001")
    market.add_order(order)
    # S1 cancels (판매취소, 품절) half an hour after the order is placed, before confirming
    supplier.script(order.ref, Fate(ships=False, after=timedelta(minutes=30)), attempt=1)
    sources: dict[str, object] = {SKU: [("S1", "I1", "00_01"), ("S2", "I2", "02")]}
    engine_on(market, supplier, open_store(), sources=sources, policy="await-invoice").run_once(T0)
    now = T0 + timedelta(hours=1)
    supplier.advance(now)
    restarted = engine_on(market, supplier, open_store(), sources=sources, policy="await-invoice")
    restarted.run_once(now)  # a new process learns of the cancel and reroutes
    assert [(r.supplier_id, r.option, r.recipient) for r in supplier.asked] == [
        ("S1", "00_01", BUYER),
        ("S2", "02", BUYER),
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (("S1", "I1"), None),
        (("S1", "I1", None), None),
        (("S1", "I1", "03"), "03"),
        ([("S9", "I9"), ("S1", "I1", "04")], None),  # the primary has no option
    ],
)
def test_sources_keep_working_as_pairs_and_take_triples(spec: object, expected: str) -> None:
    market, supplier = InMemoryMarket(), RecordingSupplier()
    market.add_order(paid("1001"))
    engine_on(market, supplier, InMemoryStore(), sources={SKU: spec}).run_once(T0)
    [request] = supplier.asked
    assert request.option == expected


@pytest.mark.parametrize("spec", [("S1", "I1", ""), [("S1", "I1"), ("S2", "I2", "  ")]])
def test_an_empty_option_code_is_a_configuration_error_naming_the_sku(spec: object) -> None:
    with pytest.raises(ConfigurationError, match="SKU-1"):
        engine_on(InMemoryMarket(), InMemorySupplier(), InMemoryStore(), sources={SKU: spec})


# --------------------------------------------------------------------------------------
# The purge: a retention after the order ended, never while it is open
# --------------------------------------------------------------------------------------


def ship(market: InMemoryMarket, supplier: InMemorySupplier, engine: Engine, hours: int) -> None:
    now = T0
    for _ in range(hours):
        now += timedelta(hours=1)
        supplier.advance(now)
        engine.run_once(now)


def test_the_engine_purges_the_details_a_retention_after_the_order_ended(
    open_store: Opener,
) -> None:
    market, supplier = InMemoryMarket(), InMemorySupplier()
    market.add_order(paid("1001"))
    settings = EngineSettings(personal_data_retention=timedelta(days=30))
    store = open_store()
    engine = engine_on(market, supplier, store, settings=settings)
    engine.run_once(T0)
    ship(market, supplier, engine, 24)
    ref = OrderRef(market="coupang", order_id="1001")
    ended = engine.order(ref)
    assert ended is not None
    assert ended.status is OrderStatus.SHIPPED
    assert ended.order.recipient == BUYER
    # 29 days on (a new process each time): still kept, for returns and claims
    engine = engine_on(market, supplier, open_store(), settings=settings)
    engine.run_once(T0 + timedelta(days=29))
    assert engine.order(ref).order.recipient == BUYER  # type: ignore[union-attr]
    engine = engine_on(market, supplier, open_store(), settings=settings)
    engine.run_once(T0 + timedelta(days=32))
    purged = engine.order(ref)
    assert purged is not None
    assert purged.status is OrderStatus.SHIPPED  # the state stays, for history
    assert purged.order.recipient is None


def test_an_open_order_is_never_purged(open_store: Opener) -> None:
    market, supplier = InMemoryMarket(), InMemorySupplier()
    market.add_order(paid("1001"))
    settings = EngineSettings(personal_data_retention=timedelta(0))
    engine = engine_on(market, supplier, open_store(), settings=settings, policy="await-invoice")
    engine.run_once(T0)  # placed, waiting for the supplier (who never moves: no advance)
    for days in (1, 2, 40, 400):
        engine = engine_on(market, supplier, open_store(), settings=settings)
        engine.run_once(T0 + timedelta(days=days))
        [state] = engine.active_orders()
        assert not state.is_terminal
        assert state.order.recipient == BUYER


def test_the_purge_runs_at_most_once_a_day() -> None:
    market, supplier = InMemoryMarket(), InMemorySupplier()
    store = CountingStore()
    engine = engine_on(market, supplier, store)
    now = T0
    for _ in range(6 * 24 * 3):  # three days of runs every ten minutes
        engine.run_once(now)
        now += timedelta(minutes=10)
    assert len(store.purges) == 3
    assert store.purges[1] - store.purges[0] == timedelta(days=1)


class CountingStore(InMemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.purges: list[datetime] = []

    def purge_personal_data(self, ended_before: datetime) -> int:
        self.purges.append(ended_before)
        return super().purge_personal_data(ended_before)


def test_a_checkpoint_purges_too() -> None:
    market, supplier = InMemoryMarket(), InMemorySupplier()
    store = CountingStore()
    engine = engine_on(market, supplier, store)
    engine.run_once(T0)
    engine.checkpoint()
    assert len(store.purges) == 2


# --------------------------------------------------------------------------------------
# Never in a repr, a log line, an error message or the store's other rows
# --------------------------------------------------------------------------------------


def test_no_repr_or_str_shows_the_delivery_details() -> None:
    market, supplier = InMemoryMarket(), RecordingSupplier()
    order = paid("1001")
    market.add_order(order)
    engine = engine_on(market, supplier, InMemoryStore())
    engine.run_once(T0)
    [request] = supplier.asked
    [state] = engine.active_orders()
    for value in (BUYER, order, request, state, supplier.requests):
        assert_no_personal_data(repr(value))
        assert_no_personal_data(str(value))


def test_a_request_with_a_wrong_recipient_is_refused_without_showing_it() -> None:
    details = {"name": BUYER.name, "phone": BUYER.phone, "address1": BUYER.address1}
    with pytest.raises(ValidationError) as caught:
        PlaceOrderRequest(
            order_ref=OrderRef(market="coupang", order_id="1"),
            supplier_id="S1",
            item_id="I1",
            quantity=1,
            idempotency_key="k",
            recipient=details,  # type: ignore[arg-type]
        )
    assert caught.value.field == "recipient"
    assert_no_personal_data(str(caught.value))
    assert_no_personal_data(repr(caught.value))
    assert caught.value.value is None


def test_a_recipient_with_a_blank_field_names_the_field_not_the_values() -> None:
    with pytest.raises(ValidationError) as caught:
        Recipient(name=BUYER.name, phone=" ", zip_code=BUYER.zip_code, address1=BUYER.address1)
    assert "phone" in str(caught.value)
    assert_no_personal_data(str(caught.value))


def test_sqlite_rows_other_than_the_personal_table_hold_no_delivery_details(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "engine.db"
    market, supplier = InMemoryMarket(), InMemorySupplier()
    for i in range(3):
        market.add_order(paid(str(1001 + i)))
    supplier.faults.fail_next("place_order", TransientError("timed out", adapter="domeme"))
    store = SQLiteStore(path)
    caplog.set_level(logging.DEBUG)
    engine = engine_on(market, supplier, store)
    engine.run_once(T0)
    ship(market, supplier, engine, 24)
    engine.checkpoint()  # snapshot and journal too
    store.close()
    db = sqlite3.connect(path)
    tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert {"orders", "order_log", "journal", "outbox", "snapshots", "personal"} <= set(tables)
    seen = 0
    for table in tables:
        if table == "personal":
            continue
        for row in db.execute(f"SELECT * FROM {table}"):  # noqa: S608 - the file's own tables
            text = repr(row)
            seen += 1
            assert_no_personal_data(text)
            if isinstance(row[-1], bytes):  # a compressed snapshot
                assert_no_personal_data(zlib.decompress(row[-1]).decode())
    assert seen > 10
    assert db.execute("SELECT COUNT(*) FROM personal").fetchone() == (3,)
    db.close()
    assert caplog.records  # the run logged at DEBUG
    for record in caplog.records:
        assert_no_personal_data(record.getMessage())
    assert_no_personal_data(caplog.text)  # formatted, tracebacks included


# --------------------------------------------------------------------------------------
# Domeme: the request's recipient and option on the wire
# --------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


@pytest.fixture
def domeme() -> Iterator[tuple[FakeDomeme, DomemeSupplier]]:
    clock = Clock()
    fake = FakeDomeme(clock=clock, emoney=500_000)
    fake.add_item("1001", seller_id="supplier1", price=9_000, stock=10)
    fake.add_item("2002", seller_id="supplier2", options={"00_01": 5, "00_02": 5})
    transport = httpx.MockTransport(fake.handler)
    client = DomemeClient(
        "test-api-key", "buyer1", "test-password", transport=transport, clock=clock
    )
    yield fake, DomemeSupplier(client, shop_name="서준상점")
    client.close()


def request(
    item: str, option: str | None, recipient: Recipient | None = BUYER
) -> PlaceOrderRequest:
    ref = OrderRef(market="coupang", order_id=f"7{item}")
    return PlaceOrderRequest(
        order_ref=ref,
        supplier_id="supplier1" if item == "1001" else "supplier2",
        item_id=item,
        quantity=1,
        idempotency_key=f"{ref}:1",
        recipient=recipient,
        option=option,
    )


def test_domeme_sends_the_requests_recipient_and_option_00_for_none(
    domeme: tuple[FakeDomeme, DomemeSupplier],
) -> None:
    fake, supplier = domeme
    supplier.place_order(request("1001", None))
    supplier.place_order(request("2002", "00_02"))
    first, second = fake.calls_of("setOrder")
    assert first.form["item[1001]"].startswith("supply||P||00|1||")
    assert second.form["item[2002]"].startswith("supply||P||00_02|1||")
    assert first.form["item[1001]"].endswith(f"||{BUYER.memo}")
    name, _, zip_code, address1, address2, phone, *_ = first.form["deliinfo"].split("|")
    assert (name, zip_code, address1, address2, phone) == (
        BUYER.name,
        BUYER.zip_code,
        BUYER.address1,
        BUYER.address2,
        BUYER.phone,
    )


def test_domeme_refuses_a_request_without_delivery_details(
    domeme: tuple[FakeDomeme, DomemeSupplier],
) -> None:
    fake, supplier = domeme
    with pytest.raises(RejectedError) as caught:
        supplier.place_order(request("1001", None, recipient=None))
    assert caught.value.vendor_code == "NO_RECIPIENT"
    assert fake.calls_of("setOrder") == []


def test_domeme_logs_and_errors_never_show_the_recipient(
    domeme: tuple[FakeDomeme, DomemeSupplier], caplog: pytest.LogCaptureFixture
) -> None:
    _, supplier = domeme
    caplog.set_level(logging.DEBUG)
    supplier.place_order(request("1001", None))
    with pytest.raises(RejectedError) as caught:  # an option the item does not have
        supplier.place_order(request("2002", "00_09"))
    assert_no_personal_data(str(caught.value))
    assert caplog.records
    for record in caplog.records:
        assert_no_personal_data(record.getMessage())
    assert_no_personal_data(caplog.text)  # formatted, tracebacks included


# --------------------------------------------------------------------------------------
# The whole flow over loopback: Coupang's order sheet to Domeme's deliinfo, no lookup
# --------------------------------------------------------------------------------------

RECEIVER_TEXTS = (RECEIVER.name, RECEIVER.safe_number, RECEIVER.addr1)


class NoLookupWorld(World):
    """The loopback world with a DomemeSupplier that has no ``recipient_for``: the details
    can only come with the engine's request."""

    def new_engine(self) -> Engine:
        from consign_core.adapters.coupang import CoupangMarket

        self.market = CoupangMarket(self.coupang_client, clock=self.clock)
        self.supplier = DomemeSupplier(
            self.domeme_client, shop_name="하늘가게", feed_every=timedelta(minutes=5)
        )
        return Engine(
            self.market,
            self.supplier,
            self.store,
            policy=make_policy(self.policy),
            profile=COUPANG,
            sources={
                "3000000001": [("S1", "1001"), ("S2", "1002")],
                "3000000009": ("S1", "2002", "00_02"),  # an item with options
            },
            settings=self.settings,
        )


def test_loopback_the_order_sheets_receiver_reaches_domeme_and_no_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = SQLiteStore(tmp_path / "engine.db")
    world = NoLookupWorld("confirm-immediately", store=store)
    try:
        suppliers = Suppliers(world)
        _, ref = world.pay()
        world.run(11)
        world.restart()  # a new process: the details come back from the store
        world.run_for(6, act=suppliers)
        [placed] = world.domeme_orders_of(ref)
        name, _, zip_code, address1, *_ = placed.deliinfo.split("|")
        assert (name, zip_code, address1) == (RECEIVER.name, RECEIVER.post_code, RECEIVER.addr1)
        [call] = world.domeme.calls_of("setOrder")
        assert "||P||00|1||" in call.form["item[1001]"]  # a single-option item: 00
        state = world.engine.order(ref)
        assert state is not None
        assert state.status is OrderStatus.SHIPPED
        assert state.order.recipient is not None
        assert state.order.recipient.name == RECEIVER.name
    finally:
        world.close()
        store.close()
    assert len(caplog.records) > 20
    for record in caplog.records:
        message = record.getMessage()
        for value in RECEIVER_TEXTS:
            assert value not in message
    for value in RECEIVER_TEXTS:
        assert value not in caplog.text


def test_loopback_the_sources_option_code_reaches_domemes_item_field(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "engine.db")
    world = NoLookupWorld("confirm-immediately", store=store)
    try:
        world.domeme.add_item("2002", seller_id="S1", options={"00_01": 5, "00_02": 5})
        _, ref = world.pay(vendor_item_id=3_000_000_009)
        world.run(11)
        [call] = world.domeme.calls_of("setOrder")
        assert "||P||00_02|1||" in call.form["item[2002]"]
        [placed] = world.domeme_orders_of(ref)
        assert placed.item_no == "2002"
        assert placed.deliinfo.split("|")[0] == RECEIVER.name
    finally:
        world.close()
        store.close()
