"""The boundary: order sheets as MarketOrder with a masked Recipient."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from consign_core.adapters.coupang import (
    KST,
    OrderSheet,
    make_coupang_converter,
    order_ref,
    split_order_ref,
    to_market_order,
)
from consign_core.domain.model import OrderRef
from consign_core.errors import UnexpectedResponseError, ValidationError

from ._coupang_fixtures import ADDR, BOX, ITEM, NAME, ORDER, PHONE, v4_sheet, v5_sheet


def _sheet(raw: dict[str, object]) -> OrderSheet:
    return make_coupang_converter().structure(raw, OrderSheet)


def test_an_order_sheet_becomes_a_market_order_with_its_recipient() -> None:
    order = to_market_order(_sheet(v5_sheet()))
    assert order is not None
    assert order.ref == OrderRef(market="coupang", order_id=f"{ORDER}-{BOX}")
    [line] = order.lines
    assert (line.sku, line.quantity, line.unit_price) == (str(ITEM), 2, 12900)
    assert order.paid_at == datetime(2025, 7, 15, 10, 21, tzinfo=KST)
    assert order.ship_by == datetime(2025, 7, 17, 23, 59, 59, tzinfo=KST)
    recipient = order.recipient
    assert recipient is not None
    assert (recipient.name, recipient.phone, recipient.address1) == (NAME, PHONE, ADDR)
    assert (recipient.zip_code, recipient.address2) == ("48058", "101동 1001호")
    assert recipient.memo == "문 앞에 놓아주세요"


def test_the_order_repr_shows_no_personal_data() -> None:
    order = to_market_order(_sheet(v5_sheet()))
    sheet = _sheet(v5_sheet())
    for text in (repr(order), str(order), repr(sheet), str(sheet), repr(sheet.receiver)):
        for secret in (NAME, PHONE, ADDR, "48058", "문 앞에"):
            assert secret not in text


def test_units_being_cancelled_are_not_ordered_and_a_fully_cancelled_box_gives_none() -> None:
    item = dict(v5_sheet()["orderItems"][0], holdCountForCancel=1)
    order = to_market_order(_sheet(v5_sheet(orderItems=[item])))
    assert order is not None
    assert order.lines[0].quantity == 1
    gone = dict(item, cancelCount=1, canceled=True)
    assert to_market_order(_sheet(v5_sheet(orderItems=[gone]))) is None


def test_a_v4_sheet_maps_the_same_with_kst_times() -> None:
    order = to_market_order(_sheet(v4_sheet()))
    assert order is not None
    assert order.paid_at.utcoffset() == timedelta(hours=9)
    assert order.lines[0].unit_price == 12900


def test_without_a_shipping_date_ship_by_falls_back_to_the_default_window() -> None:
    item = dict(v5_sheet()["orderItems"][0], estimatedShippingDate="")
    order = to_market_order(
        _sheet(v5_sheet(orderItems=[item])), default_ship_within=timedelta(days=2)
    )
    assert order is not None
    assert order.ship_by - order.paid_at == timedelta(days=2)


def test_a_receiver_without_a_name_names_the_path_but_not_the_address() -> None:
    receiver = dict(v5_sheet()["receiver"], name="  ")
    with pytest.raises(UnexpectedResponseError, match=r"receiver\.name") as info:
        to_market_order(_sheet(v5_sheet(receiver=receiver)))
    assert ADDR not in str(info.value)
    assert PHONE not in str(info.value)


def test_order_refs_split_back_into_both_ids() -> None:
    assert split_order_ref(order_ref(ORDER, BOX)) == (ORDER, BOX)
    with pytest.raises(ValidationError):
        split_order_ref(OrderRef(market="naver", order_id="1-2"))
    with pytest.raises(ValidationError):
        split_order_ref(OrderRef(market="coupang", order_id="abc"))
