"""CoupangClient against FakeCoupang over a real loopback socket (and through WSGI)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from consign_core.adapters.coupang import (
    CoupangClient,
    Invoice,
    OrderSheet,
    Throttle,
    to_market_order,
)
from consign_core.domain.model import CancelReason, Courier
from consign_core.errors import (
    AuthenticationError,
    ConsignError,
    TransientError,
    UnexpectedResponseError,
)
from consign_core.testing.fake_coupang import FakeCoupang, FakeReceiver, Fault


NOW = datetime.now(timezone.utc)


@pytest.fixture
def fake() -> Iterator[FakeCoupang]:
    gateway = FakeCoupang(requests_per_second=200.0, user_id="wing-login")
    yield gateway
    gateway.stop()


def _client(base_url: str, **kwargs: Any) -> CoupangClient:
    settings: dict[str, Any] = {
        "base_url": base_url,
        "user_id": "wing-login",
        "throttle": Throttle(100.0),
        "retry_wait_initial": 0.01,
        "retry_wait_max": 0.05,
        "retry_wait_jitter": 0.0,
        "timeout": 5.0,
    }
    settings.update(kwargs)
    return CoupangClient("A00012345", "test-access-key", "test-secret-key", **settings)


def test_the_whole_order_flow_over_loopback(fake: FakeCoupang) -> None:
    boxes = [fake.add_order_sheet(paid_at=NOW, vendor_item_id=900 + i) for i in range(120)]
    with fake.serve() as url, _client(url) as api:
        sheets: list[OrderSheet] = []
        page = api.order_sheets(NOW, NOW, status="ACCEPT")
        sheets += page.items
        while page.next_token is not None:
            page = api.order_sheets(NOW, NOW, status="ACCEPT", next_token=page.next_token)
            sheets += page.items
        orders = [to_market_order(s) for s in sheets]
        results = api.acknowledge(s.shipment_box_id for s in sheets)
        first, second, third = sheets[:3]
        [shipped] = api.upload_invoices([
            Invoice(shipment_box_id=first.shipment_box_id, order_id=first.order_id,
                    vendor_item_id=first.order_items[0].vendor_item_id, courier=Courier.LOGEN,
                    invoice_number="12345678901")
        ])  # fmt: skip
        receipt = fake.buyer_cancel(second.shipment_box_id)
        [stop] = api.return_requests(NOW, NOW, status="RU").items
        api.stopped_shipment(stop.receipt_id, stop.cancel_count_sum or 0)
        cancel = api.cancel_order(
            third.order_id, {third.order_items[0].vendor_item_id: 1}, reason=CancelReason.STOCK_OUT
        )
        history = api.order_history(first.shipment_box_id)
    assert [s.shipment_box_id for s in sheets] == boxes
    assert all(o is not None and o.recipient is not None for o in orders)
    assert len(results) == 120
    assert all(r.succeeded for r in results)
    assert fake.count_calls("PUT", "acknowledgement") == 3
    assert shipped.succeeded
    assert fake.status_of(first.shipment_box_id) == "DEPARTURE"
    assert stop.receipt_id == receipt
    assert fake.status_of(second.shipment_box_id) == "CANCELLED"
    assert cancel.succeeded
    assert fake.seller_cancels[-1]["middleCancelCode"] == "CCTTER"
    assert [d.delivery_status for d in history.details] == ["DEPARTURE", "INSTRUCT", "ACCEPT"]


def test_a_timeout_after_the_call_took_effect_is_read_back(fake: FakeCoupang) -> None:
    box = fake.add_order_sheet(paid_at=NOW)
    fake.timeout_delay = 0.6
    fake.inject(Fault.TIMEOUT, path="acknowledgement")
    with fake.serve() as url, _client(url, timeout=0.2, retry_attempts=3) as api:
        with pytest.raises(TransientError, match="outcome is unknown"):
            api.acknowledge([box])
        status = api.order_sheet(box).status
    assert status == "INSTRUCT"
    assert fake.count_calls("PUT", "acknowledgement") == 1


def test_reads_ride_out_server_errors_over_the_socket(fake: FakeCoupang) -> None:
    box = fake.add_order_sheet(paid_at=NOW)
    fake.inject(Fault.SERVER_ERROR, times=2, method="GET")
    with fake.serve() as url, _client(url, retry_attempts=3) as api:
        assert api.order_sheet(box).shipment_box_id == box


def _outcome(api: CoupangClient, box: int) -> str:
    try:
        api.order_sheet(box)
    except ConsignError as exc:
        return type(exc).__name__
    return "ok"


def test_the_fake_throttle_answers_429_when_a_client_goes_too_fast(fake: FakeCoupang) -> None:
    slow = FakeCoupang(requests_per_second=2.0)
    box = slow.add_order_sheet(paid_at=NOW)
    try:
        with slow.serve() as url, _client(url, throttle=Throttle(1000.0), retry_attempts=1) as api:
            outcomes = [_outcome(api, box) for _ in range(5)]
    finally:
        slow.stop()
    assert outcomes[:2] == ["ok", "ok"]
    assert "RateLimitedError" in outcomes


def test_wrong_keys_over_the_socket_are_authentication_errors(fake: FakeCoupang) -> None:
    with fake.serve() as url:
        wrong = CoupangClient("A00012345", "test-access-key", "not-the-secret", base_url=url,
                              throttle=Throttle(100.0))  # fmt: skip
        with wrong as api, pytest.raises(AuthenticationError, match="Invalid signature"):
            api.order_sheet(1)


def test_the_wsgi_app_works_through_httpx_wsgi_transport(fake: FakeCoupang) -> None:
    box = fake.add_order_sheet(paid_at=NOW)
    transport = httpx.WSGITransport(app=fake.wsgi)
    with _client("https://api-gateway.coupang.com", transport=transport) as api:
        [result] = api.acknowledge([box])
    assert result.succeeded


def test_start_and_stop_are_thread_safe_and_idempotent(fake: FakeCoupang) -> None:
    urls: list[str] = []
    threads = [threading.Thread(target=lambda: urls.append(fake.start())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(urls)) == 1
    assert urls[0].startswith("http://127.0.0.1:")
    fake.stop()
    fake.stop()
    again = fake.start()
    assert again.startswith("http://127.0.0.1:")
    fake.stop()


def test_concurrent_clients_of_one_vendor_share_the_throttle(fake: FakeCoupang) -> None:
    boxes = [fake.add_order_sheet(paid_at=NOW) for _ in range(40)]
    throttle = Throttle(150.0)
    results: list[bool] = []
    lock = threading.Lock()

    def work(part: list[int]) -> None:
        with _client(url, throttle=throttle) as api:
            for box in part:
                [result] = api.acknowledge([box])
                with lock:
                    results.append(result.succeeded)

    with fake.serve() as url:
        threads = [threading.Thread(target=work, args=(boxes[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results.count(True) == 40
    assert not fake.rejected


def test_no_personal_data_or_key_reaches_the_logs(
    fake: FakeCoupang, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = FakeReceiver(
        name="박비밀", safe_number="0504-5555-6666", addr1="제주특별자치도 비밀로 1"
    )
    box = fake.add_order_sheet(paid_at=NOW, receiver=receiver)
    fake.inject(Fault.MALFORMED, path=str(box))
    with fake.serve() as url, _client(url) as api:
        with pytest.raises(UnexpectedResponseError):
            api.order_sheet(box)
        sheet = api.order_sheet(box)
        order = to_market_order(sheet)
    assert order is not None
    assert order.recipient is not None
    assert order.recipient.name == "박비밀"
    for text in (caplog.text, repr(sheet), repr(order)):
        for secret in ("박비밀", "0504-5555-6666", "비밀로", "test-secret-key", "wing-login"):
            assert secret not in text
