"""Coupang's wire format: JSON decoding, the DTOs and their dedicated cattrs converter.

DTO attribute names are the snake_case of the wire names (``shipmentBoxId`` ->
``shipment_box_id``); the converter renames them back. Unknown fields are ignored; a missing or
ill-typed field raises :class:`~consign_core.errors.UnexpectedResponseError` naming the JSON path
(``$.data[0].orderItems[1].shippingCount``) and the value, except under the buyer's personal data
(``receiver``, ``parcelPrintMessage``), where the value is never quoted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, override

from consign_core.errors import UnexpectedResponseError


__all__ = [
    "HistoryEntry",
    "OrderHistory",
    "OrderItem",
    "OrderSheet",
    "Price",
    "Receiver",
    "ReturnItem",
    "ReturnRequest",
    "WireBoxResult",
    "WireBoxResults",
    "decode_json",
    "make_coupang_converter",
    "structure_at",
]

KST = timezone(timedelta(hours=9), "KST")
"""Korea Standard Time: what Coupang's offset-less (v4) timestamps mean."""

_T = TypeVar("_T")
_PERSONAL = ("receiver", "orderer", "parcelPrintMessage", "overseaShippingInfoDto")


class _WireTypeError(Exception):
    """A wire value of the wrong type or format (what was expected, and the value)."""

    def __init__(self, expected: str, value: object) -> None:
        super().__init__(expected)
        self.expected = expected
        self.value = value


# --- DTOs ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Price:
    """A money amount: v4 sends a bare number of won, v5 ``{currencyCode, units, nanos}``."""

    units: int
    """Whole units of the currency (won)."""
    nanos: int = 0
    """Billionths of a unit (always 0 for KRW)."""
    currency_code: str = "KRW"
    """ISO 4217 currency code."""


_HIDDEN = "<personal data hidden>"


@attrs.frozen(kw_only=True, repr=False)
class Receiver:
    """The order sheet's ``receiver``: the buyer's delivery details (personal data, masked)."""

    name: str
    """수취인 이름."""
    addr1: str
    """주소 1."""
    addr2: str | None = None
    """주소 2 (상세주소)."""
    post_code: str | None = None
    """우편번호."""
    safe_number: str | None = None
    """The buyer's safe number (안심번호)."""
    receiver_number: str | None = None
    """The receiver's own number (usually null)."""

    def __repr__(self) -> str:
        return f"Receiver({_HIDDEN})"

    __str__ = __repr__


@attrs.frozen(kw_only=True)
class OrderItem:
    """One ``orderItems[]`` entry of an order sheet (one vendor item of the box)."""

    vendor_item_id: int
    """Coupang's option id (``vendorItemId``)."""
    shipping_count: int
    """Units bought."""
    sales_price: Price
    """Unit price."""
    order_price: Price
    """Price paid for the line (unit price x count)."""
    vendor_item_name: str | None = None
    """The option's display name."""
    discount_price: Price | None = None
    """Seller's discount on the line."""
    cancel_count: int = 0
    """Units whose cancel is confirmed."""
    hold_count_for_cancel: int = 0
    """Units being cancelled (refund pending)."""
    estimated_shipping_date: date | None = None
    """The ship-by date Coupang set at order time (주문시 출고예정일)."""
    seller_product_id: int | None = None
    """The seller's product id on Coupang."""
    external_vendor_sku_code: str | None = None
    """The seller's own SKU code, when set."""
    canceled: bool = False
    """Whether the item is cancelled."""

    @property
    def shippable_count(self) -> int:
        """발주 가능 수량: ``shippingCount - (holdCountForCancel + cancelCount)``, at least 0."""
        return max(0, self.shipping_count - self.hold_count_for_cancel - self.cancel_count)


@attrs.frozen(kw_only=True)
class OrderSheet:
    """One order sheet (발주서): a shipment box of a Coupang order."""

    shipment_box_id: int
    """배송번호 (18 digits since late 2024; an exact int)."""
    order_id: int
    """주문번호; one order may have several boxes."""
    paid_at: datetime
    """When the buyer paid (aware; v4's offset-less times are read as KST)."""
    status: str
    """``ACCEPT``, ``INSTRUCT``, ``DEPARTURE``, ``DELIVERING``, ``FINAL_DELIVERY``, ..."""
    order_items: tuple[OrderItem, ...]
    """The box's items."""
    receiver: Receiver
    """The buyer's delivery details (personal data)."""
    ordered_at: datetime | None = None
    """When the order was placed."""
    parcel_print_message: str | None = attrs.field(default=None, repr=False)
    """The buyer's delivery message (personal data: not in the repr)."""
    shipping_price: Price | None = None
    """Shipping fee."""
    remote_price: Price | None = None
    """Remote-area surcharge."""
    remote_area: bool = False
    """Whether the address is a remote area."""
    split_shipping: bool = False
    """Whether the box is shipped in parts."""
    delivery_company_name: str | None = None
    """The courier's name, once an invoice is uploaded."""
    invoice_number: str | None = None
    """The waybill, once uploaded."""
    shipment_type: str | None = None
    """``THIRD_PARTY``, ``CGF`` or ``CGF LITE`` (v5)."""


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One step of an order sheet's delivery history."""

    delivery_status: str
    """The status reached."""
    updated_at: datetime
    """When."""
    delivery_status_desc: str | None = None
    """Coupang's description of the status."""


@attrs.frozen(kw_only=True)
class OrderHistory:
    """An order sheet's status history, newest first."""

    shipment_box_id: int
    """The box."""
    details: tuple[HistoryEntry, ...]
    """The steps, newest first."""


@attrs.frozen(kw_only=True)
class ReturnItem:
    """One ``returnItems[]`` entry of a return or cancel request."""

    vendor_item_id: int
    """The item."""
    cancel_count: int
    """Units cancelled or returned."""
    purchase_count: int | None = None
    """Units bought."""
    shipment_box_id: int | None = None
    """The box the item ships in."""
    vendor_item_name: str | None = None
    """The option's name."""
    release_status: str | None = None
    """``Y`` shipped, ``N`` not shipped, ``S`` stopped."""


@attrs.frozen(kw_only=True)
class ReturnRequest:
    """A return or cancel request (반품/취소 요청): a buyer cancel, a stop-shipment, a return."""

    receipt_id: int
    """The request's id (접수번호)."""
    order_id: int
    """The order."""
    receipt_type: str
    """``RETURN`` or ``CANCEL``."""
    receipt_status: str
    """``RELEASE_STOP_UNCHECKED`` (출고중지요청), ``RETURNS_UNCHECKED``, ..."""
    created_at: datetime
    """When the buyer asked."""
    return_items: tuple[ReturnItem, ...] = ()
    """The items concerned."""
    cancel_count_sum: int | None = None
    """Units over all items (what ``stoppedShipment`` must repeat)."""
    modified_at: datetime | None = None
    """Last change."""
    release_stop_status: str | None = None
    """Stop-shipment handling (미처리, 처리(이미출고), ...)."""
    fault_by_type: str | None = None
    """Who is at fault: ``COUPANG``, ``VENDOR``, ``CUSTOMER``, ``WMS``, ``GENERAL``."""
    cancel_reason_category1: str | None = None
    """The reason's category."""
    cancel_reason_category2: str | None = None
    """The reason's sub-category."""
    pre_refund: bool | None = None
    """Whether the buyer was refunded before the return arrived."""


@attrs.frozen(kw_only=True)
class WireBoxResult:
    """One ``responseList[]`` entry of an acknowledgement or invoice answer, as on the wire."""

    shipment_box_id: int
    succeed: bool
    result_code: str | None = None
    retry_required: bool = False
    result_message: str | None = None


@attrs.frozen(kw_only=True)
class WireBoxResults:
    """The ``data`` of an acknowledgement or invoice answer."""

    response_list: tuple[WireBoxResult, ...]
    response_code: int | None = None
    response_message: str | None = None


# --- converter -------------------------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _int(value: Any, _: object) -> int:
    if isinstance(value, bool):
        msg = "an integer"
        raise _WireTypeError(msg, value)
    if isinstance(value, int):
        return value
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and value == value.to_integral_value()
        and int(value.as_tuple().exponent) <= 0
    ):
        # "12900.0" is exact; "1.2345678901234568e17" is a float's rounding of an id: refused
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,30}", value.strip()):
        return int(value.strip())
    msg = "an integer"
    raise _WireTypeError(msg, value)


def _str(value: Any, _: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    msg = "a string"
    raise _WireTypeError(msg, value)


def _bool(value: Any, _: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    msg = "a boolean"
    raise _WireTypeError(msg, value)


_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?"
)


def parse_datetime(value: Any) -> datetime:
    """An aware datetime from Coupang's ISO-8601 text; offset-less (v4) means KST."""
    if not isinstance(value, str):
        msg = "an ISO-8601 date-time string"
        raise _WireTypeError(msg, value)
    match = _DATETIME.fullmatch(value.strip())
    if match is None:
        msg = "an ISO-8601 date-time string"
        raise _WireTypeError(msg, value)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    tz: timezone = KST
    if offset == "Z":
        tz = timezone.utc
    elif offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "").ljust(4, "0")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if delta >= timedelta(hours=24):
            msg = "an ISO-8601 date-time string"
            raise _WireTypeError(msg, value)
        tz = timezone(sign * delta)
    micro = int((fraction or "0").ljust(6, "0")[:6])
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz
        )
    except ValueError:
        msg = "an existing date and time"
        raise _WireTypeError(msg, value) from None


def _datetime(value: Any, _: object) -> datetime:
    return parse_datetime(value)


def _optional_date(value: Any, _: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(
        r"\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?", value.strip()
    ):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    msg = "a date (yyyy-mm-dd)"
    raise _WireTypeError(msg, value)


def _price(value: Any, _: object) -> Price:
    if isinstance(value, dict):
        units = value.get("units")
        if units is None:
            msg = "a money object with units"
            raise _WireTypeError(msg, value)
        nanos = value.get("nanos") or 0
        code = value.get("currencyCode") or "KRW"
        return Price(units=_int(units, int), nanos=_int(nanos, int), currency_code=_str(code, str))
    return Price(units=_int(value, int))


def _attrs_hook_factory(converter: cattrs.Converter) -> Callable[[type[Any]], Any]:
    def factory(cls: type[Any]) -> Any:
        renames = {a.name: override(rename=_camel(a.name)) for a in attrs.fields(cls)}
        inner = make_dict_structure_fn(cls, converter, **renames)  # type: ignore[arg-type]

        def hook(value: Any, target: type[Any]) -> Any:
            if not isinstance(value, dict):
                msg = "an object"
                raise _WireTypeError(msg, value)
            return inner(value, target)

        return hook

    return factory


def _tuple_hook_factory(converter: cattrs.Converter) -> Callable[[type[Any]], Any]:
    def factory(tuple_type: type[Any]) -> Any:
        (inner_type, _) = tuple_type.__args__
        handler = converter.get_structure_hook(inner_type)

        def hook(value: Any, _: object) -> tuple[Any, ...]:
            if value is None:
                return ()
            if not isinstance(value, list):
                msg = "an array"
                raise _WireTypeError(msg, value)
            out: list[Any] = []
            errors: list[Exception] = []
            for index, item in enumerate(value):
                try:
                    out.append(handler(item, inner_type))
                except Exception as exc:  # noqa: BLE001, PERF203 - collected, re-raised as a group
                    exc.__notes__ = [  # type: ignore[attr-defined]
                        *getattr(exc, "__notes__", []),
                        IterableValidationNote(f"@ index {index}", index, inner_type),
                    ]
                    errors.append(exc)
            if errors:
                msg = "While structuring"
                raise IterableValidationError(msg, errors, tuple_type)
            return tuple(out)

        return hook

    return factory


def _is_homogeneous_tuple(tp: Any) -> bool:
    args: tuple[Any, ...] = tuple(getattr(tp, "__args__", ()))
    return getattr(tp, "__origin__", None) is tuple and len(args) == 2 and args[-1] is Ellipsis


def make_coupang_converter() -> cattrs.Converter:
    """The cattrs converter for Coupang's JSON (never the global converter).

    Attribute names map to camelCase keys, unknown keys are ignored, ids and counts are exact
    ints (numbers or digit strings), money takes both the v4 number and the v5 object, and
    date-times take any offset (none means KST).
    """
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)
    converter.register_structure_hook(int, _int)
    converter.register_structure_hook(str, _str)
    converter.register_structure_hook(bool, _bool)
    converter.register_structure_hook(datetime, _datetime)
    converter.register_structure_hook(Price, _price)
    converter.register_structure_hook_func(lambda t: t == (date | None), _optional_date)
    converter.register_structure_hook_factory(_is_homogeneous_tuple, _tuple_hook_factory(converter))
    converter.register_structure_hook_factory(attrs.has, _attrs_hook_factory(converter))
    return converter


# --- decoding and error paths ----------------------------------------------------------------


def _reject_constant(name: str) -> object:
    raise ValueError(name)


def decode_json(body: bytes) -> object:
    """Decode a JSON body so that no number is ever a float (ids stay exact ints).

    Integers parse as ``int``, other numbers as :class:`~decimal.Decimal`; ``NaN`` and
    ``Infinity`` are refused. Raises ``ValueError`` for anything that is not JSON.
    """
    text = body.decode("utf-8-sig")  # a byte-order mark is tolerated
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def _leaves(exc: BaseException, path: str) -> Iterator[tuple[str, BaseException]]:
    if isinstance(exc, ClassValidationError | IterableValidationError):
        for sub in exc.exceptions:
            step = ""
            for note in getattr(sub, "__notes__", []):
                if isinstance(note, AttributeValidationNote):
                    step = "." + _camel(note.name)
                elif isinstance(note, IterableValidationNote):
                    step = f"[{note.index}]"
            yield from _leaves(sub, path + step)
    else:
        yield path, exc


def _short(value: object) -> str:
    # An object or array may hold a receiver: name its shape only, never its contents.
    if isinstance(value, dict):
        return f"an object with {len(value)} keys"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe(path: str, exc: BaseException) -> str:
    """One line for a failed field: the path, what was expected and (if not personal) the value."""
    personal = any(f".{name}" in path for name in _PERSONAL)
    if isinstance(exc, KeyError):
        return f"{path} is missing"
    if isinstance(exc, _WireTypeError):
        shown = "(personal data: value not shown)" if personal else f"got {_short(exc.value)}"
        return f"{path} must be {exc.expected}, {shown}"
    return f"{path} has an unexpected shape"


def structure_at(
    converter: cattrs.Converter, value: object, target: type[_T], path: str, *, adapter: str
) -> _T:
    """Structure ``value`` into ``target``; an UnexpectedResponseError names each bad path."""
    try:
        return converter.structure(value, target)
    except (ClassValidationError, IterableValidationError) as exc:
        problems = [describe(p, leaf) for p, leaf in _leaves(exc, path)]
    except _WireTypeError as exc:
        problems = [describe(path, exc)]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        problems = [describe(path, exc)]
    shown = "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")
    msg = f"unexpected response: {shown}"
    raise UnexpectedResponseError(msg, adapter=adapter)
