"""CoupangClient: every call's method, path, query and body; errors, retries and throttling."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from consign_core.adapters.coupang import (
    KST,
    CoupangClient,
    Invoice,
    Throttle,
    cancel_code_for,
)
from consign_core.domain.model import CancelReason, Courier
from consign_core.errors import (
    AdapterError,
    AuthenticationError,
    ConfigurationError,
    ConsignError,
    NaiveDatetimeError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    UnexpectedResponseError,
    ValidationError,
)

from ._coupang_fixtures import (
    ACCESS,
    ACK_PARTIAL,
    BOX,
    BOX2,
    CANCEL_2019,
    COMPLETED_NESTED,
    HISTORY,
    INVOICE_INVALID_STATUS,
    ITEM,
    ORDER,
    RETURN_REQUEST,
    SECRET,
    STOPPED_OK,
    USER,
    VENDOR,
    Recorder,
    client,
    list_body,
    ok,
    single_body,
    v5_sheet,
)


P = f"/v2/providers/openapi/apis/api/v5/vendors/{VENDOR}"
P4 = f"/v2/providers/openapi/apis/api/v4/vendors/{VENDOR}"
P6 = f"/v2/providers/openapi/apis/api/v6/vendors/{VENDOR}"
DAY = date(2025, 7, 15)


def _raw(request: httpx.Request) -> str:
    return request.url.raw_path.decode()


# --- every call: method, path, query, body ------------------------------------------------


def test_order_sheets_sends_the_day_query_as_the_golden_vector_and_pages() -> None:
    token = "448537989"  # noqa: S105 - a page token
    rec = Recorder(ok(list_body(v5_sheet(), next_token=token)), ok(list_body()))
    with client(rec) as api:
        page = api.order_sheets(DAY, DAY + timedelta(days=1), status="ACCEPT")
        last = api.order_sheets(DAY, DAY + timedelta(days=1), status="ACCEPT",
                                next_token=page.next_token)  # fmt: skip
    first, second = rec.requests
    assert first.method == "GET"
    assert _raw(first) == (
        f"{P}/ordersheets?createdAtFrom=2025-07-15%2B09:00&createdAtTo=2025-07-16%2B09:00"
        "&maxPerPage=50&status=ACCEPT"
    )
    assert first.headers["Authorization"].endswith(
        "signature=c0e12d3d3f1d46b0c301148d887c21ddb7e99f2aadf260c89aca0657881ba692"
    )
    assert _raw(second).endswith("&status=ACCEPT&nextToken=448537989")
    assert [s.shipment_box_id for s in page.items] == [BOX]
    assert page.next_token == token
    assert last.items == ()
    assert last.next_token is None


def test_order_sheets_v4_sends_bare_dates() -> None:
    rec = Recorder(ok(list_body()))
    with client(rec, order_api_version="v4") as api:
        api.order_sheets(DAY, DAY + timedelta(days=1), status="ACCEPT")
    assert _raw(rec.last) == (
        f"{P4}/ordersheets?createdAtFrom=2025-07-15&createdAtTo=2025-07-16&maxPerPage=50"
        "&status=ACCEPT"
    )
    assert rec.last.headers["Authorization"].endswith(
        "d005b86aaba6f51b086fe6003f1a525f4bec29a5b4771ab2b6bd4d9614dac6fc"
    )


def test_order_sheets_take_aware_datetimes_as_their_kst_day() -> None:
    rec = Recorder(ok(list_body()))
    late_utc = datetime(2025, 7, 14, 20, 0, tzinfo=timezone.utc)  # 2025-07-15 05:00 KST
    with client(rec) as api:
        api.order_sheets(late_utc, late_utc, status="INSTRUCT")
    assert "createdAtFrom=2025-07-15%2B09:00&createdAtTo=2025-07-15%2B09:00" in _raw(rec.last)


def test_minute_window_uses_time_frame_search() -> None:
    rec = Recorder(ok(list_body(v5_sheet())))
    start = datetime(2025, 7, 29, 0, 1, tzinfo=KST)
    with client(rec) as api:
        sheets = api.order_sheets_by_time_frame(
            start, start + timedelta(hours=23, minutes=58), status="DEPARTURE"
        )
    assert _raw(rec.last) == (
        f"{P}/ordersheets?createdAtFrom=2025-07-29T00:01%2B09:00"
        "&createdAtTo=2025-07-29T23:59%2B09:00&searchType=timeFrame&status=DEPARTURE"
    )
    assert len(sheets) == 1


def test_single_reads_use_their_paths() -> None:
    rec = Recorder(
        ok(single_body(v5_sheet())),
        ok(single_body(v5_sheet())),
        ok({"code": 200, "message": "OK", "data": [v5_sheet(), v5_sheet(shipmentBoxId=BOX2)]}),
        ok(HISTORY),
    )
    with client(rec) as api:
        one = api.order_sheet(BOX)
        as_object = api.order_sheets_by_order(ORDER)
        as_list = api.order_sheets_by_order(ORDER)
        history = api.order_history(BOX)
    assert [(r.method, _raw(r)) for r in rec.requests] == [
        ("GET", f"{P}/ordersheets/{BOX}"),
        ("GET", f"{P}/{ORDER}/ordersheets"),
        ("GET", f"{P}/{ORDER}/ordersheets"),
        ("GET", f"{P}/ordersheets/{BOX}/history"),
    ]
    assert one.shipment_box_id == BOX
    assert [s.shipment_box_id for s in as_object] == [BOX]
    assert [s.shipment_box_id for s in as_list] == [BOX, BOX2]
    assert [d.delivery_status for d in history.details] == ["INSTRUCT", "ACCEPT"]


def test_acknowledge_puts_the_ids_and_returns_one_result_per_box() -> None:
    rec = Recorder(ok(ACK_PARTIAL))
    with client(rec) as api:
        results = api.acknowledge([BOX, BOX2, BOX])
    assert rec.last.method == "PUT"
    assert _raw(rec.last) == f"{P4}/ordersheets/acknowledgement"
    assert rec.last.headers["Authorization"].endswith(
        "dd50a95d0a9ce82aba046359c0da75fc03ae2e116e0428c397633ffe6fcc88e6"
    )
    assert rec.body() == {"vendorId": VENDOR, "shipmentBoxIds": [BOX, BOX2]}
    assert b"123456789012345678" in rec.last.content  # exact, never 1.2345678901234568e17
    ok_box, missing = results
    assert (ok_box.shipment_box_id, ok_box.succeeded, ok_box.result_code) == (BOX, True, "OK")
    assert (missing.succeeded, missing.retry_required) == (False, True)
    assert missing.result_code == "NOT_FOUND_SHIPMENT_BOX"


def test_acknowledge_splits_into_calls_of_at_most_fifty() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        ids = httpx.Response(200, content=request.content).json()["shipmentBoxIds"]
        rows = [{"shipmentBoxId": i, "succeed": True, "resultCode": "OK"} for i in ids]
        return ok({"code": "200", "data": {"responseCode": 0, "responseList": rows}})

    rec = Recorder(answer)
    boxes = list(range(BOX, BOX + 120))
    with client(rec) as api:
        results = api.acknowledge(boxes)
    assert [len(rec.body(i)["shipmentBoxIds"]) for i in range(3)] == [50, 50, 20]
    assert [r.shipment_box_id for r in results] == boxes
    assert all(r.succeeded for r in results)


def test_an_acknowledgement_answer_without_its_list_is_unexpected() -> None:
    rec = Recorder(ok(single_body(v5_sheet())))
    with client(rec) as api, pytest.raises(UnexpectedResponseError, match="responseList"):
        api.acknowledge([BOX])


def test_a_box_missing_from_the_answer_gets_a_retryable_no_result() -> None:
    rec = Recorder(ok({"code": "200", "data": {"responseCode": 0, "responseList": []}}))
    with client(rec) as api:
        [result] = api.acknowledge([BOX])
    assert (result.succeeded, result.retry_required, result.result_code) == (
        False,
        True,
        "NO_RESULT",
    )


def _invoice(**over: Any) -> Invoice:
    fields: dict[str, Any] = {
        "shipment_box_id": BOX,
        "order_id": ORDER,
        "vendor_item_id": ITEM,
        "courier": Courier.LOTTE,
        "invoice_number": "123456789012",
    }
    fields.update(over)
    return Invoice(**fields)


def test_invoice_upload_and_update_post_one_dto_per_item() -> None:
    rec = Recorder(ok(INVOICE_INVALID_STATUS))
    with client(rec) as api:
        [failed] = api.upload_invoices([_invoice()])
        api.update_invoices([_invoice(courier="DIRECT", invoice_number="1")])
    upload, update = rec.requests
    assert (upload.method, _raw(upload)) == ("POST", f"{P4}/orders/invoices")
    assert upload.headers["Authorization"].endswith(
        "3ef5e1b6ce01b39507cef9a91acf8f8a411404238e68189334f85b94079c8dcc"
    )
    assert rec.body(0) == {
        "vendorId": VENDOR,
        "orderSheetInvoiceApplyDtos": [
            {"shipmentBoxId": BOX, "orderId": ORDER, "vendorItemId": ITEM,
             "deliveryCompanyCode": "HYUNDAI", "invoiceNumber": "123456789012",
             "splitShipping": False, "preSplitShipped": False, "estimatedShippingDate": ""}
        ],
    }  # fmt: skip
    assert (update.method, _raw(update)) == ("POST", f"{P4}/orders/updateInvoices")
    assert rec.body(1)["orderSheetInvoiceApplyDtos"][0]["deliveryCompanyCode"] == "DIRECT"
    assert (failed.succeeded, failed.result_code, failed.retry_required) == (
        False,
        "INVALID_STATUS",
        False,
    )


def test_a_bad_waybill_fails_before_any_call() -> None:
    with pytest.raises(ValidationError, match="invoice_number"):
        _invoice(courier=Courier.EPOST, invoice_number="12345")
    with pytest.raises(ValidationError, match="CU"):
        _invoice(courier=Courier.CU)


def test_seller_cancel_posts_the_honest_reason_code_and_the_user_id() -> None:
    rec = Recorder(ok(CANCEL_2019))
    with client(rec) as api:
        result = api.cancel_order(ORDER, {ITEM: 2}, reason=CancelReason.STOCK_OUT)
    assert (rec.last.method, _raw(rec.last)) == ("POST", f"{P}/orders/{ORDER}/cancel")
    assert rec.body() == {
        "orderId": ORDER,
        "vendorItemIds": [ITEM],
        "receiptCounts": [2],
        "bigCancelCode": "CANERR",
        "middleCancelCode": "CCTTER",
        "vendorId": VENDOR,
        "userId": USER,
    }
    assert result.succeeded


def test_a_partial_cancel_reports_the_failed_items() -> None:
    body = {"code": "PARTIAL", "message": "", "data": {"orderId": ORDER, "failedItemIds": [ITEM]}}
    rec = Recorder(ok(body))
    with client(rec) as api:
        result = api.cancel_order(ORDER, {ITEM: 1, ITEM + 1: 1}, reason=CancelReason.PRICE_ERROR)
    assert rec.body()["middleCancelCode"] == "CCPRER"
    assert result.failed_vendor_item_ids == (ITEM,)
    assert not result.succeeded


def test_stock_outs_are_never_filed_under_another_code() -> None:
    assert cancel_code_for(CancelReason.STOCK_OUT) == "CCTTER"
    for reason in (CancelReason.BUYER_REMORSE, CancelReason.DELIVERY_DELAY):
        with pytest.raises(ValidationError, match=reason.name):
            cancel_code_for(reason)


def test_cancel_without_user_id_is_a_configuration_error_before_any_call() -> None:
    rec = Recorder(ok(CANCEL_2019))
    with client(rec, user_id=None) as api, pytest.raises(ConfigurationError, match="user_id"):
        api.cancel_order(ORDER, {ITEM: 1}, reason=CancelReason.STOCK_OUT)
    assert rec.requests == []


def test_return_requests_v6_including_accept_cancels() -> None:
    rec = Recorder(ok({"code": 200, "message": "OK", "data": [RETURN_REQUEST], "nextToken": ""}))
    with client(rec) as api:
        cancels = api.return_requests(DAY, DAY, cancel_type="CANCEL")
        api.return_requests(DAY, DAY, status="RU")
    first, second = rec.requests
    assert _raw(first) == (
        f"{P6}/returnRequests?createdAtFrom=2025-07-15&createdAtTo=2025-07-15&cancelType=CANCEL"
    )
    assert first.headers["Authorization"].endswith(
        "90e749b08620e154d8528768e637b22c2c1f366add3df06eca7d4e7aa14f76a0"
    )
    assert _raw(second) == (
        f"{P6}/returnRequests?createdAtFrom=2025-07-15&createdAtTo=2025-07-15&status=RU"
        "&cancelType=RETURN"
    )
    [request] = cancels.items
    assert (request.receipt_id, request.cancel_count_sum) == (363667, 2)
    assert request.return_items[0].shipment_box_id == BOX
    assert cancels.next_token is None


def test_a_return_query_without_status_or_order_is_refused_locally() -> None:
    rec = Recorder(ok(list_body()))
    with client(rec) as api, pytest.raises(ValidationError, match="status"):
        api.return_requests(DAY, DAY)
    assert rec.requests == []


def test_stop_shipment_answers_put_their_bodies() -> None:
    rec = Recorder(ok(STOPPED_OK), ok(COMPLETED_NESTED))
    with client(rec) as api:
        api.stopped_shipment(363667, 2)
        api.completed_shipment(363667, courier=Courier.KYUNGDONG, invoice_number="70432743577")
    stopped, completed = rec.requests
    assert (stopped.method, _raw(stopped)) == (
        "PUT",
        f"{P4}/returnRequests/363667/stoppedShipment",
    )
    assert rec.body(0) == {"vendorId": VENDOR, "receiptId": 363667, "cancelCount": 2}
    assert (completed.method, _raw(completed)) == (
        "PUT",
        f"{P4}/returnRequests/363667/completedShipment",
    )
    assert rec.body(1) == {
        "vendorId": VENDOR,
        "receiptId": 363667,
        "deliveryCompanyCode": "KDEXP",
        "invoiceNumber": "70432743577",
    }


def test_a_failed_stop_shipment_result_code_is_a_rejection() -> None:
    body = {"code": "200", "data": {"resultCode": "FAIL", "resultMessage": "이미 처리되었습니다"}}
    rec = Recorder(ok(body))
    with client(rec) as api, pytest.raises(RejectedError, match="이미 처리") as info:
        api.stopped_shipment(363667, 2)
    assert info.value.vendor_code == "FAIL"


def test_every_request_carries_the_vendor_headers() -> None:
    rec = Recorder(ok(list_body()))
    with client(rec, extended_timeout_ms=90000) as api:
        api.order_sheets(DAY, DAY, status="ACCEPT")
    assert rec.last.headers["X-Requested-By"] == VENDOR
    assert rec.last.headers["X-EXTENDED-TIMEOUT"] == "90000"
    assert rec.last.headers["Content-Type"] == "application/json;charset=UTF-8"


# --- argument checks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.order_sheets(DAY, DAY + timedelta(days=32), status="ACCEPT"),
        lambda api: api.order_sheets(DAY, DAY - timedelta(days=1), status="ACCEPT"),
        lambda api: api.order_sheets(DAY, DAY, status="PAID"),
        lambda api: api.order_sheets(DAY, DAY, status="ACCEPT", max_per_page=51),
        lambda api: api.order_sheets("2025-07-15", DAY, status="ACCEPT"),
        lambda api: api.order_sheets_by_time_frame(
            datetime(2025, 7, 1, tzinfo=KST), datetime(2025, 7, 2, tzinfo=KST), status="ACCEPT"
        ),
        lambda api: api.order_sheet(0),
        lambda api: api.order_sheet(True),
        lambda api: api.acknowledge(["123"]),
        lambda api: api.cancel_order(ORDER, {}, reason=CancelReason.STOCK_OUT),
        lambda api: api.cancel_order(ORDER, {ITEM: 0}, reason=CancelReason.STOCK_OUT),
    ],
)
def test_bad_arguments_raise_validation_errors_before_any_call(
    call: Callable[[CoupangClient], object],
) -> None:
    rec = Recorder(ok(list_body()))
    with client(rec) as api, pytest.raises(ValidationError):
        call(api)
    assert rec.requests == []


def test_naive_datetimes_are_refused() -> None:
    rec = Recorder(ok(list_body()))
    naive = datetime(2025, 7, 15, 10)  # noqa: DTZ001 - the point of the test
    with client(rec) as api, pytest.raises(NaiveDatetimeError):
        api.order_sheets(naive, DAY, status="ACCEPT")


@pytest.mark.parametrize(
    "kwargs",
    [{"vendor_id": "A 1"}, {"retry_attempts": 0}, {"order_api_version": "five"},
     {"user_id": ""}, {"requests_per_second": 0}, {"base_url": "api-gateway.coupang.com"},
     {"base_url": "https://x y"}],
)  # fmt: skip
def test_bad_settings_are_configuration_errors(kwargs: dict[str, Any]) -> None:
    settings = {"vendor_id": VENDOR, "access_key": ACCESS, "secret_key": SECRET, **kwargs}
    if "requests_per_second" in kwargs:
        with pytest.raises(ConfigurationError):
            Throttle(kwargs["requests_per_second"])
        return
    with pytest.raises(ConfigurationError):
        CoupangClient(**settings)


# --- errors -------------------------------------------------------------------------------

GATEWAY = {"code": "ERROR", "message": "Invalid signature.", "transactionId": "tx-4f2a"}


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, GATEWAY, AuthenticationError),
        (401, {"code": "ERROR", "message": "Specified signature is expired."}, AuthenticationError),
        (403, {"code": "ERROR", "message": "Not allowed IP: 10.0.0.1"}, AuthenticationError),
        (403, "<html><h1>Access Denied</h1></html>", AuthenticationError),
        (302, "", AuthenticationError),
        (404, {"code": "ERROR", "message": "Not Found"}, NotFoundError),
        (429, {"code": "ERROR", "message": "Too many requests"}, RateLimitedError),
        (500, {"code": 500, "message": "Internal Server Error"}, TransientError),
        (504, {"code": "ERROR", "message": "Request timed out"}, TransientError),
        (521, "connection timed out", TransientError),
        (400, {"code": 400, "message": "해당 주문이 취소 또는 반품되었습니다."}, RejectedError),
        (423, {"code": "ERROR", "message": "API locked"}, RejectedError),
        (200, {"code": "ERROR", "message": "vendorId is invalid"}, RejectedError),
        (200, {"code": "ERROR", "message": "Request is not authorized."}, AuthenticationError),
        (200, {"code": 400, "message": "bad request"}, RejectedError),
        (200, {"code": "FAIL", "message": "cancel failed"}, RejectedError),
        (200, "<html>maintenance</html>", UnexpectedResponseError),
        (200, {"code": "MAYBE", "data": []}, UnexpectedResponseError),
        (200, {"message": "OK"}, UnexpectedResponseError),
        (200, [1, 2], UnexpectedResponseError),
    ],
)
def test_every_failure_maps_into_the_error_tree(
    status: int, body: object, kind: type[AdapterError]
) -> None:
    response = httpx.Response(status, text=body) if isinstance(body, str) else ok(body, status)
    rec = Recorder(response)
    with client(rec, retry_attempts=1) as api, pytest.raises(kind) as info:
        api.order_sheet(BOX)
    assert info.value.adapter == "coupang"
    assert type(info.value) is kind
    assert isinstance(info.value, ConsignError)


def test_gateway_errors_keep_the_message_status_and_transaction_id() -> None:
    rec = Recorder(ok(GATEWAY, 401))
    with client(rec) as api, pytest.raises(AuthenticationError) as info:
        api.order_sheet(BOX)
    assert "Invalid signature." in str(info.value)
    assert info.value.status == 401
    assert info.value.request_id == "tx-4f2a"


def test_rate_limited_carries_retry_after_from_the_header() -> None:
    rec = Recorder(ok({"code": "ERROR", "message": "throttled"}, 429, **{"Retry-After": "7"}))
    with client(rec, retry_attempts=1) as api, pytest.raises(RateLimitedError) as info:
        api.order_sheet(BOX)
    assert info.value.retry_after == 7.0


def test_rejections_carry_coupangs_result_code() -> None:
    body = {"code": 400, "message": "refused", "data": {"resultCode": "INVALID_STATUS"}}
    rec = Recorder(ok(body, 400))
    with client(rec) as api, pytest.raises(RejectedError) as info:
        api.order_sheet(BOX)
    assert info.value.vendor_code == "INVALID_STATUS"


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.RemoteProtocolError("x")],
)
def test_transport_failures_are_transient(exc: httpx.HTTPError) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exc

    with client(Recorder(boom), retry_attempts=1) as api, pytest.raises(TransientError):
        api.order_sheet(BOX)


# --- retries ------------------------------------------------------------------------------


def test_reads_are_retried_on_transient_failures_and_429() -> None:
    rec = Recorder(
        ok({"code": "ERROR", "message": "busy"}, 503),
        ok({"code": "ERROR", "message": "throttled"}, 429),
        ok(single_body(v5_sheet())),
    )
    with client(rec, retry_attempts=3) as api:
        sheet = api.order_sheet(BOX)
    assert sheet.shipment_box_id == BOX
    assert len(rec.requests) == 3


def test_a_retry_after_beyond_the_longest_wait_is_raised_not_slept() -> None:
    rec = Recorder(ok({"code": "ERROR", "message": "throttled"}, 429, **{"Retry-After": "600"}))
    with client(rec, retry_attempts=3, retry_wait_max=5.0) as api, pytest.raises(RateLimitedError):
        api.order_sheet(BOX)
    assert len(rec.requests) == 1


def test_reads_give_up_after_the_configured_attempts() -> None:
    rec = Recorder(ok({"code": "ERROR", "message": "busy"}, 503))
    with client(rec, retry_attempts=2) as api, pytest.raises(TransientError):
        api.order_sheet(BOX)
    assert len(rec.requests) == 2


def test_acknowledge_is_not_retried_after_a_5xx_but_is_after_a_429() -> None:
    rec = Recorder(ok({"code": "ERROR", "message": "busy"}, 500))
    with client(rec, retry_attempts=3) as api, pytest.raises(TransientError):
        api.acknowledge([BOX])
    assert len(rec.requests) == 1
    rec = Recorder(ok({"code": "ERROR", "message": "throttled"}, 429), ok(ACK_PARTIAL))
    with client(rec, retry_attempts=3) as api:
        results = api.acknowledge([BOX])
    assert len(rec.requests) == 2
    assert results[0].succeeded


@pytest.mark.parametrize("status", [429, 500, 504])
def test_a_seller_cancel_is_never_retried(status: int) -> None:
    rec = Recorder(ok({"code": "ERROR", "message": "no"}, status))
    with client(rec, retry_attempts=5) as api, pytest.raises(AdapterError):
        api.cancel_order(ORDER, {ITEM: 1}, reason=CancelReason.STOCK_OUT)
    assert len(rec.requests) == 1


def test_timeouts_on_writes_are_not_retried() -> None:
    calls = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    with client(Recorder(slow), retry_attempts=5) as api, pytest.raises(TransientError):
        api.upload_invoices([_invoice()])
    assert len(calls) == 1


# --- throttle -----------------------------------------------------------------------------


def test_the_throttle_spaces_requests_at_the_configured_rate() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    throttle = Throttle(5.0, clock=lambda: now[0], sleep=sleep)
    rec = Recorder(ok(single_body(v5_sheet())))
    with client(rec, throttle=throttle) as api:
        for _ in range(4):
            api.order_sheet(BOX)
    assert waits == pytest.approx([0.2, 0.2, 0.2])
    assert now[0] == pytest.approx(100.6)


def test_the_default_throttle_is_shared_per_vendor_at_five_per_second() -> None:
    assert Throttle.for_vendor("A99") is Throttle.for_vendor("A99")
    assert Throttle.for_vendor("A99").per_second == 5.0
    assert Throttle.for_vendor("A98") is not Throttle.for_vendor("A99")


# --- secrets and personal data ------------------------------------------------------------

ERROR_PATHS: list[httpx.Response | Callable[[httpx.Request], httpx.Response]] = [
    ok({"code": "ERROR", "message": f"Invalid signature for {ACCESS}", "transactionId": SECRET},
       401),
    ok({"code": "ERROR", "message": f"Not allowed IP ({USER})"}, 403),
    ok({"code": "ERROR", "message": "x"}, 404),
    ok({"code": "ERROR", "message": "x"}, 429),
    ok({"code": "ERROR", "message": "x"}, 503),
    ok({"code": "ERROR", "message": f"user {USER} refused"}, 200),
    httpx.Response(200, text="{not json"),
]  # fmt: skip
READ_ERRORS = [
    ok(single_body(v5_sheet(receiver={"name": 5, "addr1": ["부산광역시 해운대구"]}))),
    ok(single_body(v5_sheet(shipmentBoxId="twelve"))),
    ok({"code": 200, "data": [v5_sheet()]}),  # a list where an object belongs
]


LEAK_CALLS: list[Callable[[CoupangClient], object]] = [
    lambda api: api.order_sheet(BOX),
    lambda api: api.acknowledge([BOX]),
    lambda api: api.cancel_order(ORDER, {ITEM: 1}, reason=CancelReason.STOCK_OUT),
    lambda api: api.upload_invoices([_invoice()]),
]


@pytest.mark.parametrize(
    ("answer", "call"),
    [(a, c) for a in ERROR_PATHS for c in LEAK_CALLS] + [(a, LEAK_CALLS[0]) for a in READ_ERRORS],
)
def test_no_error_path_leaks_keys_user_id_or_personal_data(
    answer: httpx.Response,
    call: Callable[[CoupangClient], object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with client(Recorder(answer), retry_attempts=2) as api, pytest.raises(ConsignError) as info:
        call(api)
    texts = [str(info.value), repr(info.value), repr(info.value.__dict__), repr(api), caplog.text]
    for text in texts:
        for secret in (ACCESS, SECRET, USER, "부산광역시 해운대구"):
            assert secret not in text


def test_successful_calls_log_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with client(Recorder(ok(single_body(v5_sheet())))) as api:
        sheet = api.order_sheet(BOX)
    assert "coupang GET" in caplog.text
    for text in (caplog.text, repr(sheet), str(sheet)):
        assert "부산광역시" not in text
        assert "0502-9876-5432" not in text
        assert ACCESS not in text


def test_a_bad_field_in_the_receiver_names_the_path_but_not_the_value() -> None:
    receiver = dict(v5_sheet()["receiver"], name=["홍길순테스트"])
    rec = Recorder(ok(single_body(v5_sheet(receiver=receiver))))
    with client(rec) as api, pytest.raises(UnexpectedResponseError) as info:
        api.order_sheet(BOX)
    assert "$.data.receiver.name" in str(info.value)
    assert "홍길순테스트" not in str(info.value)


def test_invoice_lines_go_50_a_call_without_splitting_a_box() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        boxes = dict.fromkeys(d["shipmentBoxId"] for d in json.loads(request.content)[
            "orderSheetInvoiceApplyDtos"])  # fmt: skip
        results = [{"shipmentBoxId": b, "succeed": True, "resultCode": "OK",
                    "retryRequired": False, "resultMessage": "ok"} for b in boxes]  # fmt: skip
        return ok({"code": 200, "message": "OK", "data": {"responseList": results}})

    recorder = Recorder(answer)
    lines = [
        Invoice(shipment_box_id=1000 + box, order_id=5000 + box, vendor_item_id=item,
                courier=Courier.CJ, invoice_number=f"{box:06d}{item:06d}")
        for box in range(30) for item in (1, 2, 3)
    ]  # fmt: skip
    with client(recorder) as api:
        results = api.upload_invoices(lines)
    bodies = [recorder.body(i)["orderSheetInvoiceApplyDtos"] for i in range(len(recorder.requests))]
    assert [len(b) for b in bodies] == [48, 42]
    first, second = ({d["shipmentBoxId"] for d in b} for b in bodies)
    assert first.isdisjoint(second)
    assert [r.shipment_box_id for r in results] == [1000 + box for box in range(30)]
