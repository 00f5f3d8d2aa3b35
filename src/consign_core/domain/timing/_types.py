"""Decision types, the policy protocol and the safety net shared by every timing policy."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol, TypeAlias, runtime_checkable

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    fail,
    instance_of,
    int_at_least,
    member_of,
    non_empty_str,
)
from consign_core.domain.cancel_rate import Headroom
from consign_core.domain.model import MarketOrder
from consign_core.domain.rules import RuleProfile
from consign_core.domain.trust import TrustAssessment, TrustTier
from consign_core.domain.trust._types import check_instance
from consign_core.errors import ConsignError, PolicyError, ValidationError


__all__ = [
    "ConfirmNow",
    "ConfirmationPolicy",
    "Decision",
    "DecisionContext",
    "Escalate",
    "SupplierOrderState",
    "WaitForInvoice",
    "decide_safely",
    "last_safe_moment",
]


class SupplierOrderState(enum.Enum):
    """Where the supplier side of a market order stands when a decision is asked for."""

    NOT_PLACED = "not_placed"
    """No supplier order yet."""
    PLACED = "placed"
    """Ordered at the supplier, no answer yet."""
    CONFIRMED = "confirmed"
    """The supplier accepted it and is preparing it."""
    INVOICED = "invoiced"
    """The supplier registered a waybill (운송장)."""
    CANCELLED = "cancelled"
    """The supplier cancelled it."""


def _numbers(value: Mapping[str, float] | None) -> dict[str, float]:
    return {} if value is None else {str(k): float(v) for k, v in value.items()}


@attrs.frozen(kw_only=True)
class ConfirmNow:
    """Acknowledge the order on the market now (발주확인)."""

    reason: str = attrs.field(validator=non_empty_str)
    """One line a seller can read."""
    numbers: dict[str, float] = attrs.field(factory=dict, converter=_numbers, hash=False)
    """The figures behind the decision (probabilities, costs, headroom)."""


@attrs.frozen(kw_only=True)
class WaitForInvoice:
    """Do not confirm yet: confirm when tracking arrives; ask again at ``recheck_at``.

    ``until`` is the last moment this wait is meant to last (at most the last safe moment
    before the market's deadline); ``recheck_at`` is when the policy wants to be asked again,
    never later than ``until``.
    """

    until: datetime = attrs.field(validator=aware_datetime)
    """Wait at most until then."""
    recheck_at: datetime = attrs.field(validator=aware_datetime)
    """Ask the policy again at this time (probabilities change as time passes)."""
    reason: str = attrs.field(validator=non_empty_str)
    """One line a seller can read."""
    numbers: dict[str, float] = attrs.field(factory=dict, converter=_numbers, hash=False)
    """The figures behind the decision."""

    @recheck_at.validator
    def _recheck_not_after_until(
        self, attribute: attrs.Attribute[datetime], value: datetime
    ) -> None:
        if value > self.until:
            fail(self, attribute, value, f"at or before until ({self.until.isoformat()})")


@attrs.frozen(kw_only=True)
class Escalate:
    """Hand the order to a person (e.g. a large group order from an unproven supplier)."""

    reason: str = attrs.field(validator=non_empty_str)
    """What the person needs to look at, in one line."""
    numbers: dict[str, float] = attrs.field(factory=dict, converter=_numbers, hash=False)
    """The figures behind the decision."""


Decision: TypeAlias = ConfirmNow | WaitForInvoice | Escalate
"""Any confirmation-timing decision."""


@attrs.frozen(kw_only=True)
class DecisionContext:
    """Everything a policy may look at to decide one order. Pure data: no clock, no I/O."""

    order: MarketOrder = attrs.field(validator=instance_of(MarketOrder))
    """The market order (lines, quantity, value, ``paid_at``, ``ship_by``)."""
    now: datetime = attrs.field(validator=aware_datetime)
    """The decision time."""
    trust: TrustAssessment = attrs.field(validator=instance_of(TrustAssessment))
    """The trust model's assessment of this order's supplier for this quantity and deadline."""
    headroom: Headroom = attrs.field(validator=instance_of(Headroom))
    """How many more seller-fault cancels like this order reach the thresholds."""
    profile: RuleProfile = attrs.field(validator=instance_of(RuleProfile))
    """The market's rule profile."""
    supplier_state: SupplierOrderState = attrs.field(
        default=SupplierOrderState.PLACED, validator=member_of(SupplierOrderState)
    )
    """The supplier order's state."""
    placed_at: datetime | None = attrs.field(default=None)
    """When the supplier order was placed (``None`` if not yet)."""
    alternates: int = attrs.field(default=0, validator=int_at_least(0))
    """Alternate supplier sources the workflow would still try if this supplier fails while the
    order is unconfirmed, and would not try once it is confirmed (0 when it reroutes either way)."""
    unconfirmed_cancel_counts: bool = attrs.field(default=True, validator=instance_of(bool))
    """Whether a supplier failure before confirmation, with no alternate left, still ends in a
    cancellation that the market counts against the seller. It does on the built-in profiles
    when the seller cancels (the reason stays ``stock_out``; Coupang counts stock-outs whoever
    cancels), so by default waiting avoids a penalty only by rerouting."""

    @placed_at.validator
    def _placed_at_aware(self, attribute: attrs.Attribute[datetime | None], value: object) -> None:
        if value is not None:
            aware_datetime(self, attribute, value)


@runtime_checkable
class ConfirmationPolicy(Protocol):
    """A confirmation-timing policy: a pure function from a context to a decision.

    Implementations must be deterministic (same context, same decision) and must not read
    the clock. Call policies through :func:`decide_safely`, which enforces the safety rules
    that hold for every policy.

    A waiting order is asked about again at the decision's ``recheck_at`` and whenever news
    about it arrives. One piece of news is optional to act on: the supplier confirming its
    order (``supplier_state`` going from ``PLACED`` to ``CONFIRMED``). A policy whose decisions
    never depend on that may say so with a class attribute ``watches_supplier_confirmation =
    False``, and the workflow then skips that re-ask (see
    :func:`watches_supplier_confirmation`); without the attribute it is re-asked.
    """

    @property
    def name(self) -> str:
        """A short, stable name, e.g. ``"expected-cost"``."""
        ...

    def decide(self, context: DecisionContext) -> Decision:
        """Decide what to do with ``context.order`` at ``context.now``."""
        ...


def watches_supplier_confirmation(policy: object) -> bool:
    """Whether ``policy`` wants to be asked again when the supplier confirms an order.

    Reads the policy's optional ``watches_supplier_confirmation`` attribute (``True`` when it
    has none, so custom policies keep being re-asked); anything but a bool there raises
    :class:`~consign_core.errors.ValidationError`.
    """
    value = getattr(policy, "watches_supplier_confirmation", True)
    if not isinstance(value, bool):
        msg = f"watches_supplier_confirmation must be True or False, got {value!r}"
        raise ValidationError(msg, field="watches_supplier_confirmation", value=value)
    return value


DEFAULT_SAFETY_MARGIN = timedelta(hours=4)
"""How long before the market's ship-by deadline an unconfirmed order stops waiting."""


MIN_RECHECK = timedelta(minutes=5)
"""The shortest interval between two re-asks of the same order (guards against busy loops)."""


_NO_TIME = timedelta(0)


def last_safe_moment(order: MarketOrder, margin: timedelta = DEFAULT_SAFETY_MARGIN) -> datetime:
    """The last moment an order may stay unconfirmed: ``ship_by - margin`` (not before paid_at).

    ``margin`` must be a timedelta >= 0 (a negative one would let a wait run past the
    deadline): anything else raises :class:`~consign_core.errors.ValidationError`.
    """
    _check_margin(margin)
    return max(order.paid_at, order.ship_by - margin)


def _check_margin(margin: object) -> None:
    if not isinstance(margin, timedelta) or margin < _NO_TIME:
        msg = f"margin must be a timedelta >= 0, got {margin!r}"
        raise ValidationError(msg, field="margin", value=margin)


def decide_safely(
    policy: ConfirmationPolicy,
    context: DecisionContext,
    *,
    margin: timedelta = DEFAULT_SAFETY_MARGIN,
) -> Decision:
    """Ask ``policy`` and enforce the rules every policy must keep.

    1. Tracking has arrived (``INVOICED``): confirm; there is nothing left to wait for.
    2. The supplier order was cancelled: never confirm; escalate (the workflow reroutes or
       cancels the order with its honest reason).
    3. A quarantined supplier, or a quantity above the supplier's reported stock, is never
       confirmed before tracking: a ``ConfirmNow`` becomes a wait (or an escalation at the end).
    4. A wait never outlasts the last safe moment before the deadline; at or after that moment an
       order that is still unconfirmed is escalated to a person, never silently left to go late.

    A policy that raises, or returns something other than a :data:`Decision`, is reported as
    a :class:`~consign_core.errors.PolicyError` naming the policy and the order (the original
    exception chained as its cause); the workflow escalates that order and goes on.
    """
    check_instance(context, DecisionContext, "context")
    safe_until = last_safe_moment(context.order, margin)  # checks margin first
    state = context.supplier_state
    trust = context.trust
    if state is SupplierOrderState.INVOICED:
        return ConfirmNow(reason=f"{trust.supplier_id} registered tracking; confirm and upload it")
    if state is SupplierOrderState.CANCELLED:
        return Escalate(
            reason=f"{trust.supplier_id} cancelled the supplier order; reroute or cancel",
        )
    decision = _ask(policy, context)
    blocked = trust.tier is TrustTier.QUARANTINED or trust.stock_exceeded
    if isinstance(decision, ConfirmNow) and blocked:
        why = (
            f"{context.order.quantity} units exceed {trust.supplier_id}'s reported stock"
            if trust.stock_exceeded
            else f"{trust.supplier_id} is quarantined"
        )
        decision = WaitForInvoice(
            until=safe_until,
            recheck_at=safe_until,
            reason=f"{why}; wait for tracking",
            numbers=decision.numbers,
        )
    if isinstance(decision, WaitForInvoice):
        if context.now >= safe_until:
            return Escalate(
                reason=(
                    f"no tracking from {trust.supplier_id} and the ship-by deadline "
                    f"{context.order.ship_by.isoformat()} is near; a person must decide"
                ),
                numbers=decision.numbers,
            )
        until = decision.until if context.now < decision.until <= safe_until else safe_until
        recheck = decision.recheck_at
        if not context.now < recheck <= until:
            recheck = min(until, context.now + MIN_RECHECK)
        if (until, recheck) != (decision.until, decision.recheck_at):
            decision = attrs.evolve(decision, until=until, recheck_at=recheck)
    return decision


_DECISIONS = (ConfirmNow, WaitForInvoice, Escalate)


def _ask(policy: ConfirmationPolicy, context: DecisionContext) -> Decision:
    """``policy.decide(context)``, or a :class:`PolicyError` if it raises or returns junk."""
    try:
        decision: object = policy.decide(context)
    except Exception as exc:
        # A library error keeps its message (none holds secrets or buyers' details); anything
        # else is named by its type only (chained as the cause): its text is the policy's own
        # and may quote the context, buyer included.
        detail = f" ({exc})" if isinstance(exc, ConsignError) else ""
        raise _policy_error(policy, context, f"raised {type(exc).__name__}", detail) from exc
    if not isinstance(decision, _DECISIONS):
        raise _policy_error(
            policy,
            context,
            f"returned a {type(decision).__name__}",
            ", not a decision (ConfirmNow, WaitForInvoice or Escalate)",
        )
    return decision


def _policy_error(
    policy: object, context: DecisionContext, what: str, detail: str = ""
) -> PolicyError:
    """``policy 'x' raised KeyError deciding order coupang:1`` (+ ``detail``)."""
    name = _policy_label(policy)
    order = str(context.order.ref)
    msg = f"policy {name!r} {what} deciding order {order}{detail}"
    return PolicyError(msg, policy=name, order=order)


def _policy_label(policy: object) -> str:
    """A policy's ``name`` if it is a usable string, else its class name (for messages)."""
    try:
        name = policy.name  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a broken ``name`` property must not hide the report
        name = None
    return name if isinstance(name, str) and name else type(policy).__name__
