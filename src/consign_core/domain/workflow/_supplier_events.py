"""Transitions on the supplier side: the supplier order's lifecycle and the change feed.

Handlers of ``SupplierOrderPlaced``, ``SupplierConfirmed``, ``SupplierInvoiced``,
``SupplierCancelled``, :class:`~consign_core.domain.workflow.SupplierCancelResult` (the answer
to a cancel request), and the supplier's change feed
(:class:`~consign_core.domain.workflow.StockChanged`,
:class:`~consign_core.domain.workflow.PriceChanged`). Each takes ``(state, event, ctx)`` and
returns a :class:`~consign_core.domain.workflow.StepResult`; the dispatch table is in
``consign_core.domain.workflow._step``.
"""

from __future__ import annotations

from consign_core.domain.events import (
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import CancelReason
from consign_core.domain.workflow._actions import (
    _OPEN,
    _S,
    _answer,
    _cancel_order_in_progress,
    _decide,
    _escalate,
    _place_next,
    _same,
    _ship,
    _supplier_cancel_done,
    _supplier_gone,
    _supplier_refused,
)
from consign_core.domain.workflow._types import (
    BuyerRequestAnswer,
    BuyerRequestKind,
    CancelPurpose,
    CancelSupplierOrder,
    OrderState,
    OrderStatus,
    PriceChanged,
    Progress,
    StepResult,
    StockChanged,
    SupplierCancelOutcome,
    SupplierCancelResult,
    SupplierCancelState,
    WorkflowContext,
)


__all__ = [
    "_on_cancel_result",
    "_on_invoiced",
    "_on_placed",
    "_on_price",
    "_on_stock",
    "_on_supplier_cancelled",
    "_on_supplier_confirmed",
]


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
    new = state.evolve(
        supplier_state=_S.PLACED,
        supplier_order_id=event.supplier_order_id,
        placed_at=event.at,
        place_pending=False,
    )
    if new.market_cancel is not Progress.NONE or new.cancel_purpose is not None:
        return _cancel_order_in_progress(new, ctx)
    # A sold-out notice while the placement was out (``stock_out_known``) is no reason to cancel
    # it: Domeme deducts stock when an order is paid, so the notice may be our own purchase of
    # the last units. The supplier's answer decides (it ships, or cancels with its own reason);
    # until then ``_decide`` never confirms the order before tracking.
    return _decide(new, ctx)


def _on_supplier_confirmed(
    state: OrderState, event: SupplierConfirmed, ctx: WorkflowContext
) -> StepResult:
    if event.supplier_order_id != state.supplier_order_id or state.supplier_state is not _S.PLACED:
        return _same(state)
    confirmed = state.evolve(supplier_state=_S.CONFIRMED)
    if not ctx.reask_on_supplier_confirmation:
        return _same(confirmed)  # the policy's next look stays at its recheck time
    return _decide(confirmed, ctx)


def _on_invoiced(state: OrderState, event: SupplierInvoiced, ctx: WorkflowContext) -> StepResult:
    if event.supplier_order_id != state.supplier_order_id:
        reason = (
            f"{event.supplier_id} shipped {event.supplier_order_id}, which is not this order's "
            "current supplier order; check for a double shipment"
        )
        return _escalate(state, reason, ctx)
    if state.supplier_state is _S.INVOICED:
        return _same(state)
    # A legacy sold-out cancel (CancelPurpose.STOCK_OUT, stored by an older version) that the
    # supplier overtook by shipping: the order goes on.
    purpose = None if state.cancel_purpose is CancelPurpose.STOCK_OUT else state.cancel_purpose
    new = state.evolve(
        supplier_state=_S.INVOICED,
        tracking=event.tracking,
        wake_at=None,
        escalation=None,
        cancel_purpose=purpose,
    )
    if new.buyer_request is BuyerRequestKind.STOP_SHIPMENT and new.market_cancel is Progress.NONE:
        if new.answer_pending:
            return _same(new)
        return _answer(new, BuyerRequestAnswer.ALREADY_SHIPPED, ctx, event.tracking)
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
    new = state.evolve(supplier_state=_S.CANCELLED, supplier_cancel_reason=event.reason)
    if new.cancel_purpose is not None:
        return _supplier_cancel_done(new.evolve(supplier_cancel=SupplierCancelState.DONE), ctx)
    if new.market_cancel is not Progress.NONE or new.ack is Progress.PENDING:
        return _same(new)  # settles the cancellation / decided when the acknowledgement settles
    return _supplier_gone(new, event.reason, event.note, ctx)


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
        new = state.evolve(supplier_state=_S.CANCELLED, supplier_cancel=SupplierCancelState.DONE)
        return _supplier_cancel_done(new, ctx)
    if event.outcome is SupplierCancelOutcome.REQUESTED:
        return _same(state.evolve(supplier_cancel=SupplierCancelState.REQUESTED))
    return _supplier_refused(state.evolve(supplier_cancel=SupplierCancelState.REFUSED), ctx)


def _on_stock(state: OrderState, event: StockChanged, ctx: WorkflowContext) -> StepResult:
    if event.supplier_id != state.supplier_id or event.item_id != state.item_id:
        return _same(state)
    if event.stock >= state.order.lines[0].quantity:
        if state.stock_out_known and state.cancel_purpose is None:
            return _same(state.evolve(stock_out_known=False))  # restocked (재입고)
        return _same(state)
    if state.ack is not Progress.NONE or state.status not in _UNCONFIRMED:
        return _same(state)
    new = state.evolve(stock_out_known=True)
    if new.supplier_state is _S.NOT_PLACED and not new.place_pending:
        return _place_next(
            new, new.candidate + 1, ctx, CancelReason.STOCK_OUT, "sold-out notice from supplier"
        )
    # A supplier order exists or is being placed (paid on Domeme, or being paid): keep it. Domeme
    # deducts stock when an order is paid, so a reading taken after our placement includes our
    # own units and "sold out" may be our own purchase of the last ones; a stock count cannot
    # say whether our order got them, the supplier does (it ships, or cancels with its own
    # reason, rerouted before confirmation). Until then it is never confirmed before tracking.
    return _same(new)


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
