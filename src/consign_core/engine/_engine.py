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
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs

from consign_core.domain._prevalidated import new_wake_up
from consign_core.domain._validators import fail, int_at_least, member_of
from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar, require_aware
from consign_core.domain.cancel_rate import Headroom, Ledger, LedgerState
from consign_core.domain.events import (
    BuyerCancelRequested,
    Delivered,
    Event,
    InvoiceUploaded,
    OrderCancelled,
    OrderPaid,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelFault,
    CancelReason,
    MarketOrder,
    OrderRef,
    SupplierOrderStatus,
)
from consign_core.domain.rules import RuleProfile
from consign_core.domain.serialization import structure, unstructure
from consign_core.domain.timing import SupplierOrderState, watches_supplier_confirmation
from consign_core.domain.timing._types import DEFAULT_SAFETY_MARGIN, ConfirmationPolicy
from consign_core.domain.trust import TrustConfig, TrustModel, TrustState
from consign_core.domain.workflow import make_decider, sources_from
from consign_core.domain.workflow._step import step
from consign_core.domain.workflow._types import (
    DEFAULT_TEMPLATES,
    DOMEME_TO_COUPANG_COURIERS,
    CancelPurpose,
    EscalateOrder,
    OrderState,
    PriceChanged,
    ScheduleWakeUp,
    StockChanged,
    SupplierCancelOutcome,
    SupplierCancelResult,
    SupplierCancelState,
    SupplierSource,
    WorkflowContext,
    WorkflowEvent,
)
from consign_core.engine._exec import Run, as_adapter_error, execute
from consign_core.engine.ports import BuyerMessenger, MarketPort, SupplierPort
from consign_core.errors import (
    AdapterError,
    ConfigurationError,
    ConsignError,
    InvalidTransitionError,
    RateLimitedError,
    StoreError,
)
from consign_core.store._codec import decode_event, encode_event
from consign_core.store._types import OutboxEntry, Store, new_outbox_entry


__all__ = ["Engine", "EngineSettings", "RunReport"]

logger = logging.getLogger("consign_core.engine")

_TRUST_EVENTS = (SupplierOrderPlaced, SupplierConfirmed, SupplierInvoiced, SupplierCancelled)
_LEDGER_EVENTS = (OrderPaid, OrderCancelled, InvoiceUploaded, Delivered)
_OBSERVED_EVENTS = _LEDGER_EVENTS + _TRUST_EVENTS
_OPEN_SUPPLIER = frozenset({SupplierOrderState.PLACED, SupplierOrderState.CONFIRMED})
_SNAPSHOT = "engine"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_CURSOR_ORDERS = "market.orders"
_CURSOR_REQUESTS = "market.requests"
_CURSOR_CHANGES = "supplier.changes"


def _non_negative_delta(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        fail(instance, attribute, value, "a timedelta >= 0")


def _is_bool(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        fail(instance, attribute, value, "True or False")


@attrs.frozen(kw_only=True)
class EngineSettings:
    """Tuning knobs of the :class:`Engine` (defaults suit one seller polling every minute)."""

    reroute_after_confirmation: bool = attrs.field(default=False, validator=_is_bool)
    """Try alternate suppliers after confirmation too (default: cancel, seller fault)."""
    unconfirmed_supplier_cancel_fault: CancelFault = attrs.field(
        default=CancelFault.SELLER, validator=member_of(CancelFault)
    )
    """Fault recorded when a supplier failure cancels an unconfirmed order."""
    safety_margin: timedelta = attrs.field(
        default=DEFAULT_SAFETY_MARGIN, validator=_non_negative_delta
    )
    """Untracked orders are escalated at ``ship_by - safety_margin``."""
    notify_delays: bool = attrs.field(default=True, validator=_is_bool)
    """Send the buyer the delay notice (배송 지연 안내) at that moment."""
    max_rounds: int = attrs.field(default=8, validator=int_at_least(1))
    """Most send-and-feed rounds per run (intake -> place -> acknowledge -> upload is 3)."""
    max_pages: int = attrs.field(default=50, validator=int_at_least(1))
    """Most pages read from each feed per run."""
    unknown_request_grace: timedelta = attrs.field(
        default=timedelta(hours=1), validator=_non_negative_delta
    )
    """How long a buyer request about an order not taken in yet holds the request feed back
    (the paid-order feed may list the order a little later). Past it the request is skipped
    and reported as a poll error, so an order the engine never handles cannot block the feed."""
    supplier_poll_batch: int = attrs.field(default=100, validator=int_at_least(1))
    """Supplier orders asked about per call."""
    supplier_poll_every: timedelta = attrs.field(
        default=timedelta(0), validator=_non_negative_delta
    )
    """Ask about each open supplier order at most this often (0: on every run). Supplier APIs
    ration calls (Domeggook is reported to allow 180 a minute and 15,000 a day): a run asks
    about the due orders in ``ceil(due / supplier_poll_batch)`` calls, so with N open orders
    the engine makes about ``N / supplier_poll_batch`` calls per ``supplier_poll_every``. The
    price is latency: tracking is seen up to this much later (orders taken in are asked about
    on the next run; after a restart every open order is)."""
    retry_base: timedelta = attrs.field(
        default=timedelta(seconds=30), validator=_non_negative_delta
    )
    """First back-off after a timeout or 5xx; doubles per attempt."""
    retry_cap: timedelta = attrs.field(default=timedelta(minutes=30), validator=_non_negative_delta)
    """Longest back-off."""
    snapshot_every: int = attrs.field(default=50_000, validator=int_at_least(1))
    """Write the trust / ledger snapshot (and prune the journal) after at least this many
    journal records, and at least 8 records per entry the ledger remembers (a snapshot costs
    in proportion to the ledger, so this keeps its cost per order constant);
    :meth:`Engine.checkpoint` writes one at any time."""


@attrs.frozen(kw_only=True)
class RunReport:
    """What one :meth:`Engine.run_once` did."""

    now: datetime
    """The run's time."""
    new_orders: int
    """Newly paid orders taken in."""
    events: int
    """Workflow events processed."""
    commands_sent: int
    """Commands that went through (or were found already done)."""
    commands_failed: int
    """Commands refused for good."""
    commands_retrying: int
    """Commands whose result is unknown or that were throttled; they stay in the outbox."""
    escalations: int
    """Orders handed to a person in this run."""
    active_orders: int
    """Orders not yet terminal after the run."""
    pending_commands: int
    """Outbox entries still pending after the run."""
    poll_errors: tuple[str, ...] = ()
    """Polls that failed this run (retried next run)."""


class Engine:
    """Runs the seller's automation for one market account and one supplier platform.

    Args:
        market: the market port (e.g. :class:`~consign_core.testing.InMemoryMarket`).
        supplier: the supplier port (e.g. :class:`~consign_core.testing.InMemorySupplier`).
        store: where state lives (:class:`~consign_core.store.SQLiteStore` or
            :class:`~consign_core.store.InMemoryStore`).
        policy: the confirmation-timing policy (:func:`~consign_core.domain.timing.make_policy`).
        profile: the market's rule profile (:func:`~consign_core.domain.rules.get_profile`).
        sources: SKU -> supplier sources, primary first (see
            :func:`~consign_core.domain.workflow.sources_from` for the accepted shapes).
        trust: the trust model for a fresh store (default: ``TrustModel(TrustConfig())``);
            a store with a snapshot restores its own.
        ledger: the ledger for a fresh store (default: ``Ledger(profile)``); likewise.
        calendar: the business calendar.
        courier_map: supplier courier code -> market courier code.
        templates: buyer message templates.
        messenger: sends buyer messages; ``None`` logs them instead.
        settings: tuning knobs.
        on_escalate: called with the order state and the reason whenever an order is escalated.
    """

    def __init__(
        self,
        market: MarketPort,
        supplier: SupplierPort,
        store: Store,
        *,
        policy: ConfirmationPolicy,
        profile: RuleProfile,
        sources: Mapping[str, Any],
        trust: TrustModel | None = None,
        ledger: Ledger | None = None,
        calendar: BusinessCalendar = DEFAULT_CALENDAR,
        courier_map: Mapping[str, str] = DOMEME_TO_COUPANG_COURIERS,
        templates: Mapping[str, str] = DEFAULT_TEMPLATES,
        messenger: BuyerMessenger | None = None,
        settings: EngineSettings | None = None,
        on_escalate: Callable[[OrderState, str], None] | None = None,
    ) -> None:
        """Wire the engine; nothing is read from the store before the first run."""
        self._market = market
        self._supplier = supplier
        self._store = store
        self._policy = policy
        self._reask_on_confirmation = watches_supplier_confirmation(policy)
        self._profile = profile
        self._sources: dict[str, tuple[SupplierSource, ...]] = sources_from(sources)
        self._calendar = calendar
        self._trust = trust if trust is not None else TrustModel(TrustConfig(), calendar=calendar)
        self._ledger = ledger if ledger is not None else Ledger(profile, calendar=calendar)
        self._courier_map = dict(courier_map)
        self._templates = dict(templates)
        self._messenger = messenger
        self._settings = settings if settings is not None else EngineSettings()
        self._on_escalate = on_escalate
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
                logger.exception("engine run at %s failed; retrying next poll", started.isoformat())
            runs += 1
            if max_runs is not None and runs >= max_runs:
                break
            elapsed = (clock() - started).total_seconds()
            sleep(max(0.0, poll_interval - elapsed))
        return runs

    def checkpoint(self) -> None:
        """Write the trust / ledger / stock snapshot now and prune the journal."""
        self._ensure_loaded()
        run = self._new_run(self._ledger.now or _EPOCH)
        self._snapshot(run)
        self._store.commit(run.batch)

    # ------------------------------------------------------------------ the run

    def _new_run(self, now: datetime) -> Run:
        return Run(now, self._pending, self._fresh, self._backoff)

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
        incoming += self._due_wakeups(now)
        rounds = 0
        while True:
            self._feed(incoming, run, ctx)
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
        logger.debug("engine run at %s: %s", now.isoformat(), report)
        return report

    def _feed(
        self,
        incoming: list[tuple[OrderRef | None, WorkflowEvent]],
        run: Run,
        ctx: WorkflowContext,
    ) -> None:
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
            try:
                result = step(state, event, ctx)
            except InvalidTransitionError as exc:
                logger.warning(
                    "order %s: event ignored: %s", ref, exc, extra={"order_ref": str(ref)}
                )
                continue
            run.events += 1
            if result.state is state and not result.commands:
                continue  # nothing changed (a duplicate, a stale wake-up...)
            self._put(result.state, run)
            for command in result.commands:
                self._dispatch(result.state, command, run)

    def _put(self, state: OrderState, run: Run) -> None:
        ref = state.order.ref
        run.batch.states[ref] = state
        previous = self._states.get(ref)
        old_item = None if previous is None else (previous.supplier_id, previous.item_id)
        new_item = (state.supplier_id, state.item_id)
        if previous is not None and previous.supplier_order_id is not None:
            self._open_supplier.pop(previous.supplier_order_id, None)
        if state.is_terminal:
            self._states.pop(ref, None)
            new_item = (None, None)
        else:
            if state.supplier_order_id is not None and state.supplier_state in _OPEN_SUPPLIER:
                self._open_supplier[state.supplier_order_id] = (ref, state.supplier_state)
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
            logger.warning(
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
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
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

    # ------------------------------------------------------------------ polls

    def _cursor(self, name: str) -> str | None:
        if name not in self._cursors:
            self._cursors[name] = self._store.cursor(name)
        return self._cursors[name]

    def _set_cursor(self, name: str, value: str | None, run: Run) -> None:
        if value is not None and value != self._cursors.get(name):
            self._cursors[name] = value
            run.batch.cursors[name] = value

    def _poll_orders(self, run: Run) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        seen: set[OrderRef] = set()
        cursor = self._cursor(_CURSOR_ORDERS)
        for _ in range(self._settings.max_pages):
            try:
                page = self._market.list_paid_orders(cursor)
            except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
                exc = as_adapter_error(caught)
                self._poll_error("market orders", exc, run)
                break
            fresh = [o for o in page.orders if o.ref not in self._states and o.ref not in seen]
            market = self._market.market
            if any(o.ref.market != market for o in fresh):
                fresh = self._own_market_only(fresh, run)
            known = self._store.known(o.ref for o in fresh) if fresh else set()
            for order in fresh:
                if order.ref in known:
                    continue
                seen.add(order.ref)
                out.append((order.ref, OrderPaid(order=order)))
                if logger.isEnabledFor(logging.INFO):
                    logger.info(
                        "order %s: paid, taking it in",
                        order.ref,
                        extra={"order_ref": str(order.ref)},
                    )
            cursor = page.cursor or cursor
            self._set_cursor(_CURSOR_ORDERS, cursor, run)
            if not page.has_more:
                break
        run.new_orders += len(out)
        return out

    def _own_market_only(self, orders: list[MarketOrder], run: Run) -> list[MarketOrder]:
        """Keep the orders of this engine's market (names compare case-insensitively); say so
        loudly for any other: an adapter listing another market's orders is misconfigured."""
        market = self._market.market.strip().casefold()
        kept = []
        for order in orders:
            if order.ref.market.strip().casefold() == market:
                kept.append(order)
                continue
            msg = (
                f"market orders: {order.ref} is not an order of market "
                f"{self._market.market!r}; skipped (check the adapter's market name)"
            )
            run.poll_errors.append(msg)
            logger.error("%s", msg, extra={"order_ref": str(order.ref)})
        return kept

    def _poll_requests(
        self, run: Run, arriving: set[OrderRef]
    ) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        cursor = self._cursor(_CURSOR_REQUESTS)
        for _ in range(self._settings.max_pages):
            try:
                page = self._market.list_buyer_requests(cursor)
            except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
                exc = as_adapter_error(caught)
                self._poll_error("buyer requests", exc, run)
                break
            states = self._states
            unknown = {
                r.ref for r in page.requests if r.ref not in arriving and r.ref not in states
            }
            if unknown:
                unknown -= self._store.known(unknown)
            if unknown and not self._past_grace(unknown, run):
                # Not seen paid yet: read this page again next run rather than lose it.
                logger.info(
                    "buyer requests for orders not taken in yet: %s", sorted(map(str, unknown))
                )
                break
            for request in page.requests:
                if request.ref in unknown:
                    continue  # an order this engine never took in, past the grace: reported
                event = BuyerCancelRequested(
                    ref=request.ref,
                    at=request.at,
                    reason=request.reason,
                    request_id=request.request_id,
                )
                out.append((request.ref, event))
                logger.info(
                    "order %s: buyer asked to %s",
                    request.ref,
                    request.kind.value,
                    extra={"order_ref": str(request.ref)},
                )
            cursor = page.cursor or cursor
            self._set_cursor(_CURSOR_REQUESTS, cursor, run)
            if not page.has_more:
                break
        return out

    def _past_grace(self, unknown: set[OrderRef], run: Run) -> bool:
        """True once every order in ``unknown`` has held the request feed back for
        ``unknown_request_grace``: their requests are then skipped and reported, so that one
        order this engine never takes in (paid before it started, handled by hand) cannot
        stop every later buyer request."""
        since = self._unknown_requests
        if len(since) > 1_000:
            self._unknown_requests = since = {r: t for r, t in since.items() if r in unknown}
        now = run.now
        grace = self._settings.unknown_request_grace
        for ref in unknown:  # every one starts its grace when first seen
            since.setdefault(ref, now)
        if any(now - since[ref] < grace for ref in unknown):
            return False
        for ref in sorted(unknown, key=str):
            del since[ref]
            msg = (
                f"buyer requests: a request about {ref}, an order this engine never took in, "
                f"was skipped after waiting {grace} for it; handle it by hand"
            )
            run.poll_errors.append(msg)
            logger.error("%s", msg, extra={"order_ref": str(ref)})
        return True

    def _poll_changes(self, run: Run) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        cursor = self._cursor(_CURSOR_CHANGES)
        for _ in range(self._settings.max_pages):
            try:
                page = self._supplier.list_changes(cursor)
            except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
                exc = as_adapter_error(caught)
                self._poll_error("supplier changes", exc, run)
                break
            for change in page.changes:
                key = (change.supplier_id, change.item_id)
                refs = sorted(self._by_item.get(key, ()), key=str)
                if change.stock is not None:
                    self._report_stock(
                        change.supplier_id, change.item_id, change.stock, change.at, run
                    )
                    stock_event = StockChanged(
                        supplier_id=change.supplier_id,
                        item_id=change.item_id,
                        stock=change.stock,
                        at=change.at,
                    )
                    out += [(ref, stock_event) for ref in refs]
                if change.unit_cost is not None:
                    price_event = PriceChanged(
                        supplier_id=change.supplier_id,
                        item_id=change.item_id,
                        unit_cost=change.unit_cost,
                        at=change.at,
                    )
                    out += [(ref, price_event) for ref in refs]
            cursor = page.cursor or cursor
            self._set_cursor(_CURSOR_CHANGES, cursor, run)
            if not page.has_more:
                break
        return out

    def _due_supplier_orders(self, now: datetime) -> list[str]:
        """The open supplier orders to ask about in this run (all, or those due by cadence)."""
        open_orders = self._open_supplier
        if not self._settings.supplier_poll_every:
            return list(open_orders)
        due = self._supplier_due
        if len(due) > 2 * len(open_orders) + 1_000:  # forget orders no longer open
            self._supplier_due = due = {i: t for i, t in due.items() if i in open_orders}
        return [i for i in open_orders if due.get(i, now) <= now]  # unseen: due now

    def _poll_supplier_orders(self, run: Run) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        ids = self._due_supplier_orders(run.now)
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        batch = self._settings.supplier_poll_batch
        every = self._settings.supplier_poll_every
        placed, confirmed = SupplierOrderStatus.PLACED, SupplierOrderStatus.CONFIRMED
        known_confirmed = SupplierOrderState.CONFIRMED
        open_orders = self._open_supplier
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            try:
                orders = self._supplier.get_orders(chunk)
            except Exception as caught:  # noqa: BLE001 - the port boundary: see as_adapter_error
                exc = as_adapter_error(caught)
                self._poll_error("supplier orders", exc, run)
                break
            if every:
                next_at = run.now + every
                for i in chunk:
                    self._supplier_due[i] = next_at
            for order in orders:
                status = order.status
                if status is placed:
                    continue  # nothing new
                known = open_orders.get(order.supplier_order_id)
                if known is None or (status is confirmed and known[1] is known_confirmed):
                    continue
                state = self._states.get(known[0])
                if state is not None:
                    out += self._supplier_events(state, order, run.now)
        return out

    def _supplier_events(
        self, state: OrderState, order: Any, now: datetime
    ) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        ref = state.order.ref
        sid, oid = order.supplier_id, order.supplier_order_id
        status = order.status
        if (
            status is SupplierOrderStatus.CONFIRMED
            and state.supplier_state is SupplierOrderState.PLACED
        ):
            return [
                (ref, SupplierConfirmed(ref=ref, at=now, supplier_id=sid, supplier_order_id=oid))
            ]
        if status is SupplierOrderStatus.INVOICED:
            return [
                (
                    ref,
                    SupplierInvoiced(
                        ref=ref,
                        at=now,
                        supplier_id=sid,
                        supplier_order_id=oid,
                        tracking=order.tracking,
                    ),
                )
            ]
        if status is SupplierOrderStatus.CANCELLED:
            cancellation = order.cancellation
            asked = state.supplier_cancel in (
                SupplierCancelState.PENDING,
                SupplierCancelState.REQUESTED,
            )
            if asked or cancellation.fault is CancelFault.BUYER:
                # The cancellation the seller asked for: not the supplier's failure.
                result = SupplierCancelResult(
                    ref=ref, at=now, supplier_order_id=oid, outcome=SupplierCancelOutcome.CANCELLED
                )
                return [(ref, result)]
            event = SupplierCancelled(
                ref=ref,
                at=cancellation.at,
                supplier_id=sid,
                supplier_order_id=oid,
                reason=cancellation.reason,
                note=cancellation.note,
            )
            return [(ref, event)]
        return []

    def _due_wakeups(self, now: datetime) -> list[tuple[OrderRef | None, WorkflowEvent]]:
        out: list[tuple[OrderRef | None, WorkflowEvent]] = []
        while self._wakes and self._wakes[0][0] <= now:
            at, _, ref = heapq.heappop(self._wakes)
            state = self._states.get(ref)
            if state is not None and state.wake_at == at:
                out.append((ref, new_wake_up(ref=ref, at=at)))
        return out

    def _poll_error(self, what: str, exc: AdapterError, run: Run) -> None:
        run.poll_errors.append(f"{what}: {exc}")
        logger.warning("polling %s failed, retrying next run: %s", what, exc)

    # ------------------------------------------------------------------ trust, ledger, journal

    def _journal(self, record: str, run: Run) -> None:
        self._last_seq += 1
        run.batch.journal.append((self._last_seq, record))

    def _observe(self, event: Event, run: Run | None, *, journal: bool) -> None:
        if isinstance(event, _TRUST_EVENTS):
            self._trust.observe(event)
        else:
            clock = self._ledger.now
            if clock is not None and event.at < clock:
                event = _at_least(event, clock)
            self._ledger.observe(event)
        if journal and run is not None:
            self._journal(encode_event(event), run)

    def _report_stock(
        self, supplier_id: str, item_id: str, stock: int, at: datetime, run: Run | None
    ) -> None:
        self._stock[(supplier_id, item_id)] = stock
        self._trust.report_stock(supplier_id, item_id, stock, at)
        if run is not None:
            record = ["s", supplier_id, item_id, stock, at.isoformat()]
            self._journal(json.dumps(record, ensure_ascii=False), run)

    def _seller_cancelled_supplier_order(
        self, state: OrderState, supplier_id: str, event: SupplierCancelResult, run: Run
    ) -> None:
        """Tell the trust model about a supplier order the seller's cancel took down: the
        supplier's stock-out when it had reported the item sold out, else a withdrawal."""
        if state.cancel_purpose is CancelPurpose.STOCK_OUT:
            stock_out = SupplierCancelled(
                ref=state.order.ref,
                at=event.at,
                supplier_id=supplier_id,
                supplier_order_id=event.supplier_order_id,
                reason=CancelReason.STOCK_OUT,
                note="cancelled after the supplier's sold-out notice",
            )
            self._observe(stock_out, run, journal=True)
        else:
            self._withdraw(supplier_id, event.supplier_order_id, event.at, run)

    def _withdraw(
        self, supplier_id: str, supplier_order_id: str, at: datetime, run: Run | None
    ) -> None:
        """The seller's cancel of a supplier order went through: the trust model stops
        counting it as pending (it is neither a shipment nor the supplier's failure)."""
        if self._trust.withdraw(supplier_id, supplier_order_id, at) and run is not None:
            self._journal(json.dumps(["w", supplier_id, supplier_order_id, at.isoformat()]), run)

    def _advance_ledger(self, now: datetime, run: Run | None) -> None:
        clock = self._ledger.now
        if clock is None or now > clock:
            self._ledger.advance(now)
            if run is not None:
                self._journal(json.dumps(["t", now.isoformat()]), run)

    def _snapshot(self, run: Run) -> None:
        data = {
            "trust": unstructure(self._trust.snapshot()),
            "ledger": self._ledger.snapshot_data(),
            "stock": [[s, i, n] for (s, i), n in sorted(self._stock.items())],
        }
        run.batch.snapshots[_SNAPSHOT] = (self._last_seq, data)
        run.batch.prune_journal_through = self._last_seq
        self._schedule_snapshot(self._last_seq, data["ledger"])

    def _schedule_snapshot(self, position: int, ledger: Any) -> None:
        size = len(ledger.get("orders", ())) + len(ledger.get("pending", ()))
        self._snapshot_due = position + max(self._settings.snapshot_every, 8 * size)

    # ------------------------------------------------------------------ loading

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        store = self._store
        self._states = {}
        self._open_supplier = {}
        self._supplier_due = {}
        self._by_item = {}
        self._wakes = []
        self._pending = {e.entry_id: e for e in store.pending_outbox()}
        self._fresh = set()
        self._cursors = {}
        self._last_outbox, self._last_seq = store.last_ids()
        snapshot = store.snapshot(_SNAPSHOT)
        position = 0
        if snapshot is None and self._loaded_once:
            # A reload after a failed run: start again from the models as given, never from
            # live ones that already hold the journal (it would be counted twice).
            self._trust = TrustModel.from_snapshot(self._trust_initial, calendar=self._calendar)
            self._ledger = Ledger.from_snapshot(self._ledger_initial, calendar=self._calendar)
            self._stock = {}
        if snapshot is not None:
            position, data = snapshot
            trust_state: TrustState = structure(data["trust"], TrustState)
            ledger_state: LedgerState = structure(data["ledger"], LedgerState)
            self._trust = TrustModel.from_snapshot(trust_state, calendar=self._calendar)
            self._ledger = Ledger.from_snapshot(ledger_state, calendar=self._calendar)
            self._stock = {(s, i): n for s, i, n in data["stock"]}
        self._schedule_snapshot(position, {} if snapshot is None else snapshot[1]["ledger"])
        for _, record in store.journal_after(position):
            self._replay(record)
        run = self._new_run(_EPOCH)  # a container for the indexes only; nothing is committed
        for state in store.load_active():
            self._put(state, run)
        self._ctx = WorkflowContext(
            now=self._ledger.now or _EPOCH,  # replaced by each run's time
            decide=make_decider(
                self._policy,
                self._trust,
                _LedgerView(self._ledger),
                self._profile,
                margin=self._settings.safety_margin,
                unconfirmed_cancel_fault=self._settings.unconfirmed_supplier_cancel_fault,
            ),
            sources=self._sources,
            courier_map=self._courier_map,
            stock=self._stock,
            templates=self._templates,
            calendar=self._calendar,
            unconfirmed_supplier_cancel_fault=self._settings.unconfirmed_supplier_cancel_fault,
            reroute_after_confirmation=self._settings.reroute_after_confirmation,
            safety_margin=self._settings.safety_margin,
            notify_delays=self._settings.notify_delays,
            reask_on_supplier_confirmation=self._reask_on_confirmation,
        )
        self._loaded = True
        self._loaded_once = True
        logger.info(
            "engine loaded: %d active orders, %d pending commands, %d journal records replayed",
            len(self._states),
            len(self._pending),
            self._last_seq - position,
        )

    def _replay(self, text: str) -> None:
        record = json.loads(text)
        tag = record[0]
        if tag == "s":
            _, supplier_id, item_id, stock, at = record
            self._report_stock(supplier_id, item_id, stock, datetime.fromisoformat(at), None)
        elif tag == "t":
            self._advance_ledger(datetime.fromisoformat(record[1]), None)
        elif tag == "w":
            _, supplier_id, supplier_order_id, at = record
            self._withdraw(supplier_id, supplier_order_id, datetime.fromisoformat(at), None)
        else:
            self._observe(decode_event(record), None, journal=False)


class _LedgerView:
    """The ledger as ``decide`` sees it: a time before the ledger's clock (a wall clock that
    stepped back) is read at the ledger's clock instead of raising."""

    __slots__ = ("_ledger",)

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def headroom(self, now: datetime, order: MarketOrder | None = None) -> Headroom:
        clock = self._ledger.now
        return self._ledger.headroom(now if clock is None or now >= clock else clock, order)


def _at_least(event: Event, clock: datetime) -> Event:
    """``event`` moved to ``clock`` (the ledger takes events in time order only).

    An order paid before the ledger's clock (the market lists orders a few minutes late) is
    booked at the time the engine learned of it.
    """
    if isinstance(event, OrderPaid):
        order = event.order
        ship_by = max(order.ship_by, clock)
        return OrderPaid(order=attrs.evolve(order, paid_at=clock, ship_by=ship_by))
    if isinstance(event, OrderCancelled):
        return OrderCancelled(
            ref=event.ref, cancellation=attrs.evolve(event.cancellation, at=clock)
        )
    if isinstance(event, InvoiceUploaded | Delivered):
        return attrs.evolve(event, at=clock)
    return event
