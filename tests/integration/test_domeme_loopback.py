"""DomemeClient and DomemeSupplier against FakeDomeme on a real loopback socket and through
WSGI: the same behaviour as in process, including a connection dropped after the call."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import stamina

from consign_core.adapters.domeme import DomemeClient, DomemeSupplier
from consign_core.domain.model import OrderRef, Recipient, SupplierOrderStatus
from consign_core.engine.ports import VENDOR_CODE_STOCK_OUT, PlaceOrderRequest
from consign_core.errors import ConsignError, RejectedError, TransientError
from consign_core.testing.fake_domeme import (
    DomemeFault,
    FakeDomeme,
    FakeDomemeServer,
)


RECIPIENT = Recipient(
    name="이하늘", phone="010-5555-0101", zip_code="48058", address1="부산 해운대구 센텀로 1"
)


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


@pytest.fixture
def fake() -> FakeDomeme:
    fake = FakeDomeme(emoney=300_000)
    fake.add_item("1001", seller_id="supplier1", price=8_000, stock=3)
    return fake


@pytest.fixture
def server(fake: FakeDomeme) -> Iterator[FakeDomemeServer]:
    with fake.serve() as running:
        yield running


def loopback_client(server: FakeDomemeServer) -> DomemeClient:
    return DomemeClient("test-api-key", "buyer1", "test-password", base_url=server.url, timeout=5.0)


def request_for(order_id: str, qty: int = 1) -> PlaceOrderRequest:
    ref = OrderRef(market="coupang", order_id=order_id)
    return PlaceOrderRequest(
        order_ref=ref,
        supplier_id="supplier1",
        item_id="1001",
        quantity=qty,
        idempotency_key=f"{ref}:1",
    )


def test_loopback_domeme_server_binds_a_free_loopback_port(server: FakeDomemeServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert not server.url.startswith("http://127.0.0.1:0/")


def test_loopback_domeme_order_flow(fake: FakeDomeme, server: FakeDomemeServer) -> None:
    client = loopback_client(server)
    supplier = DomemeSupplier(client, shop_name="하늘가게", recipient_for=lambda r: RECIPIENT)
    order = supplier.place_order(request_for("1", qty=2))
    fake.confirm(order.supplier_order_id)
    fake.invoice(order.supplier_order_id, courier="DAEHAN", number="555000111222")
    [state] = supplier.get_orders([order.supplier_order_id])
    assert state.status is SupplierOrderStatus.INVOICED
    assert state.tracking is not None
    assert state.tracking.number == "555000111222"
    with pytest.raises(RejectedError) as caught:
        supplier.place_order(request_for("2", qty=2))
    assert caught.value.vendor_code == VENDOR_CODE_STOCK_OUT
    client.close()


def test_loopback_domeme_dropped_connection_after_effect_does_not_duplicate(
    fake: FakeDomeme, server: FakeDomemeServer
) -> None:
    client = loopback_client(server)
    supplier = DomemeSupplier(client, shop_name="하늘가게", recipient_for=lambda r: RECIPIENT)
    client.login()
    fake.inject(DomemeFault.TIMEOUT_AFTER, mode="setOrder")
    order = supplier.place_order(request_for("3"))
    assert list(fake.orders) == [order.supplier_order_id]
    assert fake.duplicate_orders == 0


def test_loopback_domeme_drop_before_effect_is_transient_and_nothing_is_paid(
    fake: FakeDomeme, server: FakeDomemeServer
) -> None:
    client = loopback_client(server)
    client.login()
    fake.inject(DomemeFault.TIMEOUT_BEFORE, mode="setOrder")
    fake.inject(DomemeFault.SERVER_ERROR, mode="getOrderList", times=3)
    supplier = DomemeSupplier(client, shop_name="하늘가게", recipient_for=lambda r: RECIPIENT)
    with pytest.raises(TransientError):
        supplier.place_order(request_for("4"))
    assert fake.orders == {}
    assert fake.emoney == 300_000


def test_loopback_domeme_concurrent_clients_share_one_stock_ledger(
    fake: FakeDomeme, server: FakeDomemeServer
) -> None:
    results: list[str] = []
    lock = threading.Lock()

    def buy(index: int) -> None:
        client = loopback_client(server)
        supplier = DomemeSupplier(
            client, shop_name="s", recipient_for=lambda r: RECIPIENT, check_stock_first=False
        )
        try:
            supplier.place_order(request_for(f"c{index}"))
            outcome = "ok"
        except ConsignError as exc:
            outcome = str(getattr(exc, "vendor_code", "error"))
        with lock:
            results.append(outcome)
        client.close()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["STOCK_OUT"] * 3 + ["ok"] * 3
    assert fake.items["1001"].stock == 0


def test_server_start_and_stop_are_idempotent(fake: FakeDomeme) -> None:
    server = FakeDomemeServer(fake)
    server.start()
    url = server.url
    server.start()
    assert server.url == url
    server.stop()
    server.stop()
    with pytest.raises(RuntimeError):
        _ = server.url


def test_wsgi_transport_runs_the_same_fake(fake: FakeDomeme) -> None:
    transport = httpx.WSGITransport(app=fake.wsgi)
    client = DomemeClient("test-api-key", "buyer1", "test-password", transport=transport)
    supplier = DomemeSupplier(client, shop_name="s", recipient_for=lambda r: RECIPIENT)
    order = supplier.place_order(request_for("5"))
    assert supplier.find_order("coupang:5:1") == order.__class__(
        supplier_id="supplier1",
        supplier_order_id=order.supplier_order_id,
        order_ref=order.order_ref,
        item_id="1001",
        quantity=1,
        placed_at=supplier.find_order("coupang:5:1").placed_at,  # type: ignore[union-attr]
    )
    fake.inject(DomemeFault.TIMEOUT_AFTER, mode="setOrder")
    supplier.place_order(request_for("6"))
    assert fake.duplicate_orders == 0
    assert len(fake.orders) == 2


def test_loopback_domeme_order_feed_sees_confirmation_then_waybill(
    fake: FakeDomeme, server: FakeDomemeServer
) -> None:
    client = loopback_client(server)
    supplier = DomemeSupplier(
        client, shop_name="하늘가게", recipient_for=lambda r: RECIPIENT, feed_every=timedelta(0)
    )
    order = supplier.place_order(request_for("7"))
    fake.confirm(order.supplier_order_id)
    first = supplier.list_changed_orders(None)
    assert [o.status for o in first.orders] == [SupplierOrderStatus.CONFIRMED]
    fake.invoice(order.supplier_order_id, courier="HYUNDAI", number="555000111333")
    second = supplier.list_changed_orders(first.cursor)
    assert [o.status for o in second.orders] == [SupplierOrderStatus.INVOICED]
    assert second.orders[0].tracking is not None
    assert second.orders[0].tracking.number == "555000111333"
    assert len(fake.calls_of("getOrderList")) == 4  # two statuses per sweep
