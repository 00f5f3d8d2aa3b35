"""An order's decision history: what was decided about it, when, why and on which figures.

Every time the confirmation policy answers for an order (confirm now, wait for tracking,
escalate to a person), every time the workflow hands an order to a person for a reason of its
own (the ship-by deadline is near, the supplier's price rose, the SKU has no supplier), and
every time a person decides about an order (a
:class:`~consign_core.domain.workflow.ManualDecision`), the engine keeps one
:class:`DecisionRecord`: the time, the :class:`DecisionKind`, the one-line reason a seller can
read, and the figures behind it (probabilities, expected costs, headroom). Records are written
in the same store transaction as the state change the decision caused, so after a crash the
history holds exactly the decisions whose effects were kept. Read it with
:meth:`consign_core.engine.Engine.decisions` (oldest first) or ``consign-core decisions``.

What counts as a new record
===========================

A waiting order is asked again at every re-check (every 6 or 12 hours with the built-in
policies) and whenever news about it arrives. A re-check that reaches the **same kind of
decision for the same reason** as the order's previous record is not a new decision: nothing
is recorded (the engine logs it at DEBUG). A changed reason (the trust model's view moved, the
costs changed, the wait now ends at another time) is a new record. So the trust-threshold
policy waiting on an unproven supplier for three days leaves one record, not six, and the
expected-cost policy, whose reason quotes both costs, leaves one per re-check at most.

To keep the history small whatever a custom policy does, an order keeps at most
:data:`MAX_DECISIONS_PER_ORDER` records of the same kind in a row: past that, only a decision
of another kind than the previous record is recorded (a wait that finally becomes a
confirmation or an escalation is always kept). :func:`worth_recording` is the rule.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from consign_core._exports import publish
from consign_core.domain._validators import aware_datetime, instance_of, member_of, non_empty_str
from consign_core.domain.model import OrderRef
from consign_core.domain.timing._types import ConfirmNow, Decision, Escalate
from consign_core.errors import ValidationError


__all__ = [
    "MAX_DECISIONS_PER_ORDER",
    "SIGNIFICANT_DIGITS",
    "DecisionKind",
    "DecisionRecord",
    "decision_kind",
    "round_numbers",
    "worth_recording",
]


MAX_DECISIONS_PER_ORDER = 48
"""At most this many records of the same kind in a row per order (see the module notes)."""

SIGNIFICANT_DIGITS = 6
"""A record keeps its numbers to this many significant digits: enough to read and to compare
the costs, and the history stays small (a probability is stored as ``0.105110``, not
``0.10511046285801767``)."""


class DecisionKind(str, enum.Enum):
    """What was decided about an order (the value is what the CLI and JSON show)."""

    CONFIRM_NOW = "confirm-now"
    """Acknowledge the order on the market now (발주확인)."""
    WAIT = "wait"
    """Do not confirm yet: wait for the supplier's tracking, ask again later."""
    ESCALATE = "escalate"
    """Hand the order to a person (the policy's answer or the workflow's own reason)."""
    MANUAL = "manual"
    """A person decided (a :class:`~consign_core.domain.workflow.ManualDecision`)."""

    def __str__(self) -> str:
        return self.value


def round_numbers(numbers: Mapping[str, float]) -> dict[str, float]:
    """``numbers`` to :data:`SIGNIFICANT_DIGITS` significant digits, as a record keeps them
    (values must be floats already; infinities and NaN stay as they are)."""
    return {key: float(f"{value:.6g}") for key, value in numbers.items()}


def _numbers(value: object) -> dict[str, float]:
    """``numbers`` as a plain ``dict[str, float]`` rounded by :func:`round_numbers`; anything
    else is a ValidationError."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        msg = f"DecisionRecord.numbers must be a mapping of names to numbers, got {value!r}"
        raise ValidationError(msg, field="numbers", value=value)
    out: dict[str, float] = {}
    for key, number in value.items():
        if not isinstance(key, str) or isinstance(number, bool):
            msg = f"DecisionRecord.numbers[{key!r}] must be a number named by a str, got {number!r}"
            raise ValidationError(msg, field="numbers", value=value)
        try:
            out[key] = float(number)
        except (TypeError, ValueError):
            msg = f"DecisionRecord.numbers[{key!r}] must be a number, got {number!r}"
            raise ValidationError(msg, field="numbers", value=value) from None
    return round_numbers(out)


def _kind(value: object) -> object:
    """A kind given as its value (``"wait"``) becomes the member; anything else is left for
    the validator to name."""
    if isinstance(value, str) and not isinstance(value, DecisionKind):
        try:
            return DecisionKind(value)
        except ValueError:
            return value
    return value


@attrs.frozen(kw_only=True)
class DecisionRecord:
    """One decision about one order, as the engine keeps it in the store."""

    ref: OrderRef = attrs.field(validator=instance_of(OrderRef))
    """The order."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When it was decided (the engine run's time)."""
    kind: DecisionKind = attrs.field(converter=_kind, validator=member_of(DecisionKind))
    """Confirm now, wait, escalate, or a person's decision."""
    reason: str = attrs.field(validator=non_empty_str)
    """One line a seller can read (names suppliers and figures, never the buyer)."""
    numbers: dict[str, float] = attrs.field(default=None, converter=_numbers, hash=False)
    """The figures behind the decision, by name (e.g. ``cost_confirm``, ``cost_wait``,
    ``p_fail``), to :data:`SIGNIFICANT_DIGITS` significant digits; empty for a person's
    decision or an escalation of the workflow's own."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``at`` in ISO 8601, ``kind`` as its value; a number that is not finite
        (no built-in policy gives one) becomes ``null``."""
        return {
            "ref": str(self.ref),
            "at": self.at.isoformat(),
            "kind": self.kind.value,
            "reason": self.reason,
            "numbers": {k: (v if math.isfinite(v) else None) for k, v in self.numbers.items()},
        }


def decision_kind(decision: Decision) -> DecisionKind:
    """The kind of a policy's :data:`~consign_core.domain.timing.Decision`."""
    if isinstance(decision, ConfirmNow):
        return DecisionKind.CONFIRM_NOW
    if isinstance(decision, Escalate):
        return DecisionKind.ESCALATE
    return DecisionKind.WAIT


def worth_recording(
    previous: tuple[DecisionKind, str] | None,
    same_kind_in_a_row: int,
    kind: DecisionKind,
    reason: str,
) -> bool:
    """Whether a decision ``(kind, reason)`` is a new record for its order.

    ``previous`` is the order's last record's ``(kind, reason)`` (``None``: no record yet) and
    ``same_kind_in_a_row`` how many records of that kind end the history. A repeat of the
    previous record is not recorded; neither is a decision of the previous kind once
    :data:`MAX_DECISIONS_PER_ORDER` of that kind are in a row.
    """
    if previous is None:
        return True
    if previous[0] is not kind:
        return True
    return previous[1] != reason and same_kind_in_a_row < MAX_DECISIONS_PER_ORDER


publish(__name__, __all__)
