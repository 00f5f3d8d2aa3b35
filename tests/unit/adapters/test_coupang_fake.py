"""FakeCoupang: signature checks, throttle, statuses, buyer cancels and faults (in process)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from consign_core.adapters.coupang import CoupangClient, Invoice, Throttle
from consign_core.domain.model import CancelReason, Courier
from consign_core.errors import (
    AuthenticationError,
    RateLimitedError,
    RejectedError,
    TransientError,
    UnexpectedResponseError,
    ValidationError,
)
from consign_core.testing.fake_coupang import FakeCoupang, FakeItem, Fault


NOW = datetime(2025, 7, 15, 1, 2, 3, tzinfo=timezone.utc)
DAY = date(2025, 7, 15)
BASE = "https://api-gateway.coupang.com"
ORDERS = "/v2/providers/openapi/apis/api/v5/vendors/A00012345/ordersheets"


def _fake(**kwargs: Any) -> FakeCoupang:
    settings: dict[str, Any] = {"clock": lambda: NOW, "requests_per_second": None}
    settings.update(kwargs)
    return FakeCoupang(**settings)


def _client(fake: FakeCoupang, **kwargs: Any) -> CoupangClient:
    settings: dict[str, Any] = {
        "transport": httpx.MockTransport(fake),
        "clock": lambda: NOW,
        "user_id": "wing-login",
        "throttle": Throttle(1_000_000),
        "retry_attempts": 1,
    }
    settings.update(kwargs)
    return CoupangClient("A00012345", "test-access-key", "test-secret-key", **settings)


def _signed(
    method: str,
    target: str,
    *,
    date_text: str = "250715T010203Z",
    secret: str = "test-secret-key",  # noqa: S107 - the reference's test key
    with_q: bool = False,
) -> httpx.Request:
    path, _, query = target.partition("?")
    message = f"{date_text}{method}{path}{'?' if with_q else ''}{query}"
    sig = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    header = (
        f"CEA algorithm=HmacSHA256, access-key=test-access-key, signed-date={date_text}, "
        f"signature={sig}"
    )
    return httpx.Request(method, BASE + target, headers={"Authorization": header})


GOLDEN_TARGET = (
    f"{ORDERS}?createdAtFrom=2025-07-15%2B09:00&createdAtTo=2025-07-16%2B09:00"
    "&maxPerPage=50&status=ACCEPT"
)


# --- the gateway's checks -----------------------------------------------------------------


def test_the_fake_accepts_the_golden_vector_and_rejects_the_negative_one() -> None:
    fake = _fake()
    good = fake(_signed("GET", GOLDEN_TARGET))
    assert good.status_code == 200
    header = _signed("GET", GOLDEN_TARGET).headers["Authorization"]
    assert header.endswith("c0e12d3d3f1d46b0c301148d887c21ddb7e99f2aadf260c89aca0657881ba692")
    bad = fake(_signed("GET", GOLDEN_TARGET, with_q=True))
    assert bad.status_code == 401
    assert bad.json()["message"] == "Invalid signature."


@pytest.mark.parametrize(
    ("request_kwargs", "message"),
    [
        ({"secret": "wrong"}, "Invalid signature."),
        ({"date_text": "250715T000203Z"}, "Specified signature is expired."),
    ],
)
def test_the_fake_checks_key_and_clock_skew(request_kwargs: dict[str, Any], message: str) -> None:
    response = _fake()(_signed("GET", GOLDEN_TARGET, **request_kwargs))
    assert (response.status_code, response.json()["message"]) == (401, message)


def test_a_missing_or_malformed_header_is_401() -> None:
    fake = _fake()
    plain = fake(httpx.Request("GET", BASE + GOLDEN_TARGET))
    odd = fake(httpx.Request("GET", BASE + GOLDEN_TARGET, headers={"Authorization": "Bearer x"}))
    assert plain.status_code == odd.status_code == 401
    assert odd.json()["message"] == "HMAC format is invalid."


def test_a_client_with_a_skewed_clock_gets_an_authentication_error() -> None:
    fake = _fake()
    skewed = _client(fake, clock=lambda: NOW + timedelta(minutes=10))
    with skewed as api, pytest.raises(AuthenticationError, match="expired"):
        api.order_sheets(DAY, DAY, status="ACCEPT")


def test_an_ip_outside_the_allow_list_is_403() -> None:
    fake = _fake(allowed_ips={"10.1.2.3"})
    with _client(fake) as api, pytest.raises(AuthenticationError, match="Not allowed IP"):
        api.order_sheet(1)


def test_the_throttle_answers_429_past_the_rate() -> None:
    now = [0.0]
    fake = _fake(requests_per_second=2.0, monotonic=lambda: now[0])
    statuses = [fake(_signed("GET", GOLDEN_TARGET)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    now[0] += 0.5
    assert fake(_signed("GET", GOLDEN_TARGET)).status_code == 200
    with _client(fake) as api, pytest.raises(RateLimitedError):
        api.order_sheets(DAY, DAY, status="ACCEPT")


# --- statuses -----------------------------------------------------------------------------


def test_acknowledgement_moves_accept_to_instruct_and_only_once() -> None:
    fake = _fake()
    box = fake.add_order_sheet(paid_at=NOW)
    with _client(fake) as api:
        [first] = api.acknowledge([box])
        [second] = api.acknowledge([box])
    assert first.succeeded
    assert fake.status_of(box) == "INSTRUCT"
    assert (second.succeeded, second.result_code) == (False, "INVALID_STATUS")


def test_more_than_fifty_ids_in_one_call_are_refused_by_the_fake() -> None:
    fake = _fake()
    target = "/v2/providers/openapi/apis/api/v4/vendors/A00012345/ordersheets/acknowledgement"
    request = _signed("PUT", target)
    body = {"vendorId": "A00012345", "shipmentBoxIds": list(range(1, 52))}
    request = httpx.Request("PUT", request.url, headers=request.headers, json=body)
    assert fake(request).status_code == 400


def test_lists_page_by_fifty_and_filter_by_status_and_day() -> None:
    fake = _fake()
    boxes = [fake.add_order_sheet(paid_at=NOW) for _ in range(55)]
    fake.add_order_sheet(paid_at=NOW - timedelta(days=3))
    fake.add_order_sheet(paid_at=NOW, status="INSTRUCT")
    with _client(fake) as api:
        first = api.order_sheets(DAY, DAY, status="ACCEPT")
        second = api.order_sheets(DAY, DAY, status="ACCEPT", next_token=first.next_token)
    assert len(first.items) == 50
    assert second.next_token is None
    assert [s.shipment_box_id for s in first.items + second.items] == boxes


def test_invoice_upload_moves_to_departure_and_checks_the_waybill() -> None:
    fake = _fake()
    box = fake.add_order_sheet(
        paid_at=NOW, items=[FakeItem(vendor_item_id=11), FakeItem(vendor_item_id=12)]
    )
    with _client(fake) as api:
        api.acknowledge([box])
        sheet = api.order_sheet(box)
        lines = [
            Invoice(shipment_box_id=box, order_id=sheet.order_id, vendor_item_id=item,
                    courier=Courier.CJ, invoice_number="123456789012")
            for item in (11, 12)
        ]  # fmt: skip
        [missing_item] = api.upload_invoices(lines[:1])
        [done] = api.upload_invoices(lines)
        [again] = api.upload_invoices(lines)
    assert missing_item.result_code == "NOT_FOUND_VENDOR_ITEM"
    assert done.succeeded
    assert fake.status_of(box) == "DEPARTURE"
    assert fake.invoice_of(box) == ("CJGLS", "123456789012")
    assert again.result_code == "INVALID_STATUS"
    assert fake.advance(box) == "DELIVERING"
    assert fake.advance(box) == "FINAL_DELIVERY"


def test_a_buyer_cancel_in_accept_is_immediate_and_listed_as_cancel() -> None:
    fake = _fake()
    box = fake.add_order_sheet(paid_at=NOW)
    fake.buyer_cancel(box)
    with _client(fake) as api:
        assert api.order_sheets(DAY, DAY, status="ACCEPT").items == ()
        [result] = api.acknowledge([box])
        [receipt] = api.return_requests(DAY, DAY, cancel_type="CANCEL").items
        with pytest.raises(RejectedError, match="취소 또는 반품"):
            api.order_sheet(box)
    assert not result.succeeded
    assert receipt.receipt_type == "CANCEL"


def test_a_buyer_cancel_in_instruct_is_a_stop_shipment_request_to_answer() -> None:
    fake = _fake()
    box = fake.add_order_sheet(paid_at=NOW, quantity=2)
    with _client(fake) as api:
        api.acknowledge([box])
        receipt_id = fake.buyer_cancel(box)
        [request] = api.return_requests(DAY, DAY, status="RU").items
        sheet = api.order_sheet(box)
        line = Invoice(shipment_box_id=box, order_id=sheet.order_id,
                       vendor_item_id=sheet.order_items[0].vendor_item_id,
                       courier=Courier.HANJIN, invoice_number="1234567890")  # fmt: skip
        [blocked] = api.upload_invoices([line])
        with pytest.raises(TransientError, match="cancelCount"):
            api.stopped_shipment(receipt_id, 1)
        api.stopped_shipment(receipt_id, request.cancel_count_sum or 0)
    assert request.receipt_status == "RELEASE_STOP_UNCHECKED"
    assert sheet.order_items[0].hold_count_for_cancel == 2
    assert blocked.result_code == "ORDER_DELIVERY_CANCELED"
    assert fake.receipt_status(receipt_id) == "RETURNS_COMPLETED"
    assert fake.status_of(box) == "CANCELLED"


def test_already_shipped_answer_moves_the_box_to_departure() -> None:
    fake = _fake()
    box = fake.add_order_sheet(paid_at=NOW, status="INSTRUCT")
    receipt_id = fake.buyer_cancel(box)
    with _client(fake) as api:
        api.completed_shipment(receipt_id, courier=Courier.EPOST, invoice_number="1234567890123")
    assert fake.status_of(box) == "DEPARTURE"
    assert fake.receipt_status(receipt_id) == "RETURNS_UNCHECKED"


def test_a_seller_cancel_records_the_reason_code_and_needs_the_user_id() -> None:
    fake = _fake(user_id="wing-login")
    box = fake.add_order_sheet(paid_at=NOW, vendor_item_id=77, quantity=2)
    with _client(fake) as api:
        order_id = api.order_sheet(box).order_id
        with pytest.raises(RejectedError, match=r"수량|개수"):
            api.cancel_order(order_id, {77: 3}, reason=CancelReason.STOCK_OUT)
        result = api.cancel_order(order_id, {77: 2}, reason=CancelReason.STOCK_OUT)
    with _client(fake, user_id="someone-else") as api, pytest.raises(RejectedError):
        api.cancel_order(order_id, {77: 1}, reason=CancelReason.STOCK_OUT)
    assert result.succeeded
    assert fake.status_of(box) == "CANCELLED"
    assert [c["middleCancelCode"] for c in fake.seller_cancels] == ["CCTTER"]


def test_v4_reads_give_number_prices_and_offsetless_times() -> None:
    fake = _fake()
    box = fake.add_order_sheet(paid_at=NOW, unit_price=15900)
    with _client(fake, order_api_version="v4") as api:
        sheet = api.order_sheet(box)
    assert sheet.order_items[0].sales_price.units == 15900
    assert sheet.paid_at == NOW


def test_seeding_refuses_unknown_statuses_and_duplicate_ids() -> None:
    fake = _fake()
    box = fake.add_order_sheet()
    with pytest.raises(ValidationError):
        fake.add_order_sheet(status="PAID")
    with pytest.raises(ValidationError):
        fake.add_order_sheet(shipment_box_id=box)
    assert len(str(box)) == 18
    assert "김테스트" not in repr(fake) + repr(fake._boxes[box].receiver)


# --- faults -------------------------------------------------------------------------------


def test_injected_faults_fire_once_on_matching_calls() -> None:
    fake = _fake()
    box = fake.add_order_sheet(paid_at=NOW)
    fake.inject(Fault.SERVER_ERROR, path="/ordersheets/")
    with _client(fake) as api:
        api.order_sheets(DAY, DAY, status="ACCEPT")  # path does not match: no fault
        with pytest.raises(TransientError):
            api.order_sheet(box)
        assert api.order_sheet(box).shipment_box_id == box


def test_a_gateway_timeout_happens_after_the_acknowledgement_took_effect() -> None:
    fake = _fake()
    box = fake.add_order_sheet(paid_at=NOW)
    fake.inject(Fault.GATEWAY_TIMEOUT, path="acknowledgement")
    with _client(fake, retry_attempts=3) as api, pytest.raises(TransientError):
        api.acknowledge([box])
    assert fake.status_of(box) == "INSTRUCT"
    assert fake.count_calls("PUT", "acknowledgement") == 1


def test_a_timeout_after_effect_surfaces_as_transient_and_is_not_retried() -> None:
    fake = _fake()
    box = fake.add_order_sheet(paid_at=NOW)
    fake.inject(Fault.TIMEOUT, method="PUT")
    with _client(fake, retry_attempts=3) as api, pytest.raises(TransientError, match="timed out"):
        api.acknowledge([box])
    assert fake.status_of(box) == "INSTRUCT"
    assert fake.count_calls("PUT", "acknowledgement") == 1


def test_a_malformed_body_is_an_unexpected_response() -> None:
    fake = _fake()
    box = fake.add_order_sheet(paid_at=NOW)
    fake.inject(Fault.MALFORMED)
    with _client(fake) as api, pytest.raises(UnexpectedResponseError):
        api.order_sheet(box)


def test_rate_limited_faults_are_retried_by_reads() -> None:
    fake = _fake()
    box = fake.add_order_sheet(paid_at=NOW)
    fake.inject(Fault.RATE_LIMITED, times=2)
    with _client(fake, retry_attempts=3, retry_wait_initial=0, retry_wait_max=0,
                 retry_wait_jitter=0) as api:  # fmt: skip
        assert api.order_sheet(box).shipment_box_id == box
    assert fake.count_calls("GET", str(box)) == 3


def test_new_orders_show_in_lists_only_after_the_listing_delay() -> None:
    now = [NOW]
    fake = _fake(clock=lambda: now[0], listing_delay=timedelta(minutes=10))
    box = fake.add_order_sheet(paid_at=NOW)
    with _client(fake, clock=lambda: now[0]) as api:
        early = api.order_sheets(DAY, DAY, status="ACCEPT").items
        single = api.order_sheet(box)
        now[0] = NOW + timedelta(minutes=10)
        later = api.order_sheets(DAY, DAY, status="ACCEPT").items
    assert early == ()
    assert single.shipment_box_id == box
    assert [s.shipment_box_id for s in later] == [box]
