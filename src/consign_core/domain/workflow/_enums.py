"""The workflow's enumerations: where an order stands and how each of its actions is progressing.

:class:`OrderStatus` (derived from an :class:`~consign_core.domain.workflow.OrderState`) and
:data:`TERMINAL_STATUSES`; the progress of market-side actions (:class:`Progress`) and of a
cancellation asked of the supplier (:class:`SupplierCancelState`); why a supplier cancellation
was started (:class:`CancelPurpose`); the buyer-request kinds and answers; the supplier's answer
to a cancel request; the command kinds (the outbox's ``kind`` column) and a person's actions.
Pure values with no dependencies on the rest of the workflow; re-exported by
``consign_core.domain.workflow._types`` and ``consign_core.domain.workflow``.
"""

from __future__ import annotations

import enum


__all__ = [
    "TERMINAL_STATUSES",
    "BuyerRequestAnswer",
    "BuyerRequestKind",
    "CancelPurpose",
    "CommandKind",
    "ManualAction",
    "OrderStatus",
    "Progress",
    "SupplierCancelOutcome",
    "SupplierCancelState",
]


class OrderStatus(enum.Enum):
    """Where one market order stands, derived from :class:`OrderState` (see ``state.status``)."""

    PLACING = "placing"
    """Getting a supplier order: none is open yet (first try, or rerouting to an alternate)."""
    WAITING = "waiting"
    """A supplier order is open; the market order is not confirmed yet (발주확인 pending)."""
    CONFIRMED = "confirmed"
    """Confirmed on the market (상품준비중); waiting for the supplier's waybill."""
    SHIPPED = "shipped"
    """The waybill reached the market (배송지시). Terminal for the engine."""
    DELIVERED = "delivered"
    """The buyer received it (배송완료). Terminal."""
    CANCELLING = "cancelling"
    """A cancellation is under way (market side or supplier side not settled yet)."""
    CANCELLED = "cancelled"
    """Cancelled on the market and settled at the supplier; see ``state.cancellation``. Terminal."""


TERMINAL_STATUSES: frozenset[OrderStatus] = frozenset(
    {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED}
)
"""Statuses after which the engine stops polling an order (an escalation keeps it open)."""


class Progress(enum.Enum):
    """Progress of one market-side action (acknowledge, invoice upload, cancellation)."""

    NONE = "none"
    """Not asked for."""
    PENDING = "pending"
    """Asked for (a command is out), no answer yet."""
    DONE = "done"
    """The market accepted it."""


class SupplierCancelState(enum.Enum):
    """Progress of a cancellation the seller asked the supplier for (Domeme ``setOrdDeny``)."""

    NONE = "none"
    """Not asked for."""
    PENDING = "pending"
    """A :class:`CancelSupplierOrder` is out, no answer yet."""
    REQUESTED = "requested"
    """The supplier must accept it (Domeme ``req``: the order was already being prepared)."""
    REFUSED = "refused"
    """The supplier refused, or the call failed for good: the goods may ship."""
    DONE = "done"
    """The supplier order is cancelled (or a person settled it)."""


class CancelPurpose(enum.Enum):
    """Why the seller asked the supplier to cancel the current supplier order."""

    BUYER = "buyer"
    """The buyer cancelled or asked to stop the shipment."""
    STOCK_OUT = "stock_out"
    """Legacy: older versions cancelled a placed, unaccepted supplier order on a sold-out notice
    and rerouted. Nothing starts such a cancel any more (a notice after the placement may be
    our own purchase of the last units; the supplier's answer decides), but a stored state
    with one still loads and finishes: cancelled -> reroute, refused or shipped -> carry on."""
    MARKET = "market"
    """The market order was cancelled (learned from the market)."""
    PERSON = "person"
    """A person decided to cancel (:class:`ManualDecision`)."""


class BuyerRequestKind(enum.Enum):
    """What a buyer's cancel request means, given whether the order was confirmed."""

    CANCEL = "cancel"
    """Before confirmation (Coupang ACCEPT): free for the buyer, no penalty."""
    STOP_SHIPMENT = "stop_shipment"
    """After confirmation (Coupang 출고중지요청): stop the shipment, or say it already left."""


class BuyerRequestAnswer(enum.Enum):
    """How the seller answers a buyer's cancel or stop-shipment request."""

    ACCEPT_CANCEL = "accept_cancel"
    """Approve a cancel before confirmation (a no-op where the market cancelled by itself)."""
    STOP_SHIPMENT = "stop_shipment"
    """The shipment was stopped (Coupang 출고중지완료): the order is cancelled, buyer's fault."""
    ALREADY_SHIPPED = "already_shipped"
    """The goods already left (Coupang 이미출고); carries the waybill."""


class SupplierCancelOutcome(enum.Enum):
    """The supplier's answer to a cancel request (Domeme ``setOrdDeny type=buy``)."""

    CANCELLED = "cancelled"
    """Cancelled (Domeme ``true``/``complete``); the money is refunded."""
    REQUESTED = "requested"
    """Filed as a request the supplier must accept (Domeme ``req``)."""
    REFUSED = "refused"
    """Not possible any more (already shipped)."""


class CommandKind(enum.Enum):
    """The kind of a :data:`Command`, used as the outbox's ``kind`` column."""

    PLACE_SUPPLIER_ORDER = "place_supplier_order"
    CANCEL_SUPPLIER_ORDER = "cancel_supplier_order"
    ACKNOWLEDGE = "acknowledge"
    UPLOAD_INVOICE = "upload_invoice"
    CANCEL_MARKET_ORDER = "cancel_market_order"
    MESSAGE_BUYER = "message_buyer"
    ESCALATE = "escalate"
    SCHEDULE_WAKE_UP = "schedule_wake_up"
    ANSWER_BUYER_REQUEST = "answer_buyer_request"


class ManualAction(enum.Enum):
    """What a person decided about an escalated order (see :class:`ManualDecision`)."""

    CONFIRM = "confirm"
    """Acknowledge on the market now, even without tracking."""
    WAIT = "wait"
    """Keep waiting; ask the policy again at ``until``."""
    REDECIDE = "redecide"
    """Clear the escalation and let the workflow carry on (re-place a failed supplier order,
    ask the policy again)."""
    CANCEL = "cancel"
    """Cancel the order with the given ``reason`` (honest; fault defaults to the seller)."""
    SHIP = "ship"
    """The person shipped it: upload ``tracking``."""
    RESOLVE = "resolve"
    """The person settled it outside the engine; clear the escalation."""
