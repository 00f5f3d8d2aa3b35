"""The in-memory store: the values themselves, for tests, examples and the policy lab."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from consign_core.domain.model import OrderRef
from consign_core.domain.workflow._types import OrderState
from consign_core.store._types import JournalRecord, OutboxEntry, OutboxStatus, StoreBatch


__all__ = ["InMemoryStore"]


class InMemoryStore:
    """A :class:`~consign_core.engine.ports.Store` in memory: for tests, examples and the simulator.

    Keeps the values themselves (no encoding: the journal holds the records as given). A new
    engine over the same store object behaves like a restarted process: it sees exactly what
    was committed.
    """

    def __init__(self) -> None:
        """An empty store."""
        self._orders: dict[OrderRef, OrderState] = {}
        self._outbox: dict[int, OutboxEntry] = {}
        self._cursors: dict[str, str] = {}
        self._journal: dict[int, JournalRecord] = {}
        self._snapshots: dict[str, tuple[int, Any]] = {}
        self._last_outbox = 0
        self._last_seq = 0
        self.commits = 0
        """How many batches were committed."""

    def load_active(self) -> list[OrderState]:
        """Every non-terminal (or escalated) order state."""
        return [s for s in self._orders.values() if not s.is_terminal]

    def get_order(self, ref: OrderRef) -> OrderState | None:
        """One order's state."""
        return self._orders.get(ref)

    def known(self, refs: Iterable[OrderRef]) -> set[OrderRef]:
        """The subset of ``refs`` with a stored state."""
        return {ref for ref in refs if ref in self._orders}

    def pending_outbox(self) -> list[OutboxEntry]:
        """Outbox entries whose result is unknown, oldest first."""
        return [e for _, e in sorted(self._outbox.items()) if e.status is OutboxStatus.PENDING]

    def outbox(self) -> list[OutboxEntry]:
        """Every outbox entry, oldest first."""
        return [e for _, e in sorted(self._outbox.items())]

    def cursor(self, name: str) -> str | None:
        """A saved poll cursor."""
        return self._cursors.get(name)

    def snapshot(self, name: str) -> tuple[int, Any] | None:
        """A saved snapshot."""
        return self._snapshots.get(name)

    def journal_after(self, position: int) -> list[tuple[int, JournalRecord]]:
        """Journal records after ``position``, in order."""
        return [(seq, rec) for seq, rec in sorted(self._journal.items()) if seq > position]

    def last_ids(self) -> tuple[int, int]:
        """The highest outbox id and journal seq ever used."""
        return self._last_outbox, self._last_seq

    def orders(self) -> list[OrderState]:
        """Every order state, terminal or not."""
        return list(self._orders.values())

    def commit(self, batch: StoreBatch) -> None:
        """Apply ``batch`` (atomic: nothing here can fail half-way)."""
        if not batch:
            return
        self._orders.update(batch.states)
        self._outbox.update(batch.outbox)
        if batch.outbox:
            self._last_outbox = max(self._last_outbox, *batch.outbox)
        self._cursors.update(batch.cursors)
        for seq, record in batch.journal:
            self._journal[seq] = record
            self._last_seq = max(self._last_seq, seq)
        self._snapshots.update(batch.snapshots)
        for position, _ in batch.snapshots.values():
            self._last_seq = max(self._last_seq, position)
        if batch.prune_journal_through is not None:
            cut = batch.prune_journal_through
            self._journal = {seq: rec for seq, rec in self._journal.items() if seq > cut}
        self.commits += 1

    def close(self) -> None:
        """Nothing to release."""
