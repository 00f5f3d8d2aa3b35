"""The commands the engine sends one by one: supplier orders, supplier cancels, buyer
messages, market cancels and answers to buyers' requests (see :mod:`consign_core.engine._exec`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from consign_core.domain.events import (
    InvoiceUploaded,
    OrderCancelled,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    SupplierOrder,
    SupplierOrderStatus,
)
from consign_core.domain.workflow._types import (
    AnswerBuyerRequest,
    BuyerRequestAnswer,
    BuyerRequestAnswered,
    CancelMarketOrder,
    CancelPurpose,
    CancelSupplierOrder,
    MessageBuyer,
    OrderState,
    PlaceSupplierOrder,
    Progress,
    SupplierCancelOutcome,
    SupplierCancelResult,
    WorkflowEvent,
    idempotency_key,
)
from consign_core.engine._exec_base import (
    Run,
    Shell,
    _definitive,
    _fail,
    _market_failure,
    _reconcile_market,
    as_adapter_error,
)
from consign_core.engine.ports import (
    VENDOR_CODE_STOCK_OUT,
    PlaceOrderRequest,
)
from consign_core.store._types import OutboxEntry


__all__ = ["SINGLE"]

# --------------------------------------------------------------------------------------
# One-by-one commands
# --------------------------------------------------------------------------------------


def _request(
    engine: Shell, state: OrderState | None, command: PlaceSupplierOrder
) -> PlaceOrderRequest:
    """The supplier order for ``command``: the buyer's delivery details from the order's
    state (never from the outbox, which does not hold them) and the option code of the
    source the order is placed at."""
    recipient = None
    option = None
    if state is not None:
        recipient = state.order.recipient
        source = (command.supplier_id, command.item_id)
        sku = state.order.lines[0].sku
        option = engine.source_option(sku, state.candidate, source)
    return PlaceOrderRequest(
        order_ref=command.ref,
        supplier_id=command.supplier_id,
        item_id=command.item_id,
        quantity=command.quantity,
        idempotency_key=command.idempotency_key,
        recipient=recipient,
        option=option,
    )


def _placed(
    command: PlaceSupplierOrder, order: SupplierOrder, engine: Shell
) -> SupplierOrderPlaced:
    return SupplierOrderPlaced(
        ref=command.ref,
        at=order.placed_at,
        supplier_id=order.supplier_id,
        supplier_order_id=order.supplier_order_id,
        item_id=order.item_id,
        quantity=order.quantity,
        reported_stock=engine.stock.get((order.supplier_id, order.item_id)),
    )


def _placement_moot(state: OrderState | None, command: PlaceSupplierOrder) -> str | None:
    """Why ``command`` must not be sent any more (a retry after the order moved on), or None."""
    if state is None or not state.place_pending:
        return "the order no longer waits for this supplier order"
    if idempotency_key(state.order.ref, state.attempt) != command.idempotency_key:
        return "a later attempt replaced it"
    purpose = state.cancel_purpose
    if state.market_cancel is not Progress.NONE or (
        purpose is not None and purpose is not CancelPurpose.STOCK_OUT
    ):
        return "the order is being cancelled"
    return None


def _place(engine: Shell, run: Run, entry: OutboxEntry) -> list[WorkflowEvent]:
    command = entry.command
    assert isinstance(command, PlaceSupplierOrder)  # noqa: S101 - grouped by type
    supplier = engine.supplier
    state = engine.order(command.ref)
    moot = _placement_moot(state, command)
    try:
        if not run.is_fresh(entry):
            found = supplier.find_order(command.idempotency_key)
            if found is not None:  # placed after all: the workflow cancels it if unneeded
                run.done(entry, f"reconciled: {found.supplier_order_id}")
                return [_placed(command, found, engine)]
        if moot is not None:  # never pay for goods the order no longer needs
            return _fail(run, entry, f"not placed: {moot}")
        order = supplier.place_order(_request(engine, state, command))
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        exc = as_adapter_error(caught)
        if _definitive(exc):
            sold_out = exc.vendor_code == VENDOR_CODE_STOCK_OUT
            return _fail(run, entry, str(exc), out_of_stock=sold_out)
        run.retry(entry, exc)
        return []
    run.done(entry, order.supplier_order_id)
    if order.status is SupplierOrderStatus.PLACED:  # what the engine knows is all there is
        run.answered.add(order.supplier_order_id)
    return [_placed(command, order, engine)]


def _cancel_supplier(engine: Shell, run: Run, entry: OutboxEntry) -> list[WorkflowEvent]:
    command = entry.command
    assert isinstance(command, CancelSupplierOrder)  # noqa: S101 - grouped by type
    supplier = engine.supplier
    try:
        if not run.is_fresh(entry):
            orders = supplier.get_orders([command.supplier_order_id])
            if any(o.status is SupplierOrderStatus.CANCELLED for o in orders):
                run.done(entry, "reconciled: cancelled")
                return [_cancel_result(command, run.now, SupplierCancelOutcome.CANCELLED)]
        outcome = supplier.cancel_order(command.supplier_order_id, command.memo)
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        exc = as_adapter_error(caught)
        if _definitive(exc):
            return _fail(run, entry, str(exc))
        run.retry(entry, exc)
        return []
    run.done(entry, outcome.value)
    return [_cancel_result(command, run.now, outcome)]


def _cancel_result(
    command: CancelSupplierOrder, now: datetime, outcome: SupplierCancelOutcome
) -> SupplierCancelResult:
    return SupplierCancelResult(
        ref=command.ref, at=now, supplier_order_id=command.supplier_order_id, outcome=outcome
    )


def _message(engine: Shell, run: Run, entry: OutboxEntry) -> list[WorkflowEvent]:
    command = entry.command
    assert isinstance(command, MessageBuyer)  # noqa: S101 - grouped by type
    try:
        text = command.render(engine.templates)
    except (KeyError, ValueError, IndexError) as exc:
        run.log.error(  # noqa: TRY400 - a configuration problem, not a crash
            "order %s: cannot render message %r: %s",
            command.ref,
            command.template_id,
            exc,
            extra={"order_ref": str(command.ref)},
        )
        return _fail(run, entry, f"cannot render {command.template_id!r}: {exc}")
    messenger = engine.messenger
    if messenger is None:
        run.log.info(
            "order %s: no messenger configured; message %r not sent",
            command.ref,
            command.template_id,
            extra={"order_ref": str(command.ref)},
        )
        run.done(entry, "not sent: no messenger")
        return []
    try:
        messenger.send_message(command.ref, command.template_id, text)
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        error = as_adapter_error(caught)
        if _definitive(error):
            return _fail(run, entry, str(error))
        run.retry(entry, error, blind=True)
        return []
    run.done(entry, "sent")
    return []


def _cancel_market(engine: Shell, run: Run, entry: OutboxEntry) -> list[WorkflowEvent]:
    command = entry.command
    assert isinstance(command, CancelMarketOrder)  # noqa: S101 - grouped by type
    if not run.is_fresh(entry):
        go, events = _reconcile_market(engine, run, entry)
        if not go:
            return events
    try:
        engine.market.cancel_order(command.ref, command.cancellation)
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        exc = as_adapter_error(caught)
        if _definitive(exc):
            return _market_failure(engine, run, entry, str(exc))
        run.retry(entry, exc)
        return []
    run.done(entry, "cancelled")
    return [OrderCancelled(ref=command.ref, cancellation=command.cancellation)]


def _answer(engine: Shell, run: Run, entry: OutboxEntry) -> list[WorkflowEvent]:
    command = entry.command
    assert isinstance(command, AnswerBuyerRequest)  # noqa: S101 - grouped by type
    events = _send_answer(engine, run, entry, command)
    if not any(isinstance(event, BuyerRequestAnswered) for event in events):
        return events
    if command.answer is BuyerRequestAnswer.ALREADY_SHIPPED:
        if command.tracking is not None:
            # The answer registers the waybill on the market: that is the order's shipment,
            # and the ledger must see it (else it books the order late at its deadline).
            events.append(InvoiceUploaded(ref=command.ref, at=run.now, tracking=command.tracking))
        return events
    # The answer cancels the order (or it was already cancelled by the buyer): the ledger
    # must book that cancellation with the market's fault (else it counts the order as
    # unshipped at its deadline).
    events.append(_buyer_cancellation(engine, run, command))
    return events


def _buyer_cancellation(engine: Shell, run: Run, command: AnswerBuyerRequest) -> OrderCancelled:
    """The cancellation a settled buyer request made: as the market booked it when it says
    (e.g. a cancel over a delay booked as the seller's fault), else the buyer's."""
    try:
        snapshot = engine.market.get_order(command.ref)
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        run.log.info(
            "order %s: cancellation not read back (%s); booked as the buyer's",
            command.ref,
            as_adapter_error(caught),
            extra={"order_ref": str(command.ref)},
        )
        snapshot = None
    if snapshot is not None and snapshot.cancellation is not None:
        return OrderCancelled(ref=command.ref, cancellation=snapshot.cancellation)
    state = engine.order(command.ref)
    reason = CancelReason.BUYER_REMORSE
    if state is not None and state.buyer_reason is not None:
        reason = state.buyer_reason
    cancellation = Cancellation(fault=CancelFault.BUYER, reason=reason, at=run.now)
    return OrderCancelled(ref=command.ref, cancellation=cancellation)


def _send_answer(
    engine: Shell, run: Run, entry: OutboxEntry, command: AnswerBuyerRequest
) -> list[WorkflowEvent]:
    if not run.is_fresh(entry):
        go, events = _reconcile_market(engine, run, entry)
        if not go:
            return events
    try:
        engine.market.answer_buyer_request(
            command.ref, command.request_id, command.answer, command.tracking
        )
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        exc = as_adapter_error(caught)
        if _definitive(exc):
            return _market_failure(engine, run, entry, str(exc))
        run.retry(entry, exc)
        return []
    run.done(entry, command.answer.value)
    return [
        BuyerRequestAnswered(
            ref=command.ref, at=run.now, request_id=command.request_id, answer=command.answer
        )
    ]


SINGLE: dict[type[Any], Callable[[Shell, Run, OutboxEntry], list[WorkflowEvent]]] = {
    PlaceSupplierOrder: _place,
    CancelSupplierOrder: _cancel_supplier,
    MessageBuyer: _message,
    CancelMarketOrder: _cancel_market,
    AnswerBuyerRequest: _answer,
}
