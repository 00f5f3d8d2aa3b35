"""The scenario of a simulated world: its suppliers' types, buyers, the person who answers
escalations, and the scenario itself (validated value types; nothing is drawn here)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from consign_core.domain._validators import (
    fail,
    instance_of,
    int_at_least,
    non_empty_str,
    optional,
    probability,
)
from consign_core.domain.calendar import DEFAULT_CALENDAR, KST, BusinessCalendar
from consign_core.domain.rules import RuleProfile, get_profile
from consign_core.domain.timing import ExpectedCostWeights
from consign_core.errors import ConfigurationError


__all__ = ["BuyerModel", "PersonModel", "Scenario", "SupplierType", "with_stock_outs"]

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
        share=0.80,
        cancel_rate=0.003,
        concentration=100.0,
        hours_to_tracking=12.0,
        tracking_sigma=0.5,
        hours_to_cancel=10.0,
    ),
    SupplierType(
        name="flaky",
        share=0.15,
        cancel_rate=0.02,
        concentration=40.0,
        hours_to_tracking=16.0,
        tracking_sigma=0.6,
        hours_to_cancel=14.0,
    ),
    SupplierType(
        name="bad",
        share=0.05,
        cancel_rate=0.08,
        concentration=20.0,
        hours_to_tracking=24.0,
        tracking_sigma=0.7,
        hours_to_cancel=18.0,
    ),
)
"""The reference seller's supplier mix, calibrated so that the account's standing tells the
policies apart (see ``docs/simulate.md``, "Calibrating the reference seller")."""

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
    turn_bad_share: float = attrs.field(default=0.03, validator=probability)
    """Share of suppliers that turn bad at a random moment of the run."""
    turn_bad_cancel_rate: float = attrs.field(default=0.10, validator=probability)
    """The cancel rate of a supplier after it turned bad."""
    alternate_share: float = attrs.field(default=0.7, validator=probability)
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
    """Minutes from the engine placing a supplier order to the supplier taking it up: the
    order's hidden outcome is timed from then. (The wait from payment, or from a supplier's
    cancel, to the placement is the engine's: it places at its next run.)"""
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
    stock_outs_per_item_month: float = attrs.field(default=0.0, validator=_non_negative)
    """Sold-out episodes per supplier item per 30 days (0, the default: none). In an episode
    the item is sold out: the supplier publishes stock 0 on its change feed when it starts
    and its stock again when it ends, and refuses orders for it meanwhile (Domeme's sold-out
    refusal). The episodes are drawn with the world, before any policy acts."""
    stock_out_hours: float = attrs.field(default=72.0, validator=_positive)
    """Median wall-clock hours a sold-out episode lasts (log-normal)."""
    stock_out_sigma: float = attrs.field(default=0.8, validator=_non_negative)
    """Log-normal sigma of an episode's length."""
    mirror_listing: bool = attrs.field(default=True, validator=instance_of(bool))
    """Whether the seller's engine stops a SKU's listing while every source is sold out
    (``EngineSettings.mirror_listing``); only matters with stock-out episodes."""

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
# the stock-outs scenario (the listing follows the supplier's stock)
# --------------------------------------------------------------------------------------


def with_stock_outs(base: Scenario, *, mirror_listing: bool = True) -> Scenario:
    """``base`` with sold-out episodes: about one a month per supplier item, lasting three
    days (median), so that a SKU with no in-stock alternate is sometimes unsellable for days.

    Named ``stock-outs`` (``stock-outs-unmirrored`` with ``mirror_listing=False``: the seller
    leaves the listing on and every order in an episode is a stock-out waiting to happen).
    """
    name = "stock-outs" if mirror_listing else "stock-outs-unmirrored"
    listing = (
        "the engine stops a SKU's listing while every source is sold out and resumes it on "
        "restock, so buyers cannot order it meanwhile (lost sales instead of stock-out cancels)"
        if mirror_listing
        else "the listing stays on: orders keep coming for sold-out items"
    )
    return base.evolve(
        name=name,
        description=(
            f"As {base.name}, but supplier items sell out in episodes (about one a month per "
            f"item, three days median, drawn with the world); {listing}."
        ),
        stock_outs_per_item_month=1.0,
        stock_out_hours=72.0,
        stock_out_sigma=0.8,
        mirror_listing=mirror_listing,
    )
