"""The workflow's outputs: the commands it asks the outside world to run, and the step result.

One frozen attrs class per command (:class:`PlaceSupplierOrder`, :class:`CancelSupplierOrder`,
:class:`Acknowledge`, :class:`UploadInvoice`, :class:`CancelMarketOrder`, :class:`MessageBuyer`,
:class:`EscalateOrder`, :class:`ScheduleWakeUp`, :class:`AnswerBuyerRequest`), each with its
:class:`~consign_core.domain.workflow.CommandKind`; :data:`Command`, their union; and
:class:`StepResult`, the ``(state, commands)`` pair the step function returns. Re-exported by
``consign_core.domain.workflow._types`` and ``consign_core.domain.workflow``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, NamedTuple, TypeAlias

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    instance_of,
    int_at_least,
    non_empty_str,
    optional,
)
from consign_core.domain.model import Cancellation, OrderRef, Tracking
from consign_core.domain.workflow._enums import BuyerRequestAnswer, CommandKind
from consign_core.domain.workflow._state import OrderState


__all__ = [
    "LISTING_REF_PREFIX",
    "Acknowledge",
    "AnswerBuyerRequest",
    "CancelMarketOrder",
    "CancelSupplierOrder",
    "Command",
    "EscalateOrder",
    "ListingCommandKind",
    "MessageBuyer",
    "OutboxCommand",
    "PlaceSupplierOrder",
    "ScheduleWakeUp",
    "SetListing",
    "StepResult",
    "UploadInvoice",
]


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
    """Upload the waybill to the market (its adapter maps the courier to the market's code)."""

    kind: ClassVar[CommandKind] = CommandKind.UPLOAD_INVOICE
    ref: OrderRef
    """The market order."""
    tracking: Tracking
    """The waybill."""


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
    """For ``ALREADY_SHIPPED``: the waybill."""


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


# --------------------------------------------------------------------------------------
# The engine's own command: the market listing follows the supplier's stock
# --------------------------------------------------------------------------------------


class ListingCommandKind(enum.Enum):
    """The kind of a :class:`SetListing` (the outbox's ``kind`` column); not an order's
    :class:`~consign_core.domain.workflow.CommandKind`, as the command is about no order."""

    SET_LISTING = "set_listing"


LISTING_REF_PREFIX = "listing:"
"""How a :class:`SetListing` names itself where the outbox expects an order id."""


@attrs.frozen(kw_only=True)
class SetListing:
    """Stop or resume the sales of one listed item on the market, or set its sellable
    quantity (Coupang: per ``vendorItemId``).

    Not a workflow command: the engine sends it by itself when the supplier's change feed
    sells an item out (every source of the SKU at 0) or restocks it. It is about a SKU, not an
    order; setting the same state twice is harmless, so a retry after an unknown result simply
    sends it again.
    """

    kind: ClassVar[ListingCommandKind] = ListingCommandKind.SET_LISTING
    market: str = attrs.field(validator=non_empty_str)
    """The market's name (as in :attr:`~consign_core.domain.model.OrderRef.market`)."""
    market_sku: str = attrs.field(validator=non_empty_str)
    """The listed item (the SKU of the order lines; Coupang's ``vendorItemId``)."""
    selling: bool = attrs.field(validator=instance_of(bool, "True or False"))
    """``True``: on sale; ``False``: sales stopped (품절 / 판매중지)."""
    quantity: int | None = attrs.field(default=None, validator=optional(int_at_least(0)))
    """The sellable quantity to set as well, or ``None`` to leave it as it is."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When the engine decided it (the stock change's run)."""

    @property
    def ref(self) -> OrderRef:
        """The outbox's order key for this command: the market and ``listing:<sku>``
        (there is no order; log lines and the store's ``ref`` column show this)."""
        return OrderRef(market=self.market, order_id=LISTING_REF_PREFIX + self.market_sku)


OutboxCommand: TypeAlias = Command | SetListing
"""Anything the engine records in its outbox: the workflow's commands and its own
:class:`SetListing`."""


class StepResult(NamedTuple):
    """What one :func:`~consign_core.domain.workflow.step` returns: the new state and the
    commands."""

    state: OrderState
    """The order's new state."""
    commands: tuple[Command, ...] = ()
    """What to do, in order."""
