"""Coupang's product item calls (stop / resume sales, set the quantity) in the client, the
market port and FakeCoupang; and the engine mirroring a sell-out onto FakeCoupang."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consign_core.adapters.coupang import CoupangClient, CoupangMarket, Throttle
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.engine import Engine
from consign_core.engine.ports import ListingPort
from consign_core.errors import (
    AuthenticationError,
    NotFoundError,
    RejectedError,
    TransientError,
    ValidationError,
)
from consign_core.store import InMemoryStore
from consign_core.testing import InMemorySupplier
from consign_core.testing.fake_coupang import FakeCoupang, Fault

from ._coupang_fixtures import ACCESS, ITEM, SECRET, USER, Recorder, client, ok


ITEMS = "/v2/providers/seller_api/apis/api/v1/marketplace/vendor-items"
# The answers as Coupang's documentation and a published client show them.
STOPPED = {"code": "SUCCESS", "message": "판매 중지 처리되었습니다.", "data": None}
RESUMED = {"code": "SUCCESS", "message": "판매가 재개되었습니다.", "data": None}
QUANTITY_SET = {"code": "SUCCESS", "message": "재고 변경을 완료했습니다."}
NOT_FOUND = {
    "code": "ERROR",
    "message": f"Failed to change the inventory. [vendoritemid {ITEM} not found]",
}
DELETED = {
    "code": "ERROR",
    "message": f"Failed to change inventory. [Option ID[{ITEM}] : It is not possible to change "
    "deleted product.]",
}
NOW = datetime(2025, 7, 15, 3, 0, tzinfo=timezone.utc)


# --------------------------------------------------------------------------------------
# CoupangClient
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "args", "tail", "answer"),
    [
        ("stop_sales", (), "sales/stop", STOPPED),
        ("resume_sales", (), "sales/resume", RESUMED),
        ("set_quantity", (7,), "quantities/7", QUANTITY_SET),
        ("set_quantity", (0,), "quantities/0", QUANTITY_SET),
    ],
)
def test_each_item_call_is_a_signed_put_without_a_body(
    call: str, args: tuple[Any, ...], tail: str, answer: dict[str, Any]
) -> None:
    recorder = Recorder(ok(answer))
    api = client(recorder)
    assert getattr(api, call)(ITEM, *args) is None
    request = recorder.last
    assert request.method == "PUT"
    assert request.url.path == f"{ITEMS}/{ITEM}/{tail}"
    assert request.content == b""
    assert request.headers["Authorization"].startswith("CEA algorithm=HmacSHA256")


def test_an_unknown_item_is_not_found() -> None:
    api = client(Recorder(ok(NOT_FOUND, status=400)))
    with pytest.raises(NotFoundError, match=str(ITEM)) as caught:
        api.stop_sales(ITEM)
    assert caught.value.status == 400


def test_a_deleted_item_is_refused() -> None:
    api = client(Recorder(ok(DELETED, status=400)))
    with pytest.raises(RejectedError, match="deleted product") as caught:
        api.set_quantity(ITEM, 3)
    assert not isinstance(caught.value, NotFoundError)


def test_an_error_envelope_with_http_200_is_refused() -> None:
    api = client(Recorder(ok({"code": "ERROR", "message": "판매중지할 수 없는 상품입니다."})))
    with pytest.raises(RejectedError, match="판매중지할 수 없는"):
        api.stop_sales(ITEM)


def test_a_server_error_is_retried_because_the_call_is_idempotent() -> None:
    recorder = Recorder(ok({"code": "ERROR", "message": "busy"}, status=503), ok(RESUMED))
    api = client(recorder, retry_attempts=2)
    api.resume_sales(ITEM)
    assert len(recorder.requests) == 2


def test_a_server_error_past_the_retries_is_transient() -> None:
    api = client(Recorder(ok({"code": "ERROR", "message": "busy"}, status=503)), retry_attempts=1)
    with pytest.raises(TransientError):
        api.stop_sales(ITEM)


def test_a_bad_signature_is_an_authentication_error_without_the_keys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = ok({"code": "ERROR", "message": f"Invalid signature. {ACCESS}"}, status=401)
    api = client(Recorder(answer))
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as caught:
        api.stop_sales(ITEM)
    for secret in (ACCESS, SECRET, USER):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


@pytest.mark.parametrize("quantity", [-1, 100_000, 1.5, True, "3"])
def test_a_bad_quantity_is_refused_naming_it(quantity: object) -> None:
    recorder = Recorder(ok(QUANTITY_SET))
    with pytest.raises(ValidationError, match="quantity") as caught:
        client(recorder).set_quantity(ITEM, quantity)  # type: ignore[arg-type]
    assert caught.value.field == "quantity"
    assert recorder.requests == []


@pytest.mark.parametrize("item", [0, -3, "3145181064", None])
def test_a_bad_vendor_item_id_is_refused_naming_it(item: object) -> None:
    recorder = Recorder(ok(STOPPED))
    with pytest.raises(ValidationError, match="vendor_item_id"):
        client(recorder).stop_sales(item)  # type: ignore[arg-type]
    assert recorder.requests == []


@given(message=st.text(max_size=60))
def test_any_success_answer_is_read_and_any_error_answer_is_refused(message: str) -> None:
    recorder = Recorder(ok({"code": "SUCCESS", "message": message}))
    client(recorder).stop_sales(ITEM)  # no error: the item is stopped
    assert len(recorder.requests) == 1
    # refused, whatever Coupang says (words like "not found" or "signature" refine the type)
    with pytest.raises((RejectedError, NotFoundError, AuthenticationError)):
        client(Recorder(ok({"code": "ERROR", "message": message}, status=400))).stop_sales(ITEM)


# --------------------------------------------------------------------------------------
# CoupangMarket.set_listing (the ListingPort)
# --------------------------------------------------------------------------------------


def _market(recorder: Recorder) -> CoupangMarket:
    return CoupangMarket(client(recorder), clock=lambda: NOW)


def test_the_market_port_is_a_listing_port() -> None:
    assert isinstance(_market(Recorder(ok(STOPPED))), ListingPort)


@pytest.mark.parametrize(
    ("selling", "quantity", "tails"),
    [
        (False, None, ["sales/stop"]),
        (True, None, ["sales/resume"]),
        (False, 0, ["sales/stop", "quantities/0"]),
        (True, 5, ["quantities/5", "sales/resume"]),  # the stock first, then on sale
    ],
)
def test_set_listing_sends_the_calls_in_a_safe_order(
    selling: bool, quantity: int | None, tails: list[str]
) -> None:
    recorder = Recorder(ok(STOPPED))
    _market(recorder).set_listing(str(ITEM), selling=selling, quantity=quantity)
    assert [r.url.path for r in recorder.requests] == [f"{ITEMS}/{ITEM}/{t}" for t in tails]


@pytest.mark.parametrize("sku", ["SKU-1", "", "0", "١٢٣"])
def test_a_sku_that_is_not_a_vendor_item_id_is_refused_for_good(sku: str) -> None:
    recorder = Recorder(ok(STOPPED))
    with pytest.raises(RejectedError, match="market_sku"):
        _market(recorder).set_listing(sku, selling=False)
    assert recorder.requests == []


# --------------------------------------------------------------------------------------
# FakeCoupang
# --------------------------------------------------------------------------------------


def _fake_client(fake: FakeCoupang) -> CoupangClient:
    return CoupangClient(
        fake.vendor_id,
        ACCESS,
        SECRET,
        transport=httpx.MockTransport(fake),
        clock=lambda: NOW,
        throttle=Throttle(1_000_000, sleep=lambda _: None),
        retry_attempts=1,
    )


def test_the_fake_refuses_buyers_while_an_item_is_stopped() -> None:
    fake = FakeCoupang(clock=lambda: NOW, requests_per_second=None)
    fake.add_vendor_item(ITEM, quantity=10)
    api = _fake_client(fake)
    assert fake.buyer_orders(ITEM) is not None
    api.stop_sales(ITEM)
    api.stop_sales(ITEM)  # stopping a stopped item succeeds
    assert fake.buyer_orders(ITEM, 2) is None
    assert fake.refused_orders == 1
    api.resume_sales(ITEM)
    assert fake.buyer_orders(ITEM, 2) is not None
    assert fake.vendor_item(ITEM).quantity == 10 - 1 - 2


def test_the_fake_sells_no_more_than_the_quantity_set() -> None:
    fake = FakeCoupang(clock=lambda: NOW, requests_per_second=None)
    fake.add_vendor_item(ITEM)
    _fake_client(fake).set_quantity(ITEM, 1)
    assert fake.buyer_orders(ITEM) is not None
    assert fake.buyer_orders(ITEM) is None
    assert not fake.can_buy(ITEM)


def test_the_fake_answers_an_unknown_item_as_coupang_does() -> None:
    fake = FakeCoupang(clock=lambda: NOW, requests_per_second=None)
    with pytest.raises(NotFoundError, match="no such vendor item"):
        _fake_client(fake).resume_sales(ITEM)
    assert fake.count_calls("PUT", "/sales/resume") == 1


def test_a_timeout_after_the_fake_stopped_the_item_is_safe_to_send_again() -> None:
    fake = FakeCoupang(clock=lambda: NOW, requests_per_second=None)
    fake.add_vendor_item(ITEM)
    fake.inject(Fault.GATEWAY_TIMEOUT, path="/sales/stop")
    api = _fake_client(fake)
    with pytest.raises(TransientError):
        api.stop_sales(ITEM)
    assert not fake.vendor_item(ITEM).on_sale  # it happened; only the answer was lost
    api.stop_sales(ITEM)
    assert not fake.can_buy(ITEM)


def test_an_order_sheet_seeded_for_an_item_lists_it_on_sale() -> None:
    fake = FakeCoupang(clock=lambda: NOW, requests_per_second=None)
    fake.add_order_sheet(vendor_item_id=ITEM)
    assert fake.vendor_item(ITEM).on_sale


# --------------------------------------------------------------------------------------
# The engine on CoupangMarket over FakeCoupang
# --------------------------------------------------------------------------------------


def test_the_engine_stops_a_sold_out_item_on_coupang_and_resumes_it() -> None:
    fake = FakeCoupang(clock=lambda: NOW, requests_per_second=None, user_id=USER)
    fake.add_vendor_item(ITEM)
    market = CoupangMarket(_fake_client(fake), clock=lambda: NOW)
    supplier = InMemorySupplier(now=NOW)
    engine = Engine(
        market,
        supplier,
        InMemoryStore(),
        policy=make_policy("confirm-immediately"),
        profile=COUPANG,
        sources={str(ITEM): ("S1", "I1")},
    )
    supplier.set_stock("S1", "I1", 0)
    engine.run_once(NOW)
    assert not fake.can_buy(ITEM)
    assert fake.buyer_orders(ITEM) is None
    supplier.set_stock("S1", "I1", 4)
    engine.run_once(NOW)
    assert fake.can_buy(ITEM)
    assert fake.count_calls("PUT", "/sales/stop") == 1
    assert fake.count_calls("PUT", "/sales/resume") == 1
