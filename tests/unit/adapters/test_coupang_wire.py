"""Coupang's wire: the DTOs, the converter, exact ids, and fuzzed response parsing."""

from __future__ import annotations

import contextlib
import copy
import json
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.adapters.coupang import (
    KST,
    CoupangClient,
    Invoice,
    OrderSheet,
    Price,
    ReturnRequest,
    make_coupang_converter,
)
from consign_core.adapters.coupang._wire import decode_json
from consign_core.domain.model import CancelReason, Courier
from consign_core.errors import ConsignError, UnexpectedResponseError
from tests.strategies import examples

from ._coupang_fixtures import (
    ACK_PARTIAL,
    BOX,
    CANCEL_2019,
    HISTORY,
    INVOICE_INVALID_STATUS,
    ITEM,
    ORDER,
    RETURN_REQUEST,
    Recorder,
    client,
    list_body,
    ok,
    single_body,
    v4_sheet,
    v5_sheet,
)


def _parse(raw: object) -> OrderSheet:
    return make_coupang_converter().structure(raw, OrderSheet)


def _raw_body(text: str) -> httpx.Response:
    return httpx.Response(200, content=text.encode(), headers={"Content-Type": "application/json"})


# --- shapes -------------------------------------------------------------------------------


def test_a_v5_sheet_parses_with_money_objects_and_its_odd_offset() -> None:
    sheet = _parse(v5_sheet())
    assert (sheet.shipment_box_id, sheet.order_id, sheet.status) == (BOX, ORDER, "ACCEPT")
    assert sheet.ordered_at == datetime(
        2025, 7, 15, 10, 20, 30, 123456, tzinfo=timezone(timedelta(hours=-8))
    )
    assert sheet.paid_at.utcoffset() == timedelta(hours=9)
    [item] = sheet.order_items
    assert (item.vendor_item_id, item.shipping_count) == (ITEM, 2)
    assert item.sales_price == Price(units=12900)
    assert item.order_price.units == 25800
    assert item.estimated_shipping_date == date(2025, 7, 17)
    assert sheet.shipping_price == Price(units=3000)


def test_a_v4_sheet_parses_bare_numbers_and_offsetless_kst_times() -> None:
    sheet = _parse(v4_sheet())
    assert sheet.paid_at == datetime(2025, 7, 15, 10, 21, tzinfo=KST)
    assert sheet.order_items[0].sales_price == Price(units=12900)
    assert sheet.shipping_price == Price(units=3000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-07-15T10:21:00Z", datetime(2025, 7, 15, 10, 21, tzinfo=timezone.utc)),
        ("2025-07-15 10:21:00", datetime(2025, 7, 15, 10, 21, tzinfo=KST)),
        ("2025-07-15T10:21", datetime(2025, 7, 15, 10, 21, tzinfo=KST)),
        ("2025-07-15T10:21:00.5+0900", datetime(2025, 7, 15, 10, 21, 0, 500000, tzinfo=KST)),
        ("2025-07-15T10:21:00.123456789-08:00",
         datetime(2025, 7, 15, 10, 21, 0, 123456, tzinfo=timezone(timedelta(hours=-8)))),
    ],
)  # fmt: skip
def test_timestamps_take_every_published_form(text: str, expected: datetime) -> None:
    assert _parse(v5_sheet(paidAt=text)).paid_at == expected


def test_an_hour_only_offset_and_a_date_with_a_time_are_read() -> None:
    item = dict(v5_sheet()["orderItems"][0], estimatedShippingDate="2025-07-17T00:00:00")
    sheet = _parse(v5_sheet(paidAt="2025-07-15T10:21:00+09", orderItems=[item]))
    assert sheet.paid_at == datetime(2025, 7, 15, 10, 21, tzinfo=KST)
    assert sheet.order_items[0].estimated_shipping_date == date(2025, 7, 17)


def test_unknown_fields_are_ignored_and_ids_may_come_as_digit_strings() -> None:
    sheet = _parse(v5_sheet(brandNewField={"x": 1}, shipmentBoxId=str(BOX)))
    assert sheet.shipment_box_id == BOX


def test_eighteen_digit_ids_stay_exact_through_the_client() -> None:
    big = 987654321098765432  # not representable as a float
    assert float(big) != big
    text = json.dumps(single_body(v5_sheet(shipmentBoxId=big)))
    with client(Recorder(_raw_body(text))) as api:
        sheet = api.order_sheet(big)
    assert sheet.shipment_box_id == big


def test_decoding_never_makes_a_float() -> None:
    value = decode_json(b'{"a": 1.5, "b": 123456789012345678, "c": [2e3]}')
    assert value == {"a": Decimal("1.5"), "b": 123456789012345678, "c": [Decimal("2E+3")]}
    with pytest.raises(ValueError, match="NaN"):
        decode_json(b'{"a": NaN}')


def test_an_id_written_as_a_float_is_refused_not_rounded() -> None:
    text = json.dumps(single_body(v5_sheet())).replace(str(BOX), "1.2345678901234568e17")
    with client(Recorder(_raw_body(text))) as api, pytest.raises(UnexpectedResponseError) as info:
        api.order_sheet(BOX)
    assert "$.data.shipmentBoxId must be an integer" in str(info.value)


def test_an_integral_decimal_id_is_kept_exactly() -> None:
    text = json.dumps(single_body(v5_sheet())).replace(str(BOX), f"{BOX}.0")
    with client(Recorder(_raw_body(text))) as api:
        assert api.order_sheet(BOX).shipment_box_id == BOX


def test_a_missing_field_names_its_json_path() -> None:
    raw = v5_sheet()
    del raw["orderItems"][0]["shippingCount"]
    with client(Recorder(ok(single_body(raw)))) as api, pytest.raises(UnexpectedResponseError) as e:
        api.order_sheet(BOX)
    assert "$.data.orderItems[0].shippingCount is missing" in str(e.value)


def test_an_ill_typed_field_names_the_path_and_the_value() -> None:
    raw = v5_sheet()
    raw["orderItems"][0]["shippingCount"] = "two"
    day = date(2025, 7, 15)
    with (
        client(Recorder(ok(list_body(v5_sheet(), raw)))) as api,
        pytest.raises(UnexpectedResponseError) as info,
    ):
        api.order_sheets(day, day, status="ACCEPT")
    assert "$.data[1].orderItems[0].shippingCount must be an integer, got 'two'" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("paidAt", "yesterday", "$.data.paidAt must be an ISO-8601 date-time string"),
        ("paidAt", "2025-02-30T10:00:00", "an existing date and time"),
        ("orderItems", {"a": 1}, "$.data.orderItems must be an array, got an object with 1 keys"),
        ("receiver", "someone", "$.data.receiver must be an object"),
        ("splitShipping", "maybe", "$.data.splitShipping must be a boolean"),
        ("status", None, "$.data.status"),
    ],
)
def test_each_ill_typed_field_is_reported(field: str, value: object, fragment: str) -> None:
    with (
        client(Recorder(ok(single_body(v5_sheet(**{field: value}))))) as api,
        pytest.raises(UnexpectedResponseError) as info,
    ):
        api.order_sheet(BOX)
    assert fragment in str(info.value)
    if field == "receiver":
        assert "someone" not in str(info.value)


@pytest.mark.parametrize("code", [200, "200", "SUCCESS", "OK"])
def test_every_success_code_form_is_accepted(code: object) -> None:
    body = dict(single_body(v5_sheet()), code=code)
    with client(Recorder(ok(body))) as api:
        assert api.order_sheet(BOX).order_id == ORDER


def test_return_requests_parse_with_kst_times() -> None:
    request = make_coupang_converter().structure(RETURN_REQUEST, ReturnRequest)
    assert request.created_at == datetime(2025, 7, 15, 12, tzinfo=KST)
    assert request.receipt_status == "RELEASE_STOP_UNCHECKED"


# --- fuzzing: whatever the body, only ConsignError escapes --------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)

CALLS: list[Callable[[CoupangClient], object]] = [
    lambda api: api.order_sheets(date(2025, 7, 15), date(2025, 7, 15), status="ACCEPT"),
    lambda api: api.order_sheet(BOX),
    lambda api: api.order_sheets_by_order(ORDER),
    lambda api: api.order_history(BOX),
    lambda api: api.acknowledge([BOX]),
    lambda api: api.cancel_order(ORDER, {ITEM: 1}, reason=CancelReason.STOCK_OUT),
    lambda api: api.return_requests(date(2025, 7, 15), date(2025, 7, 15), cancel_type="CANCEL"),
    lambda api: api.stopped_shipment(1, 1),
    lambda api: api.completed_shipment(1, courier=Courier.CJ, invoice_number="1234567890"),
    lambda api: api.upload_invoices([
        Invoice(shipment_box_id=BOX, order_id=ORDER, vendor_item_id=ITEM, courier=Courier.CJ,
                invoice_number="1234567890")
    ]),
    lambda api: api.order_sheets_by_time_frame(
        datetime(2025, 7, 15, 10, tzinfo=KST), datetime(2025, 7, 15, 10, 10, tzinfo=KST),
        status="ACCEPT",
    ),
]  # fmt: skip
GOOD = [
    list_body(v5_sheet()),
    single_body(v5_sheet()),
    single_body(v5_sheet()),
    HISTORY,
    ACK_PARTIAL,
    CANCEL_2019,
    {"code": 200, "data": [RETURN_REQUEST]},
    {"code": "200", "data": {"resultCode": "SUCCESS"}},
    {"code": "200", "data": {"resultCode": "SUCCESS"}},
    INVOICE_INVALID_STATUS,
    list_body(v4_sheet()),
]


def _only_consign_errors(call: Callable[[CoupangClient], object], response: httpx.Response) -> None:
    with client(Recorder(response), retry_attempts=1) as api, contextlib.suppress(ConsignError):
        call(api)


@settings(max_examples=examples(200))
@given(
    body=JSON,
    status=st.sampled_from([200, 200, 201, 400, 401, 403, 404, 429, 500, 504]),
    call=st.sampled_from(CALLS),
)
def test_any_json_body_raises_only_consign_errors(
    body: object, status: int, call: Callable[[CoupangClient], object]
) -> None:
    _only_consign_errors(call, ok(body, status))


@settings(max_examples=examples(200))
@given(raw=st.binary(max_size=64), call=st.sampled_from(CALLS))
def test_any_bytes_raise_only_consign_errors(
    raw: bytes, call: Callable[[CoupangClient], object]
) -> None:
    _only_consign_errors(call, httpx.Response(200, content=raw))


def _paths(value: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


@settings(max_examples=examples(300))
@given(index=st.integers(min_value=0, max_value=len(CALLS) - 1), seed=st.integers(), junk=JSON)
def test_mutating_any_field_of_a_real_answer_raises_only_consign_errors(
    index: int, seed: int, junk: object
) -> None:
    body = copy.deepcopy(GOOD[index])
    paths = _paths(body)
    path = random.Random(seed).choice(paths)
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    if random.Random(seed + 1).random() < 0.3 and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = junk
    _only_consign_errors(CALLS[index], ok(body))


def test_an_object_where_a_list_belongs_is_described_by_shape_not_contents() -> None:
    day = date(2025, 7, 15)
    body = {"code": 200, "data": v5_sheet()}  # one sheet, not a list: receiver inside
    with (
        client(Recorder(ok(body))) as api,
        pytest.raises(UnexpectedResponseError, match=r"\$\.data must be an array") as info,
    ):
        api.order_sheets(day, day, status="ACCEPT")
    assert "홍길순" not in str(info.value)
    assert "해운대" not in str(info.value)


@settings(max_examples=examples(100))
@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - the bounds are naive by API
        max_value=datetime(2099, 12, 31),  # noqa: DTZ001
        timezones=st.sampled_from([KST, timezone.utc, timezone(timedelta(hours=-8)),
                                   timezone(timedelta(hours=5, minutes=30))]),
    )
)  # fmt: skip
def test_any_iso_timestamp_parses_back_to_the_same_instant(moment: datetime) -> None:
    assert _parse(v5_sheet(paidAt=moment.isoformat())).paid_at == moment
