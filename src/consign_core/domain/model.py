"""Domain value types: market orders, suppliers, supplier orders, tracking and cancellations.

All types are frozen, keyword-only ``attrs`` classes. Money is an ``int`` of KRW (원),
quantities are ``int`` and every datetime is timezone-aware. Change a value with
:func:`attrs.evolve`, which re-runs the validators.

Korean terms used throughout:

- 결제완료 (payment complete): the market order has been paid; see :class:`MarketOrder`.
- 발주확인 (order confirmed / acknowledged): the seller accepts the order; on Coupang the order
  moves 결제완료 -> 상품준비중 (preparing the product).
- 운송장 (waybill / tracking number): see :class:`Tracking`.
- 판매취소 (sale cancelled): a cancellation, with its fault and reason; see :class:`Cancellation`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    fail,
    finite_float,
    instance_of,
    int_at_least,
    member_of,
    non_empty_str,
    optional,
    personal_text,
    string,
)


__all__ = [
    "CancelFault",
    "CancelReason",
    "Cancellation",
    "Courier",
    "MarketOrder",
    "OrderLine",
    "OrderRef",
    "Recipient",
    "Supplier",
    "SupplierItem",
    "SupplierOrder",
    "SupplierOrderStatus",
    "SupplierSignals",
    "Tracking",
]


class CancelFault(enum.Enum):
    """Who a market holds responsible for a cancellation (판매취소 귀책)."""

    SELLER = "seller"
    """The seller (including the seller's supplier): counts against the seller's metrics."""
    BUYER = "buyer"
    """The buyer changed their mind or asked for it: not penalised."""
    MARKET = "market"
    """The market itself (fraud check, system error): not penalised."""


class CancelReason(enum.Enum):
    """Why an order was cancelled, recorded as it really is (never re-labelled)."""

    STOCK_OUT = "stock_out"
    """The goods are sold out (품절); a seller-fault reason on every market."""
    PRICE_ERROR = "price_error"
    """The listed price was wrong."""
    BUYER_REMORSE = "buyer_remorse"
    """The buyer changed their mind (단순변심)."""
    DELIVERY_DELAY = "delivery_delay"
    """The order could not ship or arrive in time."""
    OTHER = "other"
    """Anything else; say what in the note."""


class SupplierOrderStatus(enum.Enum):
    """Where a supplier (wholesaler) order stands."""

    PLACED = "placed"
    """Ordered (and on Domeme, paid) at the supplier."""
    CONFIRMED = "confirmed"
    """The supplier accepted the order and is preparing it."""
    INVOICED = "invoiced"
    """The supplier registered a waybill (운송장): the goods are handed to a courier."""
    CANCELLED = "cancelled"
    """The supplier cancelled (for example, out of stock)."""


def _is_terminal(status: SupplierOrderStatus) -> bool:
    return status in {SupplierOrderStatus.INVOICED, SupplierOrderStatus.CANCELLED}


class Courier(enum.Enum):
    """A Korean parcel courier (택배사), named once for the whole library.

    Markets and supplier platforms each have their own codes for the same courier (Lotte is
    ``HYUNDAI`` on Coupang and on Domeme, Logen is ``KGB`` on Coupang and ``KGBL`` on Domeme);
    each adapter maps its vendor's codes to these members and back, as data, and nothing
    outside the adapters sees a vendor code.
    """

    CJ = "cj"
    """CJ대한통운 (CJ Logistics)."""
    LOTTE = "lotte"
    """롯데택배 (Lotte Global Logistics; formerly Hyundai Logistics)."""
    HANJIN = "hanjin"
    """한진택배."""
    LOGEN = "logen"
    """로젠택배."""
    EPOST = "epost"
    """우체국택배 (Korea Post)."""
    KYUNGDONG = "kyungdong"
    """경동택배."""
    DAESIN = "daesin"
    """대신택배."""
    ILYANG = "ilyang"
    """일양로지스."""
    CHUNIL = "chunil"
    """천일택배."""
    HAPDONG = "hapdong"
    """합동택배."""
    CVS = "cvs"
    """편의점택배 (CVSnet / GS Postbox)."""
    CU = "cu"
    """CU 편의점택배."""


@attrs.frozen(kw_only=True, cache_hash=True)
class OrderRef:
    """A market order's identity: the market's name and the market's order id.

    ``str(ref)`` gives ``"market:order_id"``, handy for logs and keys.
    """

    market: str = attrs.field(validator=non_empty_str)
    """The market's short name, e.g. ``"coupang"`` or ``"naver"``."""
    order_id: str = attrs.field(validator=non_empty_str)
    """The market's own order id (Coupang ``orderId``, Naver ``productOrderId``)."""

    def __str__(self) -> str:
        return f"{self.market}:{self.order_id}"


@attrs.frozen(kw_only=True)
class Tracking:
    """A waybill (운송장): the courier and the tracking number.

    The courier is the library's own :class:`Courier`: a supplier adapter maps its platform's
    courier code to it, a market adapter maps it to the market's code when it uploads the
    invoice, so no vendor code travels between them.
    """

    courier: Courier = attrs.field(validator=member_of(Courier))
    """The courier, e.g. :attr:`Courier.CJ` (CJ대한통운)."""
    number: str = attrs.field(validator=non_empty_str)
    """The tracking (invoice) number."""


_HIDDEN = "<personal data hidden>"


@attrs.frozen(kw_only=True, repr=False)
class Recipient:
    """Where the supplier ships a consignment order: the buyer's delivery details.

    A consignment supplier ships to the buyer, so these travel from the market order (Coupang's
    ``receiver``) to the supplier order (Domeme's ``deliinfo``). They are personal data:
    ``repr`` and ``str`` show none of them, validation errors name the field but not the value,
    and the engine never logs them. Stores keep them only while the order needs them.
    """

    name: str = attrs.field(validator=personal_text(required=True))
    """The receiver's name (수취인)."""
    phone: str = attrs.field(validator=personal_text(required=True))
    """A phone number to reach the receiver; on Coupang the buyer's safe number (안심번호)."""
    zip_code: str = attrs.field(validator=personal_text(required=False))
    """The postal code (우편번호), five digits in Korea."""
    address1: str = attrs.field(validator=personal_text(required=True))
    """The street address (주소1)."""
    address2: str = attrs.field(default="", validator=personal_text(required=False))
    """The detailed address: building, floor, unit (주소2); may be empty."""
    memo: str = attrs.field(default="", validator=personal_text(required=False))
    """The buyer's delivery message (배송 메모), e.g. "문 앞에 놓아주세요"; may be empty."""

    def __repr__(self) -> str:
        return f"Recipient({_HIDDEN})"

    __str__ = __repr__


@attrs.frozen(kw_only=True)
class OrderLine:
    """One line of a market order: a SKU, how many units and the unit price in KRW."""

    sku: str = attrs.field(validator=non_empty_str)
    """The seller's SKU (or the market's option id) for this line."""
    quantity: int = attrs.field(validator=int_at_least(1))
    """Units ordered; at least 1. A 20-set group order has quantity 20."""
    unit_price: int = attrs.field(validator=int_at_least(0))
    """Price per unit paid by the buyer, in KRW (원)."""
    supplier_item_id: str | None = attrs.field(default=None, validator=optional(non_empty_str))
    """The supplier item this SKU is sourced from, when the mapping is known."""

    @property
    def value(self) -> int:
        """The line's value in KRW: quantity x unit price."""
        return self.quantity * self.unit_price


def _to_lines(value: Iterable[OrderLine]) -> tuple[OrderLine, ...]:
    return tuple(value)


def _lines_not_empty(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        fail(instance, attribute, value, "a non-empty sequence of OrderLine")
    elif not all(isinstance(line, OrderLine) for line in value):
        fail(instance, attribute, value, "a sequence of OrderLine")


def _ship_by_after_paid(instance: MarketOrder, attribute: attrs.Attribute[Any], value: Any) -> None:
    aware_datetime(instance, attribute, value)
    assert isinstance(value, datetime)  # noqa: S101 - narrowed by the check above
    if value < instance.paid_at:
        fail(instance, attribute, value, f"at or after paid_at ({instance.paid_at.isoformat()})")


@attrs.frozen(kw_only=True)
class MarketOrder:
    """A paid market order (결제완료) with its lines and shipping deadline (발송기한)."""

    ref: OrderRef = attrs.field(validator=instance_of(OrderRef))
    """The order's identity on its market."""
    lines: tuple[OrderLine, ...] = attrs.field(converter=_to_lines, validator=_lines_not_empty)
    """The ordered lines; at least one."""
    paid_at: datetime = attrs.field(validator=aware_datetime)
    """When the buyer paid (결제완료)."""
    ship_by: datetime = attrs.field(validator=_ship_by_after_paid)
    """The market's deadline to ship (tracking entered), e.g. 3 business days after payment."""
    recipient: Recipient | None = attrs.field(
        default=None, validator=optional(instance_of(Recipient))
    )
    """The buyer's delivery details, where the market gives them (a market adapter does; the
    policy lab and order logs have none). Personal data: see :class:`Recipient`."""

    @property
    def quantity(self) -> int:
        """Total units over all lines."""
        return sum(line.quantity for line in self.lines)

    @property
    def value(self) -> int:
        """Total order value in KRW."""
        return sum(line.value for line in self.lines)


@attrs.frozen(kw_only=True)
class SupplierSignals:
    """What a supplier platform says about a supplier (e.g. Domeme's seller grade).

    Used only to shift a brand-new supplier's prior; every field is optional.
    """

    seller_rank: int | None = attrs.field(default=None, validator=optional(int_at_least(0)))
    """The platform's seller rank or grade; lower is better (Domeme ``seller.rank``)."""
    seller_score: float | None = attrs.field(default=None, validator=optional(finite_float))
    """The platform's seller score (Domeme ``seller.score``); higher is better."""
    avg_dispatch_days: float | None = attrs.field(default=None, validator=optional(finite_float))
    """The platform's average days from order to dispatch (Domeme ``deli.avg``)."""


@attrs.frozen(kw_only=True)
class Supplier:
    """A wholesaler (공급사) that ships consignment orders on the seller's behalf."""

    supplier_id: str = attrs.field(validator=non_empty_str)
    """Stable id, e.g. the Domeme seller id."""
    name: str = ""
    """Display name."""
    platform: str = "domeme"
    """Which supplier platform the supplier sells on."""
    signals: SupplierSignals | None = None
    """Platform signals used for a cold-start prior, if any."""


@attrs.frozen(kw_only=True)
class SupplierItem:
    """An item a supplier sells, with its last reported stock and cost."""

    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier selling it."""
    item_id: str = attrs.field(validator=non_empty_str)
    """The supplier platform's item number (Domeme ``no``)."""
    stock: int | None = attrs.field(default=None, validator=optional(int_at_least(0)))
    """Last reported stock in units; ``None`` if unknown."""
    unit_cost: int | None = attrs.field(default=None, validator=optional(int_at_least(0)))
    """What the seller pays the supplier per unit, in KRW."""


@attrs.frozen(kw_only=True)
class Cancellation:
    """A cancellation (판매취소) with who is at fault and why, as it really happened."""

    fault: CancelFault = attrs.field(validator=member_of(CancelFault))
    """Who the market holds responsible."""
    reason: CancelReason = attrs.field(validator=member_of(CancelReason))
    """Why; a stock-out is always recorded as :attr:`CancelReason.STOCK_OUT`."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the cancellation took effect."""
    note: str = attrs.field(default="", validator=string)
    """Free text, e.g. the supplier's own message."""

    @property
    def penalised(self) -> bool:
        """Whether markets count this against the seller (seller fault)."""
        return self.fault is CancelFault.SELLER


def _tracking_matches_status(
    instance: SupplierOrder, attribute: attrs.Attribute[Any], value: Any
) -> None:
    if value is not None and not isinstance(value, Tracking):
        fail(instance, attribute, value, "a Tracking or None")
    if instance.status is SupplierOrderStatus.INVOICED and value is None:
        fail(instance, attribute, value, "a Tracking when status is 'invoiced'")


def _cancellation_matches_status(
    instance: SupplierOrder, attribute: attrs.Attribute[Any], value: Any
) -> None:
    if value is not None and not isinstance(value, Cancellation):
        fail(instance, attribute, value, "a Cancellation or None")
    cancelled = instance.status is SupplierOrderStatus.CANCELLED
    if cancelled != (value is not None):
        fail(instance, attribute, value, "set exactly when status is 'cancelled'")


@attrs.frozen(kw_only=True)
class SupplierOrder:
    """An order placed at a supplier to fulfil (part of) a market order."""

    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    supplier_order_id: str = attrs.field(validator=non_empty_str)
    """The supplier platform's order number."""
    order_ref: OrderRef = attrs.field(validator=instance_of(OrderRef))
    """The market order this fulfils."""
    item_id: str = attrs.field(validator=non_empty_str)
    """The supplier item ordered."""
    quantity: int = attrs.field(validator=int_at_least(1))
    """Units ordered."""
    placed_at: datetime = attrs.field(validator=aware_datetime)
    """When it was placed."""
    status: SupplierOrderStatus = attrs.field(
        default=SupplierOrderStatus.PLACED, validator=member_of(SupplierOrderStatus)
    )
    """Where it stands."""
    tracking: Tracking | None = attrs.field(default=None, validator=_tracking_matches_status)
    """The waybill, once invoiced."""
    cancellation: Cancellation | None = attrs.field(
        default=None, validator=_cancellation_matches_status
    )
    """The supplier's cancellation, once cancelled."""

    @property
    def is_open(self) -> bool:
        """True while neither invoiced nor cancelled."""
        return not _is_terminal(self.status)
