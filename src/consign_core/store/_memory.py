"""The in-memory store: the values themselves, for tests, examples and the policy lab."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from consign_core.domain.decisions import DecisionRecord
from consign_core.domain.model import OrderRef, Recipient
from consign_core.domain.workflow._types import OrderState
from consign_core.store._side_codec import with_recipient
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
        self._decisions: dict[OrderRef, list[DecisionRecord]] = {}
        # the buyers' delivery details, apart from the states (which are kept without them),
        # and when each of their orders ended (the retention counts from it)
        self._recipients: dict[OrderRef, Recipient] = {}
        self._ended: dict[OrderRef, datetime] = {}
        self._last_outbox = 0
        self._last_seq = 0
        self.commits = 0
        """How many batches were committed."""

    def load_active(self) -> list[OrderState]:
        """Every non-terminal (or escalated) order state."""
        active = [s for s in self._orders.values() if not s.is_terminal]
        if not self._recipients:
            return active
        return [self._attach(s) for s in active]

    def get_order(self, ref: OrderRef) -> OrderState | None:
        """One order's state."""
        state = self._orders.get(ref)
        return None if state is None else self._attach(state)

    def _attach(self, state: OrderState) -> OrderState:
        recipient = self._recipients.get(state.order.ref)
        return state if recipient is None else with_recipient(state, recipient)

    def recipients(self) -> dict[OrderRef, Recipient]:
        """The delivery details kept, by order (for tests: what a purge leaves)."""
        return dict(self._recipients)

    def purge_personal_data(self, ended_before: datetime) -> int:
        """Forget the delivery details of the orders that ended before ``ended_before``."""
        gone = [ref for ref, at in self._ended.items() if at < ended_before]
        for ref in gone:
            del self._ended[ref]
            self._recipients.pop(ref, None)
        return len(gone)

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

    def decisions(self, ref: OrderRef) -> list[DecisionRecord]:
        """One order's decision records, oldest first."""
        return list(self._decisions.get(ref, ()))

    def orders(self) -> list[OrderState]:
        """Every order state, terminal or not."""
        if not self._recipients:
            return list(self._orders.values())
        return [self._attach(s) for s in self._orders.values()]

    def commit(self, batch: StoreBatch) -> None:
        """Apply ``batch`` (atomic: nothing here can fail half-way)."""
        if not batch:
            return
        self._keep(batch)
        self._outbox.update(batch.outbox)
        if batch.outbox:
            self._last_outbox = max(self._last_outbox, *batch.outbox)
        self._cursors.update(batch.cursors)
        for seq, record in batch.journal:
            self._journal[seq] = record
            self._last_seq = max(self._last_seq, seq)
        self._snapshots.update(batch.snapshots)
        for decision in batch.decisions:
            self._decisions.setdefault(decision.ref, []).append(decision)
        for position, _ in batch.snapshots.values():
            self._last_seq = max(self._last_seq, position)
        if batch.prune_journal_through is not None:
            cut = batch.prune_journal_through
            self._journal = {seq: rec for seq, rec in self._journal.items() if seq > cut}
        self.commits += 1

    def _keep(self, batch: StoreBatch) -> None:
        """The batch's states, each without its order's delivery details (kept apart), and
        when orders ended."""
        for ref, state in batch.states.items():
            recipient = state.order.recipient
            if recipient is not None:
                self._recipients[ref] = recipient
                self._orders[ref] = with_recipient(state, None)
            else:
                self._orders[ref] = state
        for ref, at in batch.ended.items():
            if ref not in self._recipients:
                continue  # nothing personal to purge
            if at is None:
                self._ended.pop(ref, None)  # open again: never purged while open
            else:
                self._ended.setdefault(ref, at)

    def close(self) -> None:
        """Nothing to release."""
