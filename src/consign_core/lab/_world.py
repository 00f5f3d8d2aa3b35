"""The simulated world: scenarios, suppliers, buyers, and the seeded stream of orders.

Everything random in a simulation is drawn here, from ``random.Random`` instances seeded by
``(seed, purpose)``, *before* any policy acts: each order's arrival time, SKU, supplier,
quantity, price, every supplier source's hidden outcome draws and the buyer's patience. The
engine (``_sim_engine``) draws nothing, so every policy faces the same world (common random
numbers); a policy changes only *when* things are asked for, and therefore who bears a cancel.
"""

from __future__ import annotations

import itertools
import math
import random
from bisect import bisect_left
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, Final

import attrs

from consign_core.domain._prevalidated import new_market_order, new_order_line, new_order_ref
from consign_core.domain._validators import (
    fail,
    instance_of,
    int_at_least,
    non_empty_str,
    optional,
    probability,
)
from consign_core.domain.calendar import DEFAULT_CALENDAR, KST, BusinessCalendar
from consign_core.domain.model import CancelFault, CancelReason, MarketOrder
from consign_core.domain.rules import RuleProfile, get_profile
from consign_core.domain.timing import ExpectedCostWeights
from consign_core.errors import ConfigurationError


__all__ = [
    "BuyerModel",
    "FixedOutcome",
    "PersonModel",
    "Scenario",
    "SourceDraws",
    "SupplierType",
    "World",
    "WorldOrder",
    "WorldSupplier",
    "build_world",
    "from_us",
    "outcome_of",
    "to_us",
]

_HOUR_US: Final = 3_600_000_000
_S_US: Final = 1_000_000
_DAY_US: Final = 24 * _HOUR_US


# --------------------------------------------------------------------------------------
# validators
# --------------------------------------------------------------------------------------


def _positive(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        fail(instance, attribute, value, "a finite number > 0")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        fail(instance, attribute, value, "a finite number >= 0")


def _kst_datetime(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        fail(instance, attribute, value, "a timezone-aware datetime")


def _quantity_range(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 1 <= value[0] <= value[1]
    )
    if not ok:
        fail(instance, attribute, value, "a (low, high) pair of integers with 1 <= low <= high")


def _hourly(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    ok = (
        isinstance(value, tuple)
        and len(value) == 24
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
            for v in value
        )
        and sum(value) > 0
    )
    if not ok:
        fail(instance, attribute, value, "24 non-negative hourly weights (KST 0..23), not all 0")


def _supplier_types(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        not isinstance(value, tuple)
        or not value
        or not all(isinstance(v, SupplierType) for v in value)
    ):
        fail(instance, attribute, value, "a non-empty tuple of SupplierType")
    elif sum(v.share for v in value) <= 0:
        fail(instance, attribute, value, "supplier types whose shares do not all equal 0")


def _market(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    non_empty_str(instance, attribute, value)
    try:
        get_profile(str(value))
    except ConfigurationError as exc:
        fail(instance, attribute, value, f"a built-in market ({exc})")


def _tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return value


# --------------------------------------------------------------------------------------
# value types
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SupplierType:
    """One kind of supplier in a scenario's mix (e.g. reliable, flaky, bad).

    A supplier's own cancel probability is drawn from a Beta distribution with mean
    :attr:`cancel_rate` and concentration :attr:`concentration`; its times to tracking and to a
    cancellation are log-normal in business hours of the scenario's calendar.
    """

    name: str = attrs.field(validator=non_empty_str)
    """The type's name, e.g. ``"reliable"``."""
    share: float = attrs.field(validator=_non_negative)
    """Relative weight of the type in the mix (normalised over the mix)."""
    cancel_rate: float = attrs.field(validator=probability)
    """Mean P(the supplier cancels an order of its usual quantity)."""
    concentration: float = attrs.field(default=60.0, validator=_positive)
    """Beta concentration (alpha + beta) of the suppliers' cancel rates around the mean."""
    hours_to_tracking: float = attrs.field(validator=_positive)
    """Median business hours from placing the supplier order to the tracking number."""
    tracking_sigma: float = attrs.field(default=0.6, validator=_non_negative)
    """Log-normal sigma of the time to tracking."""
    hours_to_cancel: float = attrs.field(default=12.0, validator=_positive)
    """Median business hours from placing the supplier order to the supplier's cancel."""
    cancel_sigma: float = attrs.field(default=0.8, validator=_non_negative)
    """Log-normal sigma of the time to the supplier's cancel."""
    stock_out_share: float = attrs.field(default=0.85, validator=probability)
    """Share of the supplier's cancels that are stock-outs (품절); the rest are ``OTHER``. A cancel
    caused by the order's size (above the reported stock, or one a 1-unit order would have
    survived) is always a stock-out."""


@attrs.frozen(kw_only=True)
class BuyerModel:
    """How buyers react while an order stays unconfirmed.

    The hazard of a free cancel at ``h`` hours after payment (wall-clock hours, while the order
    is still unconfirmed) is ``base_per_hour + growth_per_hour2 * h``: a buyer's patience is an
    exponential threshold ``E`` on the cumulative hazard ``H(h) = base h + growth h² / 2``, and
    they cancel at ``H⁻¹(E)`` if the order is still unconfirmed then. After confirmation a buyer
    asks to stop the shipment with probability :attr:`stop_after_confirm` (the seller approves
    if the goods have not left), :attr:`stop_delay_hours` (mean, exponential) after it.
    """

    base_per_hour: float = attrs.field(default=0.001, validator=probability)
    """Hazard of a cancel per hour right after payment (buyer remorse while it looks stalled)."""
    growth_per_hour2: float = attrs.field(default=0.001 / 24, validator=_non_negative)
    """How fast the hazard grows per hour of waiting (per hour squared)."""
    stop_after_confirm: float = attrs.field(default=0.003, validator=probability)
    """P(a buyer asks to stop the shipment after confirmation; rare, needs seller approval)."""
    stop_delay_hours: float = attrs.field(default=12.0, validator=_positive)
    """Mean hours from confirmation to such a request."""

    def cumulative(self, hours: float) -> float:
        """The cumulative cancel hazard after ``hours`` unconfirmed hours."""
        return self.base_per_hour * hours + 0.5 * self.growth_per_hour2 * hours * hours

    def patience_hours(self, threshold: float, already: float = 0.0) -> float:
        """Hours after payment at which a buyer with patience ``threshold`` cancels.

        ``already`` is the unconfirmed time the buyer is known to have survived (a backtest
        conditions on the historical confirmation): the buyer cancels when
        ``H(h) - H(already) = threshold``. ``math.inf`` if the hazard is zero.
        """
        target = threshold + self.cumulative(already)
        a = self.base_per_hour
        b = self.growth_per_hour2
        if b > 0:
            hours = (-a + math.sqrt(a * a + 2.0 * b * target)) / b
        elif a > 0:
            hours = target / a
        else:
            return math.inf
        return max(hours, already)  # no earlier than survived (float rounding)


@attrs.frozen(kw_only=True)
class PersonModel:
    """The person who handles escalated orders, the same for every policy.

    The person looks at an escalated order :attr:`delay_hours` after the escalation, then every
    :attr:`recheck_hours` while it stays escalated. Tracking that arrives meanwhile ends the
    escalation by itself (the workflow confirms and uploads it). An order already being
    cancelled is settled (``RESOLVE``). An order still untracked is left waiting (the person
    knows no more than the system) until :attr:`give_up_hours` after its ship-by deadline; then
    the person cancels it honestly: reason ``DELIVERY_DELAY``, seller fault. Each escalation
    costs :attr:`cost_per_escalation` (the person's time).
    """

    delay_hours: float = attrs.field(default=2.0, validator=_non_negative)
    """Hours from an escalation to the person's first look."""
    recheck_hours: float = attrs.field(default=24.0, validator=_positive)
    """Hours between looks while the order stays escalated."""
    give_up_hours: float = attrs.field(default=72.0, validator=_non_negative)
    """Hours after the ship-by deadline after which an untracked order is cancelled."""
    cost_per_escalation: float = attrs.field(default=5_000.0, validator=_non_negative)
    """Cost of one escalation in KRW-equivalents (about ten minutes of a person's time)."""


_DEFAULT_TYPES: Final = (
    SupplierType(
        name="reliable",
        share=0.75,
        cancel_rate=0.006,
        concentration=100.0,
        hours_to_tracking=14.0,
        tracking_sigma=0.5,
        hours_to_cancel=10.0,
    ),
    SupplierType(
        name="flaky",
        share=0.18,
        cancel_rate=0.04,
        concentration=40.0,
        hours_to_tracking=22.0,
        tracking_sigma=0.7,
        hours_to_cancel=14.0,
    ),
    SupplierType(
        name="bad",
        share=0.07,
        cancel_rate=0.15,
        concentration=20.0,
        hours_to_tracking=30.0,
        tracking_sigma=0.8,
        hours_to_cancel=18.0,
    ),
)

_DEFAULT_HOURLY: Final = (
    2.0, 1.0, 0.6, 0.4, 0.4, 0.6, 1.5, 3.0, 5.0, 7.0, 8.0, 8.5,
    7.5, 7.0, 7.0, 7.0, 6.5, 6.5, 6.0, 7.0, 9.0, 10.0, 9.0, 5.0,
)  # fmt: skip


@attrs.frozen(kw_only=True)
class Scenario:
    """A simulated seller's world: market, suppliers, orders, buyers and the escalation person.

    The run covers :attr:`days` days from :attr:`start`; the number of orders is given to
    :func:`~consign_core.lab.sim.simulate`, so more orders means a busier seller over the same
    period. Change one field with :meth:`evolve` (validators re-run).
    """

    name: str = attrs.field(validator=non_empty_str)
    """Short name, e.g. ``"default"``."""
    description: str = attrs.field(default="", validator=instance_of(str))
    """One paragraph: what the scenario is for."""
    market: str = attrs.field(default="coupang", validator=_market)
    """The market whose built-in rule profile applies (``coupang``, ``naver``, ...)."""
    ship_by_business_days: int | None = attrs.field(default=2, validator=optional(int_at_least(0)))
    """Business days to ship after payment, replacing the profile's placeholder (``None``: the
    profile's own rule). Consignment listings usually promise D+2 or D+3."""
    start: datetime = attrs.field(default=datetime(2025, 3, 3, tzinfo=KST), validator=_kst_datetime)
    """When the run starts (orders arrive from then on)."""
    days: float = attrs.field(default=120.0, validator=_positive)
    """How many days the orders arrive over."""
    suppliers: int = attrs.field(default=80, validator=int_at_least(1))
    """Number of suppliers (wholesalers)."""
    skus_per_supplier: int = attrs.field(default=5, validator=int_at_least(1))
    """SKUs sourced from each supplier (their primary source)."""
    supplier_types: tuple[SupplierType, ...] = attrs.field(
        default=_DEFAULT_TYPES, converter=_tuple, validator=_supplier_types
    )
    """The supplier mix."""
    popularity_sigma: float = attrs.field(default=1.0, validator=_non_negative)
    """Log-normal sigma of the suppliers' shares of the orders."""
    turn_bad_share: float = attrs.field(default=0.05, validator=probability)
    """Share of suppliers that turn bad at a random moment of the run."""
    turn_bad_cancel_rate: float = attrs.field(default=0.2, validator=probability)
    """The cancel rate of a supplier after it turned bad."""
    alternate_share: float = attrs.field(default=0.5, validator=probability)
    """Share of SKUs with an alternate supplier mapped (used when the primary cancels before
    confirmation, by the workflow's honest path)."""
    group_order_share: float = attrs.field(default=0.02, validator=probability)
    """Share of orders that are group orders (e.g. 20 gift sets)."""
    group_quantity: tuple[int, int] = attrs.field(
        default=(10, 30), converter=_tuple, validator=_quantity_range
    )
    """Range of a group order's quantity (inclusive)."""
    quantity_exponent: float = attrs.field(default=0.8, validator=_non_negative)
    """Above the supplier's usual quantity ``u``, the odds of a stock-out are multiplied by
    ``(q / u) ** quantity_exponent``."""
    stock_level: float = attrs.field(default=40.0, validator=_positive)
    """Median units a supplier reports in stock for an item."""
    stock_exceeded_cancel_rate: float = attrs.field(default=0.9, validator=probability)
    """P(cancel) of an order larger than the supplier's reported stock."""
    unit_price: float = attrs.field(default=15_000.0, validator=_positive)
    """Median unit price in KRW (log-normal, sigma 0.6)."""
    hourly_profile: tuple[float, ...] = attrs.field(
        default=_DEFAULT_HOURLY, converter=_tuple, validator=_hourly
    )
    """Relative order arrivals per KST hour of the day (daily seasonality)."""
    weekend_factor: float = attrs.field(default=0.8, validator=_non_negative)
    """Order volume on Saturdays and Sundays relative to weekdays."""
    holiday_factor: float = attrs.field(default=0.6, validator=_non_negative)
    """Order volume on public holidays relative to weekdays."""
    place_delay_minutes: float = attrs.field(default=5.0, validator=_non_negative)
    """Minutes from payment (or a supplier's cancel) to the supplier order being placed."""
    buyer: BuyerModel = attrs.field(factory=BuyerModel, validator=instance_of(BuyerModel))
    """How buyers react to waiting."""
    person: PersonModel = attrs.field(factory=PersonModel, validator=instance_of(PersonModel))
    """Who handles escalations, and what one costs."""
    reroute_after_confirmation: bool = attrs.field(default=False, validator=instance_of(bool))
    """Let the workflow try alternates after confirmation too (its default: no)."""
    calendar: BusinessCalendar = attrs.field(
        default=DEFAULT_CALENDAR, validator=instance_of(BusinessCalendar)
    )
    """Business days and hours for deadlines and supplier lead times."""

    def evolve(self, **changes: Any) -> Scenario:
        """A copy with ``changes`` applied (validated; an unknown field is a ConfigurationError)."""
        known = attrs.fields_dict(type(self))
        unknown = [name for name in changes if name not in known]
        if unknown:
            msg = (
                f"Scenario has no field {', '.join(map(repr, unknown))}; "
                f"known fields: {', '.join(known)}"
            )
            raise ConfigurationError(msg)
        return attrs.evolve(self, **changes)

    @property
    def end(self) -> datetime:
        """When orders stop arriving at the latest (``start + days``)."""
        return self.start + timedelta(days=self.days)

    def profile(self) -> RuleProfile:
        """The market's rule profile with this scenario's ship-by rule.

        The ship-by change keeps the profile's UNCONFIRMED flags (a scenario assumption is
        not a confirmation).
        """
        profile = get_profile(self.market)
        if self.ship_by_business_days is None:
            return profile
        rule = attrs.evolve(profile.ship_by, business_days=self.ship_by_business_days)
        return attrs.evolve(profile, ship_by=rule)

    def default_weights(self) -> ExpectedCostWeights:
        """The cost weights used when none are given: the library's defaults."""
        return ExpectedCostWeights()


# --------------------------------------------------------------------------------------
# the world
# --------------------------------------------------------------------------------------


class WorldSupplier:
    """A simulated supplier's hidden truth (never shown to the policy)."""

    __slots__ = (
        "bad_from_us",
        "cancel_rate",
        "kind",
        "lead",
        "lead_sigma",
        "stock_level",
        "stock_out_share",
        "supplier_id",
        "time_to_cancel",
        "time_to_cancel_sigma",
        "turn_bad_rate",
        "usual_quantity",
    )

    def __init__(  # noqa: PLR0917 - a plain record
        self,
        supplier_id: str,
        kind: SupplierType,
        cancel_rate: float,
        usual_quantity: int,
        stock_level: float,
        bad_from_us: int | None,
        turn_bad_rate: float,
    ) -> None:
        """Hold one supplier's parameters."""
        self.supplier_id = supplier_id
        self.kind = kind.name
        self.cancel_rate = cancel_rate
        self.lead = kind.hours_to_tracking
        self.lead_sigma = kind.tracking_sigma
        self.time_to_cancel = kind.hours_to_cancel
        self.time_to_cancel_sigma = kind.cancel_sigma
        self.stock_out_share = kind.stock_out_share
        self.usual_quantity = usual_quantity
        self.stock_level = stock_level
        self.bad_from_us = bad_from_us
        self.turn_bad_rate = turn_bad_rate

    def cancel_probability(self, at_us: int, quantity: int, exponent: float) -> float:
        """P(cancel) of an order of ``quantity`` placed at ``at_us`` (µs since 1970 KST)."""
        p = self.cancel_rate
        if self.bad_from_us is not None and at_us >= self.bad_from_us:
            p = max(p, self.turn_bad_rate)
        if quantity > self.usual_quantity and 0.0 < p < 1.0:
            mult = (quantity / self.usual_quantity) ** exponent
            p = mult * p / (1.0 - p + mult * p)
        return p


class SourceDraws:
    """The hidden draws of one supplier source of one order (fixed before any policy acts)."""

    __slots__ = ("reported_stock", "u_cancel", "u_reason", "z_time")

    def __init__(
        self, u_cancel: float, z_time: float, u_reason: float, reported_stock: int
    ) -> None:
        """Hold the draws."""
        self.u_cancel = u_cancel
        self.z_time = z_time
        self.u_reason = u_reason
        self.reported_stock = reported_stock


class WorldOrder:
    """One order as the world has it: the market order plus every hidden draw about it.

    ``sources`` lists ``(supplier_id, item_id)`` primary first. The supplier outcome of a
    source is a function of its draws and of *when* it is placed (:func:`outcome_of`), so it
    is the same for every policy that places it at the same time. A backtest's orders carry
    ``fixed_outcomes`` (the log's) instead.
    """

    __slots__ = (
        "buyer_cancel_us",
        "buyer_fault",
        "buyer_insists",
        "buyer_reason",
        "draws",
        "fixed_outcomes",
        "index",
        "order",
        "paid_us",
        "ship_by_us",
        "sources",
        "stop_delay_us",
    )

    def __init__(  # noqa: PLR0917 - a plain record
        self,
        index: int,
        order: MarketOrder,
        paid_us: int,
        ship_by_us: int,
        sources: tuple[tuple[str, str], ...],
        draws: tuple[SourceDraws, ...],
        buyer_cancel_us: int | None,
        stop_delay_us: int | None,
        *,
        buyer_insists: bool = False,
        fixed_outcomes: tuple[FixedOutcome | None, ...] | None = None,
        buyer_fault: CancelFault | None = None,
        buyer_reason: CancelReason | None = None,
    ) -> None:
        """Hold the order's world.

        ``buyer_fault``/``buyer_reason``: how the market booked the buyer's cancel (a
        backtest's logged one, e.g. seller fault for a cancel over a delivery delay);
        ``None`` is buyer remorse, the buyer's fault.
        """
        self.index = index
        self.order = order
        self.paid_us = paid_us
        self.ship_by_us = ship_by_us
        self.sources = sources
        self.draws = draws
        self.buyer_cancel_us = buyer_cancel_us
        self.stop_delay_us = stop_delay_us
        self.buyer_insists = buyer_insists
        self.fixed_outcomes = fixed_outcomes
        self.buyer_fault = buyer_fault
        self.buyer_reason = buyer_reason


class FixedOutcome:
    """A recorded supplier outcome (a backtest's log): invoiced or cancelled at a given time."""

    __slots__ = ("at", "cancelled", "reason")

    def __init__(self, *, cancelled: bool, at: datetime, reason: CancelReason | None) -> None:
        """Hold the outcome."""
        self.cancelled = cancelled
        self.at = at
        self.reason = reason


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=KST)
_US: Final = timedelta(microseconds=1)


def to_us(value: datetime) -> int:
    """Microseconds since 1970-01-01 00:00 KST of an aware datetime (exact)."""
    return (value - _EPOCH) // _US


def from_us(value: int) -> datetime:
    """The KST datetime ``value`` microseconds after 1970-01-01 00:00 KST."""
    return _EPOCH + timedelta(0, 0, value)  # positional: faster, the same value


class World:
    """A scenario instantiated for one seed: suppliers, SKU sources and the order stream."""

    def __init__(self, scenario: Scenario, seed: int, orders: int) -> None:
        """Draw the suppliers and SKUs; the orders are drawn lazily by :meth:`orders`."""
        self.scenario = scenario
        self.seed = seed
        self.n_orders = orders
        self.profile = scenario.profile()
        self.calendar = scenario.calendar
        rng = random.Random(f"consign-core/sim/{seed}/suppliers")  # noqa: S311 - a simulation
        types = scenario.supplier_types
        weights = [t.share for t in types]
        start_us = to_us(scenario.start)
        span_us = int(scenario.days * 24 * _HOUR_US)
        self.suppliers: list[WorldSupplier] = []
        popularity: list[float] = []
        width = len(str(scenario.suppliers))
        for i in range(scenario.suppliers):
            kind = rng.choices(types, weights)[0]
            mean = kind.cancel_rate
            if 0.0 < mean < 1.0:
                p = rng.betavariate(mean * kind.concentration, (1.0 - mean) * kind.concentration)
            else:
                p = mean
            usual = 2 if rng.random() < 0.3 else 1
            level = scenario.stock_level * math.exp(0.8 * rng.gauss(0.0, 1.0))
            turns = rng.random() < scenario.turn_bad_share
            at = start_us + int(rng.random() * span_us)
            supplier = WorldSupplier(
                f"S{i + 1:0{width}d}",
                kind,
                p,
                usual,
                level,
                at if turns else None,
                scenario.turn_bad_cancel_rate,
            )
            self.suppliers.append(supplier)
            popularity.append(math.exp(scenario.popularity_sigma * rng.gauss(0.0, 1.0)))
        self.by_id = {s.supplier_id: s for s in self.suppliers}
        total = sum(popularity)
        self.cum_popularity = list(itertools.accumulate(p / total for p in popularity))
        # SKUs: each supplier is the primary source of skus_per_supplier SKUs; some SKUs also
        # have an alternate source at another supplier.
        self.sku_sources: list[tuple[tuple[str, str], ...]] = []
        self.sku_names: list[str] = []
        n = len(self.suppliers)
        for i, supplier in enumerate(self.suppliers):
            for j in range(scenario.skus_per_supplier):
                sku = f"{supplier.supplier_id}-{j + 1}"
                primary = (supplier.supplier_id, f"{supplier.supplier_id}-I{j + 1}")
                sources: tuple[tuple[str, str], ...] = (primary,)
                if n > 1 and rng.random() < scenario.alternate_share:
                    k = rng.randrange(n - 1)
                    alt = self.suppliers[k if k < i else k + 1]
                    sources = (primary, (alt.supplier_id, f"{alt.supplier_id}-A{sku}"))
                self.sku_names.append(sku)
                self.sku_sources.append(sources)
        self._hourly = _hourly_intensity(scenario, orders)

    def sources_mapping(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """SKU -> ``(supplier_id, item_id)`` sources, primary first."""
        return dict(zip(self.sku_names, self.sku_sources, strict=True))

    def orders(self) -> Iterator[WorldOrder]:  # noqa: PLR0915 - one flat hot loop
        """The order stream in arrival order, exactly ``n_orders`` long (drawn lazily)."""
        scenario = self.scenario
        arrivals = random.Random(f"consign-core/sim/{self.seed}/arrivals")  # noqa: S311
        rng = random.Random(f"consign-core/sim/{self.seed}/orders")  # noqa: S311
        profile = self.profile
        calendar = self.calendar
        market = profile.market
        patience_hours = scenario.buyer.patience_hours
        stop_after_confirm = scenario.buyer.stop_after_confirm
        stop_rate = 1.0 / scenario.buyer.stop_delay_hours
        start_us = to_us(scenario.start)
        intensity = self._hourly
        n_hours = len(intensity)
        last_rate = intensity[-1]
        cum = self.cum_popularity
        last_supplier = len(cum) - 1
        skus = scenario.skus_per_supplier
        sku_sources = self.sku_sources
        sku_names = self.sku_names
        by_id = self.by_id
        # the stock level of every source of every SKU, in source order
        sku_levels = [
            tuple(by_id[supplier_id].stock_level for supplier_id, _item in sources)
            for sources in sku_sources
        ]
        group_share = scenario.group_order_share
        g_lo, g_hi = scenario.group_quantity
        g_span = g_hi - g_lo + 1
        log_price = math.log(scenario.unit_price)
        order_id = f"O{{:0{len(str(self.n_orders))}d}}".format
        # the deadline depends only on the KST day and on the payment being past the cut-off
        cutoff = profile.ship_by.cutoff_hour
        cutoff_us = None if cutoff is None else cutoff * _HOUR_US
        ship_by_cache: dict[tuple[int, bool], tuple[datetime, int]] = {}
        ship_by_deadline = profile.ship_by_deadline
        max_patience = 24.0 * 60
        hour = 0
        left_in_hour = 1.0  # fraction of the current hour not yet used
        expovariate = arrivals.expovariate
        random_ = rng.random
        gauss = rng.gauss
        rng_expovariate = rng.expovariate
        exp = math.exp
        for index in range(self.n_orders):
            # ---- arrival: unit-rate Poisson process in cumulative-intensity time
            need = expovariate(1.0)
            while True:
                rate = intensity[hour] if hour < n_hours else last_rate
                room = rate * left_in_hour
                if need < room:
                    left_in_hour -= need / rate
                    break
                need -= room
                hour += 1
                left_in_hour = 1.0
            paid_us = start_us + int((hour + 1.0 - left_in_hour) * _HOUR_US) // _S_US * _S_US
            paid_at = _EPOCH + timedelta(0, 0, paid_us)  # from_us, inlined
            # ---- what was bought
            supplier_index = bisect_left(cum, random_(), 0, last_supplier)
            sku_index = supplier_index * skus + int(random_() * skus)
            if random_() < group_share:
                quantity = g_lo + int(random_() * g_span)
            else:
                v = random_()
                quantity = 1 if v < 0.75 else (2 if v < 0.93 else 3 + int(random_() * 3))
            price = int(round(exp(log_price + 0.6 * gauss(0.0, 1.0)), -2)) or 100
            line = new_order_line(
                sku=sku_names[sku_index],
                quantity=quantity,
                unit_price=price,
                supplier_item_id=None,
            )
            day_key = (paid_us // _DAY_US, cutoff_us is not None and paid_us % _DAY_US >= cutoff_us)
            cached = ship_by_cache.get(day_key)
            if cached is None:
                ship_by = ship_by_deadline(paid_at, calendar)
                cached = ship_by_cache[day_key] = (ship_by, to_us(ship_by))
            ship_by, ship_by_us = cached
            order = new_market_order(
                ref=new_order_ref(market=market, order_id=order_id(index + 1)),
                lines=(line,),
                paid_at=paid_at,
                ship_by=ship_by,
            )
            # ---- hidden draws: per source, then the buyer
            draws = []
            for level in sku_levels[sku_index]:
                stock = int(level * exp(0.5 * gauss(0.0, 1.0)))
                draws.append(SourceDraws(random_(), gauss(0.0, 1.0), random_(), stock))
            patience = patience_hours(rng_expovariate(1.0))
            cancel_us = (
                paid_us + int(patience * _HOUR_US) // _S_US * _S_US
                if patience < max_patience
                else None
            )
            stop = random_() < stop_after_confirm
            delay = rng_expovariate(stop_rate)
            yield WorldOrder(
                index,
                order,
                paid_us,
                ship_by_us,
                sku_sources[sku_index],
                tuple(draws),
                cancel_us,
                int(delay * _HOUR_US) // _S_US * _S_US if stop else None,
            )


def build_world(scenario: Scenario, seed: int, orders: int) -> World:
    """Instantiate ``scenario`` for ``seed`` with ``orders`` orders."""
    return World(scenario, seed, orders)


def _hourly_intensity(scenario: Scenario, orders: int) -> list[float]:
    """Expected orders per hour of the run, scaled so that the run holds ``orders`` on average."""
    weights = scenario.hourly_profile
    calendar = scenario.calendar
    hours = max(1, math.ceil(scenario.days * 24))
    start = scenario.start.astimezone(KST)
    raw: list[float] = []
    day_factor: dict[date, float] = {}
    for h in range(hours):
        moment = start + timedelta(hours=h)
        day = moment.date()
        factor = day_factor.get(day)
        if factor is None:
            if calendar.is_holiday(day):
                factor = scenario.holiday_factor
            elif day.weekday() >= 5:
                factor = scenario.weekend_factor
            else:
                factor = 1.0
            day_factor[day] = factor
        raw.append(weights[moment.hour] * factor)
    total = sum(raw)
    if total <= 0:
        msg = "the scenario's hourly profile and day factors leave no order volume"
        raise ConfigurationError(msg)
    scale = orders / total
    return [max(r * scale, 1e-9) for r in raw]


def outcome_of(  # noqa: PLR0917 - the engine's hot path
    world_supplier: WorldSupplier,
    draws: SourceDraws,
    quantity: int,
    placed_at: datetime,
    placed_us: int,
    scenario: Scenario,
) -> tuple[bool, datetime, CancelReason]:
    """The hidden outcome of a supplier order: (cancelled?, when, cancel reason)."""
    exponent = scenario.quantity_exponent
    p = world_supplier.cancel_probability(placed_us, quantity, exponent)
    exceeded = quantity > draws.reported_stock
    if exceeded:
        p = max(p, scenario.stock_exceeded_cancel_rate)
    u_cancel = draws.u_cancel
    cancelled = u_cancel < p
    if cancelled:
        hours = world_supplier.time_to_cancel * math.exp(
            world_supplier.time_to_cancel_sigma * draws.z_time
        )
        # A cancel caused by the order's size is a stock-out, whatever the reason draw: an
        # order above the reported stock, or one that an order of one unit would have
        # survived (the quantity multiplies the odds of a stock-out). Never OTHER for those.
        reason = (
            CancelReason.STOCK_OUT
            if exceeded
            or draws.u_reason < world_supplier.stock_out_share
            or u_cancel >= world_supplier.cancel_probability(placed_us, 1, exponent)
            else CancelReason.OTHER
        )
    else:
        hours = world_supplier.lead * math.exp(world_supplier.lead_sigma * draws.z_time)
        reason = CancelReason.OTHER
    hours = min(hours, 24.0 * 60)
    at = scenario.calendar.add_business_hours(placed_at, hours)
    if at.microsecond:  # whole seconds, never before the placement
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    return cancelled, at, reason
