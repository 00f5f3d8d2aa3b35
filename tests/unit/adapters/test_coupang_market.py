"""CoupangMarket: the MarketPort on CoupangClient (windows, cursor, statuses, batches, cancels,
buyer requests), against FakeCoupang in process and official-shaped wire fixtures."""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.adapters.coupang import (
    KST,
    CoupangClient,
    CoupangMarket,
    Throttle,
    coupang_courier_code,
    order_ref,
)
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    Courier,
    MarketOrder,
    OrderRef,
    Tracking,
)
from consign_core.domain.workflow import BuyerRequestAnswer, BuyerRequestKind
from consign_core.engine.ports import InvoiceUpload, MarketOrderStatus, MarketPort
from consign_core.errors import (
    ConfigurationError,
    ConsignError,
    RejectedError,
    ValidationError,
)
from consign_core.testing.fake_coupang import FakeCoupang, FakeItem, FakeReceiver
from tests.strategies import examples

from ._coupang_fixtures import (
    ACCESS,
    ACK_PARTIAL,
    ADDR,
    BOX,
    CANCEL_2019,
    INVOICE_INVALID_STATUS,
    NAME,
    ORDER,
    PHONE,
    RETURN_REQUEST,
    SECRET,
    STOPPED_OK,
    USER,
    Recorder,
    client,
    list_body,
    ok,
    single_body,
    v5_sheet,
)


NOW = datetime(2025, 7, 15, 3, 0, tzinfo=timezone.utc)  # 12:00 KST
ORDERS = "/v2/providers/openapi/apis/api/v5/vendors/A00012345/ordersheets"


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _world(**fake_kwargs: Any) -> tuple[FakeCoupang, CoupangMarket, Clock]:
    clock = Clock()
    settings: dict[str, Any] = {"clock": clock, "requests_per_second": None, "user_id": USER}
    settings.update(fake_kwargs)
    fake = FakeCoupang(**settings)
    api = CoupangClient(
        "A00012345",
        ACCESS,
        SECRET,
        transport=httpx.MockTransport(fake),
        clock=clock,
        user_id=USER,
        throttle=Throttle(1_000_000, sleep=lambda _: None),
        retry_attempts=1,
    )
    return fake, CoupangMarket(api, clock=clock), clock


def _ref(fake: FakeCoupang, box: int) -> OrderRef:
    return order_ref(fake.order_id_of(box), box)


def _windows(fake: FakeCoupang) -> list[tuple[str, str]]:
    out = []
    for call in fake.calls:
        query = dict(call.query)
        if call.path == ORDERS and query.get("searchType") == "timeFrame":
            out.append((query["createdAtFrom"], query["createdAtTo"]))
    return out


# --- the port and its configuration --------------------------------------------------------


def test_the_market_is_a_market_port_named_coupang_with_batches_of_50() -> None:
    _, market, _ = _world()
    assert isinstance(market, MarketPort)
    assert (market.market, market.ack_batch_limit, market.invoice_batch_limit) == (
        "coupang",
        50,
        50,
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"window": timedelta(seconds=10)}, "window"),
        ({"initial_lookback": timedelta(days=40)}, "initial_lookback"),
        ({"windows_per_page": 0}, "windows_per_page"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(kwargs: dict[str, Any], field: str) -> None:
    _, market, _ = _world()
    with pytest.raises(ConfigurationError, match=field):
        CoupangMarket(market._client, **kwargs)


def test_a_market_needs_a_coupang_client() -> None:
    with pytest.raises(ConfigurationError, match="CoupangClient"):
        CoupangMarket("not a client")  # type: ignore[arg-type]


def test_the_repr_shows_no_key() -> None:
    _, market, _ = _world()
    for text in (repr(market), str(market)):
        assert SECRET not in text
        assert ACCESS not in text
        assert USER not in text


# --- paid orders ---------------------------------------------------------------------------


def test_the_first_poll_reads_the_backlog_by_day_pages_then_minute_windows() -> None:
    fake, market, clock = _world()
    boxes = [fake.add_order_sheet(paid_at=NOW - timedelta(days=2, minutes=i)) for i in range(60)]
    found: list[MarketOrder] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = market.list_paid_orders(cursor)
        found += page.orders
        cursor = page.cursor
        pages += 1
        if not page.has_more:
            break
    assert sorted(o.ref.order_id for o in found) == sorted(_ref(fake, b).order_id for b in boxes)
    assert pages == 3  # two day pages (50 + 10), then one minute page
    day_reads = [c for c in fake.calls if c.path == ORDERS and ("maxPerPage", "50") in c.query]
    assert len(day_reads) == 2
    assert all(o.recipient is not None for o in found)
    clock.now += timedelta(minutes=30)
    again = market.list_paid_orders(cursor)
    assert again.orders == ()


def test_minute_windows_overlap_and_are_at_most_ten_minutes() -> None:
    fake, market, clock = _world()
    cursor = market.list_paid_orders(None).cursor
    cursor = market.list_paid_orders(cursor).cursor
    fake.calls.clear()
    clock.now += timedelta(minutes=40)
    page = market.list_paid_orders(cursor)
    windows = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in _windows(fake)]
    assert windows
    assert all(timedelta(0) < end - start <= timedelta(minutes=10) for start, end in windows)
    assert windows[0][0] <= (NOW - timedelta(minutes=15)).astimezone(KST)  # re-reads the lag
    assert windows[-1][1] == (NOW + timedelta(minutes=40)).astimezone(KST)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    assert page.has_more is False


def test_an_order_listed_late_is_found_by_the_overlap_and_reported_once() -> None:
    fake, market, clock = _world(listing_delay=timedelta(minutes=10))
    cursor = market.list_paid_orders(None).cursor
    box = fake.add_order_sheet(paid_at=clock.now)
    clock.now += timedelta(minutes=2)
    first = market.list_paid_orders(cursor)
    assert first.orders == ()  # not listed yet
    clock.now += timedelta(minutes=10)
    second = market.list_paid_orders(first.cursor)
    clock.now += timedelta(minutes=3)
    third = market.list_paid_orders(second.cursor)
    assert [o.ref for o in second.orders] == [_ref(fake, box)]
    assert third.orders == ()


def test_the_cursor_survives_a_restart_without_repeats_or_losses() -> None:
    fake, market, clock = _world()
    cursor = market.list_paid_orders(None).cursor
    seen = fake.add_order_sheet(paid_at=clock.now)
    clock.now += timedelta(minutes=1)
    page = market.list_paid_orders(cursor)
    assert [o.ref for o in page.orders] == [_ref(fake, seen)]
    restarted = CoupangMarket(market._client, clock=clock)
    fresh = fake.add_order_sheet(paid_at=clock.now)
    clock.now += timedelta(minutes=1)
    assert page.cursor is not None
    again = restarted.list_paid_orders(json.loads(json.dumps(page.cursor)))
    assert [o.ref for o in again.orders] == [_ref(fake, fresh)]


@pytest.mark.parametrize("cursor", ["17", "{}", '{"v":1}', '{"v":1,"start":"tomorrow"}', "\x00"])
def test_a_cursor_it_never_issued_is_refused_naming_the_cursor(cursor: str) -> None:
    _, market, _ = _world()
    with pytest.raises(ValidationError, match="cursor") as caught:
        market.list_paid_orders(cursor)
    assert caught.value.field == "cursor"


@given(st.text(max_size=200))
def test_any_cursor_text_gives_a_page_or_a_validation_error(cursor: str) -> None:
    _, market, _ = _world()
    try:
        page = market.list_paid_orders(cursor)
    except ValidationError as exc:
        assert exc.field == "cursor"  # noqa: PT017 - the error must name the cursor
    else:
        assert page.cursor is not None
        json.loads(page.cursor)  # what it issues is its own format


def test_acknowledged_or_cancelled_sheets_are_not_listed_as_paid() -> None:
    fake, market, clock = _world()
    cursor = market.list_paid_orders(None).cursor
    acked = fake.add_order_sheet(paid_at=clock.now, status="INSTRUCT")
    gone = fake.add_order_sheet(paid_at=clock.now)
    fake.buyer_cancel(gone)
    clock.now += timedelta(minutes=1)
    assert market.list_paid_orders(cursor).orders == ()
    assert fake.status_of(acked) == "INSTRUCT"


# --- get_order -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("ACCEPT", MarketOrderStatus.PAID),
        ("INSTRUCT", MarketOrderStatus.ACKNOWLEDGED),
        ("DEPARTURE", MarketOrderStatus.SHIPPED),
        ("DELIVERING", MarketOrderStatus.SHIPPED),
        ("NONE_TRACKING", MarketOrderStatus.SHIPPED),
        ("FINAL_DELIVERY", MarketOrderStatus.DELIVERED),
    ],
)
def test_get_order_maps_coupangs_statuses(status: str, expected: MarketOrderStatus) -> None:
    fake, market, _ = _world()
    box = fake.add_order_sheet(paid_at=NOW, status=status)
    snapshot = market.get_order(_ref(fake, box))
    assert snapshot.status is expected
    assert snapshot.order.ref == _ref(fake, box)


def test_a_cancelled_box_is_read_through_its_order_and_reported_cancelled() -> None:
    fake, market, _ = _world()
    box = fake.add_order_sheet(paid_at=NOW)
    fake.buyer_cancel(box)
    snapshot = market.get_order(_ref(fake, box))
    assert snapshot.status is MarketOrderStatus.CANCELLED
    assert snapshot.order.quantity == 1


def test_a_buyer_cancel_seen_in_the_requests_is_the_snapshots_cancellation() -> None:
    fake, market, _ = _world()
    box = fake.add_order_sheet(paid_at=NOW)
    fake.buyer_cancel(box)
    market.list_buyer_requests(None)
    snapshot = market.get_order(_ref(fake, box))
    assert snapshot.cancellation is not None
    assert snapshot.cancellation.fault is CancelFault.BUYER


def test_the_waybill_is_read_back_with_coupangs_courier_code() -> None:
    sheet = v5_sheet(
        status="DEPARTURE", deliveryCompanyName="CJ대한통운", invoiceNumber="123456789012"
    )
    recorder = Recorder(ok(single_body(sheet)))
    market = CoupangMarket(client(recorder))
    snapshot = market.get_order(order_ref(ORDER, BOX))
    assert snapshot.tracking == Tracking(courier=Courier.CJ, number="123456789012")
    assert snapshot.order.ref.order_id == f"{ORDER}-{BOX}"  # 18-digit box id kept exact
    assert recorder.last.url.path.endswith(f"/ordersheets/{BOX}")


def test_a_ref_of_another_market_is_refused_naming_the_ref() -> None:
    _, market, _ = _world()
    with pytest.raises(ValidationError, match="orderId-shipmentBoxId"):
        market.get_order(OrderRef(market="naver", order_id="1-2"))


# --- acknowledgement -----------------------------------------------------------------------


def test_acknowledge_answers_one_result_per_order_including_refused_ones() -> None:
    fake, market, _ = _world()
    boxes = [fake.add_order_sheet(paid_at=NOW) for _ in range(60)]
    gone = fake.add_order_sheet(paid_at=NOW)
    fake.buyer_cancel(gone)
    refs = [_ref(fake, b) for b in boxes] + [
        _ref(fake, gone),
        OrderRef(market="coupang", order_id="x"),
    ]
    results = market.acknowledge(refs)
    assert [r.ref for r in results] == refs
    assert all(r.ok for r in results[:60])
    assert [(r.ok, r.code) for r in results[60:]] == [
        (False, "INVALID_STATUS"),
        (False, "INVALID_REF"),
    ]
    assert all(fake.status_of(b) == "INSTRUCT" for b in boxes)
    assert fake.count_calls("PUT", "ordersheets/acknowledgement") == 2  # 50 + 11


def test_acknowledging_an_acknowledged_order_succeeds() -> None:
    fake, market, _ = _world()
    box = fake.add_order_sheet(paid_at=NOW)
    market.acknowledge([_ref(fake, box)])
    [again] = market.acknowledge([_ref(fake, box)])
    assert again.ok is True


# --- invoices ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("courier", "code"),
    [(Courier.CJ, "CJGLS"), (Courier.LOTTE, "HYUNDAI"), (Courier.LOGEN, "KGB"),
     (Courier.HANJIN, "HANJIN"), (Courier.KYUNGDONG, "KDEXP"), (Courier.CU, None)],
)  # fmt: skip
def test_couriers_map_to_coupang_codes(courier: Courier, code: str | None) -> None:
    assert coupang_courier_code(courier) == code


@pytest.mark.parametrize("courier", list(Courier))
def test_every_courier_maps_to_an_upper_case_coupang_code_or_none(courier: Courier) -> None:
    code = coupang_courier_code(courier)
    assert code is None or code.isupper()


def test_invoices_move_boxes_to_departure_one_line_per_item() -> None:
    fake, market, _ = _world()
    two = fake.add_order_sheet(
        paid_at=NOW, items=[FakeItem(vendor_item_id=11), FakeItem(vendor_item_id=12)]
    )
    one = fake.add_order_sheet(paid_at=NOW)
    refs = [_ref(fake, two), _ref(fake, one)]
    market.acknowledge(refs)
    results = market.upload_invoices([
        InvoiceUpload(ref=refs[0], tracking=Tracking(courier=Courier.CJ, number="123456789012")),
        InvoiceUpload(ref=refs[1], tracking=Tracking(courier=Courier.LOGEN,
                                                     number="12345678901")),
    ])  # fmt: skip
    assert [r.ok for r in results] == [True, True]
    assert fake.status_of(two) == fake.status_of(one) == "DEPARTURE"
    assert fake.invoice_of(one) == ("KGB", "12345678901")
    [call] = [c for c in fake.calls if c.path.endswith("orders/invoices")]
    lines = call.body["orderSheetInvoiceApplyDtos"]
    assert sorted(d["vendorItemId"] for d in lines if d["shipmentBoxId"] == two) == [11, 12]


def test_a_bad_waybill_fails_its_order_without_a_call() -> None:
    fake, market, _ = _world()
    box = fake.add_order_sheet(paid_at=NOW, status="INSTRUCT")
    ref = _ref(fake, box)
    short = Tracking(courier=Courier.CJ, number="12")
    nope = Tracking(courier=Courier.CU, number="123456789012")  # no Coupang code
    [bad] = market.upload_invoices([InvoiceUpload(ref=ref, tracking=short)])
    [unknown] = market.upload_invoices([InvoiceUpload(ref=ref, tracking=nope)])
    assert (bad.ok, bad.code, bad.retryable) == (False, "INVALID_INVOICE_NUMBER", False)
    assert unknown.code == "INVALID_INVOICE_NUMBER"
    assert fake.count_calls("POST", "orders/invoices") == 0


def test_uploading_the_same_waybill_again_succeeds_once_on_coupang() -> None:
    fake, market, _ = _world()
    box = fake.add_order_sheet(paid_at=NOW, status="INSTRUCT")
    tracking = Tracking(courier=Courier.CJ, number="123456789012")
    upload = InvoiceUpload(ref=_ref(fake, box), tracking=tracking)
    [first] = market.upload_invoices([upload])
    [second] = market.upload_invoices([upload])
    assert first.ok
    assert second.ok
    assert second.code == "ALREADY_UPLOADED"


# --- seller cancels ------------------------------------------------------------------------


def _cancellation(reason: CancelReason) -> Cancellation:
    return Cancellation(fault=CancelFault.SELLER, reason=reason, at=NOW)


@pytest.mark.parametrize("status", ["ACCEPT", "INSTRUCT"])
def test_a_stock_out_is_always_filed_as_coupangs_stock_out(status: str) -> None:
    fake, market, _ = _world()
    box = fake.add_order_sheet(paid_at=NOW, status=status, quantity=2)
    market.cancel_order(_ref(fake, box), _cancellation(CancelReason.STOCK_OUT))
    [filed] = fake.seller_cancels
    assert (filed["bigCancelCode"], filed["middleCancelCode"]) == ("CANERR", "CCTTER")
    assert filed["receiptCounts"] == [2]
    assert fake.status_of(box) == "CANCELLED"


@pytest.mark.parametrize("reason", [CancelReason.BUYER_REMORSE, CancelReason.DELIVERY_DELAY])
def test_a_reason_coupang_has_no_seller_code_for_is_refused_without_a_call(
    reason: CancelReason,
) -> None:
    fake, market, _ = _world()
    box = fake.add_order_sheet(paid_at=NOW)
    with pytest.raises(RejectedError, match="cannot cancel") as caught:
        market.cancel_order(_ref(fake, box), _cancellation(reason))
    assert caught.value.vendor_code == "NO_HONEST_CODE"
    assert fake.seller_cancels == []
    assert fake.count_calls("POST", "/cancel") == 0


# --- buyer requests ------------------------------------------------------------------------


def test_buyer_cancels_and_stop_shipment_requests_are_listed_once() -> None:
    fake, market, clock = _world()
    paid = fake.add_order_sheet(paid_at=NOW)
    acked = fake.add_order_sheet(paid_at=NOW, status="INSTRUCT", quantity=3)
    fake.buyer_cancel(paid)
    receipt = fake.buyer_cancel(acked)
    page = market.list_buyer_requests(None)
    kinds = {r.ref: r.kind for r in page.requests}
    assert kinds == {
        _ref(fake, paid): BuyerRequestKind.CANCEL,
        _ref(fake, acked): BuyerRequestKind.STOP_SHIPMENT,
    }
    assert all(r.reason is CancelReason.BUYER_REMORSE for r in page.requests)
    clock.now += timedelta(hours=1)
    assert market.list_buyer_requests(page.cursor).requests == ()
    restarted = CoupangMarket(market._client, clock=clock)
    restarted.answer_buyer_request(
        _ref(fake, acked), str(receipt), BuyerRequestAnswer.STOP_SHIPMENT
    )
    assert fake.receipt_status(receipt) == "RETURNS_COMPLETED"
    [stop] = [c for c in fake.calls if c.path.endswith("stoppedShipment")]
    assert stop.body["cancelCount"] == 3


def test_already_shipped_answers_with_the_waybill_and_accept_cancel_calls_nothing() -> None:
    fake, market, _ = _world()
    box = fake.add_order_sheet(paid_at=NOW, status="INSTRUCT")
    receipt = fake.buyer_cancel(box)
    before = len(fake.calls)
    market.answer_buyer_request(_ref(fake, box), "1", BuyerRequestAnswer.ACCEPT_CANCEL)
    assert len(fake.calls) == before
    with pytest.raises(ValidationError, match="tracking"):
        market.answer_buyer_request(_ref(fake, box), str(receipt),
                                    BuyerRequestAnswer.ALREADY_SHIPPED)  # fmt: skip
    market.answer_buyer_request(
        _ref(fake, box),
        str(receipt),
        BuyerRequestAnswer.ALREADY_SHIPPED,
        Tracking(courier=Courier.KYUNGDONG, number="70432743577"),
    )
    assert fake.status_of(box) == "DEPARTURE"
    assert fake.invoice_of(box) == ("KDEXP", "70432743577")


def test_a_request_id_that_is_not_a_receipt_id_is_refused_naming_it() -> None:
    fake, market, _ = _world()
    box = fake.add_order_sheet(paid_at=NOW, status="INSTRUCT")
    with pytest.raises(ValidationError, match="request_id") as caught:
        market.answer_buyer_request(_ref(fake, box), "R1", BuyerRequestAnswer.STOP_SHIPMENT)
    assert caught.value.field == "request_id"


# --- personal data -------------------------------------------------------------------------


def _error_text(call: Any) -> str:
    try:
        call()
    except ConsignError as exc:
        return f"{exc} {exc!r}"
    return ""


def test_no_receiver_data_in_logs_or_errors_on_any_path(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = FakeReceiver(name=NAME, safe_number=PHONE, addr1=ADDR)
    fake, market, clock = _world()
    cursor = market.list_paid_orders(None).cursor
    box = fake.add_order_sheet(paid_at=NOW, receiver=receiver)
    clock.now += timedelta(minutes=1)
    [order] = market.list_paid_orders(cursor).orders
    calls = (  # every error path of a taken-in order
        lambda: market.cancel_order(order.ref, _cancellation(CancelReason.OTHER)),
        lambda: market.cancel_order(order.ref, _cancellation(CancelReason.STOCK_OUT)),
        lambda: market.answer_buyer_request(order.ref, "9", BuyerRequestAnswer.STOP_SHIPMENT),
        lambda: market.get_order(OrderRef(market="coupang", order_id=f"1-{box}")),
    )
    errors = [_error_text(call) for call in calls]
    assert errors[0] == ""  # the first cancel went through; every later call fails
    assert all(errors[1:])
    text = caplog.text + " ".join(errors) + repr(order)
    for personal in (NAME, PHONE, ADDR):
        assert personal not in text


# --- fuzzing: whatever Coupang answers, only ConsignError escapes the port -----------------

MINUTES = json.dumps({"seen": {}, "start": "2025-07-15T11:50:00+09:00", "v": 1})
REF = order_ref(ORDER, BOX)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=12,
)  # fmt: skip
PORT_CALLS: list[tuple[Callable[[CoupangMarket], object], dict[str, Any]]] = [
    (lambda m: m.list_paid_orders(MINUTES), list_body(v5_sheet())),
    (lambda m: m.list_paid_orders(None), list_body(v5_sheet())),
    (lambda m: m.get_order(REF), single_body(v5_sheet(status="DEPARTURE"))),
    (lambda m: m.acknowledge([REF]), ACK_PARTIAL),
    (lambda m: m.upload_invoices([InvoiceUpload(ref=REF, tracking=Tracking(
        courier=Courier.CJ, number="123456789012"))]), INVOICE_INVALID_STATUS),
    (lambda m: m.cancel_order(REF, _cancellation(CancelReason.STOCK_OUT)), CANCEL_2019),
    (lambda m: m.list_buyer_requests(None), {"code": 200, "data": [RETURN_REQUEST]}),
    (lambda m: m.answer_buyer_request(REF, "363667", BuyerRequestAnswer.STOP_SHIPMENT),
     STOPPED_OK),
]  # fmt: skip


def _port_paths(value: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _port_paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _port_paths(inner, (*prefix, index))
    return found


@settings(max_examples=examples(300))
@given(
    index=st.integers(min_value=0, max_value=len(PORT_CALLS) - 1),
    seed=st.integers(),
    junk=JSON,
)
def test_a_mutated_real_answer_raises_only_consign_errors_from_the_port(
    index: int, seed: int, junk: object
) -> None:
    call, good = PORT_CALLS[index]
    body = copy.deepcopy(good)
    path = random.Random(seed).choice(_port_paths(body))
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    if random.Random(seed + 1).random() < 0.3 and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = junk
    sheet = single_body(v5_sheet())  # the reads around a write answer a real sheet
    answers = [ok(body), ok(sheet), ok(body)] if index >= 3 else [ok(body)]
    market = CoupangMarket(client(Recorder(*answers), retry_attempts=1), clock=lambda: NOW)
    with contextlib.suppress(ConsignError):
        call(market)
