"""How the engine sends commands and reconciles unknown results (the outbox's other half).

Every function takes the outbox entries ready to go and returns the workflow events their
results produce. An entry created in this process and never attempted is *fresh* and is sent
directly; any other entry (inherited from before a restart, or whose last attempt timed out)
has an unknown result, so the engine asks the market or supplier for the truth first and
re-sends only when the truth says the command did not happen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from consign_core.domain._prevalidated import new_invoice_uploaded, new_market_acknowledged
from consign_core.domain.events import (
    InvoiceUploaded,
    MarketAcknowledged,
    OrderCancelled,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    OrderRef,
    SupplierOrder,
    SupplierOrderStatus,
)
from consign_core.domain.workflow._types import (
    Acknowledge,
    AnswerBuyerRequest,
    BuyerRequestAnswer,
    BuyerRequestAnswered,
    CancelMarketOrder,
    CancelPurpose,
    CancelSupplierOrder,
    Command,
    CommandFailed,
    MessageBuyer,
    OrderState,
    PlaceSupplierOrder,
    Progress,
    SupplierCancelOutcome,
    SupplierCancelResult,
    UploadInvoice,
    WorkflowEvent,
    idempotency_key,
)
from consign_core.engine.ports import (
    VENDOR_CODE_STOCK_OUT,
    BuyerMessenger,
    InvoiceUpload,
    MarketOrderSnapshot,
    MarketOrderStatus,
    MarketPort,
    PlaceOrderRequest,
    SupplierPort,
)
from consign_core.errors import (
    AdapterError,
    NotFoundError,
    RejectedError,
    UnexpectedResponseError,
)
from consign_core.store._types import OutboxEntry, OutboxStatus, StoreBatch, new_outbox_entry


class Shell(Protocol):
    """What command execution reads from the :class:`~consign_core.engine.Engine` running it."""

    @property
    def market(self) -> MarketPort: ...
    @property
    def supplier(self) -> SupplierPort: ...
    @property
    def messenger(self) -> BuyerMessenger | None: ...
    @property
    def templates(self) -> Mapping[str, str]: ...
    @property
    def stock(self) -> Mapping[tuple[str, str], int]: ...
    def order(self, ref: OrderRef) -> OrderState | None: ...


__all__ = ["Run", "execute"]

logger = logging.getLogger("consign_core.engine")

_ACKED = frozenset(
    {MarketOrderStatus.ACKNOWLEDGED, MarketOrderStatus.SHIPPED, MarketOrderStatus.DELIVERED}
)
_SHIPPED = frozenset({MarketOrderStatus.SHIPPED, MarketOrderStatus.DELIVERED})

# Order of execution within a round: supplier side first, then messages (an apology goes out
# before the cancellation), then the market side.
_ORDER = (
    PlaceSupplierOrder,
    CancelSupplierOrder,
    MessageBuyer,
    Acknowledge,
    UploadInvoice,
    CancelMarketOrder,
    AnswerBuyerRequest,
)


class Run:
    """One engine run's bookkeeping: the batch to commit, the outbox outcomes, the counters."""

    def __init__(
        self,
        now: datetime,
        pending: dict[int, OutboxEntry],
        fresh: set[int],
        backoff: Callable[[int, AdapterError | None], timedelta],
    ) -> None:
        self.now = now
        self.batch = StoreBatch()
        self.tried: set[int] = set()
        self.sent = 0
        self.failed_count = 0
        self.retried = 0
        self.new_orders = 0
        self.events = 0
        self.escalations = 0
        self.poll_errors: list[str] = []
        self._pending = pending
        self._fresh = fresh
        self._backoff = backoff

    def is_fresh(self, entry: OutboxEntry) -> bool:
        """Created in this process and never attempted: its result cannot be unknown."""
        return entry.entry_id in self._fresh

    def _settle(self, entry: OutboxEntry, status: OutboxStatus, result: str) -> None:
        new = new_outbox_entry(  # from a valid entry: no validators, no attrs.evolve
            entry_id=entry.entry_id,
            command=entry.command,
            status=status,
            attempts=entry.attempts,
            created_at=entry.created_at,
            next_attempt_at=None,
            result=result[:500],
        )
        self.batch.outbox[entry.entry_id] = new
        self._pending.pop(entry.entry_id, None)
        self._fresh.discard(entry.entry_id)

    def done(self, entry: OutboxEntry, result: str) -> None:
        """The command happened; record its result."""
        self._settle(entry, OutboxStatus.DONE, result)
        self.sent += 1

    def failed(self, entry: OutboxEntry, message: str) -> None:
        """The command was refused for good."""
        self._settle(entry, OutboxStatus.FAILED, message)
        self.failed_count += 1
        logger.warning(
            "order %s: %s failed: %s",
            entry.ref,
            entry.command.kind.value,
            message,
            extra={"order_ref": str(entry.ref)},
        )

    def retry(
        self, entry: OutboxEntry, exc: AdapterError | None, detail: str = "", *, blind: bool = False
    ) -> None:
        """The result is unknown (or the call was throttled): keep it pending, back off.

        Unless ``blind``, the next attempt reads the truth from the vendor first.
        """
        attempts = entry.attempts + 1
        wait = self._backoff(attempts, exc)
        reason = detail or (str(exc) if exc is not None else "no result for this order")
        new = new_outbox_entry(
            entry_id=entry.entry_id,
            command=entry.command,
            status=entry.status,
            attempts=attempts,
            created_at=entry.created_at,
            next_attempt_at=self.now + wait,
            result=reason[:500],
        )
        self.batch.outbox[entry.entry_id] = new
        self._pending[entry.entry_id] = new
        if not blind:
            self._fresh.discard(entry.entry_id)
        self.retried += 1
        logger.info(
            "order %s: %s will be retried (attempt %d): %s",
            entry.ref,
            entry.command.kind.value,
            attempts,
            reason,
            extra={"order_ref": str(entry.ref)},
        )


def as_adapter_error(exc: Exception) -> AdapterError:
    """What a port call raised, as an :class:`~consign_core.errors.AdapterError`.

    A port should raise only adapter errors; anything else (a ``KeyError`` on a malformed
    reply, a ``ValidationError`` building a bad order) becomes an
    :class:`~consign_core.errors.UnexpectedResponseError`, retried like a transient failure,
    so one bad reply fails its own poll or command instead of every run. Only the exception's
    type is quoted (a third-party message may carry a URL with a key in it); the original is
    kept as ``__cause__``.
    """
    if isinstance(exc, AdapterError):
        return exc
    msg = f"unexpected {type(exc).__name__} from the adapter (a bug, or a reply it cannot read)"
    error = UnexpectedResponseError(msg)
    error.__cause__ = exc
    return error


def _definitive(exc: AdapterError) -> bool:
    """Refused for good (the call did not happen and will not if repeated)."""
    return isinstance(exc, RejectedError | NotFoundError)


def execute(engine: Shell, run: Run, ready: Sequence[OutboxEntry]) -> list[WorkflowEvent]:
    """Send (or reconcile) ``ready`` entries; return the events of their results."""
    by_type: dict[type[Any], list[OutboxEntry]] = {}
    for entry in ready:
        by_type.setdefault(type(entry.command), []).append(entry)
    events: list[WorkflowEvent] = []
    for cls in _ORDER:
        entries = by_type.get(cls)
        if not entries:
            continue
        if cls is Acknowledge:
            events += _batched(engine, run, entries, engine.market.ack_batch_limit, _send_acks)
        elif cls is UploadInvoice:
            events += _batched(
                engine, run, entries, engine.market.invoice_batch_limit, _send_uploads
            )
        else:
            single = _SINGLE[cls]
            for entry in entries:
                events += single(engine, run, entry)
    return events


# --------------------------------------------------------------------------------------
# The truth on the market, per command
# --------------------------------------------------------------------------------------


def _cancelled_event(
    snapshot: MarketOrderSnapshot, now: datetime, filed: Cancellation | None = None
) -> OrderCancelled:
    """The market says the order is cancelled: with its own fault and reason when it gives
    them, else with the cancellation the seller filed (never a kinder one), else as the
    market's doing."""
    cancellation = (
        snapshot.cancellation
        or filed
        or Cancellation(
            fault=CancelFault.MARKET,
            reason=CancelReason.OTHER,
            at=now,
            note="cancelled on the market",
        )
    )
    return OrderCancelled(ref=snapshot.order.ref, cancellation=cancellation)


def _truth(command: Command, snapshot: MarketOrderSnapshot, now: datetime) -> WorkflowEvent | None:
    """The event that says ``command`` already happened (or became moot), or ``None``."""
    status = snapshot.status
    ref = snapshot.order.ref
    if isinstance(command, AnswerBuyerRequest):
        if command.answer is BuyerRequestAnswer.ALREADY_SHIPPED:
            settled = status in _SHIPPED
        else:
            settled = status is MarketOrderStatus.CANCELLED
        if settled:
            return BuyerRequestAnswered(
                ref=ref, at=now, request_id=command.request_id, answer=command.answer
            )
        return None
    if status is MarketOrderStatus.CANCELLED:
        filed = command.cancellation if isinstance(command, CancelMarketOrder) else None
        return _cancelled_event(snapshot, now, filed)
    if isinstance(command, Acknowledge) and status in _ACKED:
        return MarketAcknowledged(ref=ref, at=now)
    if isinstance(command, UploadInvoice) and status in _SHIPPED:
        return InvoiceUploaded(ref=ref, at=now, tracking=snapshot.tracking or command.tracking)
    return None


def _reconcile_market(
    engine: Shell, run: Run, entry: OutboxEntry
) -> tuple[bool, list[WorkflowEvent]]:
    """For an entry with an unknown result: ``(send it?, events)``."""
    try:
        snapshot = engine.market.get_order(entry.ref)
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        exc = as_adapter_error(caught)
        if _definitive(exc):
            return False, _fail(run, entry, str(exc))
        run.retry(entry, exc)
        return False, []
    event = _truth(entry.command, snapshot, run.now)
    if event is None:
        return True, []
    run.done(entry, "reconciled: already done on the market")
    return False, [event]


def _market_failure(
    engine: Shell, run: Run, entry: OutboxEntry, message: str
) -> list[WorkflowEvent]:
    """A market command was refused: read the order before telling the workflow it failed."""
    try:
        snapshot = engine.market.get_order(entry.ref)
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        exc = as_adapter_error(caught)
        if _definitive(exc):
            return _fail(run, entry, f"{message}; {exc}")
        run.retry(entry, exc)
        return []
    event = _truth(entry.command, snapshot, run.now)
    if event is not None:
        run.done(entry, f"refused ({message}) but already settled on the market")
        return [event]
    return _fail(run, entry, message)


def _fail(
    run: Run, entry: OutboxEntry, message: str, *, out_of_stock: bool = False
) -> list[WorkflowEvent]:
    run.failed(entry, message)
    return [
        CommandFailed(
            ref=entry.ref,
            at=run.now,
            kind=entry.command.kind,
            message=message,
            out_of_stock=out_of_stock,
        )
    ]


# --------------------------------------------------------------------------------------
# Batched market commands
# --------------------------------------------------------------------------------------

_Sender = Callable[["Shell", "Run", list[OutboxEntry]], list[WorkflowEvent]]


def _batched(
    engine: Shell, run: Run, entries: list[OutboxEntry], limit: int, send: _Sender
) -> list[WorkflowEvent]:
    events: list[WorkflowEvent] = []
    to_send: list[OutboxEntry] = []
    for entry in entries:
        if run.is_fresh(entry):
            to_send.append(entry)
            continue
        go, found = _reconcile_market(engine, run, entry)
        events += found
        if go:
            to_send.append(entry)
    for start in range(0, len(to_send), max(1, limit)):
        events += send(engine, run, to_send[start : start + max(1, limit)])
    return events


def _settle_batch(
    engine: Shell,
    run: Run,
    chunk: list[OutboxEntry],
    call: Callable[[], Sequence[Any]],
    success: Callable[[OutboxEntry], WorkflowEvent],
) -> list[WorkflowEvent]:
    try:
        results = call()
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        exc = as_adapter_error(caught)
        if _definitive(exc):
            events: list[WorkflowEvent] = []
            for entry in chunk:
                events += _market_failure(engine, run, entry, str(exc))
            return events
        for entry in chunk:
            run.retry(entry, exc)
        return []
    by_ref = {result.ref: result for result in results}
    events = []
    for entry in chunk:
        result = by_ref.get(entry.ref)
        if result is None:
            run.retry(entry, None)
        elif result.ok:
            run.done(entry, "ok")
            events.append(success(entry))
        elif result.retryable:
            run.retry(entry, None, f"{result.code}: {result.message}")
        else:
            events += _market_failure(
                engine, run, entry, f"{result.code}: {result.message}".strip()
            )
    return events


def _send_acks(engine: Shell, run: Run, chunk: list[OutboxEntry]) -> list[WorkflowEvent]:
    return _settle_batch(
        engine,
        run,
        chunk,
        lambda: engine.market.acknowledge([e.ref for e in chunk]),
        lambda e: new_market_acknowledged(ref=e.ref, at=run.now),
    )


def _tracking_of(entry: OutboxEntry) -> UploadInvoice:
    command = entry.command
    assert isinstance(command, UploadInvoice)  # noqa: S101 - grouped by type
    return command


def _send_uploads(engine: Shell, run: Run, chunk: list[OutboxEntry]) -> list[WorkflowEvent]:
    uploads = [InvoiceUpload(ref=e.ref, tracking=_tracking_of(e).tracking) for e in chunk]
    return _settle_batch(
        engine,
        run,
        chunk,
        lambda: engine.market.upload_invoices(uploads),
        lambda e: new_invoice_uploaded(ref=e.ref, at=run.now, tracking=_tracking_of(e).tracking),
    )


# --------------------------------------------------------------------------------------
# One-by-one commands
# --------------------------------------------------------------------------------------


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
    moot = _placement_moot(engine.order(command.ref), command)
    try:
        if not run.is_fresh(entry):
            found = supplier.find_order(command.idempotency_key)
            if found is not None:  # placed after all: the workflow cancels it if unneeded
                run.done(entry, f"reconciled: {found.supplier_order_id}")
                return [_placed(command, found, engine)]
        if moot is not None:  # never pay for goods the order no longer needs
            return _fail(run, entry, f"not placed: {moot}")
        order = supplier.place_order(
            PlaceOrderRequest(
                order_ref=command.ref,
                supplier_id=command.supplier_id,
                item_id=command.item_id,
                quantity=command.quantity,
                idempotency_key=command.idempotency_key,
            )
        )
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        exc = as_adapter_error(caught)
        if _definitive(exc):
            sold_out = exc.vendor_code == VENDOR_CODE_STOCK_OUT
            return _fail(run, entry, str(exc), out_of_stock=sold_out)
        run.retry(entry, exc)
        return []
    run.done(entry, order.supplier_order_id)
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
        logger.error(  # noqa: TRY400 - a configuration problem, not a crash
            "order %s: cannot render message %r: %s",
            command.ref,
            command.template_id,
            exc,
            extra={"order_ref": str(command.ref)},
        )
        return _fail(run, entry, f"cannot render {command.template_id!r}: {exc}")
    messenger = engine.messenger
    if messenger is None:
        logger.info(
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
    if command.answer is BuyerRequestAnswer.ALREADY_SHIPPED and command.tracking is not None:
        # The answer registers the waybill on the market: that is the order's shipment, and
        # the ledger must see it (else it books the order late at its deadline).
        events += [
            InvoiceUploaded(ref=event.ref, at=event.at, tracking=command.tracking)
            for event in list(events)
            if isinstance(event, BuyerRequestAnswered)
        ]
    return events


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


_SINGLE: dict[type[Any], Callable[[Shell, Run, OutboxEntry], list[WorkflowEvent]]] = {
    PlaceSupplierOrder: _place,
    CancelSupplierOrder: _cancel_supplier,
    MessageBuyer: _message,
    CancelMarketOrder: _cancel_market,
    AnswerBuyerRequest: _answer,
}
