"""How the engine sends commands and reconciles unknown results (the outbox's other half).

Every function takes the outbox entries ready to go and returns the workflow events their
results produce. An entry created in this process and never attempted is *fresh* and is sent
directly; any other entry (inherited from before a restart, or whose last attempt timed out)
has an unknown result, so the engine asks the market or supplier for the truth first and
re-sends only when the truth says the command did not happen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from consign_core.domain._prevalidated import new_invoice_uploaded, new_market_acknowledged
from consign_core.domain.workflow._commands import SetListing
from consign_core.domain.workflow._types import (
    Acknowledge,
    AnswerBuyerRequest,
    CancelMarketOrder,
    CancelSupplierOrder,
    MessageBuyer,
    PlaceSupplierOrder,
    UploadInvoice,
    WorkflowEvent,
)
from consign_core.engine._exec_base import (
    Run,
    Shell,
    _definitive,
    _market_failure,
    _reconcile_market,
    as_adapter_error,
)
from consign_core.engine._exec_single import SINGLE
from consign_core.engine.ports import (
    InvoiceUpload,
    ListingPort,
)
from consign_core.store._types import OutboxEntry


__all__ = ["Run", "Shell", "as_adapter_error", "execute"]

# Order of execution within a round: the listing first (stop selling what is sold out before
# anything else), the supplier side, then messages (an apology goes out before the
# cancellation), then the market side.
_ORDER = (
    SetListing,
    PlaceSupplierOrder,
    CancelSupplierOrder,
    MessageBuyer,
    Acknowledge,
    UploadInvoice,
    CancelMarketOrder,
    AnswerBuyerRequest,
)


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
        elif cls is SetListing:
            for entry in entries:
                _send_listing(engine, run, entry)
        else:
            single = SINGLE[cls]
            for entry in entries:
                events += single(engine, run, entry)
    return events


def _send_listing(engine: Shell, run: Run, entry: OutboxEntry) -> None:
    """Stop or resume a listing. Idempotent, so an unknown result is simply sent again (no
    reconciliation); a refusal is logged and recorded, and no order hears of it."""
    command: object = entry.command  # the store types it as an order's command
    assert isinstance(command, SetListing)  # noqa: S101 - grouped by type
    market = engine.market
    if not isinstance(market, ListingPort):
        run.failed(entry, "the market port cannot set listings (no set_listing)")
        return
    try:
        market.set_listing(command.market_sku, selling=command.selling, quantity=command.quantity)
    except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
        exc = as_adapter_error(caught)
        if _definitive(exc):
            run.failed(entry, str(exc))
        else:
            run.retry(entry, exc, blind=True)
        return
    run.done(entry, "selling" if command.selling else "stopped")


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
