"""The order workflow's transition function: ``step(state, event, context) -> StepResult``.

Pure: no I/O, no clock, no randomness; the only outside call is ``context.decide`` (pure given
pure inputs). See :mod:`consign_core.domain.workflow` for the design and the paths. This module
holds :func:`step` and its dispatch table (event type -> handler); the handlers live in parts:
``_market_events`` (intake, confirmation, shipment, cancellation on the market),
``_supplier_events`` (the supplier order and the change feed), ``_control`` (wake-ups, failed
commands, a person's decisions), all built from the moves of ``_actions``. Every name this
module had before the split (its own and those it imported from the package) is imported here
too (the ``noqa: F401`` imports), so it still resolves from this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consign_core.domain.calendar import (  # noqa: F401
    kst_date,
)
from consign_core.domain.events import (
    BuyerCancelRequested,
    Delivered,
    InvoiceUploaded,
    MarketAcknowledged,
    OrderCancelled,
    OrderPaid,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (  # noqa: F401
    CancelFault,
    Cancellation,
    CancelReason,
    Tracking,
)
from consign_core.domain.timing._types import (  # noqa: F401
    ConfirmNow,
    Decision,
    Escalate,
    SupplierOrderState,
    WaitForInvoice,
    last_safe_moment,
)
from consign_core.domain.workflow._actions import (  # noqa: F401
    _OPEN,
    _S,
    REASON_LABELS,
    _after_market_cancel,
    _answer,
    _buyer_cancelled,
    _cancel_for_supplier,
    _cancel_order_in_progress,
    _cancel_supplier,
    _decide,
    _escalate,
    _guard,
    _handle_buyer_request,
    _late_reason,
    _params,
    _place_next,
    _same,
    _schedule,
    _ship,
    _supplier_cancel_done,
    _supplier_gone,
    _supplier_refused,
)
from consign_core.domain.workflow._control import (  # noqa: F401
    _CANCEL_IN_FLIGHT,
    _FAILURE_HANDLERS,
    _NO_WAKE_STATUSES,
    _ack_failed,
    _answer_failed,
    _manual_cancel,
    _market_cancel_failed,
    _on_failed,
    _on_manual,
    _on_wake,
    _place_failed,
    _supplier_cancel_failed,
    _upload_failed,
)
from consign_core.domain.workflow._market_events import (
    _on_acknowledged,
    _on_answered,
    _on_buyer_cancel,
    _on_delivered,
    _on_duplicate_paid,
    _on_invoice_uploaded,
    _on_order_cancelled,
    _on_paid,
)
from consign_core.domain.workflow._supplier_events import (  # noqa: F401
    _UNCONFIRMED,
    _on_cancel_result,
    _on_invoiced,
    _on_placed,
    _on_price,
    _on_stock,
    _on_supplier_cancelled,
    _on_supplier_confirmed,
)
from consign_core.domain.workflow._types import (  # noqa: F401
    DELAY_NOTICE,
    STOCK_OUT_NOTICE,
    SUPPLIER_CANCEL_NOTICE,
    Acknowledge,
    AnswerBuyerRequest,
    BuyerRequestAnswer,
    BuyerRequestAnswered,
    BuyerRequestKind,
    CancelMarketOrder,
    CancelPurpose,
    CancelSupplierOrder,
    Command,
    CommandFailed,
    CommandKind,
    EscalateOrder,
    ManualAction,
    ManualDecision,
    MessageBuyer,
    OrderState,
    OrderStatus,
    PlaceSupplierOrder,
    PriceChanged,
    Progress,
    ScheduleWakeUp,
    StepResult,
    StockChanged,
    SupplierCancelOutcome,
    SupplierCancelResult,
    SupplierCancelState,
    UploadInvoice,
    WakeUp,
    WorkflowContext,
    WorkflowEvent,
    idempotency_key,
)
from consign_core.errors import InvalidTransitionError


__all__ = ["step"]


def step(state: OrderState | None, event: WorkflowEvent, ctx: WorkflowContext) -> StepResult:
    """Apply ``event`` to one order's ``state``; return the new state and the commands to run.

    ``state`` is ``None`` only for the order's :class:`~consign_core.domain.events.OrderPaid`.
    Events
    that no longer matter (duplicates, stale wake-ups, news about a replaced supplier order)
    return the state unchanged with no commands. Raises
    :class:`~consign_core.errors.InvalidTransitionError` for an event of another order, an
    event before the order's ``OrderPaid``, or an unknown event type.
    """
    handler = _HANDLERS.get(type(event))
    if handler is None:
        msg = f"the workflow does not take {type(event).__name__} events"
        raise InvalidTransitionError(msg)
    if state is None:
        if isinstance(event, OrderPaid):
            return _on_paid(event, ctx)
        msg = f"{type(event).__name__} for {getattr(event, 'ref', '?')} before its OrderPaid"
        raise InvalidTransitionError(msg)
    ref = getattr(event, "ref", None)
    if ref is not None and ref is not state.order.ref and ref != state.order.ref:
        msg = f"{type(event).__name__} for {ref} given to the state of {state.order.ref}"
        raise InvalidTransitionError(msg)
    return handler(state, event, ctx)


_Handler = Callable[[OrderState, Any, WorkflowContext], StepResult]


_HANDLERS: dict[type[Any], _Handler] = {
    OrderPaid: _on_duplicate_paid,
    SupplierOrderPlaced: _on_placed,
    SupplierConfirmed: _on_supplier_confirmed,
    SupplierInvoiced: _on_invoiced,
    SupplierCancelled: _on_supplier_cancelled,
    MarketAcknowledged: _on_acknowledged,
    InvoiceUploaded: _on_invoice_uploaded,
    BuyerCancelRequested: _on_buyer_cancel,
    OrderCancelled: _on_order_cancelled,
    Delivered: _on_delivered,
    WakeUp: _on_wake,
    StockChanged: _on_stock,
    PriceChanged: _on_price,
    CommandFailed: _on_failed,
    SupplierCancelResult: _on_cancel_result,
    BuyerRequestAnswered: _on_answered,
    ManualDecision: _on_manual,
}
