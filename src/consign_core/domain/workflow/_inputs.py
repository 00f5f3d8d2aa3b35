"""The workflow's own inputs, besides the lifecycle events of ``consign_core.domain.events``.

:class:`WakeUp` (a wake-up the workflow asked for is due), the supplier change feed
(:class:`StockChanged`, :class:`PriceChanged`), the outcomes of commands (:class:`CommandFailed`,
:class:`SupplierCancelResult`, :class:`BuyerRequestAnswered`), a person's
:class:`ManualDecision` with its cross-field validators, and :data:`WorkflowEvent`, the union of
everything the step function accepts. Frozen attrs values; re-exported by
``consign_core.domain.workflow._types`` and ``consign_core.domain.workflow``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    fail,
    int_at_least,
    non_empty_str,
    optional,
)
from consign_core.domain.events import Event
from consign_core.domain.model import CancelFault, CancelReason, OrderRef, Tracking
from consign_core.domain.workflow._enums import (
    BuyerRequestAnswer,
    CommandKind,
    ManualAction,
    SupplierCancelOutcome,
)


__all__ = [
    "BuyerRequestAnswered",
    "CommandFailed",
    "ManualDecision",
    "PriceChanged",
    "StockChanged",
    "SupplierCancelResult",
    "WakeUp",
    "WorkflowEvent",
]


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
