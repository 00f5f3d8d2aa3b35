"""Each order's possible ends with hindsight of its world (the oracle's per-order options):
how the order would end if confirmed at each candidate moment, through the engine's mechanics
as the lab runs them. :mod:`consign_core.lab._oracle` chooses among them and prices them."""

from __future__ import annotations

from typing import Final

import attrs

from consign_core.domain.model import (
    CancelReason,
)
from consign_core.domain.timing import ExpectedCostWeights
from consign_core.engine import EngineSettings
from consign_core.lab._runner import DEFAULT_CADENCE_MINUTES
from consign_core.lab._world import (
    Scenario,
    World,
    WorldOrder,
    from_us,
    outcome_of,
    to_us,
)


__all__ = ["BUYER_CANCEL", "SELLER_CANCEL", "SHIPPED", "OrderEnd", "all_ends"]

_MINUTE_US: Final = 60_000_000


_HOUR_US: Final = 60 * _MINUTE_US


_DAY_US: Final = 24 * _HOUR_US


_US_DELTA: Final = from_us(1) - from_us(0)


SHIPPED: Final = 0
""":attr:`OrderEnd.kind`: the waybill reached the market."""


SELLER_CANCEL: Final = 1
""":attr:`OrderEnd.kind`: cancelled, seller fault (a supplier's cancel or the person's)."""


BUYER_CANCEL: Final = 2
""":attr:`OrderEnd.kind`: cancelled, buyer fault (patience ran out, or an approved stop)."""


class OrderEnd:
    """How one order ends when handled one way (a candidate of the oracle, or its choice)."""

    __slots__ = (
        "ack_us",
        "at_us",
        "cost",
        "escalations",
        "kind",
        "paid_us",
        "placed",
        "reason",
        "supplier_cancels",
    )

    def __init__(  # noqa: PLR0917 - a plain record
        self,
        kind: int,
        at_us: int,
        reason: CancelReason | None,
        ack_us: int,
        escalations: int,
        placed: int,
        supplier_cancels: int,
        paid_us: int,
    ) -> None:
        """Hold the end; :attr:`cost` is set by the pricing."""
        self.kind = kind
        """:data:`SHIPPED`, :data:`SELLER_CANCEL` or :data:`BUYER_CANCEL`."""
        self.at_us = at_us
        """When the waybill was uploaded or the order cancelled (µs since 1970 KST)."""
        self.reason = reason
        """The cancel reason (``None`` when shipped)."""
        self.ack_us = ack_us
        """When the order was confirmed (-1: never)."""
        self.escalations = escalations
        """Escalations to the person."""
        self.placed = placed
        """Supplier orders placed."""
        self.supplier_cancels = supplier_cancels
        """Supplier orders the suppliers cancelled."""
        self.paid_us = paid_us
        """When the order was paid."""
        self.cost = 0.0
        """The order's cost, a seller-fault cancel at its floor price."""

    def settled_us(self) -> int:
        """When the order stopped waiting: its confirmation, else its cancellation."""
        if self.ack_us >= 0 and (self.kind == SHIPPED or self.ack_us <= self.at_us):
            return self.ack_us
        return self.at_us


@attrs.frozen(kw_only=True)
class _Env:
    """Everything the per-order enumeration needs, as plain numbers (µs)."""

    world: World
    scenario: Scenario
    weights: ExpectedCostWeights
    start_us: int
    cadence_us: int
    place_delay_us: int
    margin_us: int
    give_up_us: int
    person_delay_us: int
    escalation_cost: float
    reroute_after_confirmation: bool

    def tick(self, at_us: int) -> int:
        """The first engine run at or after ``at_us`` (on the scenario's 10-minute grid)."""
        cadence = self.cadence_us
        if at_us <= self.start_us:
            return self.start_us
        return self.start_us + -(-(at_us - self.start_us) // cadence) * cadence

    def outcome(
        self, w: WorldOrder, source: int, placed_tick: int
    ) -> tuple[bool, int, CancelReason]:
        """The source's hidden outcome when the engine places it at ``placed_tick``."""
        supplier_id = w.sources[source][0]
        placed_us = placed_tick + self.place_delay_us
        cancelled, at, reason = outcome_of(
            self.world.by_id[supplier_id],
            w.draws[source],
            w.order.lines[0].quantity,
            from_us(placed_us),
            placed_us,
            self.scenario,
        )
        return cancelled, max(to_us(at), placed_us), reason

    def price(self, end: OrderEnd, w: WorldOrder) -> float:
        """The order's cost under the weights, a seller-fault cancel at its floor price."""
        weights = self.weights
        cost = weights.delay_per_hour * max(0, end.settled_us() - w.paid_us) / _HOUR_US
        if end.kind == SELLER_CANCEL:
            cost += weights.seller_fault_cancel
        elif end.kind == BUYER_CANCEL:
            cost += weights.lost_sale_fixed + weights.lost_sale_margin * w.order.value
        if end.at_us >= w.ship_by_us:
            cost += weights.late_shipment
        return cost + self.escalation_cost * end.escalations


class _Order:
    """One order's enumeration: its world, its deadlines, and the ends found so far."""

    __slots__ = ("buyer_us", "dense", "ends", "env", "guard_tick", "safe_us", "w")

    def __init__(self, env: _Env, w: WorldOrder, *, dense: bool = False) -> None:
        self.env = env
        self.dense = dense
        self.w = w
        self.safe_us = max(w.ship_by_us - env.margin_us, w.paid_us)
        self.guard_tick = env.tick(self.safe_us)
        self.buyer_us = w.buyer_cancel_us
        self.ends: list[OrderEnd] = []

    def end(  # noqa: PLR0917 - internal
        self,
        kind: int,
        at_us: int,
        reason: CancelReason | None,
        ack_us: int,
        escalations: int,
        placed: int,
        supplier_cancels: int,
    ) -> None:
        self.ends.append(
            OrderEnd(
                kind, at_us, reason, ack_us, escalations, placed, supplier_cancels, self.w.paid_us
            )
        )

    def give_up_tick(self, escalated_us: int) -> int:
        """When the person cancels an order escalated at ``escalated_us`` still untracked."""
        env = self.env
        return env.tick(max(self.w.ship_by_us + env.give_up_us, escalated_us + env.person_delay_us))

    def run(self) -> None:
        """Enumerate every way the order can end."""
        w = self.w
        env = self.env
        first = env.tick(w.paid_us)
        if self.buyer_us is not None and self.buyer_us <= first:  # gone before any run
            self.end(BUYER_CANCEL, self.buyer_us, CancelReason.BUYER_REMORSE, -1, 0, 0, 0)
            return
        self.source(0, first, 0, 0, 0)

    def candidates(self, placed_tick: int, outcome_at: int, seen: int) -> list[int]:
        """Confirmation moments worth trying for a supplier order placed at ``placed_tick``.

        Confirming at a run time ``c`` (after the placement, before the outcome is seen, not
        after the guard) costs more the later ``c`` is (the wait, the buyer's patience; the
        guard escalates a confirmed order still untracked whenever it was confirmed), except
        that a stop request the buyer makes ``stop_delay`` after the confirmation is approved
        only while the goods have not left. So the placement's own run and the first run whose
        stop request comes too late cover every minimum.
        """
        env = self.env
        if self.dense:  # every run time (tests: the same minimum, many more candidates)
            last = min(seen - 1, self.guard_tick)
            return list(range(placed_tick, last + 1, env.cadence_us))
        out = [placed_tick]
        stop = self.w.stop_delay_us
        if stop is not None:
            last_before = env.tick(outcome_at) - env.cadence_us  # the last run before it
            out.append(max(placed_tick, env.tick(last_before - stop + 1)))
        return [
            c for i, c in enumerate(out) if c < seen and c <= self.guard_tick and c not in out[:i]
        ]

    def source(self, k: int, placed_tick: int, escalations: int, placed: int, sup: int) -> None:
        """Source ``k`` is placed at ``placed_tick`` on an unconfirmed order."""
        env = self.env
        cancelled, at_us, reason = env.outcome(self.w, k, placed_tick)
        seen = env.tick(at_us)
        placed += 1
        if placed_tick < self.safe_us:
            for c in self.candidates(placed_tick, at_us, seen):
                if self.buyer_us is not None and self.buyer_us <= c:
                    continue  # the buyer is gone first: the same end as waiting
                self.confirmed(
                    k, placed_tick, (cancelled, at_us, reason, seen), c, escalations, placed, sup
                )
        self.wait(k, placed_tick, (cancelled, at_us, reason, seen), escalations, placed, sup)

    def wait(  # noqa: PLR0917 - internal
        self,
        k: int,
        placed_tick: int,
        outcome: tuple[bool, int, CancelReason, int],
        escalations: int,
        placed: int,
        sup: int,
    ) -> None:
        """Leave the order unconfirmed until its supplier order ships or is cancelled."""
        cancelled, _at_us, reason, seen = outcome
        buyer = self.buyer_us
        escalated = -1
        if placed_tick >= self.safe_us:
            escalated = placed_tick  # the guard escalates at once
        elif seen > self.guard_tick and (buyer is None or buyer > self.guard_tick):
            escalated = self.guard_tick
        escalations += escalated >= 0
        give_up = self.give_up_tick(escalated) if escalated >= 0 else -1
        if give_up >= 0 and seen > give_up and (buyer is None or buyer > give_up):
            self.end(
                SELLER_CANCEL, give_up, CancelReason.DELIVERY_DELAY, -1, escalations, placed, sup
            )
            return
        if buyer is not None and buyer <= seen:
            if not cancelled and self.env.tick(buyer) == seen:
                # the goods ship in the run that hears of the buyer's cancel: the engine
                # escalates twice (the supplier refuses the cancel; a return to arrange)
                escalations += 2
            self.end(BUYER_CANCEL, buyer, CancelReason.BUYER_REMORSE, -1, escalations, placed, sup)
            return
        if not cancelled:
            self.end(SHIPPED, seen, None, seen, escalations, placed, sup)
            return
        if k + 1 < len(self.w.sources):
            self.source(k + 1, seen, escalations, placed, sup + 1)
            return
        self.end(SELLER_CANCEL, seen, reason, -1, escalations, placed, sup + 1)

    def confirmed(  # noqa: PLR0917 - internal
        self,
        k: int,
        placed_tick: int,
        outcome: tuple[bool, int, CancelReason, int],
        ack: int,
        escalations: int,
        placed: int,
        sup: int,
    ) -> None:
        """The order is confirmed at ``ack`` while source ``k`` is open."""
        env = self.env
        cancelled, at_us, reason, seen = outcome
        stop = self.w.stop_delay_us
        stop_at = -1
        if stop is not None:
            asked = env.tick(ack + stop)
            if asked < at_us:  # the supplier order is still open: the stop is approved
                stop_at = asked
        end_at = seen if stop_at < 0 else min(seen, stop_at)
        # the guard, armed again by the acknowledgement: a confirmed order still untracked
        escalated = -1
        if max(placed_tick, ack) >= self.safe_us:
            escalated = max(placed_tick, ack)
        elif self.guard_tick < end_at:
            escalated = self.guard_tick
        escalations += escalated >= 0
        if escalated >= 0:
            give_up = self.give_up_tick(escalated)
            if give_up < end_at:
                self.end(
                    SELLER_CANCEL, give_up, CancelReason.DELIVERY_DELAY, ack, escalations, placed,
                    sup,
                )  # fmt: skip
                return
        if stop_at >= 0 and stop_at <= seen:
            self.end(
                BUYER_CANCEL, stop_at, CancelReason.BUYER_REMORSE, ack, escalations, placed, sup
            )
            return
        if not cancelled:
            self.end(SHIPPED, seen, None, ack, escalations, placed, sup)
            return
        if env.reroute_after_confirmation and k + 1 < len(self.w.sources):
            nxt = env.outcome(self.w, k + 1, seen)
            self.confirmed(
                k + 1, seen, (*nxt, env.tick(nxt[1])), ack, escalations, placed + 1, sup + 1
            )
            return
        self.end(SELLER_CANCEL, seen, reason, ack, escalations, placed, sup + 1)


def all_ends(env: _Env, w: WorldOrder, *, dense: bool = False) -> list[OrderEnd]:
    """Every candidate end of ``w``, priced (for tests and inspection); ``dense``: confirming at
    every run time, not only at the moments that can be cheapest."""
    order = _Order(env, w, dense=dense)
    order.run()
    for end in order.ends:
        end.cost = env.price(end, w)
    return order.ends


def _env(scenario: Scenario, world: World, weights: ExpectedCostWeights) -> _Env:
    settings = EngineSettings()
    person = scenario.person
    return _Env(
        world=world,
        scenario=scenario,
        weights=weights,
        start_us=to_us(scenario.start),
        cadence_us=DEFAULT_CADENCE_MINUTES * _MINUTE_US,
        place_delay_us=int(scenario.place_delay_minutes * _MINUTE_US),
        margin_us=settings.safety_margin // _US_DELTA,
        give_up_us=int(person.give_up_hours * _HOUR_US),
        person_delay_us=int(person.delay_hours * _HOUR_US),
        escalation_cost=person.cost_per_escalation,
        reroute_after_confirmation=scenario.reroute_after_confirmation,
    )
