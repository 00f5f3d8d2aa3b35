"""The engine's decision history: one :class:`~consign_core.domain.decisions.DecisionRecord` per
decision, in the same store batch as the state change it caused, and one INFO line each.

How the engine sees a decision: the workflow asks the policy through the context's ``decide``
callable, which the engine owns; :class:`DecisionTap` wraps it and keeps the last answer (with
its numbers). After the step, the step's result says what became of it (the workflow may turn
a policy's "confirm now" into a wait, e.g. after a sold-out notice): the record's kind is read
from the new state (acknowledgement pending: confirm now; escalated: escalate; otherwise: wait)
and its reason is the state's ``last_reason`` (the policy's reason, or the workflow's own). An
escalation the workflow decides by itself (deadline near, price rise, no source) and a
person's :class:`~consign_core.domain.workflow.ManualDecision` are recorded too.

What is recorded follows :func:`~consign_core.domain.decisions.worth_recording`: a re-check
that repeats the previous record (same kind, same reason) is logged at DEBUG only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from consign_core.domain._prevalidated import prevalidated_maker
from consign_core.domain.decisions import (
    DecisionKind,
    DecisionRecord,
    round_numbers,
    worth_recording,
)
from consign_core.domain.model import MarketOrder, OrderRef
from consign_core.domain.timing import Decision, SupplierOrderState
from consign_core.domain.workflow import (
    Decider,
    EscalateOrder,
    ManualAction,
    ManualDecision,
    OrderState,
    Progress,
    StepResult,
)
from consign_core.errors import ValidationError
from consign_core.store._types import Store, StoreBatch


__all__ = ["DecisionLog", "DecisionTap"]

_new_record = prevalidated_maker(DecisionRecord)
"""Records built from values the engine validated already (its run time, a policy's decision)."""

_PRUNE_MIN = 4096
"""Forget the last records of finished orders once this many (or twice the active ones) are kept."""

_Last = tuple[DecisionKind, str, int]
"""An order's last record: its kind, its reason, and how many of that kind end the history."""


class DecisionTap:
    """The ``decide`` callable the workflow calls: the configured one, remembering its answer."""

    __slots__ = ("decide", "last")

    def __init__(self, decide: Decider) -> None:
        self.decide = decide
        self.last: Decision | None = None
        """The last answer since the engine cleared it (before each step)."""

    def __call__(  # noqa: PLR0917 - the Decider protocol is positional
        self,
        order: MarketOrder,
        now: datetime,
        supplier_id: str,
        item_id: str,
        supplier_state: SupplierOrderState,
        placed_at: datetime | None,
        alternates: int = 0,
        /,
    ) -> Decision:
        decision = self.decide(
            order, now, supplier_id, item_id, supplier_state, placed_at, alternates
        )
        self.last = decision
        return decision


def _manual_reason(event: ManualDecision) -> str:
    """A person's decision in one line (the free-text note stays out: it may quote the buyer)."""
    action = event.action
    if action is ManualAction.WAIT and event.until is not None:
        return f"a person decided: wait, ask the policy again at {event.until.isoformat()}"
    if action is ManualAction.CANCEL and event.reason is not None:
        return f"a person decided: cancel ({event.reason.value}, {event.fault.value} fault)"
    if action is ManualAction.SHIP:
        return "a person decided: ship with the waybill they gave"
    return f"a person decided: {action.value}"


class DecisionLog:
    """Records decisions into run batches and logs them (a part of the engine)."""

    __slots__ = ("_active", "_last", "_log", "_prune_at", "_store", "tap")

    def __init__(self, store: Store, log: logging.Logger) -> None:
        self._store = store
        self._log = log
        self._last: dict[OrderRef, _Last | None] = {}
        self._active: Mapping[OrderRef, object] = {}
        self._prune_at = _PRUNE_MIN
        self.tap: DecisionTap | None = None

    def wrap(self, decide: Decider, active: Mapping[OrderRef, object]) -> DecisionTap:
        """The tap around ``decide`` (a fresh one on each load: the old answers are gone);
        ``active`` is the engine's live mapping of active orders (the others are forgotten)."""
        self._last = {}  # memory may hold records a failed run never committed
        self._active = active
        self._prune_at = _PRUNE_MIN
        self.tap = DecisionTap(decide)
        return self.tap

    def records(self, ref: object) -> list[DecisionRecord]:
        """One order's history, oldest first, as committed."""
        if not isinstance(ref, OrderRef):
            msg = f"ref must be an OrderRef (e.g. OrderRef(market='coupang', ...)), got {ref!r}"
            raise ValidationError(msg, field="ref", value=ref)
        return self._store.decisions(ref)

    def after_step(
        self,
        before: OrderState | None,
        result: StepResult,
        event: object,
        batch: StoreBatch,
        now: datetime,
    ) -> None:
        """Record what the step that took ``before`` to ``result`` decided, if anything: the
        policy's answer, a person's decision, an escalation of the workflow's own."""
        tap = self.tap
        decision = None if tap is None else tap.last
        new = result.state
        ref = new.order.ref
        if before is None:
            self._last[ref] = None  # a new order: no history to read back
        escalated = False
        if decision is not None or type(event) is ManualDecision:
            escalated = self._decided(before, new, event, decision, batch, now)
        elif (
            before is not None
            and before.ack is Progress.NONE
            and new.ack is not Progress.NONE
            and new.tracking is not None
        ):  # the wait is over: tracking came, so the workflow confirms without asking
            reason = f"{new.supplier_id} registered tracking; confirm and upload it"
            hours = (now - new.order.paid_at).total_seconds() / 3600
            numbers = {"hours_since_paid": hours}
            self._add(ref, now, DecisionKind.CONFIRM_NOW, reason, numbers=numbers, batch=batch)
        if not escalated:
            for command in result.commands:
                if type(command) is EscalateOrder:
                    self._add(
                        ref, now, DecisionKind.ESCALATE, command.reason, numbers={}, batch=batch
                    )
        if len(self._last) > self._prune_at:  # finished orders decide nothing more
            active = self._active
            self._last = {r: v for r, v in self._last.items() if r in active}
            self._prune_at = max(_PRUNE_MIN, 2 * len(self._last))

    def _decided(  # noqa: PLR0917 - private, called from one place
        self,
        before: OrderState | None,
        new: OrderState,
        event: object,
        decision: Decision | None,
        batch: StoreBatch,
        now: datetime,
    ) -> bool:
        """Record a person's decision and the policy's answer; True if the answer was the
        escalation among the step's commands."""
        ref = new.order.ref
        if type(event) is ManualDecision:
            self._add(ref, now, DecisionKind.MANUAL, _manual_reason(event), numbers={}, batch=batch)
        if decision is None:
            return False
        if new.escalation is not None and (before is None or before.escalation is None):
            kind = DecisionKind.ESCALATE
        elif new.ack is not Progress.NONE and (before is None or before.ack is Progress.NONE):
            kind = DecisionKind.CONFIRM_NOW
        else:
            kind = DecisionKind.WAIT
        reason = new.last_reason or decision.reason
        self._add(ref, now, kind, reason, numbers=decision.numbers, batch=batch)
        return kind is DecisionKind.ESCALATE

    def _add(
        self,
        ref: OrderRef,
        now: datetime,
        kind: DecisionKind,
        reason: str,
        *,
        numbers: Mapping[str, float],
        batch: StoreBatch,
    ) -> None:
        # an order loaded from the store: read its history's end, once
        last = self._last[ref] if ref in self._last else _tail(self._store.decisions(ref))
        previous = None if last is None else (last[0], last[1])
        in_a_row = 0 if last is None else last[2]
        if not worth_recording(previous, in_a_row, kind, reason):
            self._last[ref] = last
            if self._log.isEnabledFor(logging.DEBUG):
                self._log.debug(
                    "order %s: %s again (not recorded): %s",
                    ref,
                    kind.value,
                    reason,
                    extra={"order_ref": str(ref)},
                )
            return
        batch.decisions.append(
            _new_record(ref=ref, at=now, kind=kind, reason=reason, numbers=round_numbers(numbers))
        )
        self._last[ref] = (
            kind,
            reason,
            in_a_row + 1 if last is not None and last[0] is kind else 1,
        )
        self._log.info(
            "order %s: decision %s: %s", ref, kind.value, reason, extra={"order_ref": str(ref)}
        )


def _tail(records: list[DecisionRecord]) -> _Last | None:
    if not records:
        return None
    last = records[-1]
    in_a_row = 0
    for record in reversed(records):
        if record.kind is not last.kind:
            break
        in_a_row += 1
    return last.kind, last.reason, in_a_row
