"""Domeme wire parsing: the reference's payloads, the quirks, fuzzing, couriers, error codes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consign_core.adapters.domeme import (
    DOMEME_COURIERS,
    DOMEME_ERROR_CODES,
    VENDOR_CODE_EMONEY_SHORT,
    AssetReply,
    ChangeFeedPage,
    DomemeClient,
    ErrorKind,
    ItemListPage,
    ItemView,
    OrderListPage,
    OrderView,
    WireError,
    classify,
    courier_from_domeme,
    courier_to_domeme,
    make_domeme_converter,
    parse_price_tiers,
    to_error,
)
from consign_core.domain.model import Courier
from consign_core.engine.ports import VENDOR_CODE_STOCK_OUT
from consign_core.errors import (
    AuthenticationError,
    ConsignError,
    NotFoundError,
    RejectedError,
    UnexpectedResponseError,
)


# The reference's fixtures (shapes, placeholder values), verbatim.
ITEM_LIST = (
    '{"domeggook":{"header":{"numberOfItems":704,"currentPage":1,"itemsPerPage":2,'
    '"numberOfPages":352},"list":{"item":[{"no":7914900,"title":"마스크 50매","price":3800,'
    '"thumb":"https://cdn1.domeggook.com/x.jpg","unitQty":10,"id":"seller1",'
    '"url":"https://domeggook.com/7914900","deli":{"who":"P","fee":"3000"}}]}}}'
)
ITEM_VIEW_TIERED = (
    '{"domeggook":{"basis":{"no":12345678,"status":"판매중","title":"샐러드 드레싱 285g"},'
    '"price":{"dome":"1+3800|20+3500","supply":3900},"qty":{"inventory":500,"domeMoq":1,'
    '"supplyUnit":1},"deli":{"method":"택배"}}}'
)
ITEM_VIEW_STRINGS = (
    '{"domeggook":{"basis":{"status":"판매중"},"price":{"supply":450},"qty":{"inventory":'
    '"197035","domeMoq":"12","supplyUnit":1,"supplyLoq":10},"selectOpt":"","deli":{"supply":'
    '{"type":"고정배송비","fee":"3000"}}}}'
)
SELECT_OPT = (
    '{"type":"combination","set":[{"name":"color","opts":["카키블랙","레드"]},{"name":"size",'
    '"opts":["6(230)","7(240)"]}],"data":{"00_01":{"name":"카키블랙/7(240)","qty":"135",'
    '"domPrice":"2000","dom":"1","sup":"1","hid":"0"}}}'
)
ERROR_401 = (
    '{"errors":{"code":"401","message":"API 인증 실패","dcode":"UNAUTHORIZED",'
    '"dmessage":"유효하지 않은 API Key 입니다."}}'
)
ERROR_EMONEY = (
    '{"errors":{"code":21,"message":"주문 실패","dcode":"TOO_LESS_EMONEY_ERROR",'
    '"dmessage":"현금성 이머니가 부족하여 주문을 진행할 수 없습니다"}}'
)
LOGIN = (
    '{"domeggook":{"result":"true","sId":"sess-123","cId":"check-456","grade":"c",'
    '"loginKeepTime":111,"sIdRenewDate":222}}'
)
ASSET = (
    '{"domeggook":{"result":"SUCCESS","id":"automoney","data":{"currPoint":"500",'
    '"currEmoney":{"total":"100000","card":"0","cash":"100000"}}}}'
)
ORDER = (
    '{"domeggook":{"result":"SUCCESS","order":{"orderNo":14207678,"itemNo":9583416,'
    '"getName":"홍길동"}}}'
)
ORDER_LIST = (
    '{"domeggook":{"numberOfItems":"1","numberOfPages":"1","list":{"orderNo":1,'
    '"status":"결제완료"}}}'
)
ORDER_VIEW_FLAT = '{"domeggook":{"orderNo":14207678,"status":"배송중","statusMode":"WAITDELI"}}'
CANCEL = '{"domeggook":{"result":"complete"}}'
CHANGES = '{"domeggook":{"numberOfItems":"1","list":{"no":40170547,"status":"SOLDOUT"}}}'


def client_answering(*bodies: str) -> DomemeClient:
    """A client whose every call gets the next body (logging in first where needed)."""
    queue = list(bodies)

    def app(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("mode") == "setLogin":
            return httpx.Response(200, content=LOGIN.encode())
        return httpx.Response(200, content=queue.pop(0).encode())

    return DomemeClient("key-1", "buyer1", "pw-1", transport=httpx.MockTransport(app))


def test_reference_item_list_parses_one_row_with_string_fee() -> None:
    page = client_answering(ITEM_LIST).list_items(keyword="마스크")
    assert page.total == 704
    assert page.pages == 352
    [row] = page.items
    assert (row.no, row.price, row.seller_id, row.unit_qty) == ("7914900", 3800, "seller1", 10)
    assert row.deli is not None
    assert row.deli.fee == 3000


def test_reference_item_view_parses_tiered_dome_price() -> None:
    item = client_answering(ITEM_VIEW_TIERED).get_item(12345678)
    assert item.qty.inventory == 500
    assert item.price.supply == 3900
    assert [(t.min_qty, t.price) for t in item.price.dome_tiers] == [(1, 3800), (20, 3500)]
    assert item.on_sale


def test_reference_item_view_parses_string_numbers_and_empty_select_opt() -> None:
    item = client_answering(ITEM_VIEW_STRINGS).get_item("1")
    assert item.qty.inventory == 197035
    assert item.qty.supply_loq == 10
    assert item.options == ()
    assert item.deli.supply is not None
    assert (item.deli.supply.fee, item.deli.supply.kind) == (3000, "고정배송비")


def test_select_opt_json_string_gives_option_stock() -> None:
    body = json.loads(ITEM_VIEW_STRINGS)
    body["domeggook"]["selectOpt"] = SELECT_OPT
    item = client_answering(json.dumps(body)).get_item("1")
    [option] = item.options
    assert (option.code, option.qty, option.orderable) == ("00_01", 135, True)
    assert item.stock_of("00_01") == 135
    assert item.stock_of("09_09") == 0
    assert item.stock_of(None) == 197035


def test_reference_private_payloads_parse() -> None:
    client = client_answering(ASSET, ORDER, ORDER_LIST, ORDER_VIEW_FLAT, CANCEL, CHANGES)
    assert client.get_balance().emoney.cash == 100000
    from consign_core.adapters.domeme import OrderLine
    from consign_core.domain.model import Recipient

    recipient = Recipient(name="홍길동", phone="010-0000-0000", zip_code="00000", address1="서울")
    reply = client.place_order(
        item_no=9583416, lines=[OrderLine(option=None, quantity=1)], recipient=recipient,
        shop_name="가게",
    )  # fmt: skip
    assert [o.order_no for o in reply.orders] == ["14207678"]
    assert "홍길동" not in repr(reply)
    [row] = client.list_orders().orders
    assert (row.order_no, row.status) == ("1", "결제완료")
    view = client.get_order("OR14207678")
    assert (view.order_no, view.status_mode) == ("14207678", "WAITDELI")
    assert client.cancel_order("14207678", "고객 요청") == "complete"
    [change] = client.list_changes().changes
    assert (change.no, change.status) == ("40170547", "SOLDOUT")


def test_nested_order_view_under_items_is_read() -> None:
    body = {
        "domeggook": {
            "items": {
                "orderNo": "77",
                "statusMode": "DENYSELL",
                "denyDate": "2026-11-02 13:05:00",
                "denyMemo": "품절",
                "delivery": {"company": "", "code": ""},
                "consumer": {"name": "홍길동", "mobile": "010-1111-2222"},
            }
        }
    }
    view = client_answering(json.dumps(body)).get_order(77)
    assert (view.status_mode, view.deny_memo) == ("DENYSELL", "품절")
    assert "010-1111-2222" not in repr(view)
    assert "홍길동" not in repr(view)


def test_bad_number_names_the_wire_path_not_the_value() -> None:
    body = json.loads(ITEM_VIEW_STRINGS)
    body["domeggook"]["qty"]["supplyLoq"] = "열개-SECRETVALUE"
    with pytest.raises(UnexpectedResponseError) as caught:
        client_answering(json.dumps(body)).get_item("1")
    assert "$.domeggook.qty.supplyLoq" in str(caught.value)
    assert "SECRETVALUE" not in str(caught.value)


def test_select_opt_that_is_not_json_names_its_path() -> None:
    body = json.loads(ITEM_VIEW_STRINGS)
    body["domeggook"]["selectOpt"] = "{not json"
    with pytest.raises(UnexpectedResponseError, match=r"selectOpt"):
        client_answering(json.dumps(body)).get_item("1")


@pytest.mark.parametrize(
    ("text", "tiers"),
    [
        ("1+3800|20+3500|50+3300", [(1, 3800), (20, 3500), (50, 3300)]),
        ("20+3500|1+3800", [(1, 3800), (20, 3500)]),
        ("3800", [(1, 3800)]),
        ("", []),
    ],
)
def test_price_tiers_parse(text: str, tiers: list[tuple[int, int]]) -> None:
    assert [(t.min_qty, t.price) for t in parse_price_tiers(text)] == tiers


def test_bad_price_tiers_raise_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponseError, match="price tiers"):
        parse_price_tiers("1+abc|x")


@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=10**7))
def test_price_tier_round_trip(qty: int, price: int) -> None:
    [tier] = parse_price_tiers(f"{qty}+{price}")
    assert (tier.min_qty, tier.price) == (qty, price)


@given(st.integers(min_value=-(10**12), max_value=10**12), st.booleans())
def test_numbers_as_ints_or_strings_parse_the_same(number: int, as_text: bool) -> None:
    converter = make_domeme_converter()
    from consign_core.adapters.domeme._wire import ItemQty

    value: Any = str(number) if as_text else number
    assert converter.structure({"inventory": value}, ItemQty).inventory == number


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
wire_keys = st.sampled_from(
    ["basis", "price", "qty", "deli", "seller", "selectOpt", "inventory", "supply", "dome",
     "no", "status", "list", "item", "order", "orderNo", "items", "header", "statusMode",
     "delivery", "code", "score", "avg", "sendAvg", "rank", "data", "currEmoney", "cash",
     "errors", "dcode", "numberOfPages", "result"]
)  # fmt: skip
wire_documents = st.recursive(
    json_values,
    lambda inner: st.dictionaries(wire_keys, inner, max_size=5) | st.lists(inner, max_size=2),
    max_leaves=25,
)


@given(document=st.dictionaries(st.just("domeggook"), wire_documents) | wire_documents)
def test_fuzzed_replies_raise_only_consign_errors(document: object) -> None:
    body = json.dumps(document)
    calls: list[tuple[Callable[[DomemeClient], object], type | tuple[type, ...]]] = [
        (lambda c: c.get_item("1"), ItemView),
        (lambda c: c.list_items(), ItemListPage),
        (lambda c: c.get_balance(), AssetReply),
        (lambda c: c.list_orders(), OrderListPage),
        (lambda c: c.get_order("1"), OrderView),
        (lambda c: c.cancel_order("1", "memo"), str),
        (lambda c: c.list_changes(), ChangeFeedPage),
    ]
    for call, expected in calls:
        client = client_answering(body, body, body, body)
        result: object = None
        with contextlib.suppress(ConsignError):
            result = call(client)
        assert result is None or isinstance(result, expected)


@given(st.binary(max_size=60))
def test_fuzzed_bytes_raise_only_consign_errors(raw: bytes) -> None:
    def app(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=raw)

    client = DomemeClient("key-1", "buyer1", "pw-1", transport=httpx.MockTransport(app))
    with pytest.raises(ConsignError):
        client.get_item("1")


# --------------------------------------------------------------------------------------
# Couriers
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "courier"),
    [
        ("DAEHAN", Courier.CJ),
        ("HYUNDAI", Courier.LOTTE),
        ("KGBL", Courier.LOGEN),
        ("HANJIN", Courier.HANJIN),
        ("EPOST", Courier.EPOST),
        ("CVSNET", Courier.CVS),
    ],
)
def test_domeme_courier_codes_map_to_the_canonical_courier(code: str, courier: Courier) -> None:
    assert courier_from_domeme(code) is courier
    assert courier_from_domeme(code.lower()) is courier
    assert courier_to_domeme(courier) == code


def test_every_canonical_courier_maps_to_domeme_and_back() -> None:
    for courier in Courier:
        code = courier_to_domeme(courier)
        assert code is not None
        assert DOMEME_COURIERS[code] is courier


def test_unknown_courier_code_maps_to_none() -> None:
    assert courier_from_domeme("HOMEPICK") is None


# --------------------------------------------------------------------------------------
# Error codes
# --------------------------------------------------------------------------------------


def test_every_documented_code_is_classified_as_its_table_kind() -> None:
    for code, info in DOMEME_ERROR_CODES.items():
        kind = classify(WireError(dcode=code))
        assert kind is info.kind, code


def test_emoney_shortage_is_a_refusal_never_a_stock_out() -> None:
    for error in (
        WireError(code="21", dcode="TOO_LESS_EMONEY_ERROR", dmessage="현금성 이머니가 부족"),
        WireError(dcode="LACK_MONEY"),
        WireError(code="21"),
    ):
        raised = to_error(error, mode="setOrder")
        assert isinstance(raised, RejectedError)
        assert raised.vendor_code == VENDOR_CODE_EMONEY_SHORT
        assert raised.vendor_code != VENDOR_CODE_STOCK_OUT


def test_stock_messages_are_stock_outs() -> None:
    for error in (
        WireError(dcode="ITEM_ERROR", dmessage="재고가 부족합니다"),
        WireError(dcode="SOME_NEW_QTY_ERROR", dmessage="주문 수량이 재고를 초과"),
        WireError(code="99", dmessage="품절된 상품입니다"),
    ):
        raised = to_error(error, mode="setOrder")
        assert isinstance(raised, RejectedError)
        assert raised.vendor_code == VENDOR_CODE_STOCK_OUT


def test_unknown_code_is_a_generic_refusal_keeping_the_code() -> None:
    raised = to_error(WireError(code="77", dcode="BRAND_NEW_CODE"), mode="setOrder")
    assert type(raised) is RejectedError
    assert raised.vendor_code == "BRAND_NEW_CODE"


def test_auth_and_permission_codes_are_authentication_errors() -> None:
    assert isinstance(to_error(WireError(code="401"), mode="getItemView"), AuthenticationError)
    assert isinstance(to_error(WireError(code="403"), mode="setOrder"), AuthenticationError)


def test_item_error_on_a_read_is_not_found() -> None:
    raised = to_error(WireError(dcode="ITEM_ERROR"), mode="getItemView")
    assert isinstance(raised, NotFoundError)


def test_reference_error_payloads_map() -> None:
    with pytest.raises(AuthenticationError):
        client_answering(ERROR_401).get_item("1")
    with pytest.raises(RejectedError) as caught:
        client_answering(ERROR_EMONEY).get_balance()
    assert caught.value.vendor_code == VENDOR_CODE_EMONEY_SHORT


def test_vendor_text_is_scrubbed_of_phone_numbers() -> None:
    error = WireError(dcode="ORDER_CONSUMER_MOBILE_ERROR", dmessage="010-1234-5678 번호 오류")
    raised = to_error(error, mode="setOrder")
    assert "010-1234-5678" not in str(raised)
    assert raised.vendor_code == "ORDER_CONSUMER_MOBILE_ERROR"
    assert classify(error) is ErrorKind.RECIPIENT
