"""The confirmation-timing policies: two baselines, the seller's hybrid rule and the cost model."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, ClassVar

import attrs

from consign_core.domain._validators import (
    fail,
    finite_float,
    instance_of,
    int_at_least,
    probability,
)
from consign_core.domain.calendar import KST
from consign_core.domain.timing._types import (
    DEFAULT_SAFETY_MARGIN,
    ConfirmationPolicy,
    ConfirmNow,
    Decision,
    DecisionContext,
    Escalate,
    WaitForInvoice,
    last_safe_moment,
)
from consign_core.domain.trust import TrustTier
from consign_core.errors import ConfigurationError


__all__ = [
    "DEFAULT_POLICY_NAMES",
    "AwaitInvoice",
    "ConfirmImmediately",
    "ExpectedCost",
    "ExpectedCostWeights",
    "TrustThreshold",
    "make_policy",
    "policy_names",
]


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    finite_float(instance, attribute, value)
    if value < 0:
        fail(instance, attribute, value, "a number >= 0")


def _positive_delta(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        fail(instance, attribute, value, "a timedelta >= 0")


def _when(moment: datetime) -> str:
    text = _WHEN.get(moment)
    if text is None:
        if len(_WHEN) >= _WHEN_LIMIT:
            _WHEN.clear()
        text = _WHEN[moment] = moment.astimezone(KST).strftime("%a %m-%d %H:%M KST")
    return text


_WHEN: dict[datetime, str] = {}
"""Formatted deadlines: every re-ask of a waiting order names the same one."""
_WHEN_LIMIT = 4096


def _units(quantity: int) -> str:
    return "1 unit" if quantity == 1 else f"{quantity} units"


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


@attrs.frozen(kw_only=True)
class ConfirmImmediately:
    """Baseline: confirm every order the moment it arrives (what most sellers do today)."""

    name: ClassVar[str] = "confirm-immediately"
    watches_supplier_confirmation: ClassVar[bool] = False
    """Its decisions do not depend on the supplier confirming: no re-ask when it does."""

    def decide(self, context: DecisionContext) -> Decision:
        """Always :class:`ConfirmNow`."""
        trust = context.trust
        return ConfirmNow(
            reason=f"confirm every order at once (baseline); {trust.supplier_id} p(cancel)="
            f"{_pct(trust.p_cancel)}",
            numbers={"p_cancel": trust.p_cancel},
        )


@attrs.frozen(kw_only=True)
class AwaitInvoice:
    """Baseline: confirm when tracking arrives, or at the last safe moment before the deadline."""

    name: ClassVar[str] = "await-invoice"
    watches_supplier_confirmation: ClassVar[bool] = False
    """Its decisions do not depend on the supplier confirming: no re-ask when it does."""
    margin: timedelta = attrs.field(default=DEFAULT_SAFETY_MARGIN, validator=_positive_delta)
    """How long before the ship-by deadline waiting stops."""

    def decide(self, context: DecisionContext) -> Decision:
        """Wait for the waybill until ``ship_by - margin``, then confirm."""
        until = last_safe_moment(context.order, self.margin)
        trust = context.trust
        numbers = {"p_invoice_by_deadline": trust.p_invoice_by_deadline}
        if context.now >= until:
            return ConfirmNow(
                reason=f"no tracking yet from {trust.supplier_id}; the deadline is near: confirm",
                numbers=numbers,
            )
        return WaitForInvoice(
            until=until,
            recheck_at=until,
            reason=f"always wait for tracking (baseline), at most until {_when(until)}",
            numbers=numbers,
        )


@attrs.frozen(kw_only=True)
class TrustThreshold:
    """The seller's hybrid rule: trusted suppliers at once, others wait for tracking.

    An order is confirmed at once when its supplier is not risky or quarantined, the one-sided
    upper bound of P(supplier cancels) is at most ``max_cancel_upper``, the order has fewer than
    ``group_quantity`` units, and the seller still has at least ``min_headroom`` seller-fault
    cancels to spare before a warning. Everything else waits for tracking until the last safe
    moment, then goes to a person.
    """

    name: ClassVar[str] = "trust-threshold"
    watches_supplier_confirmation: ClassVar[bool] = False
    """Its decisions do not depend on the supplier confirming: no re-ask when it does."""
    max_cancel_upper: float = attrs.field(default=0.05, validator=probability)
    """Confirm at once only if the upper bound of P(cancel) is at most this."""
    group_quantity: int = attrs.field(default=10, validator=int_at_least(1))
    """Orders of this many units or more always wait for tracking."""
    min_headroom: int = attrs.field(default=1, validator=int_at_least(0))
    """Confirm at once only with at least this many seller-fault cancels left before a warning."""
    recheck_every: timedelta = attrs.field(default=timedelta(hours=6), validator=_positive_delta)
    """How often a waiting order is looked at again."""
    margin: timedelta = attrs.field(default=DEFAULT_SAFETY_MARGIN, validator=_positive_delta)
    """How long before the ship-by deadline waiting stops."""

    def decide(self, context: DecisionContext) -> Decision:
        """Confirm trusted, small orders at once; wait for the rest."""
        trust = context.trust
        quantity = context.order.quantity
        headroom = context.headroom.cancels_to_warning
        numbers = {
            "p_cancel": trust.p_cancel,
            "p_cancel_upper": trust.p_cancel_upper,
            "quantity": float(quantity),
            "cancels_to_warning": -1.0 if headroom is None else float(headroom),
        }
        why_wait = None
        if trust.tier in {TrustTier.RISKY, TrustTier.QUARANTINED}:
            why_wait = f"{trust.supplier_id} is {trust.tier.value}"
        elif trust.p_cancel_upper > self.max_cancel_upper:
            why_wait = (
                f"{trust.supplier_id} p(cancel) up to {_pct(trust.p_cancel_upper)} "
                f"> {_pct(self.max_cancel_upper)}"
            )
        elif quantity >= self.group_quantity:
            why_wait = f"{_units(quantity)} >= {self.group_quantity} (group order)"
        elif headroom is not None and headroom < self.min_headroom:
            why_wait = f"only {headroom} seller-fault cancels left before a warning"
        if why_wait is None:
            return ConfirmNow(
                reason=f"{trust.supplier_id} trusted (p(cancel) <= {_pct(trust.p_cancel_upper)}), "
                f"{_units(quantity)}: confirm now",
                numbers=numbers,
            )
        until = last_safe_moment(context.order, self.margin)
        if context.now >= until:
            return Escalate(
                reason=f"{why_wait}; no tracking yet and the deadline is near: "
                "a person must decide",
                numbers=numbers,
            )
        return WaitForInvoice(
            until=until,
            recheck_at=min(until, context.now + self.recheck_every),
            reason=f"{why_wait}; wait for tracking until {_when(until)}",
            numbers=numbers,
        )


@attrs.frozen(kw_only=True)
class ExpectedCostWeights:
    """The prices of the things that can go wrong, in KRW-equivalents.

    The defaults are a starting point for a small seller; tune them to your margins and to how
    much your account's standing is worth to you.
    """

    seller_fault_cancel: float = attrs.field(default=30_000.0, validator=_non_negative)
    """Cost of one seller-fault cancellation with plenty of headroom (points, score, apology)."""
    warning_multiplier: float = attrs.field(default=4.0, validator=_non_negative)
    """Extra cost at the warning threshold, as a multiple of ``seller_fault_cancel``."""
    sanction_multiplier: float = attrs.field(default=20.0, validator=_non_negative)
    """Extra cost at the sanction threshold, as a multiple of ``seller_fault_cancel``."""
    delay_per_hour: float = attrs.field(default=150.0, validator=_non_negative)
    """What one hour of an unconfirmed, seemingly stalled order costs in buyer goodwill."""
    buyer_cancel_per_hour: float = attrs.field(default=0.002, validator=probability)
    """Hourly hazard that a buyer cancels an order that is still unconfirmed."""
    lost_sale_fixed: float = attrs.field(default=2_000.0, validator=_non_negative)
    """Fixed cost of a lost sale (handling, ad spend)."""
    lost_sale_margin: float = attrs.field(default=0.1, validator=probability)
    """Share of the order value lost with a lost sale (the seller's margin)."""
    late_shipment: float = attrs.field(default=20_000.0, validator=_non_negative)
    """Cost of a late shipment that could not be announced (an unconfirmed order cannot get a
    delay notice (발송지연) registered on most markets)."""
    alternate_failure: float = attrs.field(default=0.3, validator=probability)
    """Chance that an alternate supplier cannot fill an order either (for rerouting)."""
    uncertainty_aversion: float = attrs.field(default=0.25, validator=probability)
    """How far P(fail) leans from the estimate toward the upper bound of P(cancel), in [0, 1], so
    that little-known suppliers (wide bounds) cost more."""

    def cancel_penalty(
        self, cancels_to_warning: int | None, cancels_to_sanction: int | None
    ) -> float:
        """Cost of one more seller-fault cancel, rising steeply as headroom shrinks.

        ``seller_fault_cancel * (1 + warning_multiplier / (1 + h_w)
        + sanction_multiplier / (1 + h_s))`` where ``h_w`` and ``h_s`` are the cancels left
        before the warning and sanction thresholds (a term is dropped when its threshold
        cannot be reached).
        """
        factor = 1.0
        if cancels_to_warning is not None:
            factor += self.warning_multiplier / (1 + max(0, cancels_to_warning))
        if cancels_to_sanction is not None:
            factor += self.sanction_multiplier / (1 + max(0, cancels_to_sanction))
        return self.seller_fault_cancel * factor


@attrs.frozen(kw_only=True)
class ExpectedCost:
    """Confirm when the expected cost of confirming now is below the expected cost of waiting.

    - cost of confirming now = (P(fail) + P(fail after)) x penalty(headroom)
      + P(ships late) x late_shipment, where P(fail) = p + a x max(0, upper - p),
      p = P(supplier cancels before the deadline | pending now), upper = the upper bound of
      P(cancel), a = ``uncertainty_aversion``, P(fail after) = P(cancels after the deadline |
      pending now) (from :attr:`~consign_core.domain.trust.TrustAssessment.cancel_eventually`) and
      P(ships late) = P(neither tracking nor a cancel by the deadline) - P(fail after): a
      failure after confirmation is a seller-fault cancellation, whenever it comes;
    - cost of waiting = (P(fail) x P(still counted if unconfirmed) + P(fail after) x C)
      x penalty(headroom) + P(ships late) x late_shipment
      + delay_per_hour x expected hours to tracking
      + P(buyer cancels while waiting) x lost sale,
      where P(still counted if unconfirmed) = ``alternate_failure`` ** alternates and C = 1 when
      the market counts an unconfirmed stock-out cancel (the built-in profiles do), else both
      are 0: a cancel after the deadline comes too late to reroute.

    A late shipment costs the same either way and so never tips the choice; a higher risk of
    a cancel, before or after the deadline, never makes confirming more attractive.

    Waiting therefore pays only when it lets the failure be absorbed honestly: by rerouting to an
    alternate supplier, or on a market that does not count it. With neither, the cancel costs
    the same either way and the policy confirms at once.

    It is asked again every ``recheck_every`` (12 h) while the order waits: an order still
    pending at a later time has different odds. News (tracking, a cancel, a sold-out notice)
    reaches the order at once whatever the cadence, and the last safe moment before the
    deadline is never skipped; in the policy lab re-pricing every 6 h instead cost the same
    (within 0.2%) on every built-in scenario with about 1.5 times the decisions.
    """

    name: ClassVar[str] = "expected-cost"
    watches_supplier_confirmation: ClassVar[bool] = False
    """Its decisions do not depend on the supplier confirming: no re-ask when it does."""
    weights: ExpectedCostWeights = attrs.field(
        factory=ExpectedCostWeights, validator=instance_of(ExpectedCostWeights)
    )
    """The prices."""
    recheck_every: timedelta = attrs.field(default=timedelta(hours=12), validator=_positive_delta)
    """How often a waiting order is priced again."""
    margin: timedelta = attrs.field(default=DEFAULT_SAFETY_MARGIN, validator=_positive_delta)
    """How long before the ship-by deadline waiting stops."""

    def costs(self, context: DecisionContext) -> dict[str, float]:
        """The figures behind a decision: probabilities, expected hours and both costs."""
        w = self.weights
        trust = context.trust
        now = context.now
        until = last_safe_moment(context.order, self.margin)
        p_soon = trust.p_cancel_by_deadline
        p_fail = min(1.0, p_soon + w.uncertainty_aversion * max(0.0, trust.p_cancel_upper - p_soon))
        # cancels expected after the deadline: seller-fault once confirmed; once unconfirmed too
        # where the market counts them (too late to reroute either way)
        p_fail_after = min(1.0 - p_fail, max(0.0, trust.cancel_eventually - p_soon))
        p_late = max(0.0, 1.0 - trust.p_invoice_by_deadline - trust.p_cancel_by_deadline)
        p_ships_late = max(0.0, p_late - p_fail_after)  # late either way: priced on both sides
        p_counted_if_waiting = (
            w.alternate_failure**context.alternates if context.unconfirmed_cancel_counts else 0.0
        )
        p_counted_after = 1.0 if context.unconfirmed_cancel_counts else 0.0
        horizon = max(0.0, (until - now).total_seconds() / 3600)
        elapsed = (
            0.0
            if context.placed_at is None
            else max(0.0, (now - context.placed_at).total_seconds() / 3600)
        )
        median = trust.median_hours_to_invoice
        expected_wait = horizon if median is None else min(horizon, max(0.0, median - elapsed))
        headroom = context.headroom
        penalty = w.cancel_penalty(headroom.cancels_to_warning, headroom.cancels_to_sanction)
        lost_sale = w.lost_sale_fixed + w.lost_sale_margin * context.order.value
        p_buyer_cancel = 1.0 - math.exp(-w.buyer_cancel_per_hour * expected_wait)
        late = p_ships_late * w.late_shipment
        confirm_cost = (p_fail + p_fail_after) * penalty + late
        wait_cost = (
            (p_fail * p_counted_if_waiting + p_fail_after * p_counted_after) * penalty
            + late
            + w.delay_per_hour * expected_wait
            + p_buyer_cancel * lost_sale
        )
        return {
            "p_fail": p_fail,
            "p_fail_after_deadline": p_fail_after,
            "p_counted_if_waiting": p_counted_if_waiting,
            "alternates": float(context.alternates),
            "p_late": p_late,
            "p_ships_late": p_ships_late,
            "expected_wait_hours": expected_wait,
            "penalty": penalty,
            "cost_confirm": confirm_cost,
            "cost_wait": wait_cost,
        }

    def decide(self, context: DecisionContext) -> Decision:
        """Confirm now if that is expected to cost no more than waiting; else wait and re-price."""
        numbers = self.costs(context)
        trust = context.trust
        confirm, wait = numbers["cost_confirm"], numbers["cost_wait"]
        if confirm <= wait:
            why = (
                "; no alternate supplier, so waiting would not avoid the cancel"
                if numbers["p_counted_if_waiting"] >= 1.0
                else ""
            )
            return ConfirmNow(
                reason=f"{trust.supplier_id}: expected cost {confirm:,.0f} to confirm now "
                f"<= {wait:,.0f} to wait (p(cancel) {_pct(numbers['p_fail'])}){why}",
                numbers=numbers,
            )
        until = last_safe_moment(context.order, self.margin)
        if context.now >= until:
            return Escalate(
                reason=f"{trust.supplier_id}: no tracking near the deadline and confirming is "
                f"risky (p(cancel) {_pct(numbers['p_fail'])}); a person must decide",
                numbers=numbers,
            )
        return WaitForInvoice(
            until=until,
            recheck_at=min(until, context.now + self.recheck_every),
            reason=f"{trust.reason}; confirming costs {confirm:,.0f} "
            f"> waiting {wait:,.0f}: wait for tracking until {_when(until)}",
            numbers=numbers,
        )


_POLICIES: dict[str, type[Any]] = {
    ConfirmImmediately.name: ConfirmImmediately,
    AwaitInvoice.name: AwaitInvoice,
    TrustThreshold.name: TrustThreshold,
    ExpectedCost.name: ExpectedCost,
}

DEFAULT_POLICY_NAMES: tuple[str, ...] = tuple(_POLICIES)
"""The built-in policies' names, baselines first."""


def policy_names() -> tuple[str, ...]:
    """The names :func:`make_policy` accepts."""
    return DEFAULT_POLICY_NAMES


def make_policy(name: str, **params: Any) -> ConfirmationPolicy:
    """Build a built-in policy by name, e.g. ``make_policy("trust-threshold", group_quantity=5)``.

    Raises :class:`~consign_core.errors.ConfigurationError` for an unknown name or parameter.
    """
    try:
        cls = _POLICIES.get(name)
    except TypeError:  # not even hashable
        cls = None
    if cls is None:
        msg = f"unknown policy {name!r}; choose one of: {', '.join(DEFAULT_POLICY_NAMES)}"
        raise ConfigurationError(msg, field="policy", value=name)
    if cls is ExpectedCost and params and "weights" not in params:
        fields = {f.name for f in attrs.fields(ExpectedCostWeights)}
        weights = {k: params.pop(k) for k in list(params) if k in fields}
        params["weights"] = ExpectedCostWeights(**weights)
    try:
        policy: ConfirmationPolicy = cls(**params)
    except TypeError as exc:
        msg = f"bad parameters for policy {name!r}: {exc}"
        raise ConfigurationError(msg, field="params", value=dict(params)) from exc
    return policy
