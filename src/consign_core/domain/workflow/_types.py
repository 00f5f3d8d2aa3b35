"""Value types of the order workflow: per-order state, workflow-only events, commands, context.

Kept apart from the step function (``_workflow_step``) so that ports and the store can use the
types without the transition logic. Everything here is pure data; see
:mod:`consign_core.domain.workflow`
for the design.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple, Protocol, TypeAlias

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    fail,
    int_at_least,
    non_empty_str,
    optional,
)
from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
from consign_core.domain.events import Event
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    MarketOrder,
    OrderRef,
    Tracking,
)
from consign_core.domain.timing._types import (
    DEFAULT_SAFETY_MARGIN,
    Decision,
    SupplierOrderState,
)


__all__ = [
    "DEFAULT_TEMPLATES",
    "DELAY_NOTICE",
    "DOMEME_TO_COUPANG_COURIERS",
    "STOCK_OUT_NOTICE",
    "SUPPLIER_CANCEL_NOTICE",
    "TERMINAL_STATUSES",
    "Acknowledge",
    "AnswerBuyerRequest",
    "BuyerRequestAnswer",
    "BuyerRequestAnswered",
    "BuyerRequestKind",
    "CancelMarketOrder",
    "CancelPurpose",
    "CancelSupplierOrder",
    "Command",
    "CommandFailed",
    "CommandKind",
    "Decider",
    "EscalateOrder",
    "ManualAction",
    "ManualDecision",
    "MessageBuyer",
    "OrderState",
    "OrderStatus",
    "PlaceSupplierOrder",
    "PriceChanged",
    "Progress",
    "ScheduleWakeUp",
    "StepResult",
    "StockChanged",
    "SupplierCancelOutcome",
    "SupplierCancelResult",
    "SupplierCancelState",
    "SupplierSource",
    "UploadInvoice",
    "WakeUp",
    "WorkflowContext",
    "WorkflowEvent",
    "idempotency_key",
]


# --------------------------------------------------------------------------------------
# Enums
# --------------------------------------------------------------------------------------


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
    """A sold-out notice arrived for an order the supplier had not accepted yet: reroute."""
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
    """The person shipped it: upload ``tracking`` (market or supplier courier code)."""
    RESOLVE = "resolve"
    """The person settled it outside the engine; clear the escalation."""


# --------------------------------------------------------------------------------------
# Per-order state
# --------------------------------------------------------------------------------------


class OrderState(NamedTuple):
    """One market order's workflow state: small, immutable, cheap to copy.

    A :class:`typing.NamedTuple` rather than an attrs class on purpose: ``state._replace(...)``
    costs about 1 µs, a third of ``attrs.evolve``, and the simulator steps millions of orders.
    Fields are only ever set by :func:`~consign_core.domain.workflow.step`; treat them as read-only
    facts. ``status`` is derived from the fields, so it can never disagree with them.
    """

    order: MarketOrder
    """The market order as paid."""
    candidate: int = 0
    """Index of the supplier source in use, in ``context.sources[sku]`` (0 = primary)."""
    attempt: int = 0
    """How many supplier orders were asked for so far; the current one's idempotency key
    is :func:`idempotency_key` ``(ref, attempt)``."""
    supplier_id: str | None = None
    """The supplier of the current attempt."""
    item_id: str | None = None
    """The supplier item of the current attempt."""
    supplier_state: SupplierOrderState = SupplierOrderState.NOT_PLACED
    """Where the current supplier order stands."""
    supplier_order_id: str | None = None
    """The supplier's order number, once placed."""
    placed_at: datetime | None = None
    """When the current supplier order was placed."""
    place_pending: bool = False
    """A :class:`PlaceSupplierOrder` is out and unanswered."""
    ack: Progress = Progress.NONE
    """Market acknowledgement (발주확인)."""
    invoice: Progress = Progress.NONE
    """Invoice (운송장) upload to the market."""
    tracking: Tracking | None = None
    """The supplier's waybill, in the supplier's courier codes."""
    market_cancel: Progress = Progress.NONE
    """Cancellation of the market order."""
    cancellation: Cancellation | None = None
    """The market cancellation (asked for or done): who is at fault and why."""
    supplier_cancel: SupplierCancelState = SupplierCancelState.NONE
    """A cancellation the seller asked the supplier for."""
    cancel_purpose: CancelPurpose | None = None
    """Why the supplier cancellation (or the whole order's cancellation) was started."""
    supplier_cancel_reason: CancelReason | None = None
    """The supplier's reason when it cancelled on its own."""
    buyer_reason: CancelReason | None = None
    """Set when the buyer asked to cancel: their stated reason."""
    buyer_request_id: str | None = None
    """The market's id for the buyer's request, needed to answer it."""
    buyer_request: BuyerRequestKind | None = None
    """How the buyer's request is being handled, once handled."""
    answer_pending: bool = False
    """An :class:`AnswerBuyerRequest` is out and unanswered."""
    stock_out_known: bool = False
    """The supplier's change feed reported the item sold out: never confirm before tracking."""
    wake_at: datetime | None = None
    """When the workflow wants a :class:`WakeUp`; ``None`` for no wake-up."""
    escalation: str | None = None
    """Why a person must look at the order; ``None`` when nobody needs to."""
    delay_notified: bool = False
    """The buyer got the delay notice (배송 지연 안내)."""
    delivered: bool = False
    """The market reported the delivery."""
    last_reason: str = ""
    """The last decision's one-line reason (for logs and dashboards)."""

    @property
    def ref(self) -> OrderRef:
        """The order's identity."""
        return self.order.ref

    @property
    def supplier_settled(self) -> bool:
        """No supplier order of this market order is open (none placed, or it is cancelled)."""
        if self.place_pending:
            return False
        if self.supplier_cancel is SupplierCancelState.DONE:
            return True
        return self.supplier_state in _NO_OPEN_SUPPLIER_ORDER

    @property
    def status(self) -> OrderStatus:  # noqa: PLR0911 - a decision table
        """The order's status, derived from the other fields."""
        if self.market_cancel is Progress.DONE:
            return OrderStatus.CANCELLED if self.supplier_settled else OrderStatus.CANCELLING
        if self.delivered:
            return OrderStatus.DELIVERED
        if self.invoice is Progress.DONE:
            return OrderStatus.SHIPPED
        purpose = self.cancel_purpose
        if self.market_cancel is Progress.PENDING or (
            purpose is not None and purpose is not CancelPurpose.STOCK_OUT
        ):  # a buyer's, a person's or the market's cancel (identity tests: a hot path)
            return OrderStatus.CANCELLING
        if self.ack is Progress.DONE:
            return OrderStatus.CONFIRMED
        supplier = self.supplier_state
        if supplier is SupplierOrderState.NOT_PLACED or supplier is SupplierOrderState.CANCELLED:
            return OrderStatus.PLACING
        return OrderStatus.WAITING

    @property
    def is_terminal(self) -> bool:
        """Shipped, delivered or cancelled, and no person is needed."""
        if self.escalation is not None:
            return False
        status = self.status
        return (
            status is OrderStatus.SHIPPED
            or status is OrderStatus.CANCELLED
            or status is OrderStatus.DELIVERED
        )


_NO_OPEN_SUPPLIER_ORDER = frozenset({SupplierOrderState.NOT_PLACED, SupplierOrderState.CANCELLED})

_STATE_INDEX: dict[str, int] = {name: i for i, name in enumerate(OrderState._fields)}


def _replace_state(self: OrderState, **changes: Any) -> OrderState:
    """``OrderState._replace``, about twice as fast as the generated one (which pops every
    field name from the keywords): the workflow replaces a few fields on every step."""
    values = list(self)
    try:
        for name, value in changes.items():
            values[_STATE_INDEX[name]] = value
    except KeyError:
        msg = f"Got unexpected field names: {[n for n in changes if n not in _STATE_INDEX]!r}"
        raise ValueError(msg) from None
    return tuple.__new__(OrderState, values)


setattr(OrderState, "_replace", _replace_state)  # noqa: B010 - NamedTuple forbids defining it


def idempotency_key(ref: OrderRef, attempt: int) -> str:
    """The supplier-order reference for ``ref``'s ``attempt``: deterministic, so a restart after
    a crash asks the supplier for the same key instead of ordering (and paying) twice."""
    return f"{ref.market}:{ref.order_id}:{attempt}"


# --------------------------------------------------------------------------------------
# Workflow-only events (inputs besides the lifecycle events of consign_core.domain.events)
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WakeUp:
    """A wake-up the workflow asked for (:class:`ScheduleWakeUp`) is due.

    Stale wake-ups (``at`` before the state's ``wake_at``, or none pending) are ignored, so a
    simulator may deliver every wake-up it was ever asked for.
    """

    ref: OrderRef
    """The order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """The time that was asked for."""


@attrs.frozen(kw_only=True)
class StockChanged:
    """The supplier's change feed reported an item's stock (Domeme ``getAllSupplyChk``).

    Not tied to one order: the engine (or simulator) delivers it to every open order of that
    supplier item. ``stock`` below the order's quantity is a known stock-out for that order.
    """

    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    item_id: str = attrs.field(validator=non_empty_str)
    """The supplier item."""
    stock: int = attrs.field(validator=int_at_least(0))
    """Units in stock now; 0 for sold out (품절)."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the supplier reported it."""


@attrs.frozen(kw_only=True)
class PriceChanged:
    """The supplier's change feed reported a new unit cost for an item (가격변동)."""

    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    item_id: str = attrs.field(validator=non_empty_str)
    """The supplier item."""
    unit_cost: int = attrs.field(validator=int_at_least(0))
    """What one unit costs the seller now, in KRW."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the supplier reported it."""


@attrs.frozen(kw_only=True)
class CommandFailed:
    """A command failed for good (not a timeout or throttling: those are retried by the engine)."""

    ref: OrderRef
    """The order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the failure was seen."""
    kind: CommandKind
    """Which command failed."""
    message: str = ""
    """What the vendor said (never credentials)."""
    out_of_stock: bool = False
    """The supplier refused a :class:`PlaceSupplierOrder` because the item is sold out."""


@attrs.frozen(kw_only=True)
class SupplierCancelResult:
    """The supplier's answer to a :class:`CancelSupplierOrder`."""

    ref: OrderRef
    """The order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the supplier answered."""
    supplier_order_id: str = attrs.field(validator=non_empty_str)
    """The supplier order the request was about."""
    outcome: SupplierCancelOutcome
    """Cancelled, filed as a request, or refused."""


@attrs.frozen(kw_only=True)
class BuyerRequestAnswered:
    """The market accepted the seller's answer to a buyer's cancel or stop-shipment request."""

    ref: OrderRef
    """The order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the market accepted the answer (the cancellation's time for a stop)."""
    request_id: str = attrs.field(validator=non_empty_str)
    """The request that was answered."""
    answer: BuyerRequestAnswer
    """The answer given."""


def _tracking_for_ship(
    instance: ManualDecision, attribute: attrs.Attribute[Any], value: Any
) -> None:
    if value is not None and not isinstance(value, Tracking):
        fail(instance, attribute, value, "a Tracking or None")
    if instance.action is ManualAction.SHIP and value is None:
        fail(instance, attribute, value, "a Tracking when action is 'ship'")


def _until_for_wait(instance: ManualDecision, attribute: attrs.Attribute[Any], value: Any) -> None:
    optional(aware_datetime)(instance, attribute, value)
    if instance.action is ManualAction.WAIT and value is None:
        fail(instance, attribute, value, "a datetime when action is 'wait'")


def _reason_for_cancel(
    instance: ManualDecision, attribute: attrs.Attribute[Any], value: Any
) -> None:
    if value is not None and not isinstance(value, CancelReason):
        fail(instance, attribute, value, "a CancelReason or None")
    if instance.action is ManualAction.CANCEL and value is None:
        fail(instance, attribute, value, "a CancelReason when action is 'cancel'")


@attrs.frozen(kw_only=True)
class ManualDecision:
    """A person's decision about an order (usually an escalated one); see :class:`ManualAction`."""

    ref: OrderRef
    """The order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the person decided."""
    action: ManualAction
    """What to do."""
    until: datetime | None = attrs.field(default=None, validator=_until_for_wait)
    """For ``WAIT``: when to ask the policy again."""
    reason: CancelReason | None = attrs.field(default=None, validator=_reason_for_cancel)
    """For ``CANCEL``: the honest reason."""
    fault: CancelFault = CancelFault.SELLER
    """For ``CANCEL``: who is at fault; a seller's own cancellation is the seller's fault."""
    tracking: Tracking | None = attrs.field(default=None, validator=_tracking_for_ship)
    """For ``SHIP``: the waybill."""
    note: str = ""
    """Free text kept with the cancellation."""


WorkflowEvent: TypeAlias = (
    Event
    | WakeUp
    | StockChanged
    | PriceChanged
    | CommandFailed
    | SupplierCancelResult
    | BuyerRequestAnswered
    | ManualDecision
)
"""Anything :func:`~consign_core.domain.workflow.step` accepts: a lifecycle event or a workflow
input."""


# --------------------------------------------------------------------------------------
# Commands (outputs)
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PlaceSupplierOrder:
    """Order (and on Domeme, pay for) the goods at a supplier. Never re-sent blindly."""

    kind: ClassVar[CommandKind] = CommandKind.PLACE_SUPPLIER_ORDER
    ref: OrderRef
    """The market order it fulfils."""
    supplier_id: str
    """The supplier."""
    item_id: str
    """The supplier item."""
    quantity: int
    """Units."""
    idempotency_key: str
    """Deterministic reference (:func:`idempotency_key`); looked up before any retry."""
    attempt: int
    """Which attempt of this market order it is (1 = first)."""


@attrs.frozen(kw_only=True)
class CancelSupplierOrder:
    """Ask the supplier to cancel a supplier order (may need the supplier's acceptance)."""

    kind: ClassVar[CommandKind] = CommandKind.CANCEL_SUPPLIER_ORDER
    ref: OrderRef
    """The market order."""
    supplier_id: str
    """The supplier."""
    supplier_order_id: str
    """The supplier order to cancel."""
    memo: str
    """Why (Domeme requires a memo)."""


@attrs.frozen(kw_only=True)
class Acknowledge:
    """Confirm the order on the market (발주확인); batched by the engine."""

    kind: ClassVar[CommandKind] = CommandKind.ACKNOWLEDGE
    ref: OrderRef
    """The market order."""


@attrs.frozen(kw_only=True)
class UploadInvoice:
    """Upload the waybill to the market; ``tracking`` is already in the market's courier codes."""

    kind: ClassVar[CommandKind] = CommandKind.UPLOAD_INVOICE
    ref: OrderRef
    """The market order."""
    tracking: Tracking
    """The waybill, market courier code."""


@attrs.frozen(kw_only=True)
class CancelMarketOrder:
    """Cancel the market order with its honest fault and reason (a stock-out is STOCK_OUT)."""

    kind: ClassVar[CommandKind] = CommandKind.CANCEL_MARKET_ORDER
    ref: OrderRef
    """The market order."""
    cancellation: Cancellation
    """Who is at fault and why."""


@attrs.frozen(kw_only=True)
class MessageBuyer:
    """Send the buyer a message from a template (rendered by the engine, not in the core)."""

    kind: ClassVar[CommandKind] = CommandKind.MESSAGE_BUYER
    ref: OrderRef
    """The market order."""
    template_id: str
    """A key of the templates table, e.g. :data:`STOCK_OUT_NOTICE`."""
    params: tuple[tuple[str, str], ...] = ()
    """Template parameters as ``(name, value)`` pairs."""

    def render(self, templates: Mapping[str, str]) -> str:
        """The message text: the template filled with ``params``.

        Raises ``KeyError`` for a template id the table lacks.
        """
        return templates[self.template_id].format_map(dict(self.params))


@attrs.frozen(kw_only=True)
class EscalateOrder:
    """Hand the order to a person, with a one-line reason.

    (Named ``EscalateOrder`` so it is not confused with the timing decision
    :class:`consign_core.domain.timing.Escalate`.)
    """

    kind: ClassVar[CommandKind] = CommandKind.ESCALATE
    ref: OrderRef
    """The market order."""
    reason: str
    """What the person needs to look at."""


@attrs.frozen(kw_only=True)
class ScheduleWakeUp:
    """Deliver a :class:`WakeUp` for the order at ``at`` (replaces any earlier one)."""

    kind: ClassVar[CommandKind] = CommandKind.SCHEDULE_WAKE_UP
    ref: OrderRef
    """The market order."""
    at: datetime
    """When."""


@attrs.frozen(kw_only=True)
class AnswerBuyerRequest:
    """Answer a buyer's cancel or stop-shipment request on the market."""

    kind: ClassVar[CommandKind] = CommandKind.ANSWER_BUYER_REQUEST
    ref: OrderRef
    """The market order."""
    request_id: str
    """The market's request id."""
    answer: BuyerRequestAnswer
    """The answer."""
    tracking: Tracking | None = None
    """For ``ALREADY_SHIPPED``: the waybill, market courier code."""


Command: TypeAlias = (
    PlaceSupplierOrder
    | CancelSupplierOrder
    | Acknowledge
    | UploadInvoice
    | CancelMarketOrder
    | MessageBuyer
    | EscalateOrder
    | ScheduleWakeUp
    | AnswerBuyerRequest
)
"""Anything the workflow asks the outside world to do."""


class StepResult(NamedTuple):
    """What one :func:`~consign_core.domain.workflow.step` returns: the new state and the
    commands."""

    state: OrderState
    """The order's new state."""
    commands: tuple[Command, ...] = ()
    """What to do, in order."""


# --------------------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------------------


class Decider(Protocol):
    """Answers "confirm now, wait, or escalate?" for one order at ``now``.

    Built by :func:`~consign_core.domain.workflow.make_decider` from a policy, the trust model and
    the
    cancel-rate ledger; pure given pure inputs. A simulator passes the same kind of callable.
    """

    def __call__(  # noqa: PLR0917 - positional on purpose: called millions of times
        self,
        order: MarketOrder,
        now: datetime,
        supplier_id: str,
        item_id: str,
        supplier_state: SupplierOrderState,
        placed_at: datetime | None,
        alternates: int,
        /,
    ) -> Decision:
        """Decide for ``order`` whose supplier order at ``supplier_id`` is in ``supplier_state``.

        ``alternates`` counts the alternate sources the workflow would still try if this
        supplier failed before confirmation but not after (see
        :attr:`~consign_core.domain.timing.DecisionContext.alternates`). The workflow passes the
        arguments by position (any callable taking these seven works).
        """
        ...


@attrs.frozen(kw_only=True)
class SupplierSource:
    """One place a SKU can be bought: a supplier and its item number."""

    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    item_id: str = attrs.field(validator=non_empty_str)
    """The supplier's item number."""


def _sources(value: Mapping[str, Any]) -> Mapping[str, tuple[SupplierSource, ...]]:
    return MappingProxyType({sku: tuple(choices) for sku, choices in value.items()})


def _str_map(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


def _check_sources(instance: WorkflowContext, attribute: attrs.Attribute[Any], value: Any) -> None:
    for sku, choices in value.items():
        if not choices or not all(isinstance(c, SupplierSource) for c in choices):
            fail(
                instance,
                attribute,
                {sku: choices},
                "a non-empty sequence of SupplierSource per SKU",
            )


DELAY_NOTICE = "delay_notice"
"""Template id: 배송 지연 안내 (the shipment is late)."""
STOCK_OUT_NOTICE = "stock_out"
"""Template id: 품절 안내 (sold out, the order is cancelled, apology)."""
SUPPLIER_CANCEL_NOTICE = "supplier_cancel"
"""Template id: the supplier cancelled for another reason; the order is cancelled, apology."""

DEFAULT_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        DELAY_NOTICE: (
            "[배송 지연 안내] 고객님, 주문하신 상품(주문번호 {order_id})의 출고가 공급처 사정으로 "
            "늦어지고 있습니다. {ship_by}까지 출고될 수 있도록 최선을 다하겠습니다. "
            "불편을 드려 죄송합니다."
        ),
        STOCK_OUT_NOTICE: (
            "[품절 안내] 고객님, 주문하신 상품(주문번호 {order_id})이 공급처 품절로 발송이 "
            "어렵게 되어 주문을 취소해 드립니다. 결제 금액은 결제하신 수단으로 환불됩니다. "
            "불편을 드려 대단히 죄송합니다."
        ),
        SUPPLIER_CANCEL_NOTICE: (
            "[주문 취소 안내] 고객님, 주문하신 상품(주문번호 {order_id})을 "
            "공급처 사정({reason})으로 발송할 수 없어 주문을 취소해 드립니다. "
            "결제 금액은 결제하신 수단으로 환불됩니다. "
            "불편을 드려 대단히 죄송합니다."
        ),
    }
)
"""The built-in Korean message templates; override per key through ``WorkflowContext.templates``.

Parameters: ``order_id`` and ``ship_by`` (KST date) in every message, ``reason`` (Korean) in
:data:`SUPPLIER_CANCEL_NOTICE`.
"""

DOMEME_TO_COUPANG_COURIERS: Mapping[str, str] = MappingProxyType(
    {
        "DAEHAN": "CJGLS",
        "CJ": "CJGLS",
        "HANJIN": "HANJIN",
        "HYUNDAI": "HYUNDAI",
        "LOTTE": "HYUNDAI",
        "KGBL": "KGB",
        "EPOST": "EPOST",
        "ILYANG": "ILYANG",
        "CVSNET": "CVS",
        "KYUNGDONG": "KDEXP",
        "DAESIN": "DAESIN",
        "CHUNIL": "CHUNIL",
        "HDEXP": "HDEXP",
    }
)
"""Domeme courier codes -> Coupang ``deliveryCompanyCode`` (롯데 is ``HYUNDAI``, 로젠 ``KGB``)."""


@attrs.frozen(kw_only=True)
class WorkflowContext:
    """What :func:`~consign_core.domain.workflow.step` may look at besides the state and the event.

    Build it once; per step only ``now`` changes: use :meth:`at`, which copies cheaply.
    """

    now: datetime = attrs.field(validator=aware_datetime)
    """The time the step runs (the engine's clock, or simulated time)."""
    decide: Decider
    """Confirm now / wait / escalate for one order
    (:func:`~consign_core.domain.workflow.make_decider`)."""
    sources: Mapping[str, tuple[SupplierSource, ...]] = attrs.field(
        factory=dict, converter=_sources, validator=_check_sources
    )
    """SKU -> where to buy it, primary first, then alternates in order of preference."""
    courier_map: Mapping[str, str] = attrs.field(
        default=DOMEME_TO_COUPANG_COURIERS, converter=_str_map
    )
    """Supplier courier code -> market courier code; a code already in the market's namespace
    (a value of this map) passes unchanged."""
    stock: Mapping[tuple[str, str], int] = attrs.field(factory=dict)
    """Last reported stock per ``(supplier_id, item_id)``; absent = unknown. A live mapping the
    engine keeps current; the workflow never places an order it knows cannot be filled."""
    templates: Mapping[str, str] = attrs.field(default=DEFAULT_TEMPLATES, converter=_str_map)
    """Message templates by id (see :data:`DEFAULT_TEMPLATES`)."""
    calendar: BusinessCalendar = DEFAULT_CALENDAR
    """The business calendar (dates in messages are KST)."""
    unconfirmed_supplier_cancel_fault: CancelFault = CancelFault.SELLER
    """Fault recorded when a supplier failure cancels an order *before* confirmation. Seller
    fault by default: a stock-out is the seller's side failing on every Korean market; never
    set it to BUYER to dodge a penalty."""
    reroute_after_confirmation: bool = False
    """Try alternate suppliers also after confirmation (default: cancel, seller fault)."""
    safety_margin: timedelta = DEFAULT_SAFETY_MARGIN
    """An unconfirmed, untracked order is escalated at ``ship_by - safety_margin``."""
    notify_delays: bool = True
    """Send the delay notice (배송 지연 안내) when an order reaches that moment untracked."""
    reask_on_supplier_confirmation: bool = True
    """Ask the policy again when the supplier confirms its order. Set it from the policy with
    :func:`~consign_core.domain.timing.watches_supplier_confirmation` (the built-in policies do not
    watch it, so re-asking them then would only repeat their last answer)."""
    market_couriers: frozenset[str] = attrs.field(init=False)
    """The market courier codes (values of ``courier_map``); derived."""

    @market_couriers.default
    def _market_couriers(self) -> frozenset[str]:
        return frozenset(self.courier_map.values())

    def at(self, now: datetime) -> WorkflowContext:
        """The same context at another time."""
        if now.tzinfo is None or now.utcoffset() is None:
            aware_datetime(self, attrs.fields(WorkflowContext).now, now)
        new = object.__new__(WorkflowContext)
        for name in _CONTEXT_FIELDS:
            object.__setattr__(new, name, getattr(self, name))
        object.__setattr__(new, "now", now)
        return new


_CONTEXT_FIELDS = tuple(f.name for f in attrs.fields(WorkflowContext))
