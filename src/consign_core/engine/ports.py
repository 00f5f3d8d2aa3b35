"""Ports: what the engine needs from a market, a supplier platform, a messenger and a store.

Each port is a synchronous :class:`typing.Protocol` (structural: implement the methods, no base
class needed). Implementations today: the in-memory fakes of :mod:`consign_core.testing` and
the stores of :mod:`consign_core.store`; httpx adapters for Coupang and Domeme are planned.

Errors. A port method raises only :class:`~consign_core.errors.AdapterError` subclasses for
vendor trouble: :class:`~consign_core.errors.TransientError` (timeouts, 5xx: the result of a
state-changing call is then *unknown*), :class:`~consign_core.errors.RateLimitedError`
(throttled, not executed), :class:`~consign_core.errors.RejectedError` /
:class:`~consign_core.errors.NotFoundError` (refused for good),
:class:`~consign_core.errors.AuthenticationError`. The engine never loses work on the first two:
the command stays in the outbox and is reconciled, then retried, on a later run.

Retries, per command (the engine's rule, documented here because it shapes the ports):

==========================  ==========================================================
Command                      After an unknown result (timeout, crash) the engine ...
==========================  ==========================================================
place supplier order         asks :meth:`SupplierPort.find_order` by the idempotency key
                             first; re-sends only if the supplier has no such order
                             (Domeme orders are paid at once: a duplicate costs money)
acknowledge                  reads the order back (:meth:`MarketPort.get_order`) first;
                             acknowledging twice is harmless on Coupang, but not needed
upload invoice               reads the order back; re-sends only if it is not shipped
cancel market order          reads the order back; re-sends only if it is not cancelled
cancel supplier order        reads the supplier order back; re-sends only if still open
answer buyer request         reads the order back; re-sends only if not settled
message buyer                re-sends blindly (at least once; a duplicate note is harmless)
set listing                  re-sends blindly (stopping or resuming twice is harmless);
                             a newer state for the same SKU replaces a pending one
==========================  ==========================================================
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    instance_of,
    int_at_least,
    member_of,
    non_empty_str,
    optional,
)
from consign_core.domain.model import (
    Cancellation,
    CancelReason,
    MarketOrder,
    OrderRef,
    Recipient,
    SupplierItem,
    SupplierOrder,
    Tracking,
)
from consign_core.domain.workflow._types import (
    BuyerRequestAnswer,
    BuyerRequestKind,
    SupplierCancelOutcome,
)
from consign_core.errors import ValidationError


__all__ = [
    "VENDOR_CODE_STOCK_OUT",
    "BuyerMessenger",
    "BuyerRequest",
    "BuyerRequestKind",
    "BuyerRequestPage",
    "ChangePage",
    "InvoiceUpload",
    "ItemChange",
    "ItemResult",
    "ListingPort",
    "MarketOrderSnapshot",
    "MarketOrderStatus",
    "MarketPort",
    "OrderPage",
    "PlaceOrderRequest",
    "SupplierOrderFeed",
    "SupplierOrderPage",
    "SupplierPort",
]

VENDOR_CODE_STOCK_OUT = "STOCK_OUT"
"""``AdapterError.vendor_code`` a supplier adapter uses when it refuses an order as sold out
(Domeme's sold-out errors are mapped to it); the workflow then reroutes or cancels."""


# --------------------------------------------------------------------------------------
# Market values
# --------------------------------------------------------------------------------------


def _orders(value: Iterable[MarketOrder]) -> tuple[MarketOrder, ...]:
    return tuple(value)


def _requests(value: Iterable[BuyerRequest]) -> tuple[BuyerRequest, ...]:
    return tuple(value)


def _changes(value: Iterable[ItemChange]) -> tuple[ItemChange, ...]:
    return tuple(value)


def _supplier_orders(value: Iterable[SupplierOrder]) -> tuple[SupplierOrder, ...]:
    return tuple(value)


class MarketOrderStatus(enum.Enum):
    """Where an order stands on the market (Coupang statuses in brackets)."""

    PAID = "paid"
    """Paid, not acknowledged (ACCEPT, 결제완료)."""
    ACKNOWLEDGED = "acknowledged"
    """Acknowledged (INSTRUCT, 상품준비중)."""
    SHIPPED = "shipped"
    """Waybill uploaded (DEPARTURE / DELIVERING, 배송지시 / 배송중)."""
    DELIVERED = "delivered"
    """Delivered (FINAL_DELIVERY, 배송완료)."""
    CANCELLED = "cancelled"
    """Cancelled, by the buyer, the seller or the market."""


@attrs.frozen(kw_only=True)
class MarketOrderSnapshot:
    """The market's current view of one order (:meth:`MarketPort.get_order`)."""

    order: MarketOrder
    """The order."""
    status: MarketOrderStatus = attrs.field(validator=member_of(MarketOrderStatus))
    """Its status on the market."""
    tracking: Tracking | None = None
    """The uploaded waybill, once shipped."""
    cancellation: Cancellation | None = None
    """The cancellation, once cancelled."""


@attrs.frozen(kw_only=True)
class OrderPage:
    """One page of newly paid orders (:meth:`MarketPort.list_paid_orders`)."""

    orders: tuple[MarketOrder, ...] = attrs.field(converter=_orders)
    """The orders, oldest first."""
    cursor: str | None = attrs.field(default=None, validator=optional(non_empty_str))
    """Pass it to the next call to continue after this page (``None``: from the start)."""
    has_more: bool = False
    """Another page is ready now."""


@attrs.frozen(kw_only=True)
class ItemResult:
    """The outcome for one order of a batch call (acknowledge, invoice upload)."""

    ref: OrderRef = attrs.field(validator=instance_of(OrderRef))
    """The order."""
    ok: bool = attrs.field(validator=instance_of(bool, "True or False"))
    """It succeeded (or was already in the wanted state)."""
    code: str = "OK"
    """The vendor's result code, e.g. ``NOT_FOUND_SHIPMENT_BOX``."""
    message: str = ""
    """The vendor's message."""
    retryable: bool = False
    """The vendor says it may succeed if retried (Coupang ``retryRequired``)."""


@attrs.frozen(kw_only=True)
class InvoiceUpload:
    """One waybill to upload: the order and its tracking (the adapter maps the courier)."""

    ref: OrderRef = attrs.field(validator=instance_of(OrderRef))
    """The order."""
    tracking: Tracking = attrs.field(validator=instance_of(Tracking))
    """The waybill."""


@attrs.frozen(kw_only=True)
class BuyerRequest:
    """A buyer's cancel or stop-shipment request (:meth:`MarketPort.list_buyer_requests`)."""

    request_id: str = attrs.field(validator=non_empty_str)
    """The market's id (Coupang ``receiptId``)."""
    ref: OrderRef = attrs.field(validator=instance_of(OrderRef))
    """The order."""
    kind: BuyerRequestKind = attrs.field(validator=member_of(BuyerRequestKind))
    """Cancel or stop shipment."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the buyer asked."""
    reason: CancelReason = attrs.field(
        default=CancelReason.BUYER_REMORSE, validator=member_of(CancelReason)
    )
    """The buyer's stated reason."""


@attrs.frozen(kw_only=True)
class BuyerRequestPage:
    """One page of buyer requests."""

    requests: tuple[BuyerRequest, ...] = attrs.field(converter=_requests)
    """The requests, oldest first."""
    cursor: str | None = attrs.field(default=None, validator=optional(non_empty_str))
    """Pass it to the next call to continue after this page."""
    has_more: bool = False
    """Another page is ready now."""


# --------------------------------------------------------------------------------------
# Supplier values
# --------------------------------------------------------------------------------------


def _recipient_or_none(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A :class:`~consign_core.domain.model.Recipient` or ``None``; anything else is refused
    without showing it (it may hold the buyer's personal data)."""
    if value is not None and not isinstance(value, Recipient):
        owner = type(instance).__name__
        msg = (
            f"{owner}.{attribute.name} must be a Recipient or None, got a "
            f"{type(value).__name__} (the value may be personal data: not shown)"
        )
        raise ValidationError(msg, field=attribute.name, value=None)


@attrs.frozen(kw_only=True)
class PlaceOrderRequest:
    """An order to place at a supplier (Domeme ``setOrder``)."""

    order_ref: OrderRef = attrs.field(validator=instance_of(OrderRef))
    """The market order it fulfils."""
    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    item_id: str = attrs.field(validator=non_empty_str)
    """The supplier item."""
    quantity: int = attrs.field(validator=int_at_least(1))
    """Units."""
    idempotency_key: str = attrs.field(validator=non_empty_str)
    """The seller's reference for this attempt; the adapter stores it with the order (Domeme:
    in the seller memo) so that :meth:`SupplierPort.find_order` can find it again."""
    recipient: Recipient | None = attrs.field(default=None, validator=_recipient_or_none)
    """The buyer's delivery details, from the market order (a consignment supplier ships to
    the buyer); ``None`` when the market gave none (the policy lab's orders). Personal data:
    its ``repr`` shows none of it. An adapter that needs it (Domeme) refuses a request
    without it."""
    option: str | None = attrs.field(default=None, validator=optional(non_empty_str))
    """The supplier's option code of the item (from the SKU's source); ``None`` for an item
    with a single option (Domeme writes ``00``)."""


@attrs.frozen(kw_only=True)
class ItemChange:
    """A stock or price change from the supplier's change feed (Domeme ``getAllSupplyChk``)."""

    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    item_id: str = attrs.field(validator=non_empty_str)
    """The item."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the change happened."""
    stock: int | None = attrs.field(default=None, validator=optional(int_at_least(0)))
    """New stock (0 = sold out, 품절); ``None`` if unchanged."""
    unit_cost: int | None = attrs.field(default=None, validator=optional(int_at_least(0)))
    """New unit cost in KRW; ``None`` if unchanged."""


@attrs.frozen(kw_only=True)
class ChangePage:
    """One page of item changes."""

    changes: tuple[ItemChange, ...] = attrs.field(converter=_changes)
    """The changes, oldest first."""
    cursor: str | None = attrs.field(default=None, validator=optional(non_empty_str))
    """Pass it to the next call to continue after this page."""
    has_more: bool = False
    """Another page is ready now."""


@attrs.frozen(kw_only=True)
class SupplierOrderPage:
    """One page of supplier orders whose status changed
    (:meth:`SupplierOrderFeed.list_changed_orders`)."""

    orders: tuple[SupplierOrder, ...] = attrs.field(converter=_supplier_orders)
    """The orders in their current state, in the order they changed."""
    cursor: str | None = attrs.field(default=None, validator=optional(non_empty_str))
    """Pass it to the next call to continue after this page."""
    has_more: bool = False
    """Another page is ready now."""


# --------------------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------------------


@runtime_checkable
class MarketPort(Protocol):
    """A market (Coupang, SmartStore...) as the engine sees it; one seller account."""

    @property
    def market(self) -> str:
        """The market's short name, as in :attr:`~consign_core.domain.model.OrderRef.market`."""
        ...

    @property
    def ack_batch_limit(self) -> int:
        """Most orders one :meth:`acknowledge` call takes (Coupang: 50)."""
        ...

    @property
    def invoice_batch_limit(self) -> int:
        """Most waybills one :meth:`upload_invoices` call takes."""
        ...

    def list_paid_orders(self, cursor: str | None) -> OrderPage:
        """Newly paid, unacknowledged orders after ``cursor`` (``None``: from the start).

        The same order may appear again; the engine ignores orders it already knows.
        """
        ...

    def get_order(self, ref: OrderRef) -> MarketOrderSnapshot:
        """The market's current view of one order (status, waybill, cancellation)."""
        ...

    def acknowledge(self, refs: Sequence[OrderRef]) -> Sequence[ItemResult]:
        """Confirm up to :attr:`ack_batch_limit` orders (발주확인); one result per order.

        Acknowledging an already acknowledged order succeeds (idempotent on Coupang).
        """
        ...

    def upload_invoices(self, uploads: Sequence[InvoiceUpload]) -> Sequence[ItemResult]:
        """Upload up to :attr:`invoice_batch_limit` waybills; one result per order."""
        ...

    def cancel_order(self, ref: OrderRef, cancellation: Cancellation) -> None:
        """Cancel an order as the seller, with the honest fault and reason.

        The adapter maps the reason to the market's code (Coupang ``CCTTER`` for a stock-out).
        """
        ...

    def list_buyer_requests(self, cursor: str | None) -> BuyerRequestPage:
        """Buyers' cancel and stop-shipment requests after ``cursor``."""
        ...

    def answer_buyer_request(
        self,
        ref: OrderRef,
        request_id: str,
        answer: BuyerRequestAnswer,
        tracking: Tracking | None = None,
    ) -> None:
        """Answer a buyer's request (Coupang ``stoppedShipment`` / ``completedShipment``).

        ``ACCEPT_CANCEL`` on a cancellation the market already made by itself is a no-op.
        """
        ...


@runtime_checkable
class ListingPort(Protocol):
    """What a :class:`MarketPort` may offer besides: set a listed item's sales state.

    A consignment seller's listing should follow the supplier's stock: an order for an item the
    supplier has sold out of is a stock-out cancel (the seller's fault) waiting to happen. When
    the market port has this method (checked once, structurally, when the engine is built) and
    ``EngineSettings.mirror_listing`` is on, the engine mirrors the supplier's change feed onto
    the market: every source of a SKU sold out -> stop its sales; one back in stock -> resume.
    A port without it (an older embedder's) keeps working; the engine just sends no listing
    commands.
    """

    def set_listing(self, market_sku: str, *, selling: bool, quantity: int | None = None) -> None:
        """Stop (``selling=False``) or resume (``True``) the sales of the item listed as
        ``market_sku`` (Coupang: the ``vendorItemId``); ``quantity``, when given, also sets its
        sellable quantity. Idempotent: setting the state it already has succeeds.

        Raises :class:`~consign_core.errors.NotFoundError` for an item the market does not list.
        """
        ...


@runtime_checkable
class BuyerMessenger(Protocol):
    """Sends a message to the buyer of an order (market inquiry answer, 알림톡, SMS...)."""

    def send_message(self, ref: OrderRef, template_id: str, text: str) -> None:
        """Send ``text`` (rendered from ``template_id``) to the buyer of ``ref``."""
        ...


@runtime_checkable
class SupplierPort(Protocol):
    """A supplier platform (Domeme) as the engine sees it; one buyer account, many suppliers."""

    @property
    def platform(self) -> str:
        """The platform's short name, e.g. ``"domeme"``."""
        ...

    def place_order(self, request: PlaceOrderRequest) -> SupplierOrder:
        """Place (and on Domeme, pay for) an order. Not idempotent: never retried blindly.

        A sold-out refusal raises :class:`~consign_core.errors.RejectedError` with
        ``vendor_code=VENDOR_CODE_STOCK_OUT``.
        """
        ...

    def find_order(self, idempotency_key: str) -> SupplierOrder | None:
        """The order placed with ``idempotency_key``, or ``None`` if there is none."""
        ...

    def get_orders(self, supplier_order_ids: Sequence[str]) -> Sequence[SupplierOrder]:
        """The current state of these orders (placed / confirmed / invoiced with tracking /
        cancelled with reason); unknown ids are left out."""
        ...

    def cancel_order(self, supplier_order_id: str, memo: str) -> SupplierCancelOutcome:
        """Ask to cancel an order (Domeme ``setOrdDeny type=buy``): cancelled at once, filed
        as a request the supplier must accept, or refused."""
        ...

    def list_changes(self, cursor: str | None) -> ChangePage:
        """Stock and price changes after ``cursor`` (sold out, restocked, price moved)."""
        ...

    def get_stock(self, supplier_id: str, item_id: str) -> SupplierItem:
        """One item's current stock and unit cost."""
        ...


@runtime_checkable
class SupplierOrderFeed(Protocol):
    """What a :class:`SupplierPort` may offer besides: the orders whose status changed.

    Domeggook lists the buyer's orders by status and date; an adapter that turns that into a
    feed lets the engine ask only about what changed instead of about every open order on
    every run (supplier APIs ration calls). The engine uses it when the supplier port has it
    (checked once, structurally): every supplier order it takes on is asked about once with
    :meth:`SupplierPort.get_orders` (a change listed before the engine knew the order, e.g.
    after a placement whose answer was lost, is not missed), and from then on only the feed
    is read. An order the engine has just placed itself, whose placement answer showed it
    placed, is not asked about: that answer was its first read, so a feed must list every
    change of such an order after its placement. Ports without a feed are polled order by
    order.
    """

    def list_changed_orders(self, cursor: str | None) -> SupplierOrderPage:
        """Supplier orders whose status changed (confirmed, invoiced, cancelled) after
        ``cursor`` (``None``: from the start), each in its current state.

        The same order may be listed again (the engine ignores what it already knows).
        """
        ...
