"""DomemeSupplier as a SupplierOrderFeed: the order list swept by status, against FakeDomeme."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import stamina
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consign_core.adapters.domeme import DomemeClient, DomemeSupplier
from consign_core.domain.model import (
    CancelFault,
    CancelReason,
    Courier,
    OrderRef,
    Recipient,
    SupplierOrder,
    SupplierOrderStatus,
)
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.engine import Engine, EngineSettings
from consign_core.engine.ports import PlaceOrderRequest, SupplierOrderFeed
from consign_core.errors import ConfigurationError, TransientError
from consign_core.store import InMemoryStore
from consign_core.testing import InMemoryMarket, make_order
from consign_core.testing.fake_domeme import DomemeFault, FakeDomeme


RECIPIENT = Recipient(
    name="박서준", phone="010-9876-5432", zip_code="04524", address1="서울 중구 세종대로 110"
)
T0 = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


def make_world(
    clock: Clock, *, feed_every: timedelta = timedelta(minutes=5)
) -> tuple[FakeDomeme, DomemeClient, DomemeSupplier]:
    fake = FakeDomeme(clock=clock, emoney=100_000_000, rate_limit_per_minute=100_000)
    fake.add_item("1001", seller_id="supplier1", price=1_000, stock=100_000)
    client = DomemeClient(
        "test-api-key",
        "buyer1",
        "test-password",
        transport=httpx.MockTransport(fake.handler),
        clock=clock,
        rate_limit_per_minute=100_000,
        rate_limit_per_day=None,
    )
    supplier = DomemeSupplier(
        client, shop_name="서준상점", recipient_for=lambda _: RECIPIENT, feed_every=feed_every
    )
    return fake, client, supplier


def place(supplier: DomemeSupplier, order_id: str) -> SupplierOrder:
    ref = OrderRef(market="coupang", order_id=order_id)
    request = PlaceOrderRequest(
        order_ref=ref,
        supplier_id="supplier1",
        item_id="1001",
        quantity=1,
        idempotency_key=f"{ref}:1",
    )
    return supplier.place_order(request)


def calls(client: DomemeClient) -> dict[str, int]:
    return dict(client.calls_by_mode)


def spent(before: dict[str, int], client: DomemeClient) -> dict[str, int]:
    after = calls(client)
    return {m: n - before.get(m, 0) for m, n in after.items() if n - before.get(m, 0)}


def test_the_supplier_offers_the_order_feed() -> None:
    _, _, supplier = make_world(Clock())
    assert isinstance(supplier, SupplierOrderFeed)


def test_a_confirmation_is_read_from_the_order_list_without_an_order_view() -> None:
    clock = Clock()
    fake, client, supplier = make_world(clock)
    order = place(supplier, "1")
    fake.confirm(order.supplier_order_id)
    before = calls(client)
    page = supplier.list_changed_orders(None)
    assert [(o.supplier_order_id, o.status) for o in page.orders] == [
        (order.supplier_order_id, SupplierOrderStatus.CONFIRMED)
    ]
    assert page.orders[0].order_ref == OrderRef(market="coupang", order_id="1")
    assert spent(before, client) == {"getOrderList": 2}  # one page per open status
    assert page.cursor is not None
    assert not page.has_more


def test_unchanged_open_orders_cost_only_the_list_pages() -> None:
    clock = Clock()
    fake, client, supplier = make_world(clock, feed_every=timedelta(0))
    orders = [place(supplier, str(n)) for n in range(250)]
    for order in orders[:120]:
        fake.confirm(order.supplier_order_id)
    supplier.list_changed_orders(None)  # the confirmations, seen once
    before = calls(client)
    page = supplier.list_changed_orders(None)
    assert page.orders == ()
    pages = math.ceil(130 / 100) + math.ceil(120 / 100)
    assert spent(before, client) == {"getOrderList": pages}


def test_an_invoiced_order_is_read_once_then_forgotten() -> None:
    clock = Clock()
    fake, client, supplier = make_world(clock, feed_every=timedelta(0))
    order = place(supplier, "1")
    number = fake.invoice(order.supplier_order_id, courier="HYUNDAI")
    before = calls(client)
    (seen,) = supplier.list_changed_orders(None).orders
    assert seen.status is SupplierOrderStatus.INVOICED
    assert seen.tracking is not None
    assert (seen.tracking.courier, seen.tracking.number) == (Courier.LOTTE, number)
    assert spent(before, client) == {"getOrderList": 2, "getOrderView": 1}
    before = calls(client)
    assert supplier.list_changed_orders(None).orders == ()
    assert spent(before, client) == {}  # nothing open is watched: no call at all


def test_a_supplier_cancellation_for_stock_is_seller_fault_and_a_stock_out() -> None:
    clock = Clock()
    fake, _, supplier = make_world(clock)
    order = place(supplier, "1")
    fake.cancel_by_supplier(order.supplier_order_id, "품절로 인한 판매취소")
    (seen,) = supplier.list_changed_orders(None).orders
    assert seen.status is SupplierOrderStatus.CANCELLED
    assert seen.cancellation is not None
    assert seen.cancellation.fault is CancelFault.SELLER
    assert seen.cancellation.reason is CancelReason.STOCK_OUT


def test_no_sweep_before_feed_every_and_the_cursor_keeps_the_cadence() -> None:
    clock = Clock()
    fake, client, supplier = make_world(clock, feed_every=timedelta(minutes=5))
    order = place(supplier, "1")
    first = supplier.list_changed_orders(None)
    fake.confirm(order.supplier_order_id)
    clock.now += timedelta(minutes=4)
    before = calls(client)
    early = supplier.list_changed_orders(first.cursor)
    assert (early.orders, early.cursor) == ((), first.cursor)
    assert spent(before, client) == {}
    clock.now += timedelta(minutes=1)
    late = supplier.list_changed_orders(early.cursor)
    assert [o.status for o in late.orders] == [SupplierOrderStatus.CONFIRMED]
    assert late.cursor != first.cursor


def test_a_cursor_it_never_issued_starts_a_sweep() -> None:
    clock = Clock()
    fake, _, supplier = make_world(clock)
    order = place(supplier, "1")
    fake.confirm(order.supplier_order_id)
    page = supplier.list_changed_orders("some-other-cursor")
    assert [o.supplier_order_id for o in page.orders] == [order.supplier_order_id]


def test_a_sweep_cut_short_loses_no_change() -> None:
    clock = Clock()
    fake, _, supplier = make_world(clock, feed_every=timedelta(0))
    first, second = place(supplier, "1"), place(supplier, "2")
    fake.confirm(first.supplier_order_id)
    fake.invoice(second.supplier_order_id)
    fake.inject(DomemeFault.SERVER_ERROR, mode="getOrderView", times=3)
    with pytest.raises(TransientError):
        supplier.list_changed_orders(None)
    page = supplier.list_changed_orders(None)
    assert {o.supplier_order_id: o.status for o in page.orders} == {
        first.supplier_order_id: SupplierOrderStatus.CONFIRMED,
        second.supplier_order_id: SupplierOrderStatus.INVOICED,
    }


def test_a_fresh_supplier_learns_the_open_orders_it_is_asked_about() -> None:
    clock = Clock()
    fake, client, supplier = make_world(clock)
    order = place(supplier, "1")
    restarted = DomemeSupplier(client, shop_name="서준상점", recipient_for=lambda _: RECIPIENT)
    assert restarted.list_changed_orders(None).orders == ()  # knows of no order yet
    (known,) = restarted.get_orders([order.supplier_order_id])
    assert known.status is SupplierOrderStatus.PLACED
    fake.confirm(order.supplier_order_id)
    clock.now += timedelta(minutes=5)
    page = restarted.list_changed_orders(None)
    assert [o.status for o in page.orders] == [SupplierOrderStatus.CONFIRMED]
    assert page.orders[0].order_ref == OrderRef(market="coupang", order_id="1")


def test_an_order_out_of_the_list_window_is_still_followed_by_its_view() -> None:
    clock = Clock()
    fake, _, supplier = make_world(clock, feed_every=timedelta(0))
    order = place(supplier, "1")
    clock.now += timedelta(days=40)  # older than feed_days: the list no longer shows it
    fake.invoice(order.supplier_order_id)
    (seen,) = supplier.list_changed_orders(None).orders
    assert seen.status is SupplierOrderStatus.INVOICED


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("feed_every", timedelta(seconds=-1), "feed_every"),
        ("feed_days", 0, "feed_days"),
        ("feed_page_size", 501, "feed_page_size"),
        ("feed_max_pages", True, "feed_max_pages"),
    ],
)
def test_bad_feed_settings_are_refused_by_name(option: str, value: object, field: str) -> None:
    _, client, _ = make_world(Clock())
    with pytest.raises(ConfigurationError, match=field):
        DomemeSupplier(client, shop_name="서준상점", **{option: value})  # type: ignore[arg-type]


_ACTIONS = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(["confirm", "invoice", "cancel", "sweep"])),
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=_ACTIONS)
def test_the_feed_reports_every_status_change_in_the_current_state(
    actions: list[tuple[int, str]],
) -> None:
    clock = Clock()
    fake, _, supplier = make_world(clock, feed_every=timedelta(0))
    orders = [place(supplier, str(n)).supplier_order_id for n in range(8)]
    reported = dict.fromkeys(orders, SupplierOrderStatus.PLACED)

    def truth(no: str) -> SupplierOrderStatus:
        placed = fake.orders[no]
        if placed.status_mode in {"DENYSELL", "DENYBUY"}:
            return SupplierOrderStatus.CANCELLED
        if placed.tracking:
            return SupplierOrderStatus.INVOICED
        if placed.status_mode == "WAITDELI":
            return SupplierOrderStatus.CONFIRMED
        return SupplierOrderStatus.PLACED

    def sweep() -> None:
        for order in supplier.list_changed_orders(None).orders:
            assert order.status is truth(order.supplier_order_id)
            reported[order.supplier_order_id] = order.status

    for index, action in actions:
        no = orders[index]
        mode = fake.orders[no].status_mode
        if action == "sweep":
            sweep()
        elif action == "confirm":
            fake.confirm(no)
        elif action == "invoice" and mode in {"WAITCHK", "WAITDELI"}:
            fake.invoice(no)
        elif action == "cancel" and mode in {"WAITCHK", "WAITDELI"}:
            fake.cancel_by_supplier(no)
    sweep()
    assert reported == {no: truth(no) for no in orders}


def test_the_engine_reads_the_feed_instead_of_viewing_every_open_order() -> None:
    clock = Clock()
    fake, client, supplier = make_world(clock)
    market = InMemoryMarket()
    engine = Engine(
        market,
        supplier,
        InMemoryStore(),
        policy=make_policy("expected-cost"),
        profile=COUPANG,
        sources={"SKU-1": [("supplier1", "1001")]},
        settings=EngineSettings(),
    )
    for n in range(30):
        market.add_order(make_order(f"{n:04d}", sku="SKU-1", paid_at=clock.now))
    runs = 120
    for minute in range(runs):
        if minute == 30:
            for order_no in list(fake.orders)[:10]:
                fake.confirm(order_no)
        market.advance(clock.now)
        engine.run_once(clock.now)
        clock.now += timedelta(minutes=1)
    assert len(fake.orders) == 30
    views = client.calls_by_mode["getOrderView"]
    assert views <= 30  # once per order taken on, not once per order per run
    assert client.calls_by_mode["getOrderList"] <= 2 * (runs // 5 + 1)
    confirmed = [s for s in engine.active_orders() if s.supplier_order_id in list(fake.orders)[:10]]
    assert len(confirmed) == 10
    assert all(s.supplier_state.value == "confirmed" for s in confirmed)


def test_a_sweep_lists_each_open_status_by_label_age_and_page() -> None:
    clock = Clock()
    fake, _, supplier = make_world(clock)
    place(supplier, "1")
    supplier.list_changed_orders(None)
    sent = [
        {k: c.params.get(k) for k in ("for", "st", "day", "ic", "pg", "ver")}
        for c in fake.calls_of("getOrderList")
    ]
    assert sent == [
        {"for": "buy", "st": "결제완료", "day": "30", "ic": "100", "pg": "1", "ver": "4.0"},
        {"for": "buy", "st": "배송준비중", "day": "30", "ic": "100", "pg": "1", "ver": "4.0"},
    ]
    assert all(c.method == "GET" for c in fake.calls_of("getOrderList"))


def test_a_waybill_of_an_unknown_courier_is_not_reported_as_invoiced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    fake, _, supplier = make_world(clock, feed_every=timedelta(0))
    order = place(supplier, "1")
    fake.invoice(order.supplier_order_id, courier="NEXTMILE")
    with caplog.at_level("WARNING", logger="consign_core.adapters.domeme"):
        (seen,) = supplier.list_changed_orders(None).orders
    assert (seen.status, seen.tracking) == (SupplierOrderStatus.CONFIRMED, None)
    assert "NEXTMILE" in caplog.text
    assert RECIPIENT.name not in caplog.text
    assert RECIPIENT.phone not in caplog.text
