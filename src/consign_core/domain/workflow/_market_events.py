"""Transitions on the market side: the order's intake, confirmation, shipment and cancellation.

Handlers of ``OrderPaid`` (the first event, which creates the state, and its duplicates),
``MarketAcknowledged``, ``InvoiceUploaded``, ``Delivered``, ``OrderCancelled``,
``BuyerCancelRequested`` and :class:`~consign_core.domain.workflow.BuyerRequestAnswered`. Each
takes ``(state, event, ctx)`` and returns a :class:`~consign_core.domain.workflow.StepResult`;
the dispatch table is in ``consign_core.domain.workflow._step``.
"""

from __future__ import annotations

from consign_core.domain.events import (
    BuyerCancelRequested,
    Delivered,
    InvoiceUploaded,
    MarketAcknowledged,
    OrderCancelled,
    OrderPaid,
)
from consign_core.domain.model import CancelReason
from consign_core.domain.workflow._actions import (
    _S,
    _after_market_cancel,
    _answer,
    _buyer_cancelled,
    _escalate,
    _guard,
    _handle_buyer_request,
    _place_next,
    _same,
    _ship,
    _supplier_gone,
)
from consign_core.domain.workflow._types import (
    BuyerRequestAnswer,
    BuyerRequestAnswered,
    BuyerRequestKind,
    CancelPurpose,
    OrderState,
    OrderStatus,
    Progress,
    StepResult,
    WorkflowContext,
)


__all__ = [
    "_on_acknowledged",
    "_on_answered",
    "_on_buyer_cancel",
    "_on_delivered",
    "_on_duplicate_paid",
    "_on_invoice_uploaded",
    "_on_order_cancelled",
    "_on_paid",
]


def _on_paid(event: OrderPaid, ctx: WorkflowContext) -> StepResult:
    order = event.order
    state = OrderState(order=order)
    if len(order.lines) != 1:
        reason = f"the order has {len(order.lines)} lines; multi-line orders need a person"
        return _escalate(state, reason, ctx)
    sku = order.lines[0].sku
    if not ctx.sources.get(sku):
        return _escalate(state, f"no supplier is mapped for SKU {sku!r}", ctx)
    return _place_next(state, 0, ctx, CancelReason.STOCK_OUT, "every mapped supplier is sold out")


def _on_duplicate_paid(state: OrderState, _event: OrderPaid, _ctx: WorkflowContext) -> StepResult:
    return _same(state)


def _on_acknowledged(  # noqa: PLR0911 - one early return per transition
    state: OrderState, _event: MarketAcknowledged, ctx: WorkflowContext
) -> StepResult:
    if state.ack is Progress.DONE:
        return _same(state)
    new = state.evolve(ack=Progress.DONE)
    if new.market_cancel is not Progress.NONE:
        return _same(new)
    if new.buyer_reason is not None and new.buyer_request is None:
        return _handle_buyer_request(new, ctx)
    if new.supplier_state is _S.CANCELLED and new.cancel_purpose is None:
        reason = new.supplier_cancel_reason or CancelReason.OTHER
        return _supplier_gone(new, reason, "supplier cancelled while confirming", ctx)
    if new.tracking is not None:
        return _ship(new, ctx)
    if new.status is OrderStatus.CONFIRMED:
        return _guard(new, ctx)
    return _same(new)


def _on_invoice_uploaded(
    state: OrderState, _event: InvoiceUploaded, _ctx: WorkflowContext
) -> StepResult:
    if state.invoice is Progress.DONE:
        return _same(state)
    return _same(state.evolve(invoice=Progress.DONE, wake_at=None, escalation=None))


def _on_delivered(state: OrderState, _event: Delivered, _ctx: WorkflowContext) -> StepResult:
    if state.delivered or state.market_cancel is Progress.DONE:
        return _same(state)
    return _same(state.evolve(delivered=True, invoice=Progress.DONE, wake_at=None))


def _on_order_cancelled(
    state: OrderState, event: OrderCancelled, ctx: WorkflowContext
) -> StepResult:
    if state.market_cancel is Progress.DONE:
        return _same(state)
    cancellation = event.cancellation
    new = state.evolve(
        market_cancel=Progress.DONE,
        cancellation=cancellation,
        answer_pending=False,
        wake_at=None,
        escalation=None,
        last_reason=f"cancelled: {cancellation.reason.value} ({cancellation.fault.value})",
    )
    if new.place_pending:
        return _same(new.evolve(cancel_purpose=new.cancel_purpose or CancelPurpose.MARKET))
    return _after_market_cancel(new, ctx)


def _on_buyer_cancel(
    state: OrderState, event: BuyerCancelRequested, ctx: WorkflowContext
) -> StepResult:
    if state.buyer_reason is not None or state.market_cancel is Progress.DONE:
        return _same(state)
    new = state.evolve(buyer_reason=event.reason, buyer_request_id=event.request_id)
    if new.market_cancel is Progress.PENDING:
        return _same(new)  # the seller's own cancellation is already on its way
    if new.invoice is not Progress.NONE:
        # Already on its way: a return, not a cancellation.
        new = new.evolve(buyer_request=BuyerRequestKind.STOP_SHIPMENT)
        return _answer(new, BuyerRequestAnswer.ALREADY_SHIPPED, ctx, new.tracking)
    if new.ack is Progress.PENDING:
        return _same(new)  # handled once the acknowledgement settles
    return _handle_buyer_request(new, ctx)


def _on_answered(
    state: OrderState, event: BuyerRequestAnswered, ctx: WorkflowContext
) -> StepResult:
    if event.request_id != state.buyer_request_id or not state.answer_pending:
        return _same(state)
    if event.answer is BuyerRequestAnswer.ALREADY_SHIPPED:
        new = state.evolve(
            answer_pending=False,
            invoice=Progress.DONE,
            buyer_request=None,
            cancel_purpose=None,
            last_reason="buyer's stop request answered: already shipped",
        )
        return _same(new)
    return _buyer_cancelled(state.evolve(cancel_purpose=CancelPurpose.BUYER), ctx.at(event.at))
