"""Domeme wire shapes: the DTOs of each reply and the one cattrs converter that builds them.

Every quirk of the wire is handled here and nowhere else:

- numbers arrive as ``int`` or as strings (``"197035"``, ``"3,000"``, ``"98%"``);
- a list with one element arrives as the element itself (``list.item`` as an object);
- ``selectOpt`` is JSON encoded inside a string, or ``""`` when the item has no options;
- ``price.dome`` is an ``int`` or a tier string ``"1+3800|20+3500"``;
- an empty block can arrive as ``""`` or ``[]`` instead of an object.

A reply that still does not fit raises :class:`~consign_core.errors.UnexpectedResponseError`
naming the path (``$.domeggook.qty.inventory``), never the value: replies carry buyers'
personal data (getOrderView's ``consumer`` block, which no DTO here reads).
"""

from __future__ import annotations

import json
import math
import re
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override


__all__ = [
    "AssetReply",
    "CancelReply",
    "ChangeFeedPage",
    "ChangeRow",
    "DeliveryInfo",
    "Emoney",
    "ItemBasis",
    "ItemListPage",
    "ItemPrice",
    "ItemQty",
    "ItemShipping",
    "ItemSummary",
    "ItemView",
    "LoginReply",
    "OptionStock",
    "OrderListPage",
    "OrderRow",
    "OrderView",
    "PlaceOrderReply",
    "PlacedOrder",
    "PriceTier",
    "SellerInfo",
    "SellerScore",
    "ShippingFee",
    "make_domeme_converter",
    "parse_price_tiers",
    "parse_wire_datetime",
]

T = TypeVar("T")
KST = timezone(timedelta(hours=9), "KST")

_ADAPTER = "domeme"


def _wire(name: str) -> dict[str, str]:
    return {"wire": name}


# --------------------------------------------------------------------------------------
# Item (Open API)
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PriceTier:
    """One tier of a quantity price ``"20+3500"``: from ``min_qty`` units, ``price`` each."""

    min_qty: int
    """The smallest quantity the tier applies to."""
    price: int
    """The unit price in KRW."""


@attrs.frozen(kw_only=True)
class ItemBasis:
    """``basis``: the item's number, sale status and title."""

    no: str = ""
    """The item number."""
    status: str = ""
    """Sale status label: ``판매중`` (on sale), ``판매종료``, ``기간종료``..."""
    title: str = ""
    """The item's title."""


@attrs.frozen(kw_only=True)
class ItemPrice:
    """``price``: the Domeme (``supply``) price and the Domeggook (``dome``) price or tiers."""

    supply: int | None = None
    """The Domeme unit price in KRW (``price.supply``)."""
    dome: str | None = None
    """The Domeggook price as sent: a number or a tier string; see :attr:`dome_tiers`."""

    @property
    def dome_tiers(self) -> tuple[PriceTier, ...]:
        """``price.dome`` as tiers (one tier from 1 unit when it is a plain number)."""
        return parse_price_tiers(self.dome or "", path="$.domeggook.price.dome")


@attrs.frozen(kw_only=True)
class ItemQty:
    """``qty``: stock and order units."""

    inventory: int | None = None
    """The item's stock (재고) in units."""
    supply_unit: int | None = attrs.field(default=None, metadata=_wire("supplyUnit"))
    """Domeme order unit."""
    supply_loq: int | None = attrs.field(default=None, metadata=_wire("supplyLoq"))
    """Domeme largest order quantity."""
    dome_moq: int | None = attrs.field(default=None, metadata=_wire("domeMoq"))
    """Domeggook minimum order quantity."""


@attrs.frozen(kw_only=True)
class ShippingFee:
    """``deli.supply`` / ``deli.dome``: the shipping fee rule of one market."""

    fee: int | None = None
    """The fee in KRW, when fixed."""
    kind: str = attrs.field(default="", metadata=_wire("type"))
    """``고정배송비`` (fixed), ``수량별차등`` (tiered by quantity), ``수량별비례``,
    ``금액비노출`` (hidden)."""
    pay: str = ""
    """Who pays and when (``선결제``...)."""
    table: str = attrs.field(default="", metadata=_wire("tbl"))
    """The fee table for tiered rules, ``"minQty+fee|..."``."""


@attrs.frozen(kw_only=True)
class ItemShipping:
    """``deli``: shipping rules and the supplier's dispatch speed."""

    method: str = ""
    """``택배`` (parcel)..."""
    pay: str = ""
    """``무료배송`` means free shipping."""
    supply: ShippingFee | None = None
    """The Domeme fee rule."""
    send_avg: float | None = attrs.field(default=None, metadata=_wire("sendAvg"))
    """Average days from order to dispatch (평균 출고일)."""


@attrs.frozen(kw_only=True)
class SellerScore:
    """``seller.score``: the buyers' satisfaction."""

    avg: float | None = None
    """Average score in percent (``"98%"`` -> 98.0)."""
    count: int | None = attrs.field(default=None, metadata=_wire("cnt"))
    """How many ratings."""


@attrs.frozen(kw_only=True)
class SellerInfo:
    """``seller``: the supplier selling the item (a business, not a buyer)."""

    id: str = ""
    """The supplier's Domeggook id."""
    nick: str = ""
    """The supplier's shop name."""
    rank: int | None = None
    """The platform's seller rank (lower is better)."""
    good: str = ""
    """우수판매자 (good seller) flag."""
    score: SellerScore | None = None
    """Buyer satisfaction."""


@attrs.frozen(kw_only=True)
class OptionStock:
    """One option of ``selectOpt``: its code (for ``setOrder``), name and stock."""

    code: str
    """The option code, e.g. ``00_01``."""
    name: str = ""
    """The option's label."""
    qty: int | None = None
    """The option's stock."""
    sup_price: int | None = attrs.field(default=None, metadata=_wire("supPrice"))
    """Domeme price add-on in KRW."""
    sup: str = ""
    """``1`` when the option is sold on Domeme."""
    hid: str = ""
    """``2`` when the option is fully hidden."""

    @property
    def orderable(self) -> bool:
        """Sold on Domeme and not hidden."""
        return self.sup != "0" and self.hid not in {"1", "2"}


@attrs.frozen(kw_only=True)
class ItemView:
    """``getItemView``: one item with stock, prices, shipping and its supplier."""

    basis: ItemBasis = attrs.Factory(ItemBasis)
    """Number, status, title."""
    price: ItemPrice = attrs.Factory(ItemPrice)
    """Prices."""
    qty: ItemQty = attrs.Factory(ItemQty)
    """Stock and units."""
    deli: ItemShipping = attrs.Factory(ItemShipping)
    """Shipping."""
    seller: SellerInfo = attrs.Factory(SellerInfo)
    """The supplier."""
    options: tuple[OptionStock, ...] = attrs.field(default=(), metadata=_wire("selectOpt"))
    """The options of ``selectOpt`` (empty for a single-option item, code ``00``)."""

    @property
    def on_sale(self) -> bool:
        """The status is 판매중 (or not given)."""
        return self.basis.status in {"", "판매중"}

    def option(self, code: str | None) -> OptionStock | None:
        """The option with ``code`` (``None`` or ``00``: no option)."""
        if code in {None, "", "00"}:
            return None
        return next((o for o in self.options if o.code == code), None)

    def stock_of(self, code: str | None) -> int | None:
        """Stock of the option ``code``, or of the item when there is no option."""
        option = self.option(code)
        if code not in {None, "", "00"}:
            if option is None or not option.orderable:
                return 0
            return option.qty
        return self.qty.inventory


# --------------------------------------------------------------------------------------
# Item list (Open API)
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DeliveryInfo:
    """``deli`` of a list row: who pays and the fee."""

    who: str = ""
    """``S`` free, ``B`` cash on delivery, ``P`` prepaid, ``C`` buyer's choice."""
    fee: int | None = None
    """The fee in KRW."""


@attrs.frozen(kw_only=True)
class ItemSummary:
    """One row of ``getItemList``."""

    no: str
    """The item number."""
    title: str = ""
    """Title."""
    price: int | None = None
    """Unit price in KRW."""
    seller_id: str = attrs.field(default="", metadata=_wire("id"))
    """The supplier's id."""
    unit_qty: int | None = attrs.field(default=None, metadata=_wire("unitQty"))
    """Selling unit."""
    deli: DeliveryInfo | None = None
    """Shipping."""


@attrs.frozen(kw_only=True)
class ItemListPage:
    """One page of ``getItemList``."""

    items: tuple[ItemSummary, ...] = ()
    """The rows."""
    total: int | None = None
    """``numberOfItems``."""
    page: int | None = None
    """``currentPage``."""
    pages: int | None = None
    """``numberOfPages``."""


# --------------------------------------------------------------------------------------
# Private API
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class LoginReply:
    """``setLogin``: the session id (a secret: never shown in a repr)."""

    result: str = ""
    """``true`` on success."""
    sid: str = attrs.field(default="", metadata=_wire("sId"))
    """The session id."""
    renew_date: str = attrs.field(default="", metadata=_wire("sIdRenewDate"))
    """When the session should be renewed (as sent)."""

    def __repr__(self) -> str:
        return f"LoginReply(result={self.result!r}, sid=<hidden>)"


@attrs.frozen(kw_only=True)
class Emoney:
    """``currEmoney``: e-money balances in KRW."""

    total: int | None = None
    """All e-money."""
    card: int | None = None
    """Card-funded e-money (not usable for orders)."""
    cash: int | None = None
    """Cash e-money (현금성 이머니): what ``setOrder`` pays from."""


@attrs.frozen(kw_only=True)
class AssetReply:
    """``getMyAsset``: points and e-money."""

    points: int | None = None
    """``currPoint``."""
    emoney: Emoney = attrs.Factory(Emoney)
    """``currEmoney``."""


@attrs.frozen(kw_only=True)
class PlacedOrder:
    """One order created by ``setOrder``."""

    order_no: str = attrs.field(metadata=_wire("orderNo"))
    """The Domeme order number."""
    item_no: str = attrs.field(default="", metadata=_wire("itemNo"))
    """The item ordered."""


@attrs.frozen(kw_only=True)
class PlaceOrderReply:
    """``setOrder``: the orders it created (one per item)."""

    result: str = ""
    """``SUCCESS``."""
    orders: tuple[PlacedOrder, ...] = attrs.field(default=(), metadata=_wire("order"))
    """The orders."""


@attrs.frozen(kw_only=True)
class OrderRow:
    """One row of ``getOrderList``."""

    order_no: str = attrs.field(metadata=_wire("orderNo"))
    """The order number."""
    status: str = ""
    """Korean status label (결제완료...)."""
    status_mode: str = attrs.field(default="", metadata=_wire("statusMode"))
    """Status code when the list gives it."""
    item_no: str = attrs.field(default="", metadata=_wire("itemNo"))
    """The item."""
    order_qty: int | None = attrs.field(default=None, metadata=_wire("orderQty"))
    """Units."""
    order_memo: str | None = attrs.field(default=None, metadata=_wire("orderMemo"))
    """The seller memo, when the list gives it (the view always does)."""
    date: str = ""
    """When it was ordered (as sent)."""


@attrs.frozen(kw_only=True)
class OrderListPage:
    """One page of ``getOrderList``."""

    orders: tuple[OrderRow, ...] = ()
    """The rows."""
    total: int | None = None
    """``numberOfItems``."""
    pages: int | None = None
    """``numberOfPages``."""


@attrs.frozen(kw_only=True)
class OrderDelivery:
    """``delivery``: the waybill, once the supplier registered it."""

    company: str = ""
    """Domeme courier code (``DAEHAN``...)."""
    company_name: str = attrs.field(default="", metadata=_wire("companyName"))
    """Courier name."""
    code: str = ""
    """The tracking (운송장) number."""


@attrs.frozen(kw_only=True)
class OrderItem:
    """``item`` of an order view."""

    no: str = ""
    """The item number."""
    title: str = ""
    """Title."""


@attrs.frozen(kw_only=True)
class OrderSeller:
    """``sellerInfo`` of an order view (the supplier: a business)."""

    id: str = ""
    """The supplier's id."""


@attrs.frozen(kw_only=True)
class OrderView:
    """``getOrderView``: one order's state. The ``consumer`` block (the buyer's personal data)
    is deliberately not read."""

    order_no: str = attrs.field(metadata=_wire("orderNo"))
    """The order number."""
    status: str = ""
    """Korean status label."""
    status_mode: str = attrs.field(default="", metadata=_wire("statusMode"))
    """``WAITCHK``, ``WAITDELI``, ``WAITOK``, ``WAITRCPT``, ``WAITSERV``, ``DONE``,
    ``DENYBUY``, ``DENYSELL``."""
    order_memo: str = attrs.field(default="", metadata=_wire("orderMemo"))
    """The seller memo sent with ``setOrder`` (holds the idempotency key)."""
    order_qty: int | None = attrs.field(default=None, metadata=_wire("orderQty"))
    """Units."""
    date: str = ""
    """When it was ordered (as sent)."""
    item: OrderItem = attrs.Factory(OrderItem)
    """The item."""
    seller: OrderSeller = attrs.field(factory=OrderSeller, metadata=_wire("sellerInfo"))
    """The supplier."""
    delivery: OrderDelivery = attrs.Factory(OrderDelivery)
    """The waybill."""
    deny_date: str = attrs.field(default="", metadata=_wire("denyDate"))
    """When it was cancelled (DENYSELL / DENYBUY)."""
    deny_memo: str = attrs.field(default="", metadata=_wire("denyMemo"))
    """The canceller's note."""


@attrs.frozen(kw_only=True)
class CancelReply:
    """``setOrdDeny``: ``true``, ``complete`` or ``req``."""

    result: str = ""
    """The result as sent."""


@attrs.frozen(kw_only=True)
class ChangeRow:
    """One row of ``getAllSupplyChk``: an item's status, price or stock change."""

    no: str
    """The item number."""
    status: str = ""
    """``SOLDOUT``, ``RESTART``, ``AMT``, ``OPTSOLDOUT``, ``OPTRESTART``, ``OPEN``, ``CLOSE``,
    ``DEL``, ``OPTAMT``."""
    seller: str = ""
    """The supplier's id."""
    price: int | None = None
    """The price after the change."""
    qty: int | None = None
    """The stock after the change."""
    supply_qty: int | None = attrs.field(default=None, metadata=_wire("supplyQty"))
    """The Domeme stock after the change."""
    date: str = ""
    """When (as sent)."""


@attrs.frozen(kw_only=True)
class ChangeFeedPage:
    """One page of ``getAllSupplyChk``."""

    changes: tuple[ChangeRow, ...] = ()
    """The rows."""
    total: int | None = None
    """``numberOfItems``."""
    pages: int | None = None
    """``numberOfPages``."""


# --------------------------------------------------------------------------------------
# Lenient scalar parsing
# --------------------------------------------------------------------------------------

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def _clean_number(value: str) -> str:
    return value.strip().replace(",", "").removesuffix("%").removesuffix("원").strip()


def _to_int(value: object, _: object = None) -> int:
    if isinstance(value, bool):
        msg = "expected a whole number"
        raise ValueError(msg)  # noqa: TRY004 - cattrs reports ValueErrors with their path
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = _clean_number(value)
        if _INT.fullmatch(text):
            return int(text)
        if _FLOAT.fullmatch(text) and float(text).is_integer():
            return int(float(text))
    msg = "expected a whole number"
    raise ValueError(msg)


def _to_float(value: object, _: object = None) -> float:
    if isinstance(value, bool):
        msg = "expected a number"
        raise ValueError(msg)  # noqa: TRY004 - cattrs reports ValueErrors with their path
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str) and _FLOAT.fullmatch(_clean_number(value)):
        result = float(_clean_number(value))
    else:
        msg = "expected a number"
        raise ValueError(msg)
    if not math.isfinite(result):
        msg = "expected a finite number"
        raise ValueError(msg)
    return result


def _to_str(value: object, _: object = None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    msg = "expected text"
    raise ValueError(msg)


def _blank(value: object) -> bool:
    return value is None or value in ("", [], {})


def _optional(inner: Callable[[object, object], T]) -> Callable[[object, object], T | None]:
    def hook(value: object, _: object = None) -> T | None:
        return None if _blank(value) else inner(value, None)

    return hook


def as_rows(value: object) -> list[Any]:
    """A wire list: ``None``/``""`` -> ``[]``; one object -> ``[object]``; a list as is."""
    if _blank(value):
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping) and "item" in value and len(value) == 1:
        return as_rows(value["item"])
    return [value]


def parse_price_tiers(text: str | int, *, path: str = "$") -> tuple[PriceTier, ...]:
    """``"1+3800|20+3500"`` -> tiers; a plain number -> one tier from 1 unit; ``""`` -> ()."""
    from consign_core.errors import UnexpectedResponseError

    raw = str(text).strip()
    if not raw:
        return ()
    tiers: list[PriceTier] = []
    try:
        if "+" not in raw:
            return (PriceTier(min_qty=1, price=_to_int(raw)),)
        for part in raw.split("|"):
            qty, _, price = part.partition("+")
            tiers.append(PriceTier(min_qty=_to_int(qty), price=_to_int(price)))
    except ValueError:
        msg = f"price tiers are not 'qty+price|...' @ {path}"
        raise UnexpectedResponseError(msg, adapter=_ADAPTER) from None
    return tuple(sorted(tiers, key=lambda t: t.min_qty))


def parse_wire_datetime(value: str | int | None) -> datetime | None:
    """A wire date or time (KST when it has no zone): ``2026-11-02 13:05:00``, ``20261102``,
    ``2026-11-02``, a Unix timestamp. ``None`` when absent or unreadable."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isdigit() and len(text) >= 9 and not text.startswith(("19", "20")):
        return datetime.fromtimestamp(int(text), tz=timezone.utc)
    for fmt in (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y%m%d%H%M%S",
        "%Y-%m-%d",
        "%Y%m%d",
        "%Y.%m.%d %H:%M:%S",
        "%Y.%m.%d",
    ):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=KST)
        except ValueError:  # noqa: PERF203 - a handful of formats, tried in order
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=KST)


# --------------------------------------------------------------------------------------
# The converter
# --------------------------------------------------------------------------------------


def _decode_select_opt(value: object) -> list[dict[str, Any]]:
    """``selectOpt`` (JSON in a string, or already an object) -> option rows with codes."""
    if _blank(value):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            msg = "selectOpt is not JSON"
            raise ValueError(msg) from None
    if not isinstance(value, Mapping):
        msg = "selectOpt is not an object"
        raise ValueError(msg)  # noqa: TRY004 - cattrs reports ValueErrors with their path
    data = value.get("data")
    if _blank(data):
        return []
    if not isinstance(data, Mapping):
        msg = "selectOpt.data is not an object"
        raise ValueError(msg)  # noqa: TRY004 - cattrs reports ValueErrors with their path
    rows: list[dict[str, Any]] = []
    for code, option in data.items():
        if not isinstance(option, Mapping):
            msg = "selectOpt.data.<code> is not an object"
            raise ValueError(msg)  # noqa: TRY004 - cattrs reports ValueErrors with their path
        rows.append({**option, "code": str(code)})
    return rows


def prepare_item_view(payload: object, *, path: str) -> object:
    """Decode ``selectOpt`` (JSON in a string) in place of the string, before structuring."""
    from consign_core.errors import UnexpectedResponseError

    if not isinstance(payload, Mapping) or "selectOpt" not in payload:
        return payload
    try:
        options = _decode_select_opt(payload["selectOpt"])
    except ValueError as exc:
        msg = f"getItemView: unexpected reply: {exc} @ {path}.selectOpt"
        raise UnexpectedResponseError(msg, adapter=_ADAPTER) from None
    return {**payload, "selectOpt": options}


def _attrs_hook_factory(converter: cattrs.Converter) -> Callable[[type[Any]], Any]:
    def factory(cls: type[Any]) -> Callable[[object, object], Any]:
        overrides = {
            a.name: override(rename=a.metadata["wire"])
            for a in attrs.fields(cls)
            if "wire" in a.metadata
        }
        inner = make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]

        def hook(value: object, _: object = None) -> Any:
            if _blank(value):
                value = {}
            if not isinstance(value, Mapping):
                msg = "expected an object"
                raise ValueError(msg)  # noqa: TRY004 - cattrs reports ValueErrors with paths
            return inner(value, cls)

        return hook

    return factory


def _is_tuple(tp: object) -> bool:
    return typing.get_origin(tp) is tuple


def _tuple_hook_factory(converter: cattrs.Converter) -> Callable[[Any], Any]:
    def factory(tp: Any) -> Callable[[object, object], tuple[Any, ...]]:
        (element, *_rest) = typing.get_args(tp)

        def hook(value: object, _: object = None) -> tuple[Any, ...]:
            rows = as_rows(value)
            return tuple(converter.structure(row, element) for row in rows)

        return hook

    return factory


def make_domeme_converter() -> cattrs.Converter:
    """The converter for Domeme replies: lenient numbers, one-element lists as objects,
    ``selectOpt`` decoded from its string, empty blocks as ``""``. Its own instance, never
    the global converter."""
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)
    converter.register_structure_hook(int, _to_int)
    converter.register_structure_hook(float, _to_float)
    converter.register_structure_hook(str, _to_str)
    converter.register_structure_hook_func(lambda t: t == (int | None), _optional(_to_int))
    converter.register_structure_hook_func(lambda t: t == (float | None), _optional(_to_float))
    converter.register_structure_hook_func(lambda t: t == (str | None), _optional(_to_str))
    converter.register_structure_hook_factory(_is_tuple, _tuple_hook_factory(converter))
    converter.register_structure_hook_factory(attrs.has, _attrs_hook_factory(converter))
    return converter


def _wire_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for cls in (
        ItemQty,
        ShippingFee,
        ItemShipping,
        SellerScore,
        OptionStock,
        ItemView,
        ItemSummary,
        LoginReply,
        PlacedOrder,
        PlaceOrderReply,
        OrderRow,
        OrderDelivery,
        OrderView,
        ChangeRow,
    ):
        for a in attrs.fields(cls):
            if "wire" in a.metadata:
                names[a.name] = a.metadata["wire"]
    return names


_WIRE_NAMES = _wire_names()
_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")


def _to_wire_path(line: str) -> str:
    """``... @ $.domeggook.qty.supply_unit`` -> ``... @ $.domeggook.qty.supplyUnit``."""
    text, at, path = line.rpartition(" @ ")
    if not at:
        return line
    return f"{text} @ " + _SEGMENT.sub(lambda m: "." + _WIRE_NAMES.get(m[1], m[1]), path)


def structure_reply(
    converter: cattrs.Converter, payload: object, cls: type[T], *, path: str, mode: str
) -> T:
    """Build ``cls`` from ``payload``; a misfit raises ``UnexpectedResponseError`` naming
    the paths (never the values)."""
    from consign_core.errors import UnexpectedResponseError

    try:
        return converter.structure(payload, cls)
    except Exception as exc:  # noqa: BLE001 - every misfit becomes one typed error
        if isinstance(exc, cattrs.BaseValidationError):
            lines = [_to_wire_path(line) for line in cattrs.transform_error(exc, path=path)]
        else:
            lines = [f"unreadable reply @ {path}"]
        msg = f"{mode}: unexpected reply: " + "; ".join(lines[:5])
        raise UnexpectedResponseError(msg, adapter=_ADAPTER) from None
