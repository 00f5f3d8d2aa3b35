"""The simulated world: scenarios, suppliers, buyers, and the seeded stream of orders.

Everything random in a simulation is drawn here, from ``random.Random`` instances seeded by
``(seed, purpose)``, *before* any policy acts: each order's arrival time, SKU, supplier,
quantity, price, every supplier source's hidden outcome draws and the buyer's patience. The
production engine and the simulated ports it drives (``lab._runner``) draw nothing, so every
policy faces the same world (common random numbers); a policy changes only *when* things are
asked for, and therefore who bears a cancel.
"""

from __future__ import annotations

import itertools
import math
import random
from bisect import bisect_left
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Final

from consign_core.domain._prevalidated import new_market_order, new_order_line, new_order_ref
from consign_core.domain.calendar import KST
from consign_core.domain.model import CancelFault, CancelReason, MarketOrder
from consign_core.errors import ConfigurationError
from consign_core.lab._scenario import BuyerModel, PersonModel, Scenario, SupplierType


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
    "draw_stock_outs",
    "from_us",
    "outcome_of",
    "to_us",
]

_HOUR_US: Final = 3_600_000_000
_S_US: Final = 1_000_000
_DAY_US: Final = 24 * _HOUR_US


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
        "stock_outs",
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
        self.stock_outs: dict[str, tuple[tuple[int, int], ...]] = {}
        """Item id -> its sold-out episodes ``(start µs, end µs)`` (see :func:`draw_stock_outs`)."""

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
        draw_stock_outs(self, start_us, span_us)
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


def draw_stock_outs(world: World, start_us: int, span_us: int) -> None:
    """Draw every supplier item's sold-out episodes over the run (none unless the scenario's
    ``stock_outs_per_item_month`` is above 0) into its supplier's ``stock_outs``.

    From a stream of its own, ``(seed, "stock-outs")``, item by item in a fixed order: the
    episodes are part of the world, the same for every policy and whether or not the listing
    is mirrored, and drawing them changes no other draw (a scenario without them draws
    nothing here).
    """
    scenario = world.scenario
    rate = scenario.stock_outs_per_item_month
    if rate <= 0:
        return
    rng = random.Random(f"consign-core/sim/{world.seed}/stock-outs")  # noqa: S311
    per_us = rate / (30 * _DAY_US)
    median_us = scenario.stock_out_hours * _HOUR_US
    sigma = scenario.stock_out_sigma
    end_us = start_us + span_us
    seen: set[tuple[str, str]] = set()
    for sources in world.sku_sources:
        for key in sources:
            if key in seen:
                continue
            seen.add(key)
            episodes: list[tuple[int, int]] = []
            at = start_us
            while True:
                at += int(rng.expovariate(per_us)) // _S_US * _S_US
                if at >= end_us:
                    break
                length = int(median_us * math.exp(sigma * rng.gauss(0.0, 1.0)))
                length = max(_S_US, length // _S_US * _S_US)
                episodes.append((at, at + length))
                at += length
            if episodes:
                world.by_id[key[0]].stock_outs[key[1]] = tuple(episodes)


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
