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
from consign_core.errors import ConfigurationError
from consign_core.lab._oracle_orders import (
    _DAY_US,
    _HOUR_US,
    BUYER_CANCEL,
    SELLER_CANCEL,
    SHIPPED,
    OrderEnd,
    _Env,
    _env,
    all_ends,
)
from consign_core.lab._results import (
    CostBreakdown,
    MetricSummary,
    PolicyResult,
    percentile,
    summarize_metrics,
)
from consign_core.lab._world import (
    Scenario,
    WorldOrder,
    build_world,
    from_us,
)


__all__ = ["ORACLE_NAME", "OracleRun", "OrderEnd", "all_ends", "run_oracle"]

ORACLE_NAME: Final = "oracle"
"""The policy name of the clairvoyant bound's record."""

ROUNDS: Final = 4
"""Rounds of the account-priced choice (each prices every candidate's seller-fault cancel at
the headroom the previous round's outcomes leave)."""


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
