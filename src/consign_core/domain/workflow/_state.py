"""The per-order workflow state: :class:`OrderState`, its fast copy, and the idempotency key.

:class:`OrderState` is the immutable ``NamedTuple`` the step function takes and returns; its
status is derived from its fields. :meth:`OrderState.evolve` is the copy with a few fields
changed that the workflow makes on every step (a named method: a ``NamedTuple`` may not
redefine ``_replace``, and the generated one is kept as it is). :class:`OrderStateChanges`
types its keywords, and :func:`idempotency_key` names a supplier-order attempt. Re-exported by
``consign_core.domain.workflow._types`` and ``consign_core.domain.workflow``.
"""

from __future__ import annotations

import typing
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, TypedDict

from consign_core.domain.model import Cancellation, CancelReason, MarketOrder, OrderRef, Tracking
from consign_core.domain.timing._types import SupplierOrderState
from consign_core.domain.workflow._enums import (
    BuyerRequestKind,
    CancelPurpose,
    OrderStatus,
    Progress,
    SupplierCancelState,
)


if TYPE_CHECKING:
    from typing_extensions import Unpack


__all__ = ["OrderState", "OrderStateChanges", "idempotency_key"]


class OrderState(NamedTuple):
    """One market order's workflow state: small, immutable, cheap to copy.

    A :class:`typing.NamedTuple` rather than an attrs class on purpose: copying it with a few
    fields changed (:meth:`evolve`) costs about 1 µs, a third of ``attrs.evolve``, and the
    simulator steps millions of orders. ``_replace`` works as for any named tuple.
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
    """The supplier's waybill."""
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
    """The supplier's change feed reported the item sold out: never confirm before tracking
    (a supplier order placed or being placed is kept; the supplier's answer decides)."""
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

    def evolve(self, **changes: Unpack[OrderStateChanges]) -> OrderState:
        """A copy with the given fields changed (``_replace``'s contract, about twice as fast).

        The generated ``_replace`` pops every field name from the keywords; this writes only
        the changed ones, and the workflow changes a few fields on every step. An unknown field
        name raises ``ValueError`` naming it, as ``_replace`` does.
        """
        values: list[object] = list(self)
        try:
            for name, value in changes.items():
                values[_STATE_INDEX[name]] = value
        except KeyError:
            unknown = [n for n in changes if n not in _STATE_INDEX]
            msg = f"Got unexpected field names: {unknown!r}"
            raise ValueError(msg) from None
        return tuple.__new__(OrderState, values)


class OrderStateChanges(TypedDict, total=False):
    """The fields :meth:`OrderState.evolve` may change, with their types (all optional)."""

    order: MarketOrder
    candidate: int
    attempt: int
    supplier_id: str | None
    item_id: str | None
    supplier_state: SupplierOrderState
    supplier_order_id: str | None
    placed_at: datetime | None
    place_pending: bool
    ack: Progress
    invoice: Progress
    tracking: Tracking | None
    market_cancel: Progress
    cancellation: Cancellation | None
    supplier_cancel: SupplierCancelState
    cancel_purpose: CancelPurpose | None
    supplier_cancel_reason: CancelReason | None
    buyer_reason: CancelReason | None
    buyer_request_id: str | None
    buyer_request: BuyerRequestKind | None
    answer_pending: bool
    stock_out_known: bool
    wake_at: datetime | None
    escalation: str | None
    delay_notified: bool
    delivered: bool
    last_reason: str


# Resolve the field annotations here, against this module (as ``attrs.resolve_types`` does for
# an attrs class): the class is shown as defined in its public module, where
# ``typing.get_type_hints`` could not find the names its annotations use.
OrderState.__annotations__.update(typing.get_type_hints(OrderState))

_NO_OPEN_SUPPLIER_ORDER = frozenset({SupplierOrderState.NOT_PLACED, SupplierOrderState.CANCELLED})

_STATE_INDEX: dict[str, int] = {name: i for i, name in enumerate(OrderState._fields)}

_replace_state = OrderState.evolve
"""The fast copy under its former name (the function :meth:`OrderState.evolve`)."""


def idempotency_key(ref: OrderRef, attempt: int) -> str:
    """The supplier-order reference for ``ref``'s ``attempt``: deterministic, so a restart after
    a crash asks the supplier for the same key instead of ordering (and paying) twice."""
    return f"{ref.market}:{ref.order_id}:{attempt}"
