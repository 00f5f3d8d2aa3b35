"""The store port: what the engine persists, and the outbox entry it writes before every send.

:class:`Store` is a :class:`typing.Protocol`; :class:`~consign_core.store.InMemoryStore` and
:class:`~consign_core.store.SQLiteStore` implement it. A :class:`StoreBatch` is one transaction:
new order states, outbox entries and their results, cursors, journal lines and snapshots are
committed together or not at all.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple, Protocol, TypeAlias, runtime_checkable

import attrs

from consign_core.domain._prevalidated import prevalidated_maker
from consign_core.domain._validators import (
    aware_datetime,
    int_at_least,
    optional,
)
from consign_core.domain.decisions import DecisionRecord
from consign_core.domain.events import Event
from consign_core.domain.model import OrderRef
from consign_core.domain.workflow._types import Command, OrderState


__all__ = [
    "ClockAdvanced",
    "JournalRecord",
    "OrderWithdrawn",
    "OutboxEntry",
    "OutboxStatus",
    "StockReported",
    "Store",
    "StoreBatch",
    "new_outbox_entry",
]


class OutboxStatus(enum.Enum):
    """Where an outbox entry stands."""

    PENDING = "pending"
    """Recorded; the result is not known yet (maybe never sent, maybe sent and lost)."""
    DONE = "done"
    """Sent and the result recorded."""
    FAILED = "failed"
    """Refused for good; the workflow was told (``CommandFailed``)."""


@attrs.frozen(kw_only=True)
class OutboxEntry:
    """A state-changing command, recorded before it is sent and updated with its result."""

    entry_id: int = attrs.field(validator=int_at_least(1))
    """Unique, increasing id."""
    command: Command
    """The command (its ``ref`` names the order)."""
    status: OutboxStatus = OutboxStatus.PENDING
    """Pending, done or failed."""
    attempts: int = attrs.field(default=0, validator=int_at_least(0))
    """How many times it was sent (or reconciled) without a known result."""
    created_at: datetime = attrs.field(validator=aware_datetime)
    """When it was recorded."""
    next_attempt_at: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    """Not before this time (back-off after throttling or a timeout)."""
    result: str = ""
    """The outcome, in a few words (a supplier order number, an error message)."""

    @property
    def ref(self) -> OrderRef:
        """The order the command is about."""
        return self.command.ref


new_outbox_entry = prevalidated_maker(OutboxEntry)
"""An :class:`OutboxEntry` built without its validators, for the engine's own entries (made
from a command and times it validated itself)."""


class StockReported(NamedTuple):
    """Journal record: the supplier reported an item's stock."""

    supplier_id: str
    item_id: str
    stock: int
    at: datetime


class ClockAdvanced(NamedTuple):
    """Journal record: the cancel-rate ledger's clock moved to ``at`` (an engine run)."""

    at: datetime


class OrderWithdrawn(NamedTuple):
    """Journal record: the seller's cancel of a supplier order went through."""

    supplier_id: str
    supplier_order_id: str
    at: datetime


JournalRecord: TypeAlias = "Event | StockReported | ClockAdvanced | OrderWithdrawn"
"""What the journal holds: a lifecycle event fed to the trust model or the ledger, or one of
the engine's own records. A store keeps the values as they are (:class:`InMemoryStore`) or
encodes them (:class:`SQLiteStore`: compact JSON through the store codec); a record never
carries a buyer's personal data."""


class StoreBatch:
    """Everything one engine step writes; :meth:`Store.commit` applies it in one transaction.

    A plain mutable builder (not a value type): the engine fills it during a step.
    """

    __slots__ = (
        "cursors",
        "decisions",
        "ended",
        "journal",
        "outbox",
        "prune_journal_through",
        "snapshots",
        "states",
    )

    def __init__(self) -> None:
        """An empty batch."""
        self.states: dict[OrderRef, OrderState] = {}
        """Order states to write (insert or replace), by order."""
        self.outbox: dict[int, OutboxEntry] = {}
        """Outbox entries to write (insert or replace), by id."""
        self.cursors: dict[str, str] = {}
        """Poll cursors to save, by name."""
        self.journal: list[tuple[int, JournalRecord]] = []
        """``(seq, record)`` to append to the journal (see :data:`JournalRecord`)."""
        self.snapshots: dict[str, tuple[int, Any]] = {}
        """``name -> (journal position, JSON-ready data)`` to save."""
        self.prune_journal_through: int | None = None
        """Delete journal records with ``seq <=`` this (already in a snapshot)."""
        self.decisions: list[DecisionRecord] = []
        """Decision records to append to their orders' histories, in the order made."""
        self.ended: dict[OrderRef, datetime | None] = {}
        """Orders that ended (became terminal) at that time, or ``None`` for an order that is
        open again (escalated after it ended): the personal-data retention counts from it
        (:meth:`Store.purge_personal_data`). A time already recorded is kept."""

    def __bool__(self) -> bool:
        """True when there is something to write."""
        return bool(
            self.states
            or self.outbox
            or self.cursors
            or self.journal
            or self.snapshots
            or self.decisions
            or self.ended
            or self.prune_journal_through is not None
        )


@runtime_checkable
class Store(Protocol):
    """Durable state of one engine: order states, outbox, cursors, journal and snapshots.

    One engine (one process) owns a store at a time. Every :meth:`commit` is atomic: after a
    crash the store holds exactly the batches committed before it.
    """

    def load_active(self) -> list[OrderState]:
        """Every order state that is not terminal (or is escalated)."""
        ...

    def get_order(self, ref: OrderRef) -> OrderState | None:
        """One order's state, terminal or not; ``None`` if unknown."""
        ...

    def known(self, refs: Iterable[OrderRef]) -> set[OrderRef]:
        """The subset of ``refs`` the store has a state for."""
        ...

    def pending_outbox(self) -> list[OutboxEntry]:
        """Every outbox entry whose result is not known yet, oldest first."""
        ...

    def cursor(self, name: str) -> str | None:
        """A saved poll cursor."""
        ...

    def snapshot(self, name: str) -> tuple[int, Any] | None:
        """A saved snapshot: ``(journal position, data)``."""
        ...

    def journal_after(self, position: int) -> list[tuple[int, JournalRecord]]:
        """Journal records with ``seq > position``, in order (the values, decoded)."""
        ...

    def last_ids(self) -> tuple[int, int]:
        """The highest outbox id and journal seq ever used (0 when none)."""
        ...

    def decisions(self, ref: OrderRef) -> list[DecisionRecord]:
        """One order's decision records, oldest first (empty when none)."""
        ...

    def commit(self, batch: StoreBatch) -> None:
        """Apply ``batch`` atomically (one transaction).

        The buyer's delivery details (``state.order.recipient``) are kept apart from the
        order state, keyed by order, and put back on the order when it is read; a state
        without them does not remove what is kept.
        """
        ...

    def purge_personal_data(self, ended_before: datetime) -> int:
        """Forget the delivery details of every order that ended before ``ended_before``
        (per :attr:`StoreBatch.ended`); the order states stay, without them. An order that
        has not ended is never purged. Returns how many orders were purged."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...
