"""The discrete-event engine shared by the simulator and the backtest.

It drives the real per-order workflow (:func:`consign_core.domain.workflow.step`) with the real
policy,
trust model and cancel-rate ledger, through :func:`consign_core.domain.workflow.make_decider`,
exactly
as the production engine does; it only plays the outside world: the market answers every
command at once, suppliers answer from the world's hidden outcomes, buyers cancel when their
patience runs out, and a person handles escalations (:class:`~consign_core.lab.sim.PersonModel`).

Time is simulated: a heap of ``(microseconds, sequence, kind, order index, payload)`` tuples
(plus a FIFO queue for the entries due at once, see ``_Run.push``); nothing here reads the
clock or draws a random number (the world did, beforehand).
"""

from __future__ import annotations

import gc
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from heapq import heappop, heappush
from typing import Any, Final, NamedTuple

from consign_core.domain._prevalidated import (
    new_cancellation,
    new_invoice_uploaded,
    new_market_acknowledged,
    new_order_cancelled,
    new_order_paid,
    new_supplier_cancel_result,
    new_supplier_cancelled,
    new_supplier_invoiced,
    new_supplier_order_placed,
    new_tracking,
    new_wake_up,
)
from consign_core.domain.calendar import BusinessCalendar
from consign_core.domain.cancel_rate import Ledger
from consign_core.domain.events import (
    BuyerCancelRequested,
    InvoiceUploaded,
    MarketAcknowledged,
    OrderCancelled,
    SupplierCancelled,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    MarketOrder,
)
from consign_core.domain.rules import MetricQuantity, MetricStatus, RuleProfile
from consign_core.domain.timing import (
    ConfirmationPolicy,
    Decision,
    ExpectedCostWeights,
    SupplierOrderState,
)
from consign_core.domain.trust import TrustModel
from consign_core.domain.workflow import (
    Acknowledge,
    AnswerBuyerRequest,
    BuyerRequestAnswer,
    BuyerRequestAnswered,
    CancelMarketOrder,
    CancelPurpose,
    CancelSupplierOrder,
    EscalateOrder,
    ManualAction,
    ManualDecision,
    MessageBuyer,
    OrderState,
    OrderStatus,
    PlaceSupplierOrder,
    Progress,
    ScheduleWakeUp,
    SupplierCancelOutcome,
    SupplierCancelResult,
    UploadInvoice,
    WorkflowContext,
    WorkflowEvent,
    make_decider,
    sources_from,
    step,
)
from consign_core.lab._results import CostBreakdown, MetricSummary, PolicyResult, percentile
from consign_core.lab._world import (
    FixedOutcome,
    PersonModel,
    Scenario,
    WorldOrder,
    WorldSupplier,
    from_us,
    outcome_of,
    to_us,
)


__all__ = ["EngineConfig", "LogRecord", "run_world"]

_HOUR_US: Final = 3_600_000_000
_DAY_US: Final = 24 * _HOUR_US
_set = object.__setattr__

# heap entry kinds
_ARRIVE: Final = 0
_EVENT: Final = 1
_OUTCOME: Final = 2
_BUYER: Final = 3
_STOP: Final = 4
_PERSON: Final = 5
_WAKE: Final = 6
_SAMPLE: Final = 7

_STATUS_CHAR: Final = {MetricStatus.OK: "o", MetricStatus.WARNING: "w", MetricStatus.SANCTION: "s"}
_FREE_CANCEL_STATUSES: Final = frozenset({OrderStatus.PLACING, OrderStatus.WAITING})
_TRACKING_COURIER: Final = "CJ"  # a Domeme courier code; the workflow maps it to the market's


class EngineConfig:
    """Everything the engine needs besides the order stream (plain attributes)."""

    __slots__ = (
        "calendar",
        "drain_days",
        "end_us",
        "person",
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
        calendar: BusinessCalendar,
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
        progress: Callable[[int, int], None] | None = None,
        progress_every: int = 0,
    ) -> None:
        """Collect the configuration (``end_us``: stop there; default: drain every order)."""
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
        self.progress = progress
        self.progress_every = progress_every


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


_Entry = tuple[int, int, int, int, Any]
"""A scheduled entry: ``(microseconds, sequence, kind, order index, payload)``."""


class _Live:
    """One open order: its world, its workflow state and its bookkeeping."""

    __slots__ = (
        "ack_us",
        "cancel_us",
        "cancellation",
        "open_so",
        "outcome",
        "outcome_us",
        "placed",
        "state",
        "supplier_id",
        "upload_us",
        "w",
    )

    def __init__(self, w: WorldOrder) -> None:
        self.w = w
        self.state: OrderState | None = None
        self.open_so: str | None = None  # the supplier order whose outcome is still to come
        self.placed = 0  # supplier orders placed so far
        self.ack_us = -1
        self.upload_us = -1
        self.cancel_us = -1
        self.supplier_id: str | None = None
        self.outcome = 0  # 0 none, 1 invoiced, 2 cancelled by the supplier
        self.outcome_us = -1
        self.cancellation: Cancellation | None = None


class _Stats:
    """Counters of one run."""

    def __init__(self) -> None:
        self.orders = 0
        self.seller_fault = 0
        self.stock_out = 0
        self.buyer = 0
        self.supplier_cancels = 0
        self.rerouted = 0
        self.late = 0
        self.escalations = 0
        self.confirmed = 0
        self.shipped = 0
        self.decisions = 0
        self.messages = 0
        self.cost_cancels = 0.0
        self.cost_lost = 0.0
        self.delay_hours = 0.0
        self.confirm_hours = array("d")


class _Run:
    _ctx: WorkflowContext

    def __init__(
        self,
        config: EngineConfig,
        scenario: Scenario | None,
        recorder: Callable[[LogRecord], None] | None,
    ) -> None:
        self.cfg = config
        self.scenario = scenario
        self.recorder = recorder
        self.profile = config.profile
        self.market = config.profile.market
        self.ledger = Ledger(config.profile, calendar=config.calendar)
        self.trust = config.trust
        self.stats = _Stats()
        self.heap: list[_Entry] = []
        self.queue: deque[_Entry] = deque()  # entries due now, see push()
        self.seq = 0
        self.live: dict[int, _Live] = {}
        self.decider = make_decider(config.policy, self.trust, self.ledger, config.profile)
        self.now_us = to_us(config.start)
        self._clock_us = -1
        self._clock = config.start
        # self._ctx: the workflow context, built by set_sources()
        self.samples: list[list[tuple[MetricStatus, float | None]]] = []
        self.sample_meta: list[tuple[str, str, MetricQuantity]] = [
            (m.name, m.title, m.headline) for m in config.profile.metrics
        ]
        self.place_delay_us = config.place_delay_us
        self.person = config.person
        self.person_delay_us = int(config.person.delay_hours * _HOUR_US)
        self.person_recheck_us = int(config.person.recheck_hours * _HOUR_US)
        self.give_up_us = int(config.person.give_up_hours * _HOUR_US)
        self.w = config.weights
        self.arrivals_done = False
        self.last_arrival_us = self.now_us
        self._handlers: dict[type, Callable[[_Live, Any], None]] = {
            PlaceSupplierOrder: self._cmd_place,
            CancelSupplierOrder: self._cmd_cancel_supplier,
            Acknowledge: self._cmd_ack,
            UploadInvoice: self._cmd_upload,
            CancelMarketOrder: self._cmd_cancel_market,
            MessageBuyer: self._cmd_message,
            EscalateOrder: self._cmd_escalate,
            ScheduleWakeUp: self._cmd_wake,
            AnswerBuyerRequest: self._cmd_answer,
        }

    # ------------------------------------------------------------------ plumbing

    def push(self, at_us: int, kind: int, index: int, payload: Any) -> None:
        """Schedule an entry; ties at the same time run in the order they were pushed.

        Many entries are due at once (the market answers every command immediately): they go
        to a FIFO queue instead of the heap. The queue stays sorted by ``(time, sequence)``
        (an entry goes there only if it is due now and not earlier than the queue's last),
        and the loop always takes the smaller head of the two, so the order of execution is
        exactly that of a single heap.
        """
        seq = self.seq = self.seq + 1
        entry = (at_us, seq, kind, index, payload)
        queue = self.queue
        if at_us == self.now_us and (not queue or queue[-1][0] <= at_us):
            queue.append(entry)
        else:
            heappush(self.heap, entry)

    def set_sources(self, mapping: dict[str, tuple[tuple[str, str], ...]]) -> None:
        stats = self.stats
        decider = self.decider

        def decide(  # noqa: PLR0917 - the workflow's Decider protocol is positional
            order: MarketOrder,
            now: datetime,
            supplier_id: str,
            item_id: str,
            supplier_state: SupplierOrderState,
            placed_at: datetime | None,
            alternates: int,
        ) -> Decision:
            stats.decisions += 1
            return decider(order, now, supplier_id, item_id, supplier_state, placed_at, alternates)

        proto = WorkflowContext(
            now=self.cfg.start,
            decide=decide,
            sources=sources_from(mapping),
            calendar=self.cfg.calendar,
            reroute_after_confirmation=self.cfg.reroute_after_confirmation,
        )
        self._clock_us = self.now_us
        self._clock = from_us(self.now_us)
        self._ctx = proto.at(self._clock)

    def clock(self) -> datetime:
        """The current simulated time as a datetime (built once per distinct time).

        It also moves the workflow context's ``now``: one private context object whose
        ``now`` is moved forward in place. It never leaves the engine (the workflow keeps no
        reference to it), and this saves building a copy with ``ctx.at(now)`` for every event.
        """
        now_us = self.now_us
        if now_us != self._clock_us:
            self._clock_us = now_us
            self._clock = from_us(now_us)
            _set(self._ctx, "now", self._clock)
        return self._clock

    def deliver(self, live: _Live, event: WorkflowEvent) -> None:
        """Step the order's workflow with ``event`` and carry out its commands.

        The commands run with :attr:`_clock` current (the ``_cmd_*`` handlers read it).
        """
        if self.now_us != self._clock_us:
            self.clock()
        result = step(live.state, event, self._ctx)
        live.state = result.state
        commands = result.commands
        if commands:
            handlers = self._handlers
            for command in commands:
                handlers[type(command)](live, command)

    # ------------------------------------------------------------------ main loop

    def run(self, orders: Iterator[WorldOrder]) -> PolicyResult:  # noqa: PLR0912 - the event loop
        cfg = self.cfg
        self._orders = orders
        self._schedule_next_arrival()
        first_sample = (self.now_us // _DAY_US + 1) * _DAY_US
        self.push(first_sample, _SAMPLE, -1, None)
        heap = self.heap
        queue = self.queue
        take = queue.popleft
        live_map = self.live
        get_live = live_map.get
        limit: int | None = cfg.end_us
        while True:
            # the smaller head of the two sorted containers (see push)
            if queue and (not heap or queue[0] < heap[0]):
                at_us, _seq, kind, index, payload = take()
            elif heap:
                at_us, _seq, kind, index, payload = heappop(heap)
            else:
                break
            if limit is not None and at_us > limit:
                break
            self.now_us = at_us
            if kind == _ARRIVE:
                self._arrive(payload)
                if self.arrivals_done and cfg.end_us is None:
                    limit = self.last_arrival_us + int(cfg.drain_days * _DAY_US)
                continue
            if kind == _SAMPLE:
                self._sample()
                continue
            live = get_live(index)
            if live is None:
                continue  # the order has finished
            if kind == _EVENT:
                self._on_event(live, payload)
            elif kind == _OUTCOME:
                self._on_outcome(live, payload)
            else:
                self._on_timer(live, kind, payload)
            # finished? (as _maybe_finish, inlined: this runs for almost every entry)
            if live.open_so is None:
                state = live.state
                if state is not None and state.is_terminal:
                    self._finish(live, at_us, still_open=False)
                    del live_map[index]
        end_us = self.now_us
        open_at_end = 0
        for live in list(live_map.values()):
            open_at_end += 1
            self._finish(live, end_us, still_open=True)
        live_map.clear()
        return self._result(open_at_end)

    def _schedule_next_arrival(self) -> None:
        nxt = next(self._orders, None)
        if nxt is None:
            self.arrivals_done = True
            return
        self.push(nxt.paid_us, _ARRIVE, nxt.index, nxt)

    # ------------------------------------------------------------------ world -> engine

    def _arrive(self, w: WorldOrder) -> None:
        stats = self.stats
        stats.orders += 1
        self.last_arrival_us = w.paid_us
        live = _Live(w)
        self.live[w.index] = live
        event = new_order_paid(order=w.order)
        self.ledger.observe(event)
        self.deliver(live, event)
        if w.buyer_cancel_us is not None:
            self.push(w.buyer_cancel_us, _BUYER, w.index, None)
        self._maybe_finish(live)
        cfg = self.cfg
        if (
            cfg.progress is not None
            and cfg.progress_every
            and stats.orders % cfg.progress_every == 0
        ):
            cfg.progress(stats.orders, cfg.total_orders)
        self._schedule_next_arrival()

    def _on_timer(self, live: _Live, kind: int, payload: Any) -> None:
        """A wake-up, the buyer's patience, a stop request or the person's look is due."""
        if kind == _WAKE:
            state = live.state
            if state is not None and state.wake_at is not None and payload >= state.wake_at:
                self.deliver(live, new_wake_up(ref=state.order.ref, at=payload))
        elif kind == _BUYER:
            self._on_buyer(live)
        elif kind == _STOP:
            self._on_stop(live)
        elif kind == _PERSON:
            self._on_person(live, payload)

    def _on_event(self, live: _Live, event: Any) -> None:
        kind = type(event)
        if kind is SupplierOrderPlaced:
            self.trust.observe(event)
        elif kind is MarketAcknowledged:
            if live.ack_us < 0:
                live.ack_us = self.now_us
                stats = self.stats
                stats.confirmed += 1
                stats.confirm_hours.append((self.now_us - live.w.paid_us) / _HOUR_US)
                if live.w.stop_delay_us is not None:
                    self.push(self.now_us + live.w.stop_delay_us, _STOP, live.w.index, None)
        elif kind is InvoiceUploaded:
            self.ledger.observe(event)
            if live.upload_us < 0:
                live.upload_us = self.now_us
                self.stats.shipped += 1
        elif kind is OrderCancelled:
            self._book_cancel(live, event)
        elif kind is SupplierCancelResult and event.outcome is SupplierCancelOutcome.CANCELLED:
            # the seller withdrew the supplier order: censored, not a shipment nor a failure
            state = live.state
            if state is not None and state.supplier_order_id == event.supplier_order_id:
                supplier_id = state.supplier_id
                assert supplier_id is not None  # noqa: S101 - set with the supplier order id
                if state.cancel_purpose is CancelPurpose.STOCK_OUT:  # after a sold-out notice
                    self.trust.observe(
                        new_supplier_cancelled(
                            ref=state.order.ref,
                            at=event.at,
                            supplier_id=supplier_id,
                            supplier_order_id=event.supplier_order_id,
                            reason=CancelReason.STOCK_OUT,
                        )
                    )
                else:
                    self.trust.withdraw(supplier_id, event.supplier_order_id, event.at)
        self.deliver(live, event)

    def _book_cancel(self, live: _Live, event: OrderCancelled) -> None:
        if live.cancel_us >= 0:
            self.ledger.observe(event)
            return
        live.cancel_us = self.now_us
        cancellation = event.cancellation
        live.cancellation = cancellation
        stats = self.stats
        w = self.w
        order = live.w.order
        if cancellation.fault is CancelFault.SELLER:
            headroom = self.ledger.headroom(cancellation.at, order)
            stats.cost_cancels += w.cancel_penalty(
                headroom.cancels_to_warning, headroom.cancels_to_sanction
            )
            stats.seller_fault += 1
            if cancellation.reason is CancelReason.STOCK_OUT:
                stats.stock_out += 1
        elif cancellation.fault is CancelFault.BUYER:
            stats.buyer += 1
            stats.cost_lost += w.lost_sale_fixed + w.lost_sale_margin * order.value
        self.ledger.observe(event)

    def _on_outcome(self, live: _Live, payload: tuple[str, str, bool, CancelReason]) -> None:
        supplier_order_id, supplier_id, cancelled, reason = payload
        if live.open_so != supplier_order_id:
            return  # the seller cancelled that supplier order meanwhile
        live.open_so = None
        live.outcome = 2 if cancelled else 1
        live.outcome_us = self.now_us
        at = self.clock()
        ref = live.w.order.ref
        event: SupplierInvoiced | SupplierCancelled
        if cancelled:
            self.stats.supplier_cancels += 1
            event = new_supplier_cancelled(
                ref=ref,
                at=at,
                supplier_id=supplier_id,
                supplier_order_id=supplier_order_id,
                reason=reason,
            )
        else:
            event = new_supplier_invoiced(
                ref=ref,
                at=at,
                supplier_id=supplier_id,
                supplier_order_id=supplier_order_id,
                tracking=new_tracking(courier=_TRACKING_COURIER, number=supplier_order_id),
            )
        self.trust.observe(event)
        self.deliver(live, event)

    def _on_buyer(self, live: _Live) -> None:
        """The buyer's patience ran out: a free cancel if the order is still unconfirmed."""
        state = live.state
        if state is None or state.market_cancel is not Progress.NONE or live.cancel_us >= 0:
            return
        if state.ack is Progress.NONE and state.status in _FREE_CANCEL_STATUSES:
            w = live.w
            cancellation = new_cancellation(
                fault=w.buyer_fault or CancelFault.BUYER,
                reason=w.buyer_reason or CancelReason.BUYER_REMORSE,
                at=self.clock(),
            )
            self._on_event(
                live, new_order_cancelled(ref=state.order.ref, cancellation=cancellation)
            )
        elif live.w.buyer_insists and state.invoice is Progress.NONE:
            self._request_stop(live)

    def _on_stop(self, live: _Live) -> None:
        state = live.state
        if state is None or state.invoice is not Progress.NONE or live.cancel_us >= 0:
            return
        if state.market_cancel is not Progress.NONE or state.buyer_reason is not None:
            return
        self._request_stop(live)

    def _request_stop(self, live: _Live) -> None:
        ref = live.w.order.ref
        event = BuyerCancelRequested(
            ref=ref,
            at=self.clock(),
            reason=live.w.buyer_reason or CancelReason.BUYER_REMORSE,
            request_id=f"R{live.w.index}",
        )
        self.deliver(live, event)

    def _on_person(self, live: _Live, reason: str) -> None:
        """The person looks at an escalated order (see PersonModel)."""
        state = live.state
        if state is None or state.escalation is None:
            return
        now_us = self.now_us
        ref = state.order.ref
        at = self.clock()
        status = state.status
        if (
            status in {OrderStatus.CANCELLING, OrderStatus.CANCELLED, OrderStatus.SHIPPED}
            or state.market_cancel is not Progress.NONE
        ):
            self.deliver(live, ManualDecision(ref=ref, at=at, action=ManualAction.RESOLVE))
            return
        if now_us >= live.w.ship_by_us + self.give_up_us:
            decision = ManualDecision(
                ref=ref,
                at=at,
                action=ManualAction.CANCEL,
                reason=CancelReason.DELIVERY_DELAY,
                fault=CancelFault.SELLER,
                note="no tracking long after the ship-by deadline",
            )
            self.deliver(live, decision)
            return
        nxt = min(now_us + self.person_recheck_us, live.w.ship_by_us + self.give_up_us)
        self.push(max(nxt, now_us + 1), _PERSON, live.w.index, reason)

    # ------------------------------------------------------------------ commands

    def _cmd_place(self, live: _Live, cmd: PlaceSupplierOrder) -> None:
        w = live.w
        j = 0
        for k, (supplier_id, item_id) in enumerate(w.sources):
            if supplier_id == cmd.supplier_id and item_id == cmd.item_id:
                j = k
                break
        placed_us = self.now_us + self.place_delay_us
        placed_at = from_us(placed_us)
        live.placed += 1
        live.supplier_id = cmd.supplier_id
        live.outcome = 0
        if live.placed > 1:
            self.stats.rerouted += 1
        draws = w.draws[j] if j < len(w.draws) else None
        so_id = cmd.idempotency_key
        event = new_supplier_order_placed(
            ref=w.order.ref,
            at=placed_at,
            supplier_id=cmd.supplier_id,
            supplier_order_id=so_id,
            item_id=cmd.item_id,
            quantity=cmd.quantity,
            reported_stock=None
            if draws is None or draws.reported_stock < 0
            else draws.reported_stock,
        )
        self.push(placed_us, _EVENT, w.index, event)
        outcome = self._outcome(w, j, cmd.quantity, placed_at, placed_us)
        if outcome is None:
            live.open_so = so_id
            return
        cancelled, at, reason = outcome
        live.open_so = so_id
        self.push(
            max(to_us(at), placed_us),
            _OUTCOME,
            w.index,
            (so_id, cmd.supplier_id, cancelled, reason),
        )

    def _outcome(
        self, w: WorldOrder, j: int, quantity: int, placed_at: datetime, placed_us: int
    ) -> tuple[bool, datetime, CancelReason] | None:
        fixed = w.fixed_outcomes
        if fixed is not None:
            outcome: FixedOutcome | None = fixed[j] if j < len(fixed) else None
            if outcome is None:
                return None
            return outcome.cancelled, outcome.at, outcome.reason or CancelReason.STOCK_OUT
        suppliers = self.cfg.suppliers
        assert suppliers is not None  # noqa: S101 - a simulated world has suppliers
        supplier = suppliers[w.sources[j][0]]
        scenario = self.scenario
        assert scenario is not None  # noqa: S101 - a simulated world has its scenario
        return outcome_of(supplier, w.draws[j], quantity, placed_at, placed_us, scenario)

    def _cmd_cancel_supplier(self, live: _Live, cmd: CancelSupplierOrder) -> None:
        if live.open_so == cmd.supplier_order_id:
            live.open_so = None
        result = new_supplier_cancel_result(
            ref=live.w.order.ref,
            at=self.clock(),
            supplier_order_id=cmd.supplier_order_id,
            outcome=SupplierCancelOutcome.CANCELLED,
        )
        self.push(self.now_us, _EVENT, live.w.index, result)

    def _cmd_ack(self, live: _Live, cmd: Acknowledge) -> None:
        self.push(
            self.now_us,
            _EVENT,
            live.w.index,
            new_market_acknowledged(ref=cmd.ref, at=self._clock),
        )

    def _cmd_upload(self, live: _Live, cmd: UploadInvoice) -> None:
        event = new_invoice_uploaded(ref=cmd.ref, at=self._clock, tracking=cmd.tracking)
        self.push(self.now_us, _EVENT, live.w.index, event)

    def _cmd_cancel_market(self, live: _Live, cmd: CancelMarketOrder) -> None:
        cancellation = cmd.cancellation
        if cancellation.at != self.clock():
            cancellation = Cancellation(
                fault=cancellation.fault,
                reason=cancellation.reason,
                at=self.clock(),
                note=cancellation.note,
            )
        self.push(
            self.now_us,
            _EVENT,
            live.w.index,
            OrderCancelled(ref=cmd.ref, cancellation=cancellation),
        )

    def _cmd_message(self, live: _Live, cmd: MessageBuyer) -> None:  # noqa: ARG002 - sent as is
        self.stats.messages += 1

    def _cmd_escalate(self, live: _Live, cmd: EscalateOrder) -> None:
        self.stats.escalations += 1
        self.push(self.now_us + self.person_delay_us, _PERSON, live.w.index, cmd.reason)

    def _cmd_wake(self, live: _Live, cmd: ScheduleWakeUp) -> None:
        self.push(max(to_us(cmd.at), self.now_us), _WAKE, live.w.index, cmd.at)

    def _cmd_answer(self, live: _Live, cmd: AnswerBuyerRequest) -> None:
        at = self.clock()
        answered = BuyerRequestAnswered(
            ref=cmd.ref, at=at, request_id=cmd.request_id, answer=cmd.answer
        )
        if cmd.answer is not BuyerRequestAnswer.ALREADY_SHIPPED:
            # The market cancels the order as it accepts the answer: book it now (the
            # workflow learns it from the answer itself and may finish the order at once).
            state = live.state
            reason = (
                state.buyer_reason
                if state is not None and state.buyer_reason is not None
                else CancelReason.BUYER_REMORSE
            )
            # the market's fault as logged (a backtest), else the buyer's
            fault = live.w.buyer_fault or CancelFault.BUYER
            cancellation = Cancellation(fault=fault, reason=reason, at=at)
            self._book_cancel(live, OrderCancelled(ref=cmd.ref, cancellation=cancellation))
        self.push(self.now_us, _EVENT, live.w.index, answered)

    # ------------------------------------------------------------------ bookkeeping

    def _maybe_finish(self, live: _Live) -> None:
        state = live.state
        if state is not None and live.open_so is None and state.is_terminal:
            self._finish(live, self.now_us, still_open=False)
            del self.live[live.w.index]

    def _finish(self, live: _Live, end_us: int, *, still_open: bool) -> None:
        w = live.w
        stats = self.stats
        settled = end_us
        if 0 <= live.ack_us < settled:
            settled = live.ack_us
        if 0 <= live.cancel_us < settled:
            settled = live.cancel_us
        stats.delay_hours += max(0, settled - w.paid_us) / _HOUR_US
        deadline = w.ship_by_us
        on_time = (0 <= live.upload_us < deadline) or (0 <= live.cancel_us < deadline)
        if not on_time and (not still_open or end_us >= deadline):
            stats.late += 1
        if self.recorder is not None:
            self.recorder(_record(live))

    def _sample(self) -> None:
        report = self.ledger.report(self.clock())
        self.samples.append([(m.status, m.value) for m in report.metrics])
        if not self.arrivals_done or self.now_us < self.last_arrival_us:
            self.push(self.now_us + _DAY_US, _SAMPLE, -1, None)

    def _result(self, open_at_end: int) -> PolicyResult:
        stats = self.stats
        w = self.w
        hours = sorted(stats.confirm_hours)
        metrics = []
        for i, (name, title, quantity) in enumerate(self.sample_meta):
            column = [s[i] for s in self.samples]
            statuses = [s for s, _ in column]
            values = [v for _, v in column if v is not None]
            if quantity is MetricQuantity.SUCCESS_RATE:
                worst_value = min(values) if values else None
            else:
                worst_value = max(values) if values else None
            worst = max(statuses, key=lambda s: s.severity, default=MetricStatus.OK)
            metrics.append(
                MetricSummary(
                    name=name,
                    title=title,
                    worst_status=worst.value,
                    days_ok=statuses.count(MetricStatus.OK),
                    days_warning=statuses.count(MetricStatus.WARNING),
                    days_sanction=statuses.count(MetricStatus.SANCTION),
                    worst_value=worst_value,
                    final_value=column[-1][1] if column else None,
                    timeline="".join(_STATUS_CHAR[s] for s in statuses),
                )
            )
        cost = CostBreakdown(
            seller_fault_cancels=stats.cost_cancels,
            lost_sales=stats.cost_lost,
            delay=w.delay_per_hour * stats.delay_hours,
            late_shipments=w.late_shipment * stats.late,
            escalations=self.person.cost_per_escalation * stats.escalations,
        )
        return PolicyResult(
            policy=self.cfg.policy_name,
            params=self.cfg.policy_params,
            seed=self.cfg.seed,
            orders=stats.orders,
            seller_fault_cancels=stats.seller_fault,
            stock_out_cancels=stats.stock_out,
            buyer_cancels=stats.buyer,
            supplier_cancels=stats.supplier_cancels,
            rerouted=stats.rerouted,
            late_shipments=stats.late,
            escalations=stats.escalations,
            confirmed=stats.confirmed,
            shipped=stats.shipped,
            open_at_end=open_at_end,
            decisions=stats.decisions,
            median_hours_to_confirm=percentile(hours, 0.5),
            p90_hours_to_confirm=percentile(hours, 0.9),
            mean_hours_to_confirm=sum(hours) / len(hours) if hours else None,
            cost=cost,
            metrics=metrics,
        )


def _record(live: _Live) -> LogRecord:
    cancellation = live.cancellation
    if cancellation is not None and cancellation.fault is not CancelFault.SELLER:
        outcome, at_us = "buyer_cancelled", live.cancel_us
    elif live.outcome == 2:
        outcome, at_us = "supplier_cancelled", live.outcome_us
    elif live.outcome == 1:
        outcome, at_us = "invoiced", live.outcome_us
    elif cancellation is not None:
        outcome, at_us = "supplier_cancelled", live.cancel_us
    else:
        outcome, at_us = "open", -1
    return LogRecord(
        order=live.w.order,
        supplier_id=live.supplier_id,
        outcome=outcome,
        outcome_at=from_us(at_us) if at_us >= 0 else None,
        confirmed_at=from_us(live.ack_us) if live.ack_us >= 0 else None,
        shipped_at=from_us(live.upload_us) if live.upload_us >= 0 else None,
        cancellation=cancellation,
    )


def run_world(
    config: EngineConfig,
    orders: Iterable[WorldOrder],
    sources: dict[str, tuple[tuple[str, str], ...]],
    *,
    scenario: Scenario | None = None,
    recorder: Callable[[LogRecord], None] | None = None,
) -> PolicyResult:
    """Run an order stream (in arrival order) with the given SKU sources.

    ``scenario`` is needed for simulated outcomes (orders without ``fixed_outcomes``);
    ``recorder`` receives one :class:`LogRecord` per order when it finishes.
    """
    run = _Run(config, scenario, recorder)
    run.set_sources(sources)
    with _fewer_young_collections():
        return run.run(iter(orders))


_YOUNG_GC_THRESHOLD: Final = 10_000


@contextmanager
def _fewer_young_collections() -> Iterator[None]:
    """Raise the garbage collector's first threshold for the run, then restore it.

    A run allocates and frees millions of small objects (events, states, heap entries), none
    of them in reference cycles; with the default threshold (700) the collector runs every
    few orders and now and then sweeps everything the run keeps (world, trust model, ledger).
    A larger threshold only changes when unreachable cycles are found, not what any object
    holds, so results are the same; it is worth about 5 % of the run time. Left alone if the
    automatic collector is off (threshold 0) or already less eager.
    """
    old = gc.get_threshold()
    if old[0] == 0 or old[0] >= _YOUNG_GC_THRESHOLD:
        yield
        return
    gc.set_threshold(_YOUNG_GC_THRESHOLD, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
