"""The engine's outbox bookkeeping for one run, and the truth about a command on the market.

:class:`Run` collects what one run commits and how each outbox entry ended; the helpers here
read the market's view of an order to tell whether a command with an unknown result already
happened (see :mod:`consign_core.engine._exec`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from consign_core.domain.events import (
    InvoiceUploaded,
    MarketAcknowledged,
    OrderCancelled,
)
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    OrderRef,
)
from consign_core.domain.workflow._types import (
    Acknowledge,
    AnswerBuyerRequest,
    BuyerRequestAnswer,
    BuyerRequestAnswered,
    CancelMarketOrder,
    Command,
    CommandFailed,
    OrderState,
    UploadInvoice,
    WorkflowEvent,
)
from consign_core.engine.ports import (
    BuyerMessenger,
    MarketOrderSnapshot,
    MarketOrderStatus,
    MarketPort,
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
    def source_option(self, sku: str, candidate: int, source: tuple[str, str]) -> str | None: ...


__all__ = ["Run", "Shell", "as_adapter_error"]

logger = logging.getLogger("consign_core.engine")

_ACKED = frozenset(
    {MarketOrderStatus.ACKNOWLEDGED, MarketOrderStatus.SHIPPED, MarketOrderStatus.DELIVERED}
)
_SHIPPED = frozenset({MarketOrderStatus.SHIPPED, MarketOrderStatus.DELIVERED})


class Run:
    """One engine run's bookkeeping: the batch to commit, the outbox outcomes, the counters."""

    def __init__(
        self,
        now: datetime,
        pending: dict[int, OutboxEntry],
        fresh: set[int],
        backoff: Callable[[int, AdapterError | None], timedelta],
        log: logging.Logger | None = None,
    ) -> None:
        self.now = now
        self.log = log if log is not None else logger
        self.batch = StoreBatch()
        self.tried: set[int] = set()
        self.sent = 0
        self.failed_count = 0
        self.retried = 0
        self.new_orders = 0
        self.events = 0
        self.escalations = 0
        self.poll_errors: list[str] = []
        self.answered: set[str] = set()
        """Supplier orders placed in this run whose placement answer showed them just placed:
        with an order feed the engine reads nothing more of them until the feed lists them."""
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
        self.log.warning(
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
        self.log.info(
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
