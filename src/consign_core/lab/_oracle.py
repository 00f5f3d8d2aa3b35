"""The clairvoyant bound of the policy lab: every order handled with hindsight of its world.

:func:`run_oracle` reads the same seeded world a policy faces (:func:`~consign_core.lab._world.
build_world`) and, for each order on its own, enumerates the moments at which the seller could
have confirmed it (발주확인), knowing what the world holds for it: when and how each supplier
source ships or cancels if it is placed at a given moment (the world's hidden draws, through
:func:`~consign_core.lab._world.outcome_of`, the function the simulated supplier uses), whether
an alternate would ship, when the buyer's patience runs out and whether (and when) a buyer would
ask to stop the shipment after a confirmation. Each candidate is followed through the engine's
mechanics as the lab runs them (an engine run every 10 minutes on the scenario's grid, a
supplier order placed in the first run after payment or right after its predecessor's cancel,
the deadline guard at ``ship_by - safety_margin``, the person's give-up after the deadline) and
priced with the run's weights; the cheapest is kept. The engine is not run.

Pricing. Orders are independent except through the seller's account: a seller-fault cancel is
priced at the ledger's headroom just before it is booked (:class:`~consign_core.lab._results.
CostBreakdown`), and that headroom depends on every other order. The floor of that price is
``ExpectedCostWeights.seller_fault_cancel`` (the least :meth:`~consign_core.domain.timing.
ExpectedCostWeights.cancel_penalty` can be, with all the headroom in the world); the sum of the
per-order minima at the floor is :attr:`OracleRun.bound`, a strict lower bound of any policy's
cost. The oracle's own choice goes in rounds (:data:`ROUNDS`): the first is the floor-priced
one; its outcomes are replayed through a fresh :class:`~consign_core.domain.cancel_rate.Ledger`
in time order, which prices every candidate's seller-fault cancel at the headroom at its moment;
the next round chooses again at those prices; the cheapest round is kept. Its outcomes, replayed
through the ledger exactly as a policy's run is priced, are the ``oracle`` record
(:attr:`OracleRun.result`): one schedule the world allowed, not proved optimal jointly, above
:attr:`OracleRun.bound` by :attr:`OracleRun.coupling_gap`, the most by which a policy could beat
it (``docs/simulate.md``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Final

import attrs

from consign_core.domain.cancel_rate import Ledger
from consign_core.domain.events import InvoiceUploaded, OrderCancelled, OrderPaid
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    Courier,
    MarketOrder,
    Tracking,
)
from consign_core.domain.rules import MetricStatus, RuleProfile
from consign_core.domain.timing import ExpectedCostWeights
from consign_core.engine import EngineSettings
from consign_core.errors import ConfigurationError
from consign_core.lab._results import (
    CostBreakdown,
    MetricSummary,
    PolicyResult,
    percentile,
    summarize_metrics,
)
from consign_core.lab._runner import DEFAULT_CADENCE_MINUTES
from consign_core.lab._world import (
    Scenario,
    World,
    WorldOrder,
    build_world,
    from_us,
    outcome_of,
    to_us,
)


__all__ = ["ORACLE_NAME", "OracleRun", "OrderEnd", "run_oracle"]

ORACLE_NAME: Final = "oracle"
"""The policy name of the clairvoyant bound's record."""

ROUNDS: Final = 4
"""Rounds of the account-priced choice (each prices every candidate's seller-fault cancel at
the headroom the previous round's outcomes leave)."""

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


def _float_tuple(value: Iterable[float]) -> tuple[float, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class OracleRun:
    """The clairvoyant bound over one seeded world."""

    result: PolicyResult
    """The ``oracle`` record: the oracle's outcomes, priced like a policy's run (a seller-fault
    cancel at the replayed ledger's headroom)."""
    bound: CostBreakdown
    """The sum of the per-order minima, every seller-fault cancel at its floor price."""
    order_costs: tuple[float, ...] = attrs.field(converter=_float_tuple)
    """Each order's cost at the floor price, in arrival order (sums to ``bound.total``)."""

    @property
    def coupling_gap(self) -> float:
        """``result``'s cost minus ``bound``: what the account's headroom adds (>= 0)."""
        return self.result.total_cost - self.bound.total

    def to_dict(self) -> dict[str, Any]:
        """The run record of ``result`` plus ``lower_bound``, ``lower_bound_per_order``,
        ``lower_bound_cost`` and ``coupling_gap`` (``docs/simulate.md``)."""
        out = self.result.to_dict()
        n = self.result.orders
        out["lower_bound"] = self.bound.total
        out["lower_bound_per_order"] = self.bound.total / n if n else 0.0
        out["lower_bound_cost"] = self.bound.to_dict()
        out["coupling_gap"] = self.coupling_gap
        return out


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


def run_oracle(
    scenario: Scenario,
    seed: int,
    orders: int,
    *,
    weights: ExpectedCostWeights | None = None,
) -> OracleRun:
    """The clairvoyant bound over the world of ``scenario``, ``seed`` and ``orders``.

    ``weights`` are the run's (the library's defaults if ``None``): pass the ones the policies
    were priced with. Pure: the same arguments give the same result.
    """
    given: object = scenario
    if not isinstance(given, Scenario):
        msg = f"scenario must be a Scenario, got {scenario!r}"
        raise ConfigurationError(msg)
    given_weights: object = weights
    if given_weights is not None and not isinstance(given_weights, ExpectedCostWeights):
        msg = f"weights must be ExpectedCostWeights or None, got {weights!r}"
        raise ConfigurationError(msg)
    priced_with = weights or scenario.default_weights()
    world = build_world(scenario, seed, orders)
    env = _env(scenario, world, priced_with)
    stream = list(world.orders())
    candidates = [all_ends(env, w) for w in stream]
    floor = [_cheapest(ends) for ends in candidates]
    bound = _bound(env, stream, floor)
    last_paid = max((o.paid_us for o in stream), default=env.start_us)
    queries = [
        (end.at_us, -1, w.index, w.order, end)
        for w, ends in zip(stream, candidates, strict=True)
        for end in ends
        if end.kind == SELLER_CANCEL
    ]
    chosen = floor
    best: tuple[float, list[OrderEnd], _Replay] | None = None
    for _round in range(ROUNDS):
        replay = _Replay(env, env.world.profile)
        replay.run(_events(stream, chosen, queries), last_paid)
        total = _bound(env, stream, chosen).total - env.weights.seller_fault_cancel * sum(
            end.kind == SELLER_CANCEL for end in chosen
        )
        total += replay.penalties
        if best is None or total < best[0]:
            best = (total, chosen, replay)
        prices = replay.prices
        again = [_cheapest(ends, prices, env.weights.seller_fault_cancel) for ends in candidates]
        if all(a is b for a, b in zip(again, chosen, strict=True)):
            break
        chosen = again
    assert best is not None  # noqa: S101 - at least one round
    return _result(env, seed, stream, best[1], best[2], bound, floor)


def _cheapest(
    ends: Sequence[OrderEnd], prices: dict[int, float] | None = None, floor: float = 0.0
) -> OrderEnd:
    """The cheapest end (the first of equals): at the floor prices, or with each seller-fault
    cancel at its price in ``prices`` (by ``id`` of the end) instead of ``floor``."""
    best = ends[0]
    best_cost = math.inf
    for end in ends:
        cost = end.cost
        if prices is not None and end.kind == SELLER_CANCEL:
            cost += prices.get(id(end), floor) - floor
        if cost < best_cost:
            best, best_cost = end, cost
    return best


def _bound(env: _Env, stream: Sequence[WorldOrder], ends: Sequence[OrderEnd]) -> CostBreakdown:
    w = env.weights
    seller = lost = delay = late = 0.0
    escalations = 0
    for order, end in zip(stream, ends, strict=True):
        delay += max(0, end.settled_us() - order.paid_us) / _HOUR_US
        if end.kind == SELLER_CANCEL:
            seller += w.seller_fault_cancel
        elif end.kind == BUYER_CANCEL:
            lost += w.lost_sale_fixed + w.lost_sale_margin * order.order.value
        late += end.at_us >= order.ship_by_us
        escalations += end.escalations
    return CostBreakdown(
        seller_fault_cancels=seller,
        lost_sales=lost,
        delay=w.delay_per_hour * delay,
        late_shipments=w.late_shipment * late,
        escalations=env.escalation_cost * escalations,
    )


def _events(
    stream: Sequence[WorldOrder],
    ends: Sequence[OrderEnd],
    queries: Sequence[tuple[int, int, int, MarketOrder, OrderEnd]] = (),
) -> list[tuple[int, int, int, MarketOrder, OrderEnd | None]]:
    """(µs, kind, index, order, end) in time order; kind -1 asks what a seller-fault cancel of
    a candidate end would cost then, 0 is a payment, 1 an end (in that order at equal times)."""
    events: list[tuple[int, int, int, MarketOrder, OrderEnd | None]] = list(queries)
    for order, end in zip(stream, ends, strict=True):
        events.append((order.paid_us, 0, order.index, order.order, None))
        events.append((end.at_us, 1, order.index, order.order, end))
    events.sort(key=lambda e: e[:3])
    return events


class _Replay:
    """The oracle's outcomes through a ledger, in time order, sampled daily like a run."""

    def __init__(self, env: _Env, profile: RuleProfile) -> None:
        self.env = env
        self.profile = profile
        self.ledger = Ledger(profile, calendar=env.scenario.calendar)
        self.samples: list[list[tuple[MetricStatus, float | None]]] = []
        self.penalties = 0.0
        self.prices: dict[int, float] = {}
        """What each asked-about candidate's seller-fault cancel costs, by ``id`` of the end."""

    def _penalty(self, at_us: int, order: MarketOrder) -> float:
        ledger = self.ledger
        at = from_us(at_us)
        clock = ledger.now
        headroom = ledger.headroom(at if clock is None or at >= clock else clock, order)
        return self.env.weights.cancel_penalty(
            headroom.cancels_to_warning, headroom.cancels_to_sanction
        )

    def run(
        self,
        events: Iterable[tuple[int, int, int, MarketOrder, OrderEnd | None]],
        last_paid_us: int,
    ) -> None:
        ledger = self.ledger
        next_sample = (self.env.start_us // _DAY_US + 1) * _DAY_US
        sampling = True
        for at_us, kind, _index, order, end in events:
            while sampling and next_sample <= at_us:
                report = ledger.report(from_us(next_sample))
                self.samples.append([(m.status, m.value) for m in report.metrics])
                if next_sample >= last_paid_us:
                    sampling = False
                next_sample += _DAY_US
            if kind < 0:
                assert end is not None  # noqa: S101 - a query names its candidate
                self.prices[id(end)] = self._penalty(at_us, order)
                continue
            at = from_us(at_us)
            if end is None:
                ledger.observe(OrderPaid(order=order))
            elif end.kind == SHIPPED:
                tracking = Tracking(courier=Courier.CJ, number=order.ref.order_id)
                ledger.observe(InvoiceUploaded(ref=order.ref, at=at, tracking=tracking))
            else:
                seller = end.kind == SELLER_CANCEL
                if seller:
                    self.penalties += self._penalty(at_us, order)
                cancellation = Cancellation(
                    fault=CancelFault.SELLER if seller else CancelFault.BUYER,
                    reason=end.reason or CancelReason.OTHER,
                    at=at,
                )
                ledger.observe(OrderCancelled(ref=order.ref, cancellation=cancellation))
        while sampling:  # days after the last event, up to the last arrival
            report = ledger.report(from_us(next_sample))
            self.samples.append([(m.status, m.value) for m in report.metrics])
            sampling = next_sample < last_paid_us
            next_sample += _DAY_US

    def metrics(self) -> list[MetricSummary]:
        return summarize_metrics(self.profile, self.samples)


def _result(  # noqa: PLR0917 - internal
    env: _Env,
    seed: int,
    stream: Sequence[WorldOrder],
    ends: Sequence[OrderEnd],
    replay: _Replay,
    bound: CostBreakdown,
    floor: Sequence[OrderEnd],
) -> OracleRun:
    own = _bound(env, stream, ends)
    hours = sorted(
        (end.ack_us - order.paid_us) / _HOUR_US
        for order, end in zip(stream, ends, strict=True)
        if end.ack_us >= 0
    )
    seller = [end for end in ends if end.kind == SELLER_CANCEL]
    result = PolicyResult(
        policy=ORACLE_NAME,
        params={},
        seed=seed,
        orders=len(stream),
        seller_fault_cancels=len(seller),
        stock_out_cancels=sum(end.reason is CancelReason.STOCK_OUT for end in seller),
        buyer_cancels=sum(end.kind == BUYER_CANCEL for end in ends),
        supplier_cancels=sum(end.supplier_cancels for end in ends),
        rerouted=sum(max(0, end.placed - 1) for end in ends),
        late_shipments=sum(
            end.at_us >= order.ship_by_us for order, end in zip(stream, ends, strict=True)
        ),
        escalations=sum(end.escalations for end in ends),
        confirmed=len(hours),
        shipped=sum(end.kind == SHIPPED for end in ends),
        open_at_end=0,
        decisions=0,
        median_hours_to_confirm=percentile(hours, 0.5),
        p90_hours_to_confirm=percentile(hours, 0.9),
        mean_hours_to_confirm=math.fsum(hours) / len(hours) if hours else None,
        cost=attrs.evolve(own, seller_fault_cancels=replay.penalties),
        metrics=replay.metrics(),
    )
    return OracleRun(result=result, bound=bound, order_costs=[end.cost for end in floor])
