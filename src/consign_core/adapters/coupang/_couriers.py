"""Coupang's courier codes (``deliveryCompanyCode``) and their waybill formats, as data."""

from __future__ import annotations

import attrs

from consign_core.domain.model import Courier
from consign_core.errors import ValidationError


__all__ = [
    "COUPANG_COURIERS",
    "CoupangCourier",
    "courier_from_coupang",
    "courier_to_coupang",
    "validate_waybill",
]


@attrs.frozen(kw_only=True)
class CoupangCourier:
    """One row of Coupang's courier table: the code, the courier and the waybill lengths."""

    code: str
    """Coupang's ``deliveryCompanyCode``, e.g. ``"CJGLS"``."""
    courier: Courier | None
    """The library's courier, or ``None`` for a code with no canonical member (``DIRECT``)."""
    name: str
    """The courier's Korean name as Coupang lists it."""
    lengths: tuple[int, ...] | None
    """The allowed waybill lengths in digits; ``None`` when any digits are accepted."""


def _span(low: int, high: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1))


COUPANG_COURIERS: tuple[CoupangCourier, ...] = (
    CoupangCourier(code="CJGLS", courier=Courier.CJ, name="CJ대한통운", lengths=(10, 12)),
    CoupangCourier(code="HYUNDAI", courier=Courier.LOTTE, name="롯데택배", lengths=(10, 12, 13)),
    CoupangCourier(code="HANJIN", courier=Courier.HANJIN, name="한진택배", lengths=(10, 12)),
    CoupangCourier(code="KGB", courier=Courier.LOGEN, name="로젠택배", lengths=(10, 11)),
    CoupangCourier(code="EPOST", courier=Courier.EPOST, name="우체국", lengths=(13,)),
    CoupangCourier(code="KDEXP", courier=Courier.KYUNGDONG, name="경동택배", lengths=_span(8, 16)),
    CoupangCourier(code="DAESIN", courier=Courier.DAESIN, name="대신택배", lengths=(13,)),
    CoupangCourier(code="ILYANG", courier=Courier.ILYANG, name="일양택배", lengths=_span(8, 16)),
    CoupangCourier(code="CHUNIL", courier=Courier.CHUNIL, name="천일특송", lengths=(11,)),
    CoupangCourier(code="HDEXP", courier=Courier.HAPDONG, name="합동택배", lengths=_span(8, 16)),
    CoupangCourier(code="CVS", courier=Courier.CVS, name="CVS택배", lengths=(10, 12)),
    CoupangCourier(code="DIRECT", courier=None, name="업체직송", lengths=None),
)
"""Coupang's courier codes with waybill lengths (the reference's "택배사 코드" table).

Lotte is ``HYUNDAI`` and Logen is ``KGB`` on Coupang: there is no ``LOTTE`` or ``LOGEN`` code.
"""

_BY_CODE = {row.code: row for row in COUPANG_COURIERS}
_BY_COURIER = {row.courier: row for row in COUPANG_COURIERS if row.courier is not None}
_ALIASES = {"KOREX": Courier.CJ}  # 대한통운[합병]: the merged code still read on old orders


def courier_from_coupang(code: str) -> Courier | None:
    """The library's :class:`Courier` for a Coupang ``deliveryCompanyCode``.

    ``None`` for ``DIRECT`` (the seller's own delivery) and for codes with no canonical member
    (overseas couriers): the caller keeps the raw code then.
    """
    if code in _ALIASES:
        return _ALIASES[code]
    row = _BY_CODE.get(code)
    return row.courier if row is not None else None


def courier_to_coupang(courier: Courier) -> str:
    """Coupang's ``deliveryCompanyCode`` for ``courier``; ValidationError if Coupang has none."""
    row = _BY_COURIER.get(courier)
    if row is None:
        msg = f"courier {courier.name} has no Coupang deliveryCompanyCode"
        raise ValidationError(msg, field="courier", value=courier)
    return row.code


def validate_waybill(code: str, invoice_number: str) -> None:
    """Check a waybill against Coupang's format for ``code``: digits of an allowed length."""
    row = _BY_CODE.get(code)
    if row is None and code not in _ALIASES:
        msg = f"deliveryCompanyCode {code!r} is not a Coupang courier code"
        raise ValidationError(msg, field="delivery_company_code", value=code)
    raw: object = invoice_number
    if not isinstance(raw, str) or not invoice_number.isascii():
        msg = f"invoice_number must be a string of digits, got {invoice_number!r}"
        raise ValidationError(msg, field="invoice_number", value=invoice_number)
    if not invoice_number.isdigit():
        msg = f"invoice_number must be digits only, got {invoice_number!r}"
        raise ValidationError(msg, field="invoice_number", value=invoice_number)
    lengths = row.lengths if row is not None else (10, 12)
    if lengths is not None and len(invoice_number) not in lengths:
        allowed = ", ".join(str(n) for n in lengths)
        msg = (
            f"invoice_number for {code} must have {allowed} digits, "
            f"got {len(invoice_number)} ({invoice_number!r})"
        )
        raise ValidationError(msg, field="invoice_number", value=invoice_number)
