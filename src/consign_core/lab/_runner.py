"""The lab's run loop: the production engine, on the lab's clock, over the simulated ports.

One run builds a production :class:`~consign_core.engine.Engine` over the simulated market and
supplier (``lab._market``, ``lab._supplier``), an :class:`~consign_core.store.InMemoryStore` and
the policy under test, then calls :meth:`Engine.run_once` at the cadence an embedder would poll
(every 10 minutes by default, Coupang's advice for order windows): at each run time the world
first moves (orders arrive, buyers and suppliers act, as the world's draws say), then the engine
polls, decides and acts, with the person's answers to escalations (``ManualDecision``) fed in as
the run's events.

A run time is skipped when provably nothing is due in it: no order arrives, no supplier ships
or cancels, no buyer acts, no person looks, and the engine has neither a wake-up nor a retry
due (:meth:`Engine.next_due`). The engine's idle poll would find empty feeds and do nothing, so
skipping it changes no result, only the time taken.

Everything reported comes from what the engine did through the ports: the market's records
(confirmation, shipment, cancellation and who bore it), the supplier's records (supplier
cancels, reroutes), the engine's ledger (metric status days, the headroom that prices a seller-
fault cancel) and the person's escalations.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from heapq import heappop, heappush
from typing import Any, Final, NamedTuple

from consign_core.domain.model import CancelFault, Cancellation, CancelReason, MarketOrder, OrderRef
from consign_core.domain.rules import MetricStatus, RuleProfile
from consign_core.domain.timing import (
    ConfirmationPolicy,
    Decision,
    DecisionContext,
    ExpectedCostWeights,
    watches_supplier_confirmation,
)
from consign_core.domain.trust import TrustModel
from consign_core.domain.workflow import (
    ManualAction,
    ManualDecision,
    OrderState,
    OrderStatus,
    Progress,
)
from consign_core.engine import Engine, EngineSettings
from consign_core.lab._market import LabClock, LabOrder, SimulatedMarket
from consign_core.lab._results import (
    CostBreakdown,
    MetricSummary,
    PolicyResult,
    percentile,
    summarize_metrics,
)
from consign_core.lab._supplier import SimulatedSupplier
from consign_core.lab._world import PersonModel, Scenario, WorldOrder, WorldSupplier, from_us, to_us
from consign_core.store import InMemoryStore


__all__ = ["DEFAULT_CADENCE_MINUTES", "LabConfig", "LogRecord", "run_world"]

DEFAULT_CADENCE_MINUTES: Final = 10
"""Minutes between engine runs in the lab (see ``docs/simulate.md``)."""

_MINUTE_US: Final = 60_000_000
_HOUR_US: Final = 60 * _MINUTE_US
_DAY_US: Final = 24 * _HOUR_US
_SETTLED: Final = frozenset({OrderStatus.CANCELLING, OrderStatus.CANCELLED, OrderStatus.SHIPPED})

# The lab's engines log here: a logger outside the logging hierarchy, silent (a simulated
# season escalates thousands of orders; what they did is in the results, not in the log).
_SILENT: Final = logging.Logger("consign_core.lab.engine", logging.CRITICAL + 1)  # noqa: LOG001
_SILENT.addHandler(logging.NullHandler())


class LabConfig:
    """Everything a lab run needs besides the order stream (plain attributes)."""

    __slots__ = (
        "cadence_us",
        "calendar",
        "drain_days",
        "end_us",
        "person",
        "person_never_cancels",
        "place_delay_us",
        "policy",
        "policy_name",
        "policy_params",
        "profile",
        "progress",
        "progress_every",
        "reroute_after_confirmation",
        "seed",
        "start",
        "suppliers",
        "total_orders",
        "trust",
        "weights",
    )

    def __init__(
        self,
        *,
        policy: ConfirmationPolicy,
        policy_name: str,
        policy_params: dict[str, Any],
        profile: RuleProfile,
        calendar: Any,
        trust: TrustModel,
        weights: ExpectedCostWeights,
        person: PersonModel,
        start: datetime,
        place_delay_us: int,
        suppliers: dict[str, WorldSupplier] | None,
        seed: int | None,
        total_orders: int,
        reroute_after_confirmation: bool = False,
        drain_days: float = 60.0,
        end_us: int | None = None,
        cadence_minutes: int = DEFAULT_CADENCE_MINUTES,
        progress: Callable[[int, int], None] | None = None,
        progress_every: int = 0,
        person_never_cancels: frozenset[OrderRef] = frozenset(),
    ) -> None:
        """Collect the configuration (``end_us``: stop there; default: drain every order;
        ``cadence_minutes=0``: run the engine whenever something is due, at that instant;
        ``person_never_cancels``: orders the person never gives up on, e.g. those a log shows
        shipped)."""
        self.policy = policy
        self.policy_name = policy_name
        self.policy_params = policy_params
        self.profile = profile
        self.calendar = calendar
        self.trust = trust
        self.weights = weights
        self.person = person
        self.start = start
        self.place_delay_us = place_delay_us
        self.suppliers = suppliers
        self.seed = seed
        self.total_orders = total_orders
        self.reroute_after_confirmation = reroute_after_confirmation
        self.drain_days = drain_days
        self.end_us = end_us
        self.cadence_us = cadence_minutes * _MINUTE_US
        self.progress = progress
        self.progress_every = progress_every
        self.person_never_cancels = person_never_cancels


class LogRecord(NamedTuple):
    """How one order ended, for an order log (see ``consign_core.lab.backtest.OrderLogRow``)."""

    order: MarketOrder
    """The market order."""
    supplier_id: str | None
    """The last supplier ordered from (``None`` if none was)."""
    outcome: str
    """``invoiced``, ``supplier_cancelled``, ``buyer_cancelled`` or ``open``."""
    outcome_at: datetime | None
    """When the outcome happened (``None`` for ``open``)."""
    confirmed_at: datetime | None
    """When the order was confirmed on the market."""
    shipped_at: datetime | None
    """When the waybill reached the market."""
    cancellation: Cancellation | None
    """The market cancellation, if any."""


class _CountingPolicy:
    """The policy under test, counting how often the engine asks it (``decisions``)."""

    def __init__(self, policy: ConfirmationPolicy) -> None:
        self.policy = policy
        self.name = policy.name
        self.watches_supplier_confirmation = watches_supplier_confirmation(policy)
        self.calls = 0

    def decide(self, context: DecisionContext) -> Decision:
        self.calls += 1
        return self.policy.decide(context)


class _Person:
    """The person who answers escalations (:class:`~consign_core.lab._world.PersonModel`)."""

    def __init__(
        self, model: PersonModel, clock: LabClock, never_cancels: frozenset[OrderRef]
    ) -> None:
        self.model = model
        self.never_cancels = never_cancels
        self.clock = clock
        self.delay_us = int(model.delay_hours * _HOUR_US)
        self.recheck_us = int(model.recheck_hours * _HOUR_US)
        self.give_up_us = int(model.give_up_hours * _HOUR_US)
        self.escalations = 0
        self._looks: list[tuple[int, int, OrderRef, int]] = []  # (µs, seq, ref, ship_by µs)
        self._seq = 0

    def next_due_us(self) -> int | None:
        return self._looks[0][0] if self._looks else None

    def on_escalate(self, state: OrderState, reason: str) -> None:  # noqa: ARG002 - read later
        """The engine handed an order over: the person looks at it a little later."""
        self.escalations += 1
        self._push(self.clock.now_us + self.delay_us, state)

    def _push(self, at_us: int, state: OrderState) -> None:
        self._seq += 1
        ship_by_us = to_us(state.order.ship_by)
        heappush(self._looks, (at_us, self._seq, state.order.ref, ship_by_us))

    def answers(self, engine: Engine, now_us: int) -> list[ManualDecision]:
        """The decisions of the looks due by ``now_us`` (at most one per order)."""
        looks = self._looks
        answered: dict[OrderRef, ManualDecision] = {}
        at = from_us(now_us)
        while looks and looks[0][0] <= now_us:
            _, _, ref, ship_by_us = heappop(looks)
            state = engine.order(ref)
            if state is None or state.escalation is None or ref in answered:
                continue
            if state.status in _SETTLED or state.market_cancel is not Progress.NONE:
                answered[ref] = ManualDecision(ref=ref, at=at, action=ManualAction.RESOLVE)
            elif now_us >= ship_by_us + self.give_up_us and ref not in self.never_cancels:
                answered[ref] = ManualDecision(
                    ref=ref,
                    at=at,
                    action=ManualAction.CANCEL,
                    reason=CancelReason.DELIVERY_DELAY,
                    fault=CancelFault.SELLER,
                    note="no tracking long after the ship-by deadline",
                )
            else:  # the person knows no more than the system: look again later
                nxt = now_us + self.recheck_us
                if ref not in self.never_cancels:
                    nxt = min(nxt, ship_by_us + self.give_up_us)
                self._seq += 1
                heappush(looks, (max(nxt, now_us + 1), self._seq, ref, ship_by_us))
        return list(answered.values())


class _Costs:
    """What the cancellations cost, priced when they happen (the ledger's headroom then)."""

    def __init__(self, weights: ExpectedCostWeights) -> None:
        self.weights = weights
        self.engine: Engine | None = None
        self.seller_fault = 0
        self.stock_out = 0
        self.buyer = 0
        self.cancels = 0.0
        self.lost = 0.0

    def on_cancel(self, record: LabOrder, cancellation: Cancellation) -> None:
        order = record.w.order
        w = self.weights
        if cancellation.fault is CancelFault.SELLER:
            assert self.engine is not None  # noqa: S101 - wired before the first run
            ledger = self.engine.ledger
            clock = ledger.now
            at = cancellation.at if clock is None or cancellation.at >= clock else clock
            headroom = ledger.headroom(at, order)
            self.cancels += w.cancel_penalty(
                headroom.cancels_to_warning, headroom.cancels_to_sanction
            )
            self.seller_fault += 1
            if cancellation.reason is CancelReason.STOCK_OUT:
                self.stock_out += 1
        elif cancellation.fault is CancelFault.BUYER:
            self.buyer += 1
            self.lost += w.lost_sale_fixed + w.lost_sale_margin * order.value


class _LabRun:
    def __init__(
        self,
        config: LabConfig,
        orders: Iterator[WorldOrder],
        sources: dict[str, tuple[tuple[str, str], ...]],
        scenario: Scenario | None,
    ) -> None:
        self.cfg = config
        self.start_us = to_us(config.start)
        self.clock = LabClock(self.start_us)
        self.costs = _Costs(config.weights)
        self.market = SimulatedMarket(
            config.profile, self.clock, orders, on_cancel=self.costs.on_cancel
        )
        self.supplier = SimulatedSupplier(
            self.clock,
            self.market.records,
            scenario=scenario,
            suppliers=config.suppliers,
            place_delay_us=config.place_delay_us,
        )
        self.person = _Person(config.person, self.clock, config.person_never_cancels)
        self.policy = _CountingPolicy(config.policy)
        self.engine = Engine(
            self.market,
            self.supplier,
            InMemoryStore(),
            policy=self.policy,
            profile=config.profile,
            sources=sources,
            trust=config.trust,
            calendar=config.calendar,
            messenger=self.market,
            settings=EngineSettings(
                reroute_after_confirmation=config.reroute_after_confirmation,
                mirror_listing=scenario.mirror_listing if scenario is not None else True,
            ),
            on_escalate=self.person.on_escalate,
            logger=_SILENT,
        )
        self.costs.engine = self.engine
        self.samples: list[list[tuple[MetricStatus, float | None]]] = []
        self.runs = 0

    def _next_due_us(self) -> int | None:
        due: int | None = None
        for candidate in (
            self.market.next_due_us(),
            self.supplier.next_due_us(),
            self.person.next_due_us(),
        ):
            if candidate is not None and (due is None or candidate < due):
                due = candidate
        engine_due = self.engine.next_due()
        if engine_due is not None:
            engine_us = to_us(engine_due)
            if due is None or engine_us < due:
                due = engine_us
        return due

    def run(self) -> PolicyResult:
        cfg = self.cfg
        cadence = cfg.cadence_us
        start_us = self.start_us
        market = self.market
        engine = self.engine
        next_sample = (start_us // _DAY_US + 1) * _DAY_US
        sampling = True
        last_tick = start_us - cadence
        last_arrival_us = start_us
        limit = cfg.end_us
        every = cfg.progress_every
        reported = 0
        while True:
            due = self._next_due_us()
            if due is None:
                break
            if market.arrivals_done and cfg.end_us is None:
                limit = last_arrival_us + int(cfg.drain_days * _DAY_US)
            if limit is not None and due > limit:
                break
            if cadence:  # the first run time on the cadence's grid at or after ``due``
                tick = max(
                    start_us + -(-(due - start_us) // cadence) * cadence, last_tick + cadence
                )
            else:  # event-driven (a replay at the log's own times): run when something is due
                tick = max(due, last_tick + 1)
            if limit is not None and tick > limit:
                tick = limit
            last_tick = tick
            # the days that ended by ``tick``, sampled before the world moves on to ``tick``
            # (a cancel priced at its own time moves the ledger's clock past midnight)
            while sampling and next_sample <= tick:
                report = engine.ledger.report(from_us(next_sample))
                self.samples.append([(m.status, m.value) for m in report.metrics])
                if market.arrivals_done and next_sample >= last_arrival_us:
                    sampling = False
                next_sample += _DAY_US
            self.clock.set(tick)
            market.advance(tick)
            last_arrival_us = max(last_arrival_us, market.last_paid_us)
            self.supplier.advance(tick)
            engine.run_once(self.clock.now, self.person.answers(engine, tick))
            self.runs += 1
            if cfg.progress is not None and every and market.arrived // every > reported:
                reported = market.arrived // every
                cfg.progress(market.arrived, cfg.total_orders)
        return self._result()

    # ------------------------------------------------------------------ results

    def _finished(self, record: LabOrder) -> bool:
        if record.open_so is not None:
            return False
        state = self.engine.order(record.w.order.ref)
        return state is not None and state.is_terminal

    def records(self) -> list[LogRecord]:
        """Every order's end, finished ones first in the order they finished, then open ones."""
        finished: list[tuple[int, int, LogRecord]] = []
        still_open: list[LogRecord] = []
        for record in self.market.records.values():
            if self._finished(record):
                at = max(record.ack_us, record.upload_us, record.cancel_us, record.outcome_us)
                finished.append((at, record.w.index, _log_record(record)))
            else:
                still_open.append(_log_record(record))
        finished.sort(key=lambda item: item[:2])
        return [item[2] for item in finished] + still_open

    def _result(self) -> PolicyResult:
        cfg = self.cfg
        w = cfg.weights
        # a replay is judged at the end of its log, however long before that its last run was
        end_us = self.clock.now_us if cfg.end_us is None else max(self.clock.now_us, cfg.end_us)
        hours = array("d")
        delay_hours = 0.0
        late = confirmed = shipped = open_at_end = 0
        for record in self.market.records.values():
            world = record.w
            still_open = not self._finished(record)
            open_at_end += still_open
            settled = end_us
            if 0 <= record.ack_us < settled:
                settled = record.ack_us
            if 0 <= record.cancel_us < settled:
                settled = record.cancel_us
            delay_hours += max(0, settled - world.paid_us) / _HOUR_US
            deadline = world.ship_by_us
            on_time = (0 <= record.upload_us < deadline) or (0 <= record.cancel_us < deadline)
            if not on_time and (not still_open or end_us >= deadline):
                late += 1
            if record.ack_us >= 0:
                confirmed += 1
                hours.append((record.ack_us - world.paid_us) / _HOUR_US)
            shipped += record.upload_us >= 0
        ordered = sorted(hours)
        costs = self.costs
        person = self.person
        cost = CostBreakdown(
            seller_fault_cancels=costs.cancels,
            # buyer cancels, and buyers who found the listing stopped (mirrored sold-outs)
            lost_sales=costs.lost
            + w.lost_sale_fixed * self.market.lost_orders
            + w.lost_sale_margin * self.market.lost_value,
            delay=w.delay_per_hour * delay_hours,
            late_shipments=w.late_shipment * late,
            escalations=cfg.person.cost_per_escalation * person.escalations,
        )
        return PolicyResult(
            policy=cfg.policy_name,
            params=cfg.policy_params,
            seed=cfg.seed,
            orders=self.market.arrived,
            seller_fault_cancels=costs.seller_fault,
            stock_out_cancels=costs.stock_out,
            buyer_cancels=costs.buyer,
            supplier_cancels=self.supplier.supplier_cancels,
            rerouted=self.supplier.rerouted,
            late_shipments=late,
            escalations=person.escalations,
            confirmed=confirmed,
            shipped=shipped,
            open_at_end=open_at_end,
            decisions=self.policy.calls,
            median_hours_to_confirm=percentile(ordered, 0.5),
            p90_hours_to_confirm=percentile(ordered, 0.9),
            mean_hours_to_confirm=sum(ordered) / len(ordered) if ordered else None,
            cost=cost,
            metrics=self._metrics(),
            unsold_orders=self.market.lost_orders,
        )

    def _metrics(self) -> list[MetricSummary]:
        return summarize_metrics(self.cfg.profile, self.samples)


def _log_record(record: LabOrder) -> LogRecord:
    cancellation = record.cancellation
    if cancellation is not None and cancellation.fault is not CancelFault.SELLER:
        outcome, at_us = "buyer_cancelled", record.cancel_us
    elif record.outcome == 2:
        outcome, at_us = "supplier_cancelled", record.outcome_us
    elif record.outcome == 1:
        outcome, at_us = "invoiced", record.outcome_us
    elif cancellation is not None:
        outcome, at_us = "supplier_cancelled", record.cancel_us
    else:
        outcome, at_us = "open", -1
    return LogRecord(
        order=record.w.order,
        supplier_id=record.supplier_id,
        outcome=outcome,
        outcome_at=from_us(at_us) if at_us >= 0 else None,
        confirmed_at=from_us(record.ack_us) if record.ack_us >= 0 else None,
        shipped_at=from_us(record.upload_us) if record.upload_us >= 0 else None,
        cancellation=cancellation,
    )


def run_world(
    config: LabConfig,
    orders: Iterable[WorldOrder],
    sources: dict[str, tuple[tuple[str, str], ...]],
    *,
    scenario: Scenario | None = None,
    recorder: Callable[[LogRecord], None] | None = None,
) -> PolicyResult:
    """Run an order stream (in arrival order) through the production engine.

    ``scenario`` is needed for simulated outcomes (orders without ``fixed_outcomes``);
    ``recorder`` receives one :class:`LogRecord` per order at the end, finished orders in the
    order they finished, then the orders still open.
    """
    run = _LabRun(config, iter(orders), sources, scenario)
    result = run.run()
    if recorder is not None:
        for record in run.records():
            recorder(record)
    return result
