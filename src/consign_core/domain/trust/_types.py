"""Public value types of the supplier trust model: tier, configuration, assessment, state.

Re-exported by :mod:`consign_core.domain.trust`; see that module for the model itself.
"""

from __future__ import annotations

import enum
import itertools
import math
from datetime import datetime
from statistics import NormalDist
from typing import Any

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    fail,
    finite_float,
    int_at_least,
    non_empty_str,
    optional,
    probability,
)
from consign_core.domain.model import SupplierSignals
from consign_core.errors import ValidationError


__all__ = [
    "DEFAULT_LEAD_GRID_HOURS",
    "PendingOrderState",
    "PopulationState",
    "StockReportState",
    "SupplierTrustState",
    "TrustAssessment",
    "TrustConfig",
    "TrustState",
    "TrustTier",
]

DEFAULT_LEAD_GRID_HOURS: tuple[float, ...] = (
    1.0,
    2.0,
    4.0,
    8.0,
    12.0,
    18.0,
    24.0,
    30.0,
    36.0,
    48.0,
    72.0,
    96.0,
    144.0,
    240.0,
)
"""Upper edges (hours after placement on the lead-time clock) of the lead-time bins; from 0.

With the default calendar's 00-24 window one business day is 24 business hours, so the grid
is fine over the first two business days, then has edges at 3, 4 and 6 business days (where
shipping deadlines of a few business days fall: the question is whether tracking came before
one) and ends at 10 business days.
"""


# --------------------------------------------------------------------------------------
# validators
# --------------------------------------------------------------------------------------


def _number(
    lo: float = -math.inf,
    hi: float = math.inf,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> Any:
    """A validator for a finite real number in a (half-)open or closed interval."""
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    expected = f"a finite number in {left}{lo:g}, {hi:g}{right}"

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < lo
            or value > hi
            or (lo_open and value == lo)
            or (hi_open and value == hi)
        ):
            fail(instance, attribute, value, expected)

    return check


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        fail(instance, attribute, value, "a finite number >= 0")


def _to_float_tuple(value: Any) -> tuple[float, ...]:
    try:
        items = tuple(value)
    except TypeError:
        return value  # type: ignore[no-any-return]  # the validator reports it
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in items):
        return tuple(float(v) for v in items)
    return items


def _lead_grid(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    ok = (
        isinstance(value, tuple)
        and 2 <= len(value) <= 64
        and all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in value)
        and all(a < b for a, b in itertools.pairwise(value))
    )
    if not ok:
        fail(instance, attribute, value, "2..64 strictly increasing positive finite hours")


def _float_tuple(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(
        isinstance(v, float) and math.isfinite(v) for v in value
    ):
        fail(instance, attribute, value, "a tuple of finite floats")


def check_instance(value: object, cls: type, field: str) -> None:
    """Raise :class:`ValidationError` naming ``field`` unless ``value`` is a ``cls``."""
    if not isinstance(value, cls):
        msg = f"{field} must be a {cls.__name__}, got {value!r}"
        raise ValidationError(msg, field=field, value=value)


def check_id(value: object, field: str) -> None:
    """Raise :class:`ValidationError` naming ``field`` unless ``value`` is a non-blank string."""
    if not isinstance(value, str) or not value.strip():
        msg = f"{field} must be a non-empty string, got {value!r}"
        raise ValidationError(msg, field=field, value=value)


def check_int(value: object, field: str, minimum: int) -> None:
    """Raise :class:`ValidationError` naming ``field`` unless ``value`` is an int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        msg = f"{field} must be an integer >= {minimum}, got {value!r}"
        raise ValidationError(msg, field=field, value=value)


def is_probability(value: object) -> bool:
    """Whether ``value`` is a real number in [0, 1] (not a bool)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and 0.0 <= value <= 1.0


# --------------------------------------------------------------------------------------
# tier and configuration
# --------------------------------------------------------------------------------------


class TrustTier(enum.Enum):
    """How far a supplier can be trusted for one order (the seller's rule of thumb, calibrated)."""

    TRUSTED = "trusted"
    """Enough recent history and a low upper bound on the cancel risk: confirm at once."""
    UNPROVEN = "unproven"
    """Too little history to call, or a moderate risk: let the timing policy weigh it."""
    RISKY = "risky"
    """High cancel risk for this order (or more units than the supplier's reported stock)."""
    QUARANTINED = "quarantined"
    """A hard trigger fired (repeated stock-outs); wait for tracking until clean orders return."""


@attrs.frozen(kw_only=True)
class TrustConfig:
    """Every knob of :class:`~consign_core.domain.trust.TrustModel`, with documented defaults.

    Invalid values raise :class:`~consign_core.errors.ValidationError` naming the field and
    the value. See ``docs/trust.md`` for the formulas each knob enters.
    """

    # ---- forgetting and bounds
    half_life_days: float = attrs.field(default=90.0, validator=_number(0, lo_open=True))
    """Evidence half-life in calendar days: an outcome this old weighs half as much as a new one."""
    confidence: float = attrs.field(
        default=0.95, validator=_number(0.5, 1.0, lo_open=True, hi_open=True)
    )
    """One-sided confidence of ``p_cancel_upper`` (0.95 gives z = 1.645)."""

    # ---- cold-start prior (empirical Bayes)
    default_cancel_rate: float = attrs.field(
        default=0.05, validator=_number(0.0, 1.0, lo_open=True, hi_open=True)
    )
    """Prior mean of P(cancel) until the population has been fitted."""
    default_prior_strength: float = attrs.field(default=10.0, validator=_number(0, lo_open=True))
    """Prior weight (alpha0 + beta0, in orders) until the population has been fitted."""
    prior_strength_min: float = attrs.field(default=2.0, validator=_number(0, lo_open=True))
    """Lower clamp of the fitted prior weight alpha0 + beta0 (very heterogeneous suppliers)."""
    prior_strength_max: float = attrs.field(default=50.0, validator=_number(0, lo_open=True))
    """Upper clamp of the fitted prior weight (near-identical suppliers)."""
    eb_min_suppliers: int = attrs.field(default=5, validator=int_at_least(2))
    """Suppliers with history needed before the prior is fitted from data."""
    eb_min_orders: float = attrs.field(default=1.0, validator=_number(1.0))
    """A supplier enters the prior fit once its decayed order count reaches this."""

    # ---- platform signals (Domeme seller rank, score, dispatch days): log-odds shifts
    rank_weight: float = attrs.field(default=0.1, validator=_number(0))
    """Log-odds per unit of ``log1p(rank) - log1p(rank_reference)`` (lower rank is better)."""
    rank_reference: float = attrs.field(default=5.0, validator=_number(0))
    """The seller rank that leaves the prior unchanged."""
    score_weight: float = attrs.field(default=0.5, validator=_number(0))
    """Log-odds per unit of ``log(1.01 - score) - log(1.01 - score_reference)``."""
    score_reference: float = attrs.field(default=0.95, validator=_number(0.0, 1.0))
    """The seller score (as a fraction; 98 and 0.98 both read as 98%) that changes nothing."""
    dispatch_weight: float = attrs.field(default=0.25, validator=_number(0))
    """Log-odds per day of average dispatch time above ``dispatch_reference_days``."""
    dispatch_reference_days: float = attrs.field(default=2.0, validator=_number(0))
    """The average dispatch time (days) that leaves the prior unchanged."""
    signal_max_shift: float = attrs.field(default=1.0, validator=_number(0))
    """Clamp of the total signal shift in log-odds (1.0: the prior odds move at most x2.7)."""

    # ---- quantity
    quantity_k_default: float = attrs.field(default=1.0, validator=_number(0))
    """Odds exponent k above the ordinary band until it is fitted from data."""
    quantity_k_max: float = attrs.field(default=3.0, validator=_number(0))
    """Upper clamp of the fitted exponent k."""
    quantity_k_prior_sd: float = attrs.field(default=0.5, validator=_number(0, lo_open=True))
    """Standard deviation of the Gaussian penalty that keeps the fitted k near the default."""
    quantity_min_large_orders: float = attrs.field(default=30.0, validator=_number(0))
    """Resolved large orders (above the ordinary band) needed before k is fitted."""
    quantity_prior_orders: float = attrs.field(default=2.0, validator=_number(0, lo_open=True))
    """Pseudo-orders of the population's typical quantity mixed into each supplier's."""
    quantity_ordinary_factor: float = attrs.field(default=2.0, validator=_number(1.0))
    """Orders up to this multiple of the usual quantity are ordinary: no quantity uplift."""
    stock_exceeded_floor: float = attrs.field(default=0.95, validator=probability)
    """P(cancel) is at least this for an order above the item's last reported stock."""
    stock_report_max_age_days: float = attrs.field(default=7.0, validator=_number(0, lo_open=True))
    """A stock report older than this (calendar days) is ignored."""

    # ---- hard trigger
    quarantine_stockouts: int = attrs.field(default=2, validator=int_at_least(1))
    """Stock-out cancels within ``quarantine_window_days`` that quarantine a supplier."""
    quarantine_window_days: float = attrs.field(default=30.0, validator=_number(0, lo_open=True))
    """The window (calendar days) of the stock-out trigger."""
    quarantine_release_clean_orders: int = attrs.field(default=5, validator=int_at_least(1))
    """Invoiced orders in a row (no supplier cancel in between) that lift a quarantine."""

    # ---- tiers
    trusted_max_upper: float = attrs.field(default=0.08, validator=_number(0.0, 1.0, lo_open=True))
    """TRUSTED needs ``p_cancel_upper`` at most this ..."""
    min_orders_for_trusted: float = attrs.field(default=10.0, validator=_number(0))
    """... and at least this many effective (decayed) own orders."""
    risky_min_mean: float = attrs.field(default=0.10, validator=_number(0.0, 1.0, lo_open=True))
    """RISKY from this ``p_cancel`` on (or when the order exceeds the reported stock)."""

    # ---- time to tracking
    lead_grid_hours: tuple[float, ...] = attrs.field(
        default=DEFAULT_LEAD_GRID_HOURS, converter=_to_float_tuple, validator=_lead_grid
    )
    """Upper bin edges in hours on the lead-time clock (business hours plus the learned share of
    the closed ones); orders pending past the last one are censored there."""
    lead_prior_strength: float = attrs.field(default=5.0, validator=_number(0, lo_open=True))
    """Pseudo-orders of population hazard mixed into each supplier's hazard, per bin."""
    lead_population_prior_strength: float = attrs.field(
        default=5.0, validator=_number(0, lo_open=True)
    )
    """Pseudo-orders of the default curve mixed into the population hazard, per bin."""
    default_mean_hours_to_invoice: float = attrs.field(
        default=36.0, validator=_number(0, lo_open=True)
    )
    """Mean of the default (exponential) time to tracking, in business hours."""
    lead_tail_mean_hours: float = attrs.field(default=48.0, validator=_number(0, lo_open=True))
    """Mean of the exponential tail assumed beyond the last grid edge, in business hours."""
    curve_refresh_hours: float = attrs.field(default=1.0, validator=_number(0, 24, lo_open=True))
    """Lead-time curves are evaluated at the start of UTC-aligned buckets of this many hours
    (so an assessment is a pure function of the state and its arguments, and a supplier's
    curve is rebuilt at most once per bucket and state change); at most 24."""

    # ---- bookkeeping
    refit_every_events: int = attrs.field(default=5000, validator=int_at_least(0))
    """Automatic population refit interval in events once warmed up; 0 disables auto refits."""
    refit_min_events: int = attrs.field(default=50, validator=int_at_least(1))
    """The first automatic refit happens after this many events (then the interval doubles)."""
    dedup_memory_orders: int = attrs.field(default=256, validator=int_at_least(1))
    """Resolved supplier-order ids remembered per supplier to ignore duplicate events."""

    def __attrs_post_init__(self) -> None:
        """Check the cross-field rules."""
        if self.prior_strength_min > self.prior_strength_max:
            fail(
                self,
                attrs.fields(TrustConfig).prior_strength_max,
                self.prior_strength_max,
                f">= prior_strength_min ({self.prior_strength_min:g})",
            )
        if self.quantity_k_default > self.quantity_k_max:
            fail(
                self,
                attrs.fields(TrustConfig).quantity_k_default,
                self.quantity_k_default,
                f"<= quantity_k_max ({self.quantity_k_max:g})",
            )

    @property
    def z(self) -> float:
        """The one-sided normal quantile of :attr:`confidence` (1.645 for 0.95)."""
        return NormalDist().inv_cdf(self.confidence)


# --------------------------------------------------------------------------------------
# assessment
# --------------------------------------------------------------------------------------


def _upper_at_least_mean(
    instance: TrustAssessment, attribute: attrs.Attribute[Any], value: object
) -> None:
    probability(instance, attribute, value)
    assert isinstance(value, int | float)  # noqa: S101 - narrowed by the check above
    if value < instance.p_cancel:
        fail(instance, attribute, value, f">= p_cancel ({instance.p_cancel!r})")


def _by_deadline_sum(
    instance: TrustAssessment, attribute: attrs.Attribute[Any], value: object
) -> None:
    """A probability that, with ``p_invoice_by_deadline``, sums to at most 1."""
    probability(instance, attribute, value)
    assert isinstance(value, int | float)  # noqa: S101 - narrowed by the check above
    if value + instance.p_invoice_by_deadline > 1.0 + 1e-9:
        fail(
            instance,
            attribute,
            value,
            f"<= 1 - p_invoice_by_deadline ({instance.p_invoice_by_deadline!r})",
        )


def _eventually(instance: TrustAssessment, attribute: attrs.Attribute[Any], value: object) -> None:
    """As :func:`_by_deadline_sum`, and at least ``p_cancel_by_deadline``."""
    _by_deadline_sum(instance, attribute, value)
    floor = instance.p_cancel_by_deadline
    if value < floor - 1e-9:  # type: ignore[operator]  # a number: checked above
        fail(instance, attribute, value, f">= p_cancel_by_deadline ({floor!r})")


@attrs.frozen(kw_only=True)
class TrustAssessment:
    """What the trust model says about one supplier order: its tier, risks and timing.

    Probabilities are floats in [0, 1]. Times are business hours of the model's calendar.
    """

    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier assessed."""
    tier: TrustTier = attrs.field(validator=attrs.validators.instance_of(TrustTier))
    """Trusted, unproven, risky or quarantined (see :class:`TrustTier`)."""
    quantity: int = attrs.field(validator=int_at_least(1))
    """Units of the order assessed."""
    p_cancel: float = attrs.field(validator=probability)
    """P(the supplier cancels this order of ``quantity`` units): posterior mean."""
    p_cancel_upper: float = attrs.field(validator=_upper_at_least_mean)
    """One-sided upper confidence bound of :attr:`p_cancel` (>= ``p_cancel``)."""
    p_invoice_by_deadline: float = attrs.field(validator=probability)
    """P(tracking is registered by the deadline | still pending now)."""
    p_cancel_by_deadline: float = attrs.field(validator=_by_deadline_sum)
    """P(the supplier cancels before the deadline | still pending now)."""
    median_hours_to_invoice: float | None = attrs.field(validator=optional(_non_negative))
    """Median business hours from placement to tracking, for orders that ship; ``None`` if
    not estimable (no timing data at all, or beyond the lead-time grid)."""
    p90_hours_to_invoice: float | None = attrs.field(validator=optional(_non_negative))
    """90th percentile of the same; ``None`` if not estimable."""
    effective_n: float = attrs.field(validator=_non_negative)
    """Decayed weight of the supplier's own outcomes behind ``p_cancel`` (the prior's
    pseudo-orders excluded; a cancel of an order known to be riskier weighs less)."""
    stock_exceeded: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    """Whether ``quantity`` exceeds the item's last reported stock."""
    reason: str = attrs.field(validator=non_empty_str)
    """One line a seller can read (counts decayed by the half-life), e.g.
    "S12: 3 cancels (3 stock-outs) in 37 recent orders; 20 units vs usual 2; cancel risk 22%
    (up to 38%)"."""
    typical_quantity: float | None = attrs.field(default=None, validator=optional(_number(1.0)))
    """The supplier's usual (decayed geometric-mean) fulfilled quantity, if known."""
    p_cancel_eventually: float | None = attrs.field(default=None, validator=optional(_eventually))
    """P(the supplier cancels at all, before or after the deadline | still pending now); at
    least ``p_cancel_by_deadline``. The trust model always sets it; ``None`` (an assessment
    built by hand) means nothing is known past the deadline: see :attr:`cancel_eventually`."""

    @property
    def cancel_eventually(self) -> float:
        """:attr:`p_cancel_eventually`, or ``p_cancel_by_deadline`` without it (no cancels
        counted after the deadline)."""
        if self.p_cancel_eventually is not None:
            return self.p_cancel_eventually
        return self.p_cancel_by_deadline


# --------------------------------------------------------------------------------------
# state (snapshot) types
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PendingOrderState:
    """A supplier order placed but not yet invoiced or cancelled (right-censored)."""

    placed_at: datetime = attrs.field(validator=aware_datetime)
    """When it was placed."""
    quantity: int = attrs.field(validator=int_at_least(1))
    """Units ordered."""
    item_id: str
    """The supplier item."""
    stock_exceeded: bool
    """Whether the order exceeded the reported stock at placement."""
    confirmed: bool = False
    """Whether the supplier has confirmed it."""


@attrs.frozen(kw_only=True)
class StockReportState:
    """The last stock a supplier reported for one item."""

    stock: int = attrs.field(validator=int_at_least(0))
    """Units in stock."""
    at: datetime = attrs.field(validator=aware_datetime)
    """When it was reported."""


@attrs.frozen(kw_only=True)
class SupplierTrustState:
    """Everything the model holds about one supplier; counts are decayed and scaled.

    Decayed counts are stored relative to ``reference_hour`` (hours since 1970-01-01 UTC):
    a stored value ``x`` means ``x * 0.5 ** ((t - reference_hour) / half_life)`` at time ``t``.
    """

    signals: SupplierSignals | None = None
    """Platform signals from :meth:`~consign_core.domain.trust.TrustModel.register_supplier`."""
    reference_hour: float = attrs.field(default=0.0, validator=finite_float)
    """The time the scaled counts refer to."""
    cancelled: float = attrs.field(default=0.0, validator=_non_negative)
    """Scaled decayed supplier cancels (any reason), each divided by the odds multiplier the
    model applied to its order (1 for an order of ordinary or unknown size)."""
    invoiced: float = attrs.field(default=0.0, validator=_non_negative)
    """Scaled decayed invoiced (shipped) orders."""
    stock_outs: float = attrs.field(default=0.0, validator=_non_negative)
    """Scaled decayed stock-out cancels (a subset of ``cancelled``)."""
    quantity_weight: float = attrs.field(default=0.0, validator=_non_negative)
    """Scaled decayed count of invoiced orders with a known quantity."""
    quantity_log_sum: float = attrs.field(default=0.0, validator=_non_negative)
    """Scaled decayed sum of ``log(quantity)`` over them."""
    cancels_raw: float = attrs.field(default=0.0, validator=_non_negative)
    """Scaled decayed supplier cancels, undiscounted (for the reason line)."""
    lead_invoiced: tuple[float, ...] = attrs.field(default=(), validator=_float_tuple)
    """Scaled decayed invoices per lead-time bin (last entry: beyond the grid)."""
    lead_cancelled: tuple[float, ...] = attrs.field(default=(), validator=_float_tuple)
    """Scaled decayed supplier cancels per lead-time bin."""
    lead_censored: tuple[float, ...] = attrs.field(default=(), validator=_float_tuple)
    """Scaled decayed censored exits per bin (orders pending past the grid)."""
    pending: dict[str, PendingOrderState] = attrs.field(factory=dict)
    """Open orders by supplier order id."""
    resolved: dict[str, bool] = attrs.field(factory=dict)
    """Recently closed order ids, oldest first: True resolved, False censored past the grid."""
    stock: dict[str, StockReportState] = attrs.field(factory=dict)
    """Last reported stock by item id."""
    stock_out_hours: tuple[float, ...] = attrs.field(default=(), validator=_float_tuple)
    """Times (hours since the epoch) of the latest stock-out cancels, oldest first."""
    quarantined: bool = False
    """Whether the hard trigger holds the supplier in quarantine."""
    clean_orders: int = attrs.field(default=0, validator=int_at_least(0))
    """Invoiced orders since the quarantine started (or the last cancel in it)."""


@attrs.frozen(kw_only=True)
class PopulationState:
    """The population-level fit: the empirical-Bayes prior, quantity exponent, lead curves."""

    cancel_rate: float = attrs.field(validator=_number(0.0, 1.0, lo_open=True, hi_open=True))
    """Prior mean of P(cancel) (before signal shifts)."""
    prior_strength: float = attrs.field(validator=_number(0, lo_open=True))
    """Prior weight alpha0 + beta0."""
    fitted_suppliers: int = attrs.field(validator=int_at_least(0))
    """Suppliers that entered the last fit (0: defaults in use)."""
    log_typical_quantity: float = attrs.field(validator=_non_negative)
    """Log of the population's typical fulfilled quantity."""
    large_orders: float = attrs.field(validator=_non_negative)
    """Resolved large orders seen (the gate of the k fit)."""
    quantity_k: float = attrs.field(validator=_non_negative)
    """The quantity odds exponent in use."""
    quantity_cells: tuple[float, ...] = attrs.field(validator=_float_tuple)
    """Binned sufficient statistics for fitting k: (weight, cancels, sum x, sum base logit)."""
    reference_hour: float = attrs.field(validator=finite_float)
    """The time the population's scaled lead counts refer to."""
    lead_invoiced: tuple[float, ...] = attrs.field(validator=_float_tuple)
    """Scaled decayed invoices per bin, all suppliers."""
    lead_cancelled: tuple[float, ...] = attrs.field(validator=_float_tuple)
    """Scaled decayed cancels per bin, all suppliers."""
    lead_censored: tuple[float, ...] = attrs.field(validator=_float_tuple)
    """Scaled decayed censored exits per bin, all suppliers."""
    hazard_invoice: tuple[float, ...] = attrs.field(validator=_float_tuple)
    """Population per-bin invoice hazards from the last fit."""
    hazard_cancel: tuple[float, ...] = attrs.field(validator=_float_tuple)
    """Population per-bin cancel hazards from the last fit."""
    lead_data: float = attrs.field(validator=_non_negative)
    """Decayed orders behind the population lead curve at the last fit (0: default curve)."""
    closed_time_weight: float = attrs.field(default=0.0, validator=probability)
    """The lead-time clock's weight of a closed hour relative to an open one, from the last
    fit (0: business hours, 1: calendar hours)."""
    invoices_in_open_hours: float = attrs.field(default=0.0, validator=_non_negative)
    """Scaled decayed invoices registered in open hours of the calendar."""
    invoices_in_closed_hours: float = attrs.field(default=0.0, validator=_non_negative)
    """Scaled decayed invoices registered in closed hours of the calendar."""
    pending_open_hours: float = attrs.field(default=0.0, validator=_non_negative)
    """Scaled decayed open hours that orders spent pending."""
    pending_closed_hours: float = attrs.field(default=0.0, validator=_non_negative)
    """Scaled decayed closed hours that orders spent pending."""


@attrs.frozen(kw_only=True)
class TrustState:
    """The whole state of a :class:`~consign_core.domain.trust.TrustModel` as a plain value.

    ``structure(unstructure(state), TrustState) == state`` with
    :mod:`consign_core.domain.serialization`.
    """

    config: TrustConfig
    """The configuration the model runs with."""
    population: PopulationState
    """The population fit."""
    suppliers: dict[str, SupplierTrustState] = attrs.field(factory=dict)
    """Per-supplier state by supplier id."""
    events_observed: int = attrs.field(default=0, validator=int_at_least(0))
    """Learnable events observed so far."""
    next_refit_at: int = attrs.field(default=0, validator=int_at_least(0))
    """Event count at which the next automatic refit runs."""
    clock: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    """The latest event time seen."""
