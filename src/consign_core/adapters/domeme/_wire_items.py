"""Domeme item DTOs (Open API ``getItemView`` and ``getItemList``), tiered prices and
``selectOpt`` (JSON inside a string)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from consign_core.adapters.domeme._wire_parse import ADAPTER, is_blank, to_int
from consign_core.adapters.domeme._wire_parse import wire as _wire
from consign_core.errors import UnexpectedResponseError


__all__ = [
    "DeliveryInfo",
    "ItemBasis",
    "ItemListPage",
    "ItemPrice",
    "ItemQty",
    "ItemShipping",
    "ItemSummary",
    "ItemView",
    "OptionStock",
    "PriceTier",
    "SellerInfo",
    "SellerScore",
    "ShippingFee",
    "parse_price_tiers",
    "prepare_item_view",
]


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


def parse_price_tiers(text: str | int, *, path: str = "$") -> tuple[PriceTier, ...]:
    """``"1+3800|20+3500"`` -> tiers; a plain number -> one tier from 1 unit; ``""`` -> ()."""

    raw = str(text).strip()
    if not raw:
        return ()
    tiers: list[PriceTier] = []
    try:
        if "+" not in raw:
            return (PriceTier(min_qty=1, price=to_int(raw)),)
        for part in raw.split("|"):
            qty, _, price = part.partition("+")
            tiers.append(PriceTier(min_qty=to_int(qty), price=to_int(price)))
    except ValueError:
        msg = f"price tiers are not 'qty+price|...' @ {path}"
        raise UnexpectedResponseError(msg, adapter=ADAPTER) from None
    return tuple(sorted(tiers, key=lambda t: t.min_qty))


def _decode_select_opt(value: object) -> list[dict[str, Any]]:
    """``selectOpt`` (JSON in a string, or already an object) -> option rows with codes."""
    if is_blank(value):
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
    if is_blank(data):
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

    if not isinstance(payload, Mapping) or "selectOpt" not in payload:
        return payload
    try:
        options = _decode_select_opt(payload["selectOpt"])
    except ValueError as exc:
        msg = f"getItemView: unexpected reply: {exc} @ {path}.selectOpt"
        raise UnexpectedResponseError(msg, adapter=ADAPTER) from None
    return {**payload, "selectOpt": options}
