"""The engine's tuning knobs, what one run reports, and the state its parts share."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from consign_core.domain._validators import fail, int_at_least, member_of
from consign_core.domain.calendar import BusinessCalendar
from consign_core.domain.cancel_rate import Ledger, LedgerState
from consign_core.domain.model import (
    CancelFault,
    OrderRef,
)
from consign_core.domain.rules import RuleProfile
from consign_core.domain.timing import SupplierOrderState
from consign_core.domain.timing._types import DEFAULT_SAFETY_MARGIN, ConfirmationPolicy
from consign_core.domain.trust import TrustModel, TrustState
from consign_core.domain.workflow._types import (
    OrderState,
    SupplierSource,
    WorkflowContext,
)
from consign_core.engine._exec import Run
from consign_core.engine.ports import (
    ListingPort,
    MarketPort,
    SupplierOrderFeed,
    SupplierPort,
)
from consign_core.store._types import OutboxEntry, Store


__all__ = ["EngineBase", "EngineSettings", "RunReport"]


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
    supplier_order_feed: bool = attrs.field(default=True, validator=_is_bool)
    """Read the supplier's changed orders from its feed when the supplier port offers one
    (:class:`~consign_core.engine.ports.SupplierOrderFeed`) instead of asking about every open
    order: each supplier order taken on is asked about once (one the engine has just placed
    needs no question: the placement's answer was its first read), then only changes are
    read, so ``supplier_poll_every`` no longer applies. ``False``: always ask order by order."""
    retry_base: timedelta = attrs.field(
        default=timedelta(seconds=30), validator=_non_negative_delta
    )
    """First back-off after a timeout or 5xx; doubles per attempt."""
    retry_cap: timedelta = attrs.field(default=timedelta(minutes=30), validator=_non_negative_delta)
    """Longest back-off."""
    mirror_listing: bool = attrs.field(default=True, validator=_is_bool)
    """Mirror the supplier's stock onto the market listing when the market port can set it
    (:class:`~consign_core.engine.ports.ListingPort`): a SKU whose every source is reported
    sold out stops selling, and resumes when one is restocked (through the outbox, only on a
    change). ``False``, or a market port without ``set_listing``: the listing is left alone."""
    snapshot_every: int = attrs.field(default=50_000, validator=int_at_least(1))
    """Write the trust / ledger snapshot (and prune the journal) after at least this many
    journal records, and at least 8 records per entry the ledger remembers (a snapshot costs
    in proportion to the ledger, so this keeps its cost per order constant);
    :meth:`Engine.checkpoint` writes one at any time."""
    personal_data_retention: timedelta = attrs.field(
        default=timedelta(days=90), validator=_non_negative_delta
    )
    """How long the store keeps an order's delivery details (the buyer's name, phone and
    address) after the order ended (shipped, delivered or cancelled); the engine purges them
    once a day (and on :meth:`Engine.checkpoint`), the order's state stays. An open order is
    never purged. The default covers the returns and claims that follow a delivery; see the
    store documentation for the reasoning."""


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


class EngineBase:
    """The engine's state as its parts (polls, persistence) read it; set by ``Engine``."""

    _market: MarketPort
    _supplier: SupplierPort
    _store: Store
    _policy: ConfirmationPolicy
    _reask_on_confirmation: bool
    _profile: RuleProfile
    _sources: dict[str, tuple[SupplierSource, ...]]
    _calendar: BusinessCalendar
    _trust: TrustModel
    _ledger: Ledger
    _templates: dict[str, str]
    _settings: EngineSettings
    _order_feed: SupplierOrderFeed | None
    _listing_port: ListingPort | None
    _listing_items: dict[tuple[str, str], tuple[str, ...]] | None
    _log: logging.Logger
    _trust_initial: TrustState
    _ledger_initial: LedgerState
    _loaded: bool
    _loaded_once: bool
    _states: dict[OrderRef, OrderState]
    _open_supplier: dict[str, tuple[OrderRef, SupplierOrderState]]
    _supplier_due: dict[str, datetime]
    _unpolled: dict[str, None]
    _unknown_requests: dict[OrderRef, datetime]
    _by_item: dict[tuple[str, str], set[OrderRef]]
    _wakes: list[tuple[datetime, int, OrderRef]]
    _wake_seq: int
    _pending: dict[int, OutboxEntry]
    _fresh: set[int]
    _cursors: dict[str, str | None]
    _stock: dict[tuple[str, str], int]
    _last_outbox: int
    _last_seq: int
    _snapshot_due: int
    _ctx: WorkflowContext | None
    _options: dict[str, tuple[str | None, ...]]
    _next_purge: datetime | None

    if TYPE_CHECKING:

        def _put(self, state: OrderState, run: Run) -> None: ...
        def _new_run(self, now: datetime) -> Run: ...
        def _report_stock(
            self, supplier_id: str, item_id: str, stock: int, at: datetime, run: Run | None
        ) -> None: ...
