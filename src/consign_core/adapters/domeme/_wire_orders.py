"""Domeme Private API DTOs: the session, e-money, ``setOrder``, the order list and view,
``setOrdDeny`` and the ``getAllSupplyChk`` change feed."""

from __future__ import annotations

import attrs

from consign_core.adapters.domeme._wire_parse import wire as _wire


__all__ = [
    "AssetReply",
    "CancelReply",
    "ChangeFeedPage",
    "ChangeRow",
    "Emoney",
    "LoginReply",
    "OrderDelivery",
    "OrderItem",
    "OrderListPage",
    "OrderRow",
    "OrderSeller",
    "OrderView",
    "PlaceOrderReply",
    "PlacedOrder",
]


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
