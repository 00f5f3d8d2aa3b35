"""The automation engine: poll the ports, feed the workflow, execute its commands, persist.

:class:`Engine` is the imperative shell around the pure :func:`~consign_core.domain.workflow.step`.
One :meth:`Engine.run_once` does, at the time ``now`` it is given:

1. poll the market for newly paid orders and buyer requests, the supplier's change feed
   (stock, price) and the state of every open supplier order; collect due wake-ups;
2. feed the resulting events to the workflow (and the lifecycle events to the trust model and
   the cancel-rate ledger, whose answers ``decide`` reads through the configured policy);
3. commit the new states together with the new outbox entries (one transaction), then send the
   commands: acknowledgements and invoice uploads batched to the market's limits; results
   become events, which are fed and committed in the next round, until nothing is left.

Failure handling: a timeout, 5xx or throttling leaves the outbox entry pending with a back-off;
the next run reconciles it (asks the vendor what happened) before sending anything again, so a
supplier order (paid at once on Domeme) is never placed twice. A refusal is told to the
workflow (``CommandFailed``) after the market's view of the order was read. See
:mod:`consign_core.engine.ports` for the per-command retry table.

Logging goes to ``logging.getLogger("consign_core.engine")``; every line about an order names
it in the message and in ``extra={"order_ref": ...}``. Nothing logged contains credentials (the
engine never sees any: they live inside the adapters).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs

from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar, require_aware
from consign_core.domain.cancel_rate import Ledger
from consign_core.domain.decisions import DecisionRecord
from consign_core.domain.events import (
    Delivered,
    InvoiceUploaded,
    OrderCancelled,
    OrderPaid,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    OrderRef,
)
from consign_core.domain.rules import RuleProfile
from consign_core.domain.timing import (
    SupplierOrderState,
    make_policy,
    watches_supplier_confirmation,
)
from consign_core.domain.timing._types import ConfirmationPolicy
from consign_core.domain.trust import TrustConfig, TrustModel
from consign_core.domain.workflow import sources_from
from consign_core.domain.workflow._step import step
from consign_core.domain.workflow._types import (
    DEFAULT_TEMPLATES,
    EscalateOrder,
    OrderState,
    ScheduleWakeUp,
    SupplierCancelOutcome,
    SupplierCancelResult,
    SupplierSource,
    WorkflowContext,
    WorkflowEvent,
)
from consign_core.engine._exec import Run, execute
from consign_core.engine._history import DecisionLog
from consign_core.engine._listing import listing_port_of
from consign_core.engine._persist import Persistence
from consign_core.engine._poll_alarm import PollAlarm
from consign_core.engine._polls import Polling
from consign_core.engine._settings import EngineSettings, RunReport
from consign_core.engine._sources import option_of, split_options
from consign_core.engine.ports import (
    BuyerMessenger,
    MarketPort,
    SupplierOrderFeed,
    SupplierPort,
)
from consign_core.errors import (
    AdapterError,
    ConfigurationError,
    ConsignError,
    InvalidTransitionError,
    RateLimitedError,
    StoreError,
)
from consign_core.store._types import OutboxEntry, Store, new_outbox_entry


__all__ = ["Engine", "EngineSettings", "RunReport"]

_LOGGER = logging.getLogger("consign_core.engine")

_TRUST_EVENTS = (SupplierOrderPlaced, SupplierConfirmed, SupplierInvoiced, SupplierCancelled)
_LEDGER_EVENTS = (OrderPaid, OrderCancelled, InvoiceUploaded, Delivered)
_OBSERVED_EVENTS = _LEDGER_EVENTS + _TRUST_EVENTS
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_PURGE_EVERY = timedelta(days=1)


class Engine(Polling, Persistence):
    """Runs the seller's automation for one market account and one supplier platform.

    Args:
        market: the market port (e.g. :class:`~consign_core.testing.InMemoryMarket`).
        supplier: the supplier port (e.g. :class:`~consign_core.testing.InMemorySupplier`).
        store: where state lives (:class:`~consign_core.store.SQLiteStore` or
            :class:`~consign_core.store.InMemoryStore`).
        policy: the confirmation-timing policy, or a built-in policy's name (given to
            :func:`~consign_core.domain.timing.make_policy`); anything else is refused with a
            :class:`~consign_core.errors.ConfigurationError`.
        profile: the market's rule profile (:func:`~consign_core.domain.rules.get_profile`).
        sources: SKU -> supplier sources, primary first (see
            :func:`~consign_core.domain.workflow.sources_from` for the accepted shapes); a
            source may also be ``(supplier_id, item_id, option)``, the supplier's option code
            of the item (``None``: a single-option item), which the supplier order carries.
        trust: the trust model for a fresh store (default: ``TrustModel(TrustConfig())``);
            a store with a snapshot restores its own.
        ledger: the ledger for a fresh store (default: ``Ledger(profile)``); likewise.
        calendar: the business calendar.
        templates: buyer message templates.
        messenger: sends buyer messages; ``None`` logs them instead.
        settings: tuning knobs.
        on_escalate: called with the order state and the reason whenever an order is escalated.
        logger: where the engine logs (default: ``logging.getLogger("consign_core.engine")``);
            the policy lab gives its engines a logger of its own.
    """

    def __init__(
        self,
        market: MarketPort,
        supplier: SupplierPort,
        store: Store,
        *,
        policy: ConfirmationPolicy | str,
        profile: RuleProfile,
        sources: Mapping[str, Any],
        trust: TrustModel | None = None,
        ledger: Ledger | None = None,
        calendar: BusinessCalendar = DEFAULT_CALENDAR,
        templates: Mapping[str, str] = DEFAULT_TEMPLATES,
        messenger: BuyerMessenger | None = None,
        settings: EngineSettings | None = None,
        on_escalate: Callable[[OrderState, str], None] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        """Wire the engine; nothing is read from the store before the first run."""
        self._market = market
        self._supplier = supplier
        self._store = store
        self._policy = _resolve_policy(policy)
        self._reask_on_confirmation = watches_supplier_confirmation(self._policy)
        self._profile = profile
        plain, self._options = split_options(sources)
        self._sources: dict[str, tuple[SupplierSource, ...]] = sources_from(plain)
        self._calendar = calendar
        self._trust = trust if trust is not None else TrustModel(TrustConfig(), calendar=calendar)
        self._ledger = ledger if ledger is not None else Ledger(profile, calendar=calendar)
        self._templates = dict(templates)
        self._messenger = messenger
        self._settings = settings if settings is not None else EngineSettings()
        self._order_feed = (
            supplier
            if self._settings.supplier_order_feed and isinstance(supplier, SupplierOrderFeed)
            else None
        )
        self._listing_port = listing_port_of(market, enabled=self._settings.mirror_listing)
        self._listing_items = None  # source item -> SKUs, built on the first stock change
        self._on_escalate = on_escalate
        self._log = logger if logger is not None else _LOGGER
        self._decision_log = DecisionLog(store, self._log)
        self._poll_alarm = PollAlarm(self._log)
        if market.market.strip().casefold() != profile.market.strip().casefold():
            msg = f"market {market.market!r} does not match the profile's market {profile.market!r}"
            raise ConfigurationError(msg)
        # What a store without a snapshot starts from, kept to rebuild from after a failed run
        # (the live models may hold events the store never committed).
        self._trust_initial = self._trust.snapshot()
        self._ledger_initial = self._ledger.snapshot()
        self._loaded = False
        self._loaded_once = False
        self._states: dict[OrderRef, OrderState] = {}
        self._open_supplier: dict[str, tuple[OrderRef, SupplierOrderState]] = {}
        self._supplier_due: dict[str, datetime] = {}  # next poll per open supplier order
        self._unpolled: dict[str, None] = {}  # with an order feed: not asked about yet
        self._unknown_requests: dict[OrderRef, datetime] = {}  # first seen, per unknown order
        self._by_item: dict[tuple[str, str], set[OrderRef]] = {}
        self._wakes: list[tuple[datetime, int, OrderRef]] = []
        self._wake_seq = 0
        self._pending: dict[int, OutboxEntry] = {}
        self._fresh: set[int] = set()
        self._cursors: dict[str, str | None] = {}
        self._stock: dict[tuple[str, str], int] = {}
        self._last_outbox = 0
        self._last_seq = 0
        self._snapshot_due = 0
        self._ctx: WorkflowContext | None = None
        self._next_purge: datetime | None = None  # the personal-data purge: once a day

    # ------------------------------------------------------------------ read-only views

    @property
    def market(self) -> MarketPort:
        """The market port."""
        return self._market

    @property
    def supplier(self) -> SupplierPort:
        """The supplier port."""
        return self._supplier

    @property
    def messenger(self) -> BuyerMessenger | None:
        """The buyer messenger, if any."""
        return self._messenger

    @property
    def templates(self) -> Mapping[str, str]:
        """The message templates."""
        return self._templates

    @property
    def stock(self) -> Mapping[tuple[str, str], int]:
        """Last reported stock per ``(supplier_id, item_id)``."""
        return self._stock

    @property
    def trust(self) -> TrustModel:
        """The trust model in use (restored from the store after the first run)."""
        self._ensure_loaded()
        return self._trust

    @property
    def ledger(self) -> Ledger:
        """The cancel-rate ledger in use (restored from the store after the first run)."""
        self._ensure_loaded()
        return self._ledger

    def order(self, ref: OrderRef) -> OrderState | None:
        """One order's state (active or not)."""
        self._ensure_loaded()
        state = self._states.get(ref)
        return state if state is not None else self._store.get_order(ref)

    def active_orders(self) -> list[OrderState]:
        """Orders that are not terminal yet (escalated ones included)."""
        self._ensure_loaded()
        return list(self._states.values())

    def escalated(self) -> list[OrderState]:
        """Orders waiting for a person (answer with a ``ManualDecision`` in :meth:`run_once`)."""
        self._ensure_loaded()
        return [s for s in self._states.values() if s.escalation is not None]

    def source_option(self, sku: str, candidate: int, source: tuple[str, str]) -> str | None:
        """The supplier's option code of ``source`` (``(supplier_id, item_id)``) as a source of
        ``sku``, the ``candidate``-th one when it is (an alternate has its own); ``None`` for
        a source without one."""
        return option_of(self._options, self._sources, sku, candidate, source)

    def decisions(self, ref: OrderRef) -> list[DecisionRecord]:
        """One order's decision history, oldest first, as the store keeps it (across restarts).

        Each :class:`~consign_core.domain.decisions.DecisionRecord` has ``at``, ``kind``
        (confirm now, wait, escalate, or a person's decision), ``reason`` and ``numbers``; a
        re-check that repeats the previous record is not a new one (see
        :mod:`consign_core.domain.decisions`). An unknown order has none. A ``ref`` that is
        not an :class:`~consign_core.domain.model.OrderRef` raises
        :class:`~consign_core.errors.ValidationError`.
        """
        return self._decision_log.records(ref)

    # ------------------------------------------------------------------ running

    def run_once(self, now: datetime, events: Iterable[WorkflowEvent] = ()) -> RunReport:
        """Poll, decide, act and persist once at ``now``; ``events`` are fed first (e.g. a
        :class:`~consign_core.domain.workflow.ManualDecision` or a ``Delivered`` from a webhook)."""
        require_aware(now, "now")
        try:
            return self._run(now, list(events))
        except BaseException:
            self._loaded = False  # memory may be ahead of the store: reload next time
            raise

    def run_forever(
        self,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        poll_interval: float = 60.0,
        stop: Callable[[], bool] = lambda: False,
        max_runs: int | None = None,
    ) -> int:
        """Call :meth:`run_once` every ``poll_interval`` seconds until ``stop()`` is true.

        ``clock`` and ``sleep`` are injected (``lambda: datetime.now(KST)`` and ``time.sleep``
        in production; fakes in tests, which never wait). An exception from a run is logged
        and the loop goes on if it is a :class:`~consign_core.errors.ConsignError`; a
        :class:`~consign_core.errors.StoreError` (or any other exception: a bug) stops it.
        Returns the number of runs.
        """
        runs = 0
        while not stop():
            started = clock()
            try:
                self.run_once(started)
            except StoreError:
                raise
            except ConsignError:
                self._log.exception(
                    "engine run at %s failed; retrying next poll", started.isoformat()
                )
            runs += 1
            if max_runs is not None and runs >= max_runs:
                break
            elapsed = (clock() - started).total_seconds()
            sleep(max(0.0, poll_interval - elapsed))
        return runs

    def next_due(self) -> datetime | None:
        """The earliest time at which a run has work of its own: an order's wake-up or an
        outbox retry (``None``: nothing scheduled). What the ports will report (new orders,
        supplier changes, buyer requests) is theirs to know; a caller that knows when they
        next change (a simulation, a webhook) may skip the runs before both."""
        self._ensure_loaded()
        wakes = self._wakes
        while wakes:  # drop stale entries (the order moved on or finished)
            at, _, ref = wakes[0]
            state = self._states.get(ref)
            if state is not None and state.wake_at == at:
                break
            heapq.heappop(wakes)
        due = wakes[0][0] if wakes else None
        for entry in self._pending.values():
            at = entry.next_attempt_at or entry.created_at
            if due is None or at < due:
                due = at
        return due

    def checkpoint(self) -> None:
        """Write the trust / ledger / stock snapshot now and prune the journal."""
        self._ensure_loaded()
        now = self._ledger.now
        run = self._new_run(now or _EPOCH)
        self._snapshot(run)
        self._store.commit(run.batch)
        if now is not None:
            self._purge_personal_data(now)

    # ------------------------------------------------------------------ the run

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        super()._ensure_loaded()
        ctx = self._ctx
        if ctx is not None:  # the workflow asks the policy through the decision log's tap
            tap = self._decision_log.wrap(ctx.decide, self._states)
            self._ctx = attrs.evolve(ctx, decide=tap)

    def _poll_error(self, what: str, exc: AdapterError, run: Run) -> None:
        run.poll_errors.append(f"{what}: {exc}")
        self._poll_alarm.failed(what, exc, run.now)

    def _new_run(self, now: datetime) -> Run:
        return Run(now, self._pending, self._fresh, self._backoff, self._log)

    def _run(self, now: datetime, extra: list[WorkflowEvent]) -> RunReport:
        self._ensure_loaded()
        run = self._new_run(now)
        self._advance_ledger(now, run)
        assert self._ctx is not None  # noqa: S101 - set by _ensure_loaded
        ctx = self._ctx.at(now)
        incoming: list[tuple[OrderRef | None, WorkflowEvent]] = [
            (getattr(e, "ref", None), e) for e in extra
        ]
        incoming += self._poll_orders(run)
        if not run.poll_errors:  # a request may be about an order that poll just missed
            incoming += self._poll_requests(run, {ref for ref, _ in incoming if ref is not None})
        incoming += self._poll_changes(run)
        incoming += self._poll_supplier_orders(run)
        self._poll_alarm.settle(now)
        incoming += self._due_wakeups(now)
        rounds = 0
        while True:
            self._feed(incoming, run, ctx)
            if run.batch:
                self._store.commit(run.batch)
                run.batch = type(run.batch)()
            ready = [
                e
                for e in self._pending.values()
                if e.entry_id not in run.tried
                and (e.next_attempt_at is None or e.next_attempt_at <= now)
            ]
            if not ready or rounds >= self._settings.max_rounds:
                break
            ready.sort(key=lambda e: e.entry_id)
            run.tried.update(e.entry_id for e in ready)
            incoming = [(getattr(e, "ref", None), e) for e in execute(self, run, ready)]
            rounds += 1
        if self._last_seq >= self._snapshot_due:
            self._snapshot(run)
            self._store.commit(run.batch)
        if self._next_purge is None or now >= self._next_purge:
            self._purge_personal_data(now)
        report = RunReport(
            now=now,
            new_orders=run.new_orders,
            events=run.events,
            commands_sent=run.sent,
            commands_failed=run.failed_count,
            commands_retrying=run.retried,
            escalations=run.escalations,
            active_orders=len(self._states),
            pending_commands=len(self._pending),
            poll_errors=tuple(run.poll_errors),
        )
        if self._log.isEnabledFor(logging.DEBUG):
            self._log.debug("engine run at %s: %s", now.isoformat(), report)
        return report

    def _feed(
        self,
        incoming: list[tuple[OrderRef | None, WorkflowEvent]],
        run: Run,
        ctx: WorkflowContext,
    ) -> None:
        history = self._decision_log
        tap = history.tap  # set by _ensure_loaded
        for ref, event in incoming:
            state = None
            if ref is not None:
                state = self._states.get(ref)
                if state is None and not isinstance(event, OrderPaid):
                    # finished orders: this round's own state first (not committed yet)
                    state = run.batch.states.get(ref) or self._store.get_order(ref)
            if isinstance(event, _OBSERVED_EVENTS):
                self._observe(event, run, journal=True)
            elif (
                type(event) is SupplierCancelResult
                and event.outcome is SupplierCancelOutcome.CANCELLED
                and state is not None
                and state.supplier_id is not None
                and state.supplier_order_id == event.supplier_order_id
            ):
                self._seller_cancelled_supplier_order(state, state.supplier_id, event, run)
            if tap is not None:
                tap.last = None
            try:
                result = step(state, event, ctx)
            except InvalidTransitionError as exc:
                self._log.warning(
                    "order %s: event ignored: %s", ref, exc, extra={"order_ref": str(ref)}
                )
                continue
            run.events += 1
            if result.state is state and not result.commands:
                continue  # nothing changed (a duplicate, a stale wake-up...)
            self._put(result.state, run)
            history.after_step(state, result, event, run.batch, run.now)
            for command in result.commands:
                self._dispatch(result.state, command, run)

    def _purge_personal_data(self, now: datetime) -> None:
        """Have the store forget the delivery details of the orders that ended more than the
        retention ago (at most once a day; the next run retries a failed purge)."""
        purged = self._store.purge_personal_data(now - self._settings.personal_data_retention)
        self._next_purge = now + _PURGE_EVERY
        if purged:
            self._log.info("purged the delivery details of %d ended orders", purged)

    def _put(self, state: OrderState, run: Run) -> None:
        ref = state.order.ref
        run.batch.states[ref] = state
        previous = self._states.get(ref)
        terminal = state.is_terminal
        if previous is None:  # new, or ended before (its delivery details may be kept)
            run.batch.ended[ref] = run.now if terminal else None
        elif terminal:  # the retention of its delivery details starts now
            run.batch.ended[ref] = run.now
        old_item = None if previous is None else (previous.supplier_id, previous.item_id)
        new_item = (state.supplier_id, state.item_id)
        if previous is not None and previous.supplier_order_id is not None:
            self._open_supplier.pop(previous.supplier_order_id, None)
        if terminal:
            self._states.pop(ref, None)
            new_item = (None, None)
        else:
            supplier_state = state.supplier_state
            if state.supplier_order_id is not None and (
                supplier_state is SupplierOrderState.PLACED
                or supplier_state is SupplierOrderState.CONFIRMED
            ):
                oid = state.supplier_order_id
                if (
                    self._order_feed is not None
                    and (previous is None or previous.supplier_order_id != oid)
                    and oid not in run.answered  # the placement's answer was its first read
                ):
                    self._unpolled[oid] = None  # asked about once, then the feed tells
                self._open_supplier[oid] = (ref, supplier_state)
            self._states[ref] = state
            if state.wake_at is not None and (
                previous is None or previous.wake_at != state.wake_at
            ):
                heapq.heappush(self._wakes, (state.wake_at, self._wake_seq, ref))
                self._wake_seq += 1
        if old_item != new_item:
            if old_item is not None and old_item[0] is not None and old_item[1] is not None:
                refs = self._by_item.get((old_item[0], old_item[1]))
                if refs is not None:
                    refs.discard(ref)
            if new_item[0] is not None and new_item[1] is not None:
                self._by_item.setdefault((new_item[0], new_item[1]), set()).add(ref)

    def _dispatch(self, state: OrderState, command: Any, run: Run) -> None:
        if isinstance(command, ScheduleWakeUp):
            return  # the state's ``wake_at`` is the schedule
        if isinstance(command, EscalateOrder):
            run.escalations += 1
            self._log.warning(
                "order %s escalated: %s",
                command.ref,
                command.reason,
                extra={"order_ref": str(command.ref)},
            )
            if self._on_escalate is not None:
                self._on_escalate(state, command.reason)
            return
        self._last_outbox += 1
        entry = new_outbox_entry(entry_id=self._last_outbox, command=command, created_at=run.now)
        run.batch.outbox[entry.entry_id] = entry
        self._pending[entry.entry_id] = entry
        self._fresh.add(entry.entry_id)
        if self._log.isEnabledFor(logging.DEBUG):
            self._log.debug(
                "order %s: %s recorded",
                command.ref,
                command.kind.value,
                extra={"order_ref": str(command.ref)},
            )

    def _backoff(self, attempts: int, exc: AdapterError | None) -> timedelta:
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return timedelta(seconds=exc.retry_after)
        base: timedelta = self._settings.retry_base * (2 ** min(attempts - 1, 20))
        cap: timedelta = self._settings.retry_cap
        return base if base < cap else cap


def _resolve_policy(policy: object) -> ConfirmationPolicy:
    """A built-in policy for a name; the policy itself if it has a ``name`` and a ``decide``;
    :class:`~consign_core.errors.ConfigurationError` naming ``policy`` otherwise."""
    if isinstance(policy, str):
        return make_policy(policy)
    if isinstance(policy, type):
        name = policy.__name__
        msg = f"policy must be a policy instance, got the class {name}; write {name}()"
        raise ConfigurationError(msg, field="policy", value=policy)
    if isinstance(policy, ConfirmationPolicy) and callable(getattr(policy, "decide", None)):
        return policy
    msg = (
        f"policy must be a confirmation policy (with a name and a decide(context) method) or "
        f"a built-in policy's name, got a {type(policy).__name__}"
    )
    raise ConfigurationError(msg, field="policy", value=policy)
