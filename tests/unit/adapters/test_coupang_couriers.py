"""Coupang's courier table: both ways to the domain's Courier, and waybill formats."""

from __future__ import annotations

import pytest

from consign_core.adapters.coupang import (
    COUPANG_COURIERS,
    courier_from_coupang,
    courier_to_coupang,
    validate_waybill,
)
from consign_core.domain.model import Courier
from consign_core.errors import ValidationError


def test_every_courier_with_a_coupang_code_round_trips() -> None:
    mapped = [c for c in Courier if c is not Courier.CU]
    for courier in mapped:
        assert courier_from_coupang(courier_to_coupang(courier)) is courier


def test_every_coupang_code_maps_to_a_courier_and_back_to_itself() -> None:
    for row in COUPANG_COURIERS:
        courier = courier_from_coupang(row.code)
        assert courier is row.courier
        if courier is not None:
            assert courier_to_coupang(courier) == row.code


@pytest.mark.parametrize(
    ("code", "courier"),
    [("HYUNDAI", Courier.LOTTE), ("KGB", Courier.LOGEN), ("CJGLS", Courier.CJ),
     ("KOREX", Courier.CJ), ("KDEXP", Courier.KYUNGDONG)],
)  # fmt: skip
def test_coupangs_legacy_names_map_to_the_right_courier(code: str, courier: Courier) -> None:
    assert courier_from_coupang(code) is courier


def test_there_is_no_lotte_or_logen_code_on_coupang() -> None:
    assert courier_from_coupang("LOTTE") is None
    assert courier_from_coupang("LOGEN") is None
    assert courier_to_coupang(Courier.LOTTE) == "HYUNDAI"


def test_a_courier_coupang_lacks_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="CU"):
        courier_to_coupang(Courier.CU)


@pytest.mark.parametrize(
    ("code", "number"),
    [("CJGLS", "1234567890"), ("CJGLS", "123456789012"), ("EPOST", "1234567890123"),
     ("KDEXP", "12345678"), ("KDEXP", "1234567890123456"), ("DIRECT", "7"),
     ("HYUNDAI", "1234567890123")],
)  # fmt: skip
def test_waybills_of_an_allowed_length_pass(code: str, number: str) -> None:
    validate_waybill(code, number)


@pytest.mark.parametrize(
    ("code", "number", "fragment"),
    [("CJGLS", "12345678901", "10, 12 digits"), ("EPOST", "123456789012", "13 digits"),
     ("CJGLS", "12345-67890", "digits only"), ("LOTTE", "1234567890", "not a Coupang"),
     ("CJGLS", "１２３４５６７８９０", "digits")],
)  # fmt: skip
def test_waybills_out_of_format_name_the_field_and_value(
    code: str, number: str, fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment) as info:
        validate_waybill(code, number)
    assert info.value.field in {"invoice_number", "delivery_company_code"}
