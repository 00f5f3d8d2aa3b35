"""The workflow's building blocks: the moves every transition is made of.

Escalating to a person (with the delay notice when it is late), scheduling a wake-up and the
deadline guard, placing the next supplier order or cancelling honestly when no source is left,
asking the supplier to cancel, asking the policy (``ctx.decide``; a policy that raises or
returns junk escalates the order), shipping (acknowledge, then upload the invoice), answering
the buyer, and the reactions several handlers share (a supplier cancellation that went
through or was refused, a buyer's cancel or stop request). Pure functions of the state and
the context returning a
:class:`~consign_core.domain.workflow.StepResult`; the handlers of the other parts combine them.
"""

from __future__ import annotations

from typing import Any

from consign_core.domain.calendar import kst_date
from consign_core.domain.model import CancelFault, Cancellation, CancelReason, Tracking
from consign_core.domain.timing._types import (
    ConfirmNow,
    Decision,
    Escalate,
    SupplierOrderState,
    WaitForInvoice,
    last_safe_moment,
)
from consign_core.domain.workflow._types import (
    DELAY_NOTICE,
    STOCK_OUT_NOTICE,
    SUPPLIER_CANCEL_NOTICE,
    Acknowledge,
    AnswerBuyerRequest,
    BuyerRequestAnswer,
    BuyerRequestKind,
    CancelMarketOrder,
    CancelPurpose,
    CancelSupplierOrder,
    Command,
    EscalateOrder,
    MessageBuyer,
    OrderState,
    OrderStatus,
    PlaceSupplierOrder,
    Progress,
    ScheduleWakeUp,
    StepResult,
    SupplierCancelState,
    UploadInvoice,
    WorkflowContext,
    idempotency_key,
)
from consign_core.errors import PolicyError


__all__ = [
    "REASON_LABELS",
    "_OPEN",
    "_S",
    "_after_market_cancel",
    "_answer",
    "_buyer_cancelled",
    "_cancel_for_supplier",
    "_cancel_order_in_progress",
    "_cancel_supplier",
    "_decide",
    "_escalate",
    "_guard",
    "_handle_buyer_request",
    "_late_reason",
    "_params",
    "_place_next",
    "_same",
    "_schedule",
    "_ship",
    "_supplier_cancel_done",
    "_supplier_gone",
    "_supplier_refused",
]


_S = SupplierOrderState


_OPEN = frozenset({_S.PLACED, _S.CONFIRMED})


REASON_LABELS: dict[CancelReason, str] = {
    CancelReason.STOCK_OUT: "품절",
    CancelReason.PRICE_ERROR: "가격 오류",
    CancelReason.BUYER_REMORSE: "고객 요청",
    CancelReason.DELIVERY_DELAY: "배송 지연",
    CancelReason.OTHER: "공급처 사정",
}


def _same(state: OrderState) -> StepResult:
    return StepResult(state, ())


def _params(state: OrderState, **extra: str) -> tuple[tuple[str, str], ...]:
    order = state.order
    ship_by = kst_date(order.ship_by).isoformat()
    return (("order_id", order.ref.order_id), ("ship_by", ship_by), *sorted(extra.items()))


def _escalate(
    state: OrderState, reason: str, ctx: WorkflowContext, prefix: tuple[Command, ...] = ()
) -> StepResult:
    """Flag the order for a person (once per reason); send the delay notice when it is late."""
    if state.escalation == reason:
        return StepResult(state, prefix)
    commands: list[Command] = [*prefix, EscalateOrder(ref=state.order.ref, reason=reason)]
    delay_notified = state.delay_notified
    if (
        ctx.notify_delays
        and not delay_notified
        and state.invoice is Progress.NONE
        and state.market_cancel is Progress.NONE
        and state.cancel_purpose is None
        and ctx.now >= last_safe_moment(state.order, ctx.safety_margin)
    ):
        commands.append(
            MessageBuyer(ref=state.order.ref, template_id=DELAY_NOTICE, params=_params(state))
        )
        delay_notified = True
    new = state.evolve(
        escalation=reason, wake_at=None, last_reason=reason, delay_notified=delay_notified
    )
    return StepResult(new, tuple(commands))


def _schedule(state: OrderState, at: Any, prefix: tuple[Command, ...] = ()) -> StepResult:
    if state.wake_at == at:
        return StepResult(state, prefix)
    return StepResult(
        state.evolve(wake_at=at), (*prefix, ScheduleWakeUp(ref=state.order.ref, at=at))
    )


def _guard(state: OrderState, ctx: WorkflowContext, prefix: tuple[Command, ...] = ()) -> StepResult:
    """Wake up at the last safe moment, to escalate an order that is still untracked then."""
    safe = last_safe_moment(state.order, ctx.safety_margin)
    if safe <= ctx.now:
        return _escalate(state, _late_reason(state), ctx, prefix)
    return _schedule(state, safe, prefix)


def _late_reason(state: OrderState) -> str:
    ship_by = state.order.ship_by.isoformat()
    if state.status is OrderStatus.PLACING:
        return f"no supplier order yet and the ship-by deadline {ship_by} is near"
    if state.ack is Progress.DONE:
        return f"confirmed but {state.supplier_id} has no tracking yet; ship-by {ship_by} is near"
    return f"no tracking from {state.supplier_id} and the ship-by deadline {ship_by} is near"


def _place_next(
    state: OrderState,
    start: int,
    ctx: WorkflowContext,
    reason: CancelReason,
    note: str,
) -> StepResult:
    """Order from the first usable source at index >= ``start``; cancel honestly if none is left."""
    line = state.order.lines[0]
    sources = ctx.sources.get(line.sku, ())
    for index in range(start, len(sources)):
        source = sources[index]
        stock = ctx.stock.get((source.supplier_id, source.item_id))
        if stock is not None and stock < line.quantity:
            continue
        attempt = state.attempt + 1
        ref = state.order.ref
        command = PlaceSupplierOrder(
            ref=ref,
            supplier_id=source.supplier_id,
            item_id=source.item_id,
            quantity=line.quantity,
            idempotency_key=idempotency_key(ref, attempt),
            attempt=attempt,
        )
        new = state.evolve(
            candidate=index,
            attempt=attempt,
            supplier_id=source.supplier_id,
            item_id=source.item_id,
            supplier_state=_S.NOT_PLACED,
            supplier_order_id=None,
            placed_at=None,
            place_pending=True,
            tracking=None,
            supplier_cancel=SupplierCancelState.NONE,
            cancel_purpose=None,
            supplier_cancel_reason=None,
            stock_out_known=False,
            escalation=None,
        )
        return _guard(new, ctx, (command,))
    return _cancel_for_supplier(state, reason, note, ctx)


def _cancel_for_supplier(
    state: OrderState, reason: CancelReason, note: str, ctx: WorkflowContext
) -> StepResult:
    """No supplier can fill the order: apologise and cancel with the honest reason."""
    fault = (
        CancelFault.SELLER if state.ack is Progress.DONE else ctx.unconfirmed_supplier_cancel_fault
    )
    cancellation = Cancellation(fault=fault, reason=reason, at=ctx.now, note=note)
    ref = state.order.ref
    if reason is CancelReason.STOCK_OUT:
        message = MessageBuyer(ref=ref, template_id=STOCK_OUT_NOTICE, params=_params(state))
    else:
        label = REASON_LABELS.get(reason, REASON_LABELS[CancelReason.OTHER])
        message = MessageBuyer(
            ref=ref, template_id=SUPPLIER_CANCEL_NOTICE, params=_params(state, reason=label)
        )
    new = state.evolve(
        market_cancel=Progress.PENDING,
        cancellation=cancellation,
        wake_at=None,
        escalation=None,
        last_reason=f"cancel: {reason.value} ({fault.value} fault)",
    )
    return StepResult(new, (message, CancelMarketOrder(ref=ref, cancellation=cancellation)))


def _supplier_gone(
    state: OrderState, reason: CancelReason, note: str, ctx: WorkflowContext
) -> StepResult:
    """The current supplier order is cancelled by the supplier: reroute or cancel."""
    if state.ack is Progress.DONE and not ctx.reroute_after_confirmation:
        return _cancel_for_supplier(state, reason, note, ctx)
    return _place_next(state, state.candidate + 1, ctx, reason, note)


def _cancel_supplier(state: OrderState, purpose: CancelPurpose, memo: str) -> StepResult:
    """Ask the supplier to cancel the open supplier order: once per purpose (a supplier that
    refused an earlier cancel, e.g. a legacy sold-out one, is asked again when the buyer
    cancels)."""
    new = state.evolve(cancel_purpose=purpose)
    again = state.supplier_cancel is SupplierCancelState.REFUSED and purpose is not (
        state.cancel_purpose
    )
    if (
        state.supplier_state not in _OPEN
        or state.supplier_order_id is None
        or state.supplier_id is None
        or (state.supplier_cancel is not SupplierCancelState.NONE and not again)
    ):
        return StepResult(new, ())
    command = CancelSupplierOrder(
        ref=state.order.ref,
        supplier_id=state.supplier_id,
        supplier_order_id=state.supplier_order_id,
        memo=memo,
    )
    return StepResult(new.evolve(supplier_cancel=SupplierCancelState.PENDING), (command,))


def _decide(state: OrderState, ctx: WorkflowContext) -> StepResult:
    """Ask the policy (through ``ctx.decide``) about an open, unconfirmed order."""
    supplier = state.supplier_state
    if (
        state.ack is not Progress.NONE
        or state.escalation is not None
        or state.supplier_id is None
        or state.item_id is None
        or (supplier is not _S.PLACED and supplier is not _S.CONFIRMED)  # not open
        or state.status is not OrderStatus.WAITING
    ):
        return _same(state)
    alternates = (
        0
        if ctx.reroute_after_confirmation
        else max(0, len(ctx.sources.get(state.order.lines[0].sku, ())) - state.candidate - 1)
    )
    try:
        decision: Decision = ctx.decide(
            state.order,
            ctx.now,
            state.supplier_id,
            state.item_id,
            state.supplier_state,
            state.placed_at,
            alternates,
        )
    except PolicyError as exc:  # the policy raised or returned junk: a person decides
        return _escalate(state, str(exc), ctx)
    if state.stock_out_known and isinstance(decision, ConfirmNow):
        safe = last_safe_moment(state.order, ctx.safety_margin)
        why = (
            f"{state.supplier_id} reported {state.item_id} sold out; never confirm before tracking"
        )
        if ctx.now >= safe:
            decision = Escalate(reason=why)
        else:
            decision = WaitForInvoice(until=safe, recheck_at=safe, reason=why)
    if isinstance(decision, ConfirmNow):
        new = state.evolve(ack=Progress.PENDING, last_reason=decision.reason)
        return StepResult(new, (Acknowledge(ref=state.order.ref),))
    if isinstance(decision, WaitForInvoice):
        return _schedule(state.evolve(last_reason=decision.reason), decision.recheck_at)
    return _escalate(state, decision.reason, ctx)


def _ship(state: OrderState, _ctx: WorkflowContext) -> StepResult:
    """Tracking is known: acknowledge first if needed, then upload the invoice."""
    if state.tracking is None or state.invoice is not Progress.NONE:
        return _same(state)
    if state.ack is Progress.NONE:
        new = state.evolve(ack=Progress.PENDING, wake_at=None)
        return StepResult(new, (Acknowledge(ref=state.order.ref),))
    if state.ack is Progress.PENDING:
        return _same(state)
    new = state.evolve(invoice=Progress.PENDING, wake_at=None)
    return StepResult(new, (UploadInvoice(ref=state.order.ref, tracking=state.tracking),))


def _answer(
    state: OrderState,
    answer: BuyerRequestAnswer,
    ctx: WorkflowContext,
    tracking: Tracking | None = None,
) -> StepResult:
    """Answer the buyer's request; without a request id the answer takes effect at once."""
    if state.buyer_request_id is None:
        if answer is BuyerRequestAnswer.ALREADY_SHIPPED:
            # Nothing to answer: the shipment goes on, with its own invoice upload.
            return _ship(state.evolve(buyer_request=None, cancel_purpose=None), ctx)
        return _buyer_cancelled(state, ctx)
    command = AnswerBuyerRequest(
        ref=state.order.ref, request_id=state.buyer_request_id, answer=answer, tracking=tracking
    )
    return StepResult(state.evolve(answer_pending=True), (command,))


def _buyer_cancelled(state: OrderState, ctx: WorkflowContext) -> StepResult:
    reason = state.buyer_reason or CancelReason.BUYER_REMORSE
    cancellation = Cancellation(fault=CancelFault.BUYER, reason=reason, at=ctx.now)
    new = state.evolve(
        market_cancel=Progress.DONE,
        cancellation=cancellation,
        answer_pending=False,
        wake_at=None,
        last_reason=f"cancelled at the buyer's request ({reason.value})",
    )
    return _after_market_cancel(new, ctx)


def _after_market_cancel(state: OrderState, ctx: WorkflowContext) -> StepResult:
    """The market order is cancelled: make sure no supplier order stays open."""
    if (
        state.supplier_state is _S.INVOICED
        and state.supplier_cancel is not SupplierCancelState.DONE
    ):
        reason = (
            f"the order is cancelled but {state.supplier_id} already shipped "
            f"{state.supplier_order_id}; arrange a return"
        )
        return _escalate(state, reason, ctx)
    purpose = state.cancel_purpose or CancelPurpose.MARKET
    return _cancel_supplier(state, purpose, "마켓 주문 취소 / market order cancelled")


def _cancel_order_in_progress(state: OrderState, _ctx: WorkflowContext) -> StepResult:
    """A supplier order appeared while the order is being cancelled: cancel it too."""
    purpose = state.cancel_purpose or CancelPurpose.MARKET
    return _cancel_supplier(state, purpose, "주문 취소 / order cancelled")


def _supplier_cancel_done(state: OrderState, ctx: WorkflowContext) -> StepResult:
    """A cancellation the seller asked the supplier for went through."""
    purpose = state.cancel_purpose
    if purpose is CancelPurpose.STOCK_OUT:  # legacy: a stored sold-out cancel went through
        if state.market_cancel is not Progress.NONE:
            return _same(state)
        return _place_next(
            state, state.candidate + 1, ctx, CancelReason.STOCK_OUT, "sold-out notice from supplier"
        )
    if (
        state.buyer_request is BuyerRequestKind.STOP_SHIPMENT
        and state.market_cancel is Progress.NONE
        and not state.answer_pending
    ):
        return _answer(state, BuyerRequestAnswer.STOP_SHIPMENT, ctx)
    return _same(state)


def _supplier_refused(state: OrderState, ctx: WorkflowContext) -> StepResult:
    purpose = state.cancel_purpose
    if purpose is CancelPurpose.STOCK_OUT:
        # Legacy (a stored sold-out cancel): the supplier keeps the order: carry on, but never
        # confirm before tracking.
        return _decide(state.evolve(cancel_purpose=None), ctx)
    if (
        state.buyer_request is BuyerRequestKind.STOP_SHIPMENT
        and state.market_cancel is Progress.NONE
    ):
        # It will ship: answer "already shipped" with its tracking; a person by the deadline if
        # the tracking never comes.
        return _guard(state, ctx)
    reason = (
        f"{state.supplier_id} refused to cancel {state.supplier_order_id} for a cancelled order; "
        "the goods may ship"
    )
    return _escalate(state, reason, ctx)


def _handle_buyer_request(state: OrderState, ctx: WorkflowContext) -> StepResult:
    """Cancel before confirmation, or stop the shipment after it."""
    done = state.ack is Progress.DONE
    kind = BuyerRequestKind.STOP_SHIPMENT if done else BuyerRequestKind.CANCEL
    new = state.evolve(buyer_request=kind, wake_at=None, escalation=None)
    if kind is BuyerRequestKind.CANCEL:
        cancelled = _cancel_supplier(new, CancelPurpose.BUYER, "구매자 취소 / buyer cancelled")
        answered = _answer(cancelled.state, BuyerRequestAnswer.ACCEPT_CANCEL, ctx)
        return StepResult(answered.state, cancelled.commands + answered.commands)
    # Stop shipment after confirmation.
    if new.supplier_state is _S.INVOICED and new.tracking is not None:
        return _answer(
            new.evolve(cancel_purpose=CancelPurpose.BUYER),
            BuyerRequestAnswer.ALREADY_SHIPPED,
            ctx,
            new.tracking,
        )
    if new.place_pending or new.supplier_state in _OPEN:
        return _cancel_supplier(
            new, CancelPurpose.BUYER, "구매자 출고중지 요청 / buyer stop request"
        )
    return _answer(
        new.evolve(cancel_purpose=CancelPurpose.BUYER), BuyerRequestAnswer.STOP_SHIPMENT, ctx
    )
