"""The order workflow's transition function: ``step(state, event, context) -> StepResult``.

Pure: no I/O, no clock, no randomness; the only outside call is ``context.decide`` (pure given
pure inputs). See :mod:`consign_core.domain.workflow` for the design and the paths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consign_core.domain.calendar import kst_date
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

_S = SupplierOrderState
_OPEN = frozenset({_S.PLACED, _S.CONFIRMED})

REASON_LABELS: dict[CancelReason, str] = {
    CancelReason.STOCK_OUT: "품절",
    CancelReason.PRICE_ERROR: "가격 오류",
    CancelReason.BUYER_REMORSE: "고객 요청",
    CancelReason.DELIVERY_DELAY: "배송 지연",
    CancelReason.OTHER: "공급처 사정",
}


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


# --------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------


def _same(state: OrderState) -> StepResult:
    return StepResult(state, ())


def _params(state: OrderState, **extra: str) -> tuple[tuple[str, str], ...]:
    order = state.order
    ship_by = kst_date(order.ship_by).isoformat()
    return (("order_id", order.ref.order_id), ("ship_by", ship_by), *sorted(extra.items()))


def _map_tracking(tracking: Tracking, ctx: WorkflowContext) -> Tracking | None:
    code = ctx.courier_map.get(tracking.courier)
    if code is not None:
        return (
            tracking if code == tracking.courier else Tracking(courier=code, number=tracking.number)
        )
    return tracking if tracking.courier in ctx.market_couriers else None


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
    new = state._replace(
        escalation=reason, wake_at=None, last_reason=reason, delay_notified=delay_notified
    )
    return StepResult(new, tuple(commands))


def _schedule(state: OrderState, at: Any, prefix: tuple[Command, ...] = ()) -> StepResult:
    if state.wake_at == at:
        return StepResult(state, prefix)
    return StepResult(
        state._replace(wake_at=at), (*prefix, ScheduleWakeUp(ref=state.order.ref, at=at))
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
        new = state._replace(
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
    new = state._replace(
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
    refused to cancel for a sold-out notice is asked again when the buyer cancels)."""
    new = state._replace(cancel_purpose=purpose)
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
    return StepResult(new._replace(supplier_cancel=SupplierCancelState.PENDING), (command,))


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
    decision: Decision = ctx.decide(
        state.order,
        ctx.now,
        state.supplier_id,
        state.item_id,
        state.supplier_state,
        state.placed_at,
        alternates,
    )
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
        new = state._replace(ack=Progress.PENDING, last_reason=decision.reason)
        return StepResult(new, (Acknowledge(ref=state.order.ref),))
    if isinstance(decision, WaitForInvoice):
        return _schedule(state._replace(last_reason=decision.reason), decision.recheck_at)
    return _escalate(state, decision.reason, ctx)


def _ship(state: OrderState, ctx: WorkflowContext) -> StepResult:
    """Tracking is known: acknowledge first if needed, then upload the invoice."""
    if state.tracking is None or state.invoice is not Progress.NONE:
        return _same(state)
    mapped = _map_tracking(state.tracking, ctx)
    if mapped is None:
        reason = f"unknown courier code {state.tracking.courier!r}; add it to the courier map"
        return _escalate(state, reason, ctx)
    if state.ack is Progress.NONE:
        new = state._replace(ack=Progress.PENDING, wake_at=None)
        return StepResult(new, (Acknowledge(ref=state.order.ref),))
    if state.ack is Progress.PENDING:
        return _same(state)
    new = state._replace(invoice=Progress.PENDING, wake_at=None)
    return StepResult(new, (UploadInvoice(ref=state.order.ref, tracking=mapped),))


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
            return _ship(state._replace(buyer_request=None, cancel_purpose=None), ctx)
        return _buyer_cancelled(state, ctx)
    command = AnswerBuyerRequest(
        ref=state.order.ref, request_id=state.buyer_request_id, answer=answer, tracking=tracking
    )
    return StepResult(state._replace(answer_pending=True), (command,))


def _buyer_cancelled(state: OrderState, ctx: WorkflowContext) -> StepResult:
    reason = state.buyer_reason or CancelReason.BUYER_REMORSE
    cancellation = Cancellation(fault=CancelFault.BUYER, reason=reason, at=ctx.now)
    new = state._replace(
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


# --------------------------------------------------------------------------------------
# Handlers
# --------------------------------------------------------------------------------------


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


def _on_placed(state: OrderState, event: SupplierOrderPlaced, ctx: WorkflowContext) -> StepResult:
    if event.supplier_order_id == state.supplier_order_id:
        return _same(state)
    wanted = (
        state.place_pending
        and state.supplier_state is _S.NOT_PLACED
        and event.supplier_id == state.supplier_id
        and event.item_id == state.item_id
    )
    if not wanted:
        # A supplier order this market order no longer needs (e.g. found after a crash for an
        # attempt that was given up): cancel it so nobody pays twice.
        command = CancelSupplierOrder(
            ref=state.order.ref,
            supplier_id=event.supplier_id,
            supplier_order_id=event.supplier_order_id,
            memo="중복/불필요 주문 취소 / supplier order not needed",
        )
        return StepResult(state, (command,))
    new = state._replace(
        supplier_state=_S.PLACED,
        supplier_order_id=event.supplier_order_id,
        placed_at=event.at,
        place_pending=False,
    )
    if new.market_cancel is not Progress.NONE or new.cancel_purpose is not None:
        return _cancel_order_in_progress(new, ctx)
    if new.stock_out_known:  # sold out while the placement was out: cancel it there, reroute
        return _cancel_supplier(new, CancelPurpose.STOCK_OUT, "품절 통보로 취소 / sold-out notice")
    return _decide(new, ctx)


def _cancel_order_in_progress(state: OrderState, _ctx: WorkflowContext) -> StepResult:
    """A supplier order appeared while the order is being cancelled: cancel it too."""
    purpose = state.cancel_purpose or CancelPurpose.MARKET
    return _cancel_supplier(state, purpose, "주문 취소 / order cancelled")


def _on_supplier_confirmed(
    state: OrderState, event: SupplierConfirmed, ctx: WorkflowContext
) -> StepResult:
    if event.supplier_order_id != state.supplier_order_id or state.supplier_state is not _S.PLACED:
        return _same(state)
    confirmed = state._replace(supplier_state=_S.CONFIRMED)
    if not ctx.reask_on_supplier_confirmation:
        return _same(confirmed)  # the policy's next look stays at its recheck time
    return _decide(confirmed, ctx)


def _on_invoiced(  # noqa: PLR0911 - one early return per transition
    state: OrderState, event: SupplierInvoiced, ctx: WorkflowContext
) -> StepResult:
    if event.supplier_order_id != state.supplier_order_id:
        reason = (
            f"{event.supplier_id} shipped {event.supplier_order_id}, which is not this order's "
            "current supplier order; check for a double shipment"
        )
        return _escalate(state, reason, ctx)
    if state.supplier_state is _S.INVOICED:
        return _same(state)
    purpose = None if state.cancel_purpose is CancelPurpose.STOCK_OUT else state.cancel_purpose
    new = state._replace(
        supplier_state=_S.INVOICED,
        tracking=event.tracking,
        wake_at=None,
        escalation=None,
        cancel_purpose=purpose,
    )
    if new.buyer_request is BuyerRequestKind.STOP_SHIPMENT and new.market_cancel is Progress.NONE:
        mapped = _map_tracking(event.tracking, ctx)
        if mapped is None:
            return _escalate(new, f"unknown courier code {event.tracking.courier!r}", ctx)
        if new.answer_pending:
            return _same(new)
        return _answer(new, BuyerRequestAnswer.ALREADY_SHIPPED, ctx, mapped)
    if new.market_cancel is not Progress.NONE or purpose is not None:
        reason = (
            f"{event.supplier_id} shipped {event.supplier_order_id} for an order that is being "
            "cancelled; arrange a return"
        )
        return _escalate(new, reason, ctx)
    return _ship(new, ctx)


def _on_supplier_cancelled(
    state: OrderState, event: SupplierCancelled, ctx: WorkflowContext
) -> StepResult:
    if event.supplier_order_id != state.supplier_order_id or state.supplier_state is _S.CANCELLED:
        return _same(state)
    if state.supplier_state is _S.INVOICED:
        reason = f"{event.supplier_id} cancelled {event.supplier_order_id} after shipping it"
        return _escalate(state, reason, ctx)
    new = state._replace(supplier_state=_S.CANCELLED, supplier_cancel_reason=event.reason)
    if new.cancel_purpose is not None:
        return _supplier_cancel_done(new._replace(supplier_cancel=SupplierCancelState.DONE), ctx)
    if new.market_cancel is not Progress.NONE or new.ack is Progress.PENDING:
        return _same(new)  # settles the cancellation / decided when the acknowledgement settles
    return _supplier_gone(new, event.reason, event.note, ctx)


def _supplier_cancel_done(state: OrderState, ctx: WorkflowContext) -> StepResult:
    """A cancellation the seller asked the supplier for went through."""
    purpose = state.cancel_purpose
    if purpose is CancelPurpose.STOCK_OUT:
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


def _on_cancel_result(
    state: OrderState, event: SupplierCancelResult, ctx: WorkflowContext
) -> StepResult:
    if event.supplier_order_id != state.supplier_order_id:
        if event.outcome is SupplierCancelOutcome.CANCELLED:
            return _same(state)
        reason = (
            f"{state.supplier_id or 'the supplier'} did not cancel the unneeded supplier order "
            f"{event.supplier_order_id} ({event.outcome.value}); the goods may ship twice"
        )
        return _escalate(state, reason, ctx)
    if state.supplier_state not in _OPEN:
        return _same(state)
    if event.outcome is SupplierCancelOutcome.CANCELLED:
        new = state._replace(supplier_state=_S.CANCELLED, supplier_cancel=SupplierCancelState.DONE)
        return _supplier_cancel_done(new, ctx)
    if event.outcome is SupplierCancelOutcome.REQUESTED:
        return _same(state._replace(supplier_cancel=SupplierCancelState.REQUESTED))
    return _supplier_refused(state._replace(supplier_cancel=SupplierCancelState.REFUSED), ctx)


def _supplier_refused(state: OrderState, ctx: WorkflowContext) -> StepResult:
    purpose = state.cancel_purpose
    if purpose is CancelPurpose.STOCK_OUT:
        # The supplier keeps the order: carry on, but never confirm before tracking.
        return _decide(state._replace(cancel_purpose=None), ctx)
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


def _on_acknowledged(  # noqa: PLR0911 - one early return per transition
    state: OrderState, _event: MarketAcknowledged, ctx: WorkflowContext
) -> StepResult:
    if state.ack is Progress.DONE:
        return _same(state)
    new = state._replace(ack=Progress.DONE)
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
    return _same(state._replace(invoice=Progress.DONE, wake_at=None, escalation=None))


def _on_delivered(state: OrderState, _event: Delivered, _ctx: WorkflowContext) -> StepResult:
    if state.delivered or state.market_cancel is Progress.DONE:
        return _same(state)
    return _same(state._replace(delivered=True, invoice=Progress.DONE, wake_at=None))


def _on_order_cancelled(
    state: OrderState, event: OrderCancelled, ctx: WorkflowContext
) -> StepResult:
    if state.market_cancel is Progress.DONE:
        return _same(state)
    cancellation = event.cancellation
    new = state._replace(
        market_cancel=Progress.DONE,
        cancellation=cancellation,
        answer_pending=False,
        wake_at=None,
        escalation=None,
        last_reason=f"cancelled: {cancellation.reason.value} ({cancellation.fault.value})",
    )
    if new.place_pending:
        return _same(new._replace(cancel_purpose=new.cancel_purpose or CancelPurpose.MARKET))
    return _after_market_cancel(new, ctx)


def _on_buyer_cancel(
    state: OrderState, event: BuyerCancelRequested, ctx: WorkflowContext
) -> StepResult:
    if state.buyer_reason is not None or state.market_cancel is Progress.DONE:
        return _same(state)
    new = state._replace(buyer_reason=event.reason, buyer_request_id=event.request_id)
    if new.market_cancel is Progress.PENDING:
        return _same(new)  # the seller's own cancellation is already on its way
    if new.invoice is not Progress.NONE:
        # Already on its way: a return, not a cancellation.
        mapped = None if new.tracking is None else _map_tracking(new.tracking, ctx)
        new = new._replace(buyer_request=BuyerRequestKind.STOP_SHIPMENT)
        return _answer(new, BuyerRequestAnswer.ALREADY_SHIPPED, ctx, mapped)
    if new.ack is Progress.PENDING:
        return _same(new)  # handled once the acknowledgement settles
    return _handle_buyer_request(new, ctx)


def _handle_buyer_request(state: OrderState, ctx: WorkflowContext) -> StepResult:
    """Cancel before confirmation, or stop the shipment after it."""
    done = state.ack is Progress.DONE
    kind = BuyerRequestKind.STOP_SHIPMENT if done else BuyerRequestKind.CANCEL
    new = state._replace(buyer_request=kind, wake_at=None, escalation=None)
    if kind is BuyerRequestKind.CANCEL:
        cancelled = _cancel_supplier(new, CancelPurpose.BUYER, "구매자 취소 / buyer cancelled")
        answered = _answer(cancelled.state, BuyerRequestAnswer.ACCEPT_CANCEL, ctx)
        return StepResult(answered.state, cancelled.commands + answered.commands)
    # Stop shipment after confirmation.
    if new.supplier_state is _S.INVOICED and new.tracking is not None:
        mapped = _map_tracking(new.tracking, ctx)
        if mapped is None:
            return _escalate(new, f"unknown courier code {new.tracking.courier!r}", ctx)
        return _answer(
            new._replace(cancel_purpose=CancelPurpose.BUYER),
            BuyerRequestAnswer.ALREADY_SHIPPED,
            ctx,
            mapped,
        )
    if new.place_pending or new.supplier_state in _OPEN:
        return _cancel_supplier(
            new, CancelPurpose.BUYER, "구매자 출고중지 요청 / buyer stop request"
        )
    return _answer(
        new._replace(cancel_purpose=CancelPurpose.BUYER), BuyerRequestAnswer.STOP_SHIPMENT, ctx
    )


def _on_answered(
    state: OrderState, event: BuyerRequestAnswered, ctx: WorkflowContext
) -> StepResult:
    if event.request_id != state.buyer_request_id or not state.answer_pending:
        return _same(state)
    if event.answer is BuyerRequestAnswer.ALREADY_SHIPPED:
        new = state._replace(
            answer_pending=False,
            invoice=Progress.DONE,
            buyer_request=None,
            cancel_purpose=None,
            last_reason="buyer's stop request answered: already shipped",
        )
        return _same(new)
    return _buyer_cancelled(state._replace(cancel_purpose=CancelPurpose.BUYER), ctx.at(event.at))


def _on_wake(  # noqa: PLR0911 - one early return per transition
    state: OrderState, event: WakeUp, ctx: WorkflowContext
) -> StepResult:
    if state.wake_at is None or event.at < state.wake_at:
        return _same(state)
    new = state._replace(wake_at=None)
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


def _on_stock(  # noqa: PLR0911 - one early return per transition
    state: OrderState, event: StockChanged, ctx: WorkflowContext
) -> StepResult:
    if event.supplier_id != state.supplier_id or event.item_id != state.item_id:
        return _same(state)
    if event.stock >= state.order.lines[0].quantity:
        if state.stock_out_known and state.cancel_purpose is None:
            return _same(state._replace(stock_out_known=False))  # restocked (재입고)
        return _same(state)
    if state.ack is not Progress.NONE or state.status not in _UNCONFIRMED:
        return _same(state)
    new = state._replace(stock_out_known=True)
    if new.place_pending:
        return _same(new)  # the placement's answer decides
    if new.supplier_state is _S.PLACED:
        return _cancel_supplier(new, CancelPurpose.STOCK_OUT, "품절 통보로 취소 / sold-out notice")
    if new.supplier_state is _S.NOT_PLACED:
        return _place_next(
            new, new.candidate + 1, ctx, CancelReason.STOCK_OUT, "sold-out notice from supplier"
        )
    return _same(new)  # accepted by the supplier: keep it, but confirm only on tracking


_UNCONFIRMED = frozenset({OrderStatus.PLACING, OrderStatus.WAITING})


def _on_price(state: OrderState, event: PriceChanged, ctx: WorkflowContext) -> StepResult:
    if event.supplier_id != state.supplier_id or event.item_id != state.item_id:
        return _same(state)
    if state.supplier_state is not _S.NOT_PLACED or state.status is not OrderStatus.PLACING:
        return _same(state)  # already bought at the old price
    line = state.order.lines[0]
    if event.unit_cost <= line.unit_price:
        return _same(state)
    reason = (
        f"{event.supplier_id} item {event.item_id} now costs {event.unit_cost}원 a unit, above the "
        f"sale price {line.unit_price}원"
    )
    return _escalate(state, reason, ctx)


def _on_failed(state: OrderState, event: CommandFailed, ctx: WorkflowContext) -> StepResult:
    handler = _FAILURE_HANDLERS.get(event.kind)
    if handler is None:
        return _same(state)  # messages, escalations and wake-ups have no state to undo
    return handler(state, event, ctx)


def _place_failed(state: OrderState, event: CommandFailed, ctx: WorkflowContext) -> StepResult:
    if not state.place_pending:
        return _same(state)
    new = state._replace(place_pending=False)
    if new.market_cancel is not Progress.NONE or new.cancel_purpose is not None:
        return _supplier_cancel_done(new, ctx)
    message = event.message or "no details"
    if event.out_of_stock:
        return _supplier_gone(new, CancelReason.STOCK_OUT, message, ctx)
    return _escalate(new, f"the supplier order failed: {message}", ctx)


def _ack_failed(state: OrderState, event: CommandFailed, ctx: WorkflowContext) -> StepResult:
    if state.ack is not Progress.PENDING:
        return _same(state)
    new = state._replace(ack=Progress.NONE)
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
    new = state._replace(invoice=Progress.NONE)
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
    return _supplier_refused(state._replace(supplier_cancel=SupplierCancelState.REFUSED), ctx)


def _answer_failed(state: OrderState, event: CommandFailed, ctx: WorkflowContext) -> StepResult:
    if not state.answer_pending:
        return _same(state)
    new = state._replace(answer_pending=False)
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
    new = state._replace(
        escalation=None, last_reason=f"person: {action.value} {event.note}".strip()
    )
    if action is ManualAction.RESOLVE:
        if new.market_cancel is Progress.DONE and not new.supplier_settled:
            new = new._replace(supplier_cancel=SupplierCancelState.DONE)
        return _same(new)
    if action is ManualAction.WAIT:
        assert event.until is not None  # noqa: S101 - ManualDecision validates it
        return _schedule(new, event.until)
    if action is ManualAction.CANCEL:
        return _manual_cancel(new, event, ctx)
    if new.market_cancel is not Progress.NONE:
        return _same(new)
    if action is ManualAction.SHIP:
        new = new._replace(tracking=event.tracking)
        return _ship(new, ctx)
    if action is ManualAction.CONFIRM:
        if new.ack is not Progress.NONE:
            return _same(new)
        return StepResult(
            new._replace(ack=Progress.PENDING, wake_at=None), (Acknowledge(ref=new.order.ref),)
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
    new = state._replace(
        market_cancel=Progress.PENDING,
        cancellation=cancellation,
        cancel_purpose=CancelPurpose.PERSON,
        wake_at=None,
    )
    supplier = _cancel_supplier(new, CancelPurpose.PERSON, "판매자 취소 / seller cancelled")
    command = CancelMarketOrder(ref=state.order.ref, cancellation=cancellation)
    return StepResult(supplier.state, (*supplier.commands, command))


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
