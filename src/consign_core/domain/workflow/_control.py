"""Transitions the workflow drives itself or a person drives: wake-ups, failures, decisions.

Handlers of :class:`~consign_core.domain.workflow.WakeUp` (a wake-up the workflow asked for is
due: ask the policy again, or guard the deadline), of
:class:`~consign_core.domain.workflow.CommandFailed` (undo what a command that failed for good
had started, one handler per command kind) and of
:class:`~consign_core.domain.workflow.ManualDecision` (a person's decision about an escalated
order). Each takes ``(state, event, ctx)`` and returns a
:class:`~consign_core.domain.workflow.StepResult`.
"""

from __future__ import annotations

from collections.abc import Callable

from consign_core.domain.model import Cancellation, CancelReason
from consign_core.domain.timing._types import last_safe_moment
from consign_core.domain.workflow._actions import (
    _S,
    _cancel_supplier,
    _decide,
    _escalate,
    _guard,
    _handle_buyer_request,
    _place_next,
    _same,
    _schedule,
    _ship,
    _supplier_cancel_done,
    _supplier_gone,
    _supplier_refused,
)
from consign_core.domain.workflow._types import (
    Acknowledge,
    BuyerRequestKind,
    CancelMarketOrder,
    CancelPurpose,
    CommandFailed,
    CommandKind,
    ManualAction,
    ManualDecision,
    OrderState,
    OrderStatus,
    Progress,
    StepResult,
    SupplierCancelState,
    WakeUp,
    WorkflowContext,
)


__all__ = ["_on_failed", "_on_manual", "_on_wake"]


def _on_wake(  # noqa: PLR0911 - one early return per transition
    state: OrderState, event: WakeUp, ctx: WorkflowContext
) -> StepResult:
    if state.wake_at is None or event.at < state.wake_at:
        return _same(state)
    new = state.evolve(wake_at=None)
    if new.escalation is not None:
        return _same(new)
    if (
        new.buyer_request is BuyerRequestKind.STOP_SHIPMENT
        and new.supplier_cancel is SupplierCancelState.REFUSED
        and new.market_cancel is Progress.NONE
        and new.tracking is None
    ):  # the supplier would not stop it and has not shipped it either
        return _guard(new, ctx)
    if new.status in _NO_WAKE_STATUSES:
        return _same(new)
    if new.status is OrderStatus.WAITING:
        if new.ack is not Progress.NONE:
            return _same(new)
        safe = last_safe_moment(new.order, ctx.safety_margin)
        result = _decide(new, ctx)
        if (
            result.state.wake_at is None
            and result.state.ack is Progress.NONE
            and result.state.escalation is None
            and ctx.now < safe
        ):
            return _guard(result.state, ctx, result.commands)
        return result
    if new.status is OrderStatus.CONFIRMED and new.tracking is not None:
        return _same(new)
    return _guard(new, ctx)


_NO_WAKE_STATUSES = frozenset(
    {
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.CANCELLED,
        OrderStatus.CANCELLING,
    }
)


def _on_failed(state: OrderState, event: CommandFailed, ctx: WorkflowContext) -> StepResult:
    handler = _FAILURE_HANDLERS.get(event.kind)
    if handler is None:
        return _same(state)  # messages, escalations and wake-ups have no state to undo
    return handler(state, event, ctx)


def _place_failed(state: OrderState, event: CommandFailed, ctx: WorkflowContext) -> StepResult:
    if not state.place_pending:
        return _same(state)
    new = state.evolve(place_pending=False)
    if new.market_cancel is not Progress.NONE or new.cancel_purpose is not None:
        return _supplier_cancel_done(new, ctx)
    message = event.message or "no details"
    if event.out_of_stock:
        return _supplier_gone(new, CancelReason.STOCK_OUT, message, ctx)
    return _escalate(new, f"the supplier order failed: {message}", ctx)


def _ack_failed(state: OrderState, event: CommandFailed, ctx: WorkflowContext) -> StepResult:
    if state.ack is not Progress.PENDING:
        return _same(state)
    new = state.evolve(ack=Progress.NONE)
    if new.market_cancel is not Progress.NONE:
        return _same(new)
    if new.buyer_reason is not None and new.buyer_request is None:
        return _handle_buyer_request(new, ctx)
    if new.supplier_state is _S.CANCELLED and new.cancel_purpose is None:
        reason = new.supplier_cancel_reason or CancelReason.OTHER
        return _supplier_gone(new, reason, "supplier cancelled while confirming", ctx)
    message = event.message or "no details"
    return _escalate(new, f"the market refused the acknowledgement: {message}", ctx)


def _upload_failed(state: OrderState, event: CommandFailed, ctx: WorkflowContext) -> StepResult:
    if state.invoice is not Progress.PENDING:
        return _same(state)
    new = state.evolve(invoice=Progress.NONE)
    if new.market_cancel is not Progress.NONE:
        return _same(new)
    message = event.message or "no details"
    return _escalate(new, f"the market refused the invoice upload: {message}", ctx)


def _market_cancel_failed(
    state: OrderState, event: CommandFailed, ctx: WorkflowContext
) -> StepResult:
    if state.market_cancel is not Progress.PENDING:
        return _same(state)
    message = event.message or "no details"
    return _escalate(state, f"the market refused the cancellation: {message}", ctx)


def _supplier_cancel_failed(
    state: OrderState, _event: CommandFailed, ctx: WorkflowContext
) -> StepResult:
    if state.supplier_cancel not in _CANCEL_IN_FLIGHT:
        return _same(state)
    return _supplier_refused(state.evolve(supplier_cancel=SupplierCancelState.REFUSED), ctx)


def _answer_failed(state: OrderState, event: CommandFailed, ctx: WorkflowContext) -> StepResult:
    if not state.answer_pending:
        return _same(state)
    new = state.evolve(answer_pending=False)
    if new.market_cancel is Progress.DONE:
        return _same(new)
    message = event.message or "no details"
    return _escalate(new, f"the market refused the answer to the buyer's request: {message}", ctx)


_FAILURE_HANDLERS: dict[
    CommandKind, Callable[[OrderState, CommandFailed, WorkflowContext], StepResult]
] = {
    CommandKind.PLACE_SUPPLIER_ORDER: _place_failed,
    CommandKind.ACKNOWLEDGE: _ack_failed,
    CommandKind.UPLOAD_INVOICE: _upload_failed,
    CommandKind.CANCEL_MARKET_ORDER: _market_cancel_failed,
    CommandKind.CANCEL_SUPPLIER_ORDER: _supplier_cancel_failed,
    CommandKind.ANSWER_BUYER_REQUEST: _answer_failed,
}


_CANCEL_IN_FLIGHT = frozenset({SupplierCancelState.PENDING, SupplierCancelState.REQUESTED})


def _on_manual(  # noqa: PLR0911 - one early return per transition
    state: OrderState, event: ManualDecision, ctx: WorkflowContext
) -> StepResult:
    action = event.action
    new = state.evolve(escalation=None, last_reason=f"person: {action.value} {event.note}".strip())
    if action is ManualAction.RESOLVE:
        if new.market_cancel is Progress.DONE and not new.supplier_settled:
            new = new.evolve(supplier_cancel=SupplierCancelState.DONE)
        return _same(new)
    if action is ManualAction.WAIT:
        assert event.until is not None  # noqa: S101 - ManualDecision validates it
        return _schedule(new, event.until)
    if action is ManualAction.CANCEL:
        return _manual_cancel(new, event, ctx)
    if new.market_cancel is not Progress.NONE:
        return _same(new)
    if action is ManualAction.SHIP:
        new = new.evolve(tracking=event.tracking)
        return _ship(new, ctx)
    if action is ManualAction.CONFIRM:
        if new.ack is not Progress.NONE:
            return _same(new)
        return StepResult(
            new.evolve(ack=Progress.PENDING, wake_at=None), (Acknowledge(ref=new.order.ref),)
        )
    # REDECIDE
    if new.status is OrderStatus.PLACING and not new.place_pending:
        sources = ctx.sources.get(new.order.lines[0].sku, ())
        if not sources or len(new.order.lines) != 1:
            return _escalate(new, "no supplier can be ordered from for this order", ctx)
        return _place_next(new, new.candidate, ctx, CancelReason.STOCK_OUT, "no source left")
    if new.tracking is not None and new.invoice is Progress.NONE:
        return _ship(new, ctx)
    return _decide(new, ctx)


def _manual_cancel(state: OrderState, event: ManualDecision, _ctx: WorkflowContext) -> StepResult:
    if state.market_cancel is not Progress.NONE:
        return _same(state)
    assert event.reason is not None  # noqa: S101 - ManualDecision validates it
    cancellation = Cancellation(
        fault=event.fault, reason=event.reason, at=event.at, note=event.note
    )
    new = state.evolve(
        market_cancel=Progress.PENDING,
        cancellation=cancellation,
        cancel_purpose=CancelPurpose.PERSON,
        wake_at=None,
    )
    supplier = _cancel_supplier(new, CancelPurpose.PERSON, "판매자 취소 / seller cancelled")
    command = CancelMarketOrder(ref=state.order.ref, cancellation=cancellation)
    return StepResult(supplier.state, (*supplier.commands, command))
