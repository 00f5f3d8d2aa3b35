"""Market rule profiles as data: what counts against a seller, over which window, and when it hurts.

A :class:`RuleProfile` describes one market's seller-performance rules in plain data (attrs
classes, tuples, enums, numbers and strings only), so it round-trips exactly through
:func:`consign_core.domain.serialization.structure`/:func:`~consign_core.domain.serialization.unstructure`
and loads from / saves to JSON or TOML (:func:`load_profile`, :func:`dump_profile`).
The cancel-rate ledger (:mod:`consign_core.domain.cancel_rate`) evaluates a profile over an event
stream.

A profile holds:

- **metrics** (:class:`MetricSpec`): which events count and with how many points
  (:class:`PointWeight`), in which unit (:class:`CountUnit`: per order, per order line or per
  unit of quantity), over which denominator (:class:`Denominator`) and window
  (:class:`Window`: rolling N days or N calendar months), and the warning and sanction
  thresholds (:class:`Threshold`: one or more :class:`Condition` joined by ALL or ANY, e.g.
  Naver's "points >= 10 AND points / payments >= 40%");
- the **ship-by rule** (:class:`ShipByRule`): N business days after payment, an optional daily
  cut-off hour, and when a late shipment is booked;
- **moratoria** (:class:`~consign_core.domain.calendar.Moratorium`): periods when some penalty kinds
  are suspended;
- **unconfirmed**: dotted paths of every figure that is not backed by a primary or otherwise
  reliable source (UNCONFIRMED) or is a library placeholder. Override them with
  :meth:`RuleProfile.with_metric` / :meth:`RuleProfile.with_ship_by` (which clear the flag of
  each field changed) or by editing a dumped profile file.

Built-in profiles: :data:`COUPANG`, :data:`NAVER`, :data:`AMAZON` and :data:`EBAY`; each one's
docstring and ``sources`` cite where every figure comes from. Source ids in brackets ([C1],
[N5], ...) are listed, with their addresses, in each profile's ``sources``.
"""

from __future__ import annotations

import enum
import importlib
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import attrs

from consign_core.domain._validators import fail, int_at_least, non_empty_str, optional
from consign_core.domain.calendar import (
    DEFAULT_CALENDAR,
    NAVER_CHUSEOK_2025,
    BusinessCalendar,
    Moratorium,
    PenaltyKind,
)
from consign_core.domain.model import MarketOrder
from consign_core.domain.serialization import structure, unstructure
from consign_core.errors import ConfigurationError, ConsignError, ValidationError


__all__ = [
    "AMAZON",
    "COUPANG",
    "EBAY",
    "NAVER",
    "Combine",
    "Comparison",
    "Condition",
    "CountUnit",
    "CountedEvent",
    "Denominator",
    "LateBooking",
    "MetricQuantity",
    "MetricSpec",
    "MetricStatus",
    "PointWeight",
    "RuleProfile",
    "ShipByRule",
    "Threshold",
    "Window",
    "WindowKind",
    "builtin_profiles",
    "dump_profile",
    "get_profile",
    "load_profile",
    "parse_profile",
]


# --------------------------------------------------------------------------------------
# Enums (all plain enum.Enum, serialised by value)
# --------------------------------------------------------------------------------------


class CountedEvent(enum.Enum):
    """A kind of event that a metric can count against the seller.

    Each cancellation or late shipment falls into exactly one kind, so point weights never
    double count. Cancel reasons are taken as recorded; nothing re-labels a cancellation.
    """

    STOCK_OUT_CANCEL = "stock_out_cancel"
    """품절취소: a seller-fault cancellation with reason STOCK_OUT (or, if the profile's
    ``stock_out_counts_any_fault`` is set, any cancellation with reason STOCK_OUT)."""
    SELLER_FAULT_CANCEL = "seller_fault_cancel"
    """A seller-fault cancellation for any reason other than a stock-out."""
    LATE_SHIPMENT = "late_shipment"
    """발송지연: the order was not shipped (waybill uploaded) before its ship-by deadline."""
    LONG_LATE_SHIPMENT = "long_late_shipment"
    """Still unshipped ``ShipByRule.long_late_business_days`` business days after the deadline
    (Naver's extra penalty for a long delay)."""

    @property
    def penalty_kind(self) -> PenaltyKind:
        """The :class:`~consign_core.domain.calendar.PenaltyKind` a moratorium suspends it under."""
        return _PENALTY_KIND[self]


_PENALTY_KIND: Final = {
    CountedEvent.STOCK_OUT_CANCEL: PenaltyKind.STOCK_OUT_CANCEL,
    CountedEvent.SELLER_FAULT_CANCEL: PenaltyKind.SELLER_FAULT_CANCEL,
    CountedEvent.LATE_SHIPMENT: PenaltyKind.LATE_SHIPMENT,
    CountedEvent.LONG_LATE_SHIPMENT: PenaltyKind.LATE_SHIPMENT,
}


class CountUnit(enum.Enum):
    """What one counted event weighs: a 20-unit order is 1 ORDER, 1 LINE and 20 UNITs."""

    ORDER = "order"
    """Each order counts once, whatever its size."""
    LINE = "line"
    """Each order line counts once (eBay counts transactions, i.e. line items)."""
    UNIT = "unit"
    """Each unit of quantity counts: a 20-set group order counts 20."""

    def amount(self, order: MarketOrder) -> int:
        """The weight of ``order`` in this unit (1, the number of lines, or the quantity)."""
        if self is CountUnit.ORDER:
            return 1
        if self is CountUnit.LINE:
            return len(order.lines)
        return order.quantity


class Denominator(enum.Enum):
    """What a rate metric divides by; every denominator event is weighed in the metric's unit."""

    NONE = "none"
    """No denominator: the metric is a plain count (or sum of points)."""
    ORDERS_PAID = "orders_paid"
    """Orders paid (OrderPaid) within the window."""
    ORDERS_DUE = "orders_due"
    """Orders whose late-shipment check fell within the window (the ship-by deadline, or the
    booking day under :attr:`LateBooking.NEXT_BUSINESS_DAY`), excluding orders cancelled
    before their deadline: the natural base of an on-time / late shipment rate."""
    ORDERS_SHIPPED = "orders_shipped"
    """Orders shipped (InvoiceUploaded) within the window."""


class WindowKind(enum.Enum):
    """How a metric's window moves with time."""

    ROLLING_DAYS = "rolling_days"
    """The last ``length`` x 24 hours: events at ``t`` with ``now - length days < t <= now``."""
    CALENDAR_MONTH = "calendar_month"
    """The current KST calendar month to date, plus the ``length - 1`` months before it."""


class MetricQuantity(enum.Enum):
    """Which number of a metric a :class:`Condition` looks at."""

    COUNT = "count"
    """The numerator: a count of events, or a sum of points."""
    RATE = "rate"
    """numerator / denominator; higher is worse (cancellation rate, penalty ratio)."""
    SUCCESS_RATE = "success_rate"
    """1 - numerator / denominator; lower is worse (order fulfilment, on-time shipment)."""


class Comparison(enum.Enum):
    """How a condition compares its quantity with its value."""

    AT_LEAST = "at_least"
    """quantity >= value (for COUNT and RATE)."""
    ABOVE = "above"
    """quantity > value (for COUNT and RATE)."""
    AT_MOST = "at_most"
    """quantity <= value (for SUCCESS_RATE)."""
    BELOW = "below"
    """quantity < value (for SUCCESS_RATE)."""


class Combine(enum.Enum):
    """How a :class:`Threshold` joins its conditions."""

    ALL = "all"
    """Every condition must hold (Naver: points >= 10 AND ratio >= 40%)."""
    ANY = "any"
    """At least one condition must hold (eBay loses Top Rated at > 0.5% OR 4+ defects)."""


class MetricStatus(enum.Enum):
    """Where a metric (or a seller) stands against its thresholds."""

    OK = "ok"
    """Below every threshold."""
    WARNING = "warning"
    """The warning threshold is met (e.g. Coupang 주의/Caution)."""
    SANCTION = "sanction"
    """The sanction threshold is met (e.g. Naver's penalty stage, Amazon deactivation)."""

    @property
    def severity(self) -> int:
        """0 for OK, 1 for WARNING, 2 for SANCTION; handy for ``max``."""
        return _SEVERITY[self]


_SEVERITY: Final = {MetricStatus.OK: 0, MetricStatus.WARNING: 1, MetricStatus.SANCTION: 2}


class LateBooking(enum.Enum):
    """When a late shipment is booked (which also dates it for windows and moratoria)."""

    DEADLINE = "deadline"
    """At the ship-by deadline itself."""
    NEXT_BUSINESS_DAY = "next_business_day"
    """At 00:00 KST of the first business day after the deadline day. Naver: a 10/10 deadline
    was penalised on 10/13 and a 9/30 deadline fell into the 10/1 moratorium [N5]."""


# --------------------------------------------------------------------------------------
# Validators
# --------------------------------------------------------------------------------------


def _enum_of(cls: type[enum.Enum]) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            allowed = ", ".join(repr(member.value) for member in cls)
            fail(instance, attribute, value, f"a {cls.__name__} ({allowed})")

    return check


def _instance_of(cls: type[object]) -> Any:
    # not attrs.validators.instance_of, which raises a bare TypeError
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            fail(instance, attribute, value, f"a {cls.__name__}")

    return check


def _tuple_of(cls: type[object]) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple) or not all(isinstance(item, cls) for item in value):
            fail(instance, attribute, value, f"a sequence of {cls.__name__}")

    return check


def _non_empty_tuple_of(cls: type[object]) -> Any:
    inner = _tuple_of(cls)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        inner(instance, attribute, value)
        if not value:
            fail(instance, attribute, value, f"a non-empty sequence of {cls.__name__}")

    return check


def _str_tuple(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(item, str) for item in value):
        fail(instance, attribute, value, "a sequence of strings")


def _plain_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        fail(instance, attribute, value, "a string")


def _plain_bool(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        fail(instance, attribute, value, "true or false")


_NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]*")


def _metric_name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        fail(instance, attribute, value, "a lower-case identifier such as 'order_fulfilment'")


def _to_float(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(value, str | bytes | Mapping):
        return (value,) if isinstance(value, str | bytes) else tuple(value)
    try:
        return tuple(value)
    except TypeError:
        return value  # type: ignore[return-value]  # the validator reports it


def _cutoff_hour(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24:
        fail(instance, attribute, value, "None or an integer hour in 1..24 (KST)")


# --------------------------------------------------------------------------------------
# Value types
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PointWeight:
    """One counted event kind and the points it scores (1 for a plain count)."""

    event: CountedEvent = attrs.field(validator=_enum_of(CountedEvent))
    """The kind of event counted."""
    points: int = attrs.field(default=1, validator=int_at_least(1))
    """Points per counted event, multiplied by the event's weight in the metric's unit."""


@attrs.frozen(kw_only=True)
class Window:
    """A metric's look-back window: rolling days or calendar months (KST)."""

    kind: WindowKind = attrs.field(default=WindowKind.ROLLING_DAYS, validator=_enum_of(WindowKind))
    """Rolling days, or calendar months."""
    length: int = attrs.field(validator=int_at_least(1))
    """Days for :attr:`WindowKind.ROLLING_DAYS`; months (the current one included) for
    :attr:`WindowKind.CALENDAR_MONTH`."""

    @classmethod
    def rolling_days(cls, days: int) -> Window:
        """The last ``days`` x 24 hours."""
        return cls(kind=WindowKind.ROLLING_DAYS, length=days)

    @classmethod
    def calendar_months(cls, months: int = 1) -> Window:
        """The current KST calendar month to date (plus ``months - 1`` earlier months)."""
        return cls(kind=WindowKind.CALENDAR_MONTH, length=months)

    def describe(self) -> str:
        """E.g. ``"7 days"`` or ``"calendar month"``."""
        if self.kind is WindowKind.ROLLING_DAYS:
            return f"{self.length} day{'s' if self.length != 1 else ''}"
        if self.length == 1:
            return "calendar month"
        return f"{self.length} calendar months"


_HIGHER_IS_WORSE: Final = frozenset({Comparison.AT_LEAST, Comparison.ABOVE})
_SYMBOL: Final = {
    Comparison.AT_LEAST: ">=",
    Comparison.ABOVE: ">",
    Comparison.AT_MOST: "<=",
    Comparison.BELOW: "<",
}


def _finite_number(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, float) or not math.isfinite(value):
        fail(instance, attribute, value, "a finite number")


@attrs.frozen(kw_only=True)
class Condition:
    """One comparison of a metric quantity with a threshold value.

    Conditions always point towards "worse": a COUNT or RATE must use AT_LEAST/ABOVE
    (higher is worse), a SUCCESS_RATE AT_MOST/BELOW (lower is worse). Rates are fractions in
    [0, 1] (0.025 is 2.5%). Values are compared exactly, as the decimal written
    (``Fraction(str(value))``), so ``0.4`` means exactly 40%.
    """

    quantity: MetricQuantity = attrs.field(validator=_enum_of(MetricQuantity))
    """The metric quantity compared."""
    comparison: Comparison = attrs.field(validator=_enum_of(Comparison))
    """The comparison."""
    value: float = attrs.field(converter=_to_float, validator=_finite_number)
    """The threshold: a count (points) for COUNT, a fraction in [0, 1] for the rates."""

    def __attrs_post_init__(self) -> None:
        """Check that the condition points towards "worse" and is not trivially true."""
        higher = self.comparison in _HIGHER_IS_WORSE
        if self.quantity is MetricQuantity.SUCCESS_RATE and higher:
            msg = (
                f"Condition.comparison for a success_rate must be 'at_most' or 'below' "
                f"(lower is worse), got {self.comparison.value!r}"
            )
            raise ValidationError(
                msg,
                field="comparison",
                value=self.comparison,
            )
        if self.quantity is not MetricQuantity.SUCCESS_RATE and not higher:
            msg = (
                f"Condition.comparison for a {self.quantity.value} must be 'at_least' or "
                f"'above' (higher is worse), got {self.comparison.value!r}"
            )
            raise ValidationError(
                msg,
                field="comparison",
                value=self.comparison,
            )
        value = self.value
        if self.quantity is MetricQuantity.COUNT:
            trivial = value <= 0 if self.comparison is Comparison.AT_LEAST else value < 0
            if trivial:
                msg = (
                    f"Condition.value must be > 0 for 'at_least' (>= 0 for 'above') on a "
                    f"count, otherwise it always holds; got {value!r}"
                )
                raise ValidationError(
                    msg,
                    field="value",
                    value=value,
                )
            return
        if not 0.0 <= value <= 1.0:
            msg = (
                f"Condition.value for a {self.quantity.value} must be a fraction in [0, 1] "
                f"(0.025 means 2.5%), got {value!r}"
            )
            raise ValidationError(
                msg,
                field="value",
                value=value,
            )
        if (
            (self.quantity is MetricQuantity.RATE and self.comparison is Comparison.AT_LEAST)
            or (
                self.quantity is MetricQuantity.SUCCESS_RATE
                and self.comparison is Comparison.AT_MOST
            )
        ) and value == (0.0 if self.quantity is MetricQuantity.RATE else 1.0):
            msg = f"Condition.value {value!r} makes '{self.describe()}' always hold"
            raise ValidationError(
                msg,
                field="value",
                value=value,
            )
        if self.quantity is MetricQuantity.SUCCESS_RATE and (
            self.comparison is Comparison.BELOW and value == 0.0
        ):
            msg = "Condition.value 0.0 makes 'success rate < 0%' impossible"
            raise ValidationError(
                msg,
                field="value",
                value=value,
            )

    @classmethod
    def count_at_least(cls, value: float) -> Condition:
        """count (or points) >= value."""
        return cls(quantity=MetricQuantity.COUNT, comparison=Comparison.AT_LEAST, value=value)

    @classmethod
    def count_above(cls, value: float) -> Condition:
        """count (or points) > value."""
        return cls(quantity=MetricQuantity.COUNT, comparison=Comparison.ABOVE, value=value)

    @classmethod
    def rate_at_least(cls, value: float) -> Condition:
        """numerator / denominator >= value."""
        return cls(quantity=MetricQuantity.RATE, comparison=Comparison.AT_LEAST, value=value)

    @classmethod
    def rate_above(cls, value: float) -> Condition:
        """numerator / denominator > value."""
        return cls(quantity=MetricQuantity.RATE, comparison=Comparison.ABOVE, value=value)

    @classmethod
    def success_rate_below(cls, value: float) -> Condition:
        """1 - numerator / denominator < value."""
        return cls(quantity=MetricQuantity.SUCCESS_RATE, comparison=Comparison.BELOW, value=value)

    @classmethod
    def success_rate_at_most(cls, value: float) -> Condition:
        """1 - numerator / denominator <= value."""
        return cls(quantity=MetricQuantity.SUCCESS_RATE, comparison=Comparison.AT_MOST, value=value)

    def exact_value(self) -> Fraction:
        """The threshold as an exact fraction of the decimal written (0.4 -> 2/5)."""
        return Fraction(repr(self.value))

    def describe(self) -> str:
        """E.g. ``"count >= 10"``, ``"rate >= 40%"``, ``"success rate < 99%"``."""
        symbol = _SYMBOL[self.comparison]
        if self.quantity is MetricQuantity.COUNT:
            return f"count {symbol} {self.value:g}"
        name = "rate" if self.quantity is MetricQuantity.RATE else "success rate"
        return f"{name} {symbol} {self.value * 100:g}%"


@attrs.frozen(kw_only=True)
class Threshold:
    """A status threshold: conditions joined by :attr:`Combine.ALL` (AND) or ANY (OR)."""

    conditions: tuple[Condition, ...] = attrs.field(
        converter=_to_tuple, validator=_non_empty_tuple_of(Condition)
    )
    """The conditions; at least one."""
    combine: Combine = attrs.field(default=Combine.ALL, validator=_enum_of(Combine))
    """ALL (every condition) or ANY (at least one)."""

    @classmethod
    def all_of(cls, *conditions: Condition) -> Threshold:
        """Met when every condition holds."""
        return cls(conditions=conditions, combine=Combine.ALL)

    @classmethod
    def any_of(cls, *conditions: Condition) -> Threshold:
        """Met when at least one condition holds."""
        return cls(conditions=conditions, combine=Combine.ANY)

    def describe(self) -> str:
        """E.g. ``"count >= 10 and rate >= 40%"``."""
        joiner = " and " if self.combine is Combine.ALL else " or "
        return joiner.join(condition.describe() for condition in self.conditions)


_RATE_QUANTITIES: Final = frozenset({MetricQuantity.RATE, MetricQuantity.SUCCESS_RATE})


@attrs.frozen(kw_only=True)
class MetricSpec:
    """One seller-performance metric of a market.

    The numerator sums, over the window, the points of the counted events (each weighed in
    :attr:`unit`); the denominator counts the :attr:`denominator` events in the same window and
    unit. The status is SANCTION when :attr:`sanction` is met, else WARNING when
    :attr:`warning` is met, else OK.
    """

    name: str = attrs.field(validator=_metric_name)
    """Identifier, unique in the profile, e.g. ``"order_fulfilment"``."""
    title: str = attrs.field(validator=non_empty_str)
    """Human title used in messages, e.g. ``"order fulfilment"``."""
    counts: tuple[PointWeight, ...] = attrs.field(
        converter=_to_tuple, validator=_non_empty_tuple_of(PointWeight)
    )
    """The counted event kinds with their points; each kind at most once."""
    unit: CountUnit = attrs.field(default=CountUnit.ORDER, validator=_enum_of(CountUnit))
    """What one event weighs (order, line or unit), for numerator and denominator alike."""
    denominator: Denominator = attrs.field(
        default=Denominator.NONE, validator=_enum_of(Denominator)
    )
    """What rate conditions divide by; NONE for a plain count."""
    window: Window = attrs.field(validator=_instance_of(Window))
    """The look-back window."""
    warning: Threshold | None = attrs.field(
        default=None, validator=optional(_instance_of(Threshold))
    )
    """When the metric is in warning; ``None`` if the market has no such level."""
    sanction: Threshold | None = attrs.field(
        default=None, validator=optional(_instance_of(Threshold))
    )
    """When the metric is in sanction; ``None`` if the market has no such level."""
    notes: str = attrs.field(default="", validator=_plain_str)
    """How the market defines it, with sources."""

    def __attrs_post_init__(self) -> None:
        """Check unique counted kinds and that rate conditions have a denominator."""
        kinds = [weight.event for weight in self.counts]
        if len(set(kinds)) != len(kinds):
            msg = (
                f"MetricSpec.counts must name each event kind once, got "
                f"{[kind.value for kind in kinds]!r} in metric {self.name!r}"
            )
            raise ValidationError(
                msg,
                field="counts",
                value=self.counts,
            )
        if self.denominator is Denominator.NONE:
            for level in (self.warning, self.sanction):
                for condition in () if level is None else level.conditions:
                    if condition.quantity in _RATE_QUANTITIES:
                        msg = (
                            f"MetricSpec.denominator must not be 'none' when a threshold "
                            f"uses a {condition.quantity.value} (metric {self.name!r})"
                        )
                        raise ValidationError(
                            msg,
                            field="denominator",
                            value=self.denominator,
                        )

    def points_for(self, event: CountedEvent) -> int:
        """Points per ``event`` (0 if this metric does not count it)."""
        for weight in self.counts:
            if weight.event is event:
                return weight.points
        return 0

    @property
    def headline(self) -> MetricQuantity:
        """The quantity a report shows as the metric's value.

        SUCCESS_RATE if any condition uses it, else RATE if any does (or the metric has a
        denominator), else COUNT.
        """
        quantities = {
            condition.quantity
            for level in (self.warning, self.sanction)
            if level is not None
            for condition in level.conditions
        }
        if MetricQuantity.SUCCESS_RATE in quantities:
            return MetricQuantity.SUCCESS_RATE
        if MetricQuantity.RATE in quantities or self.denominator is not Denominator.NONE:
            return MetricQuantity.RATE
        return MetricQuantity.COUNT


@attrs.frozen(kw_only=True)
class ShipByRule:
    """How a market sets the ship-by deadline (발송기한) and books a miss.

    The deadline is the end of the ``business_days``-th business day after payment (see
    :meth:`consign_core.domain.calendar.BusinessCalendar.ship_by`; a payment at or after
    ``cutoff_hour`` KST, or on a non-business day, counts from the next business day).
    """

    business_days: int = attrs.field(validator=int_at_least(0))
    """Business days after payment (Naver general products: 3 [N2])."""
    cutoff_hour: int | None = attrs.field(default=None, validator=_cutoff_hour)
    """Daily cut-off hour in KST (1..24), or ``None`` for none."""
    late_booking: LateBooking = attrs.field(
        default=LateBooking.DEADLINE, validator=_enum_of(LateBooking)
    )
    """When a missed deadline is booked as a late shipment."""
    long_late_business_days: int | None = attrs.field(
        default=None, validator=optional(int_at_least(1))
    )
    """If set, an order still unshipped at the end of the deadline day + this many business
    days also scores a :attr:`CountedEvent.LONG_LATE_SHIPMENT` (booked the same way)."""


_PROFILE_FIELDS: Final = frozenset(
    {"market", "display_name", "metrics", "ship_by", "moratoria", "stock_out_counts_any_fault"}
)


def _check_unconfirmed(profile: RuleProfile) -> None:
    metric_fields = {field.name for field in attrs.fields(MetricSpec)}
    ship_fields = {field.name for field in attrs.fields(ShipByRule)}
    names = {metric.name for metric in profile.metrics}
    for path in profile.unconfirmed:
        parts = path.split(".")
        ok = parts[0] in _PROFILE_FIELDS
        if ok and parts[0] == "metrics" and len(parts) > 1:
            ok = parts[1] in names and (len(parts) == 2 or parts[2] in metric_fields)
        elif ok and parts[0] == "ship_by" and len(parts) > 1:
            ok = parts[1] in ship_fields
        if not ok:
            msg = (
                f"RuleProfile.unconfirmed entries must be dotted paths of profile fields "
                f"such as 'ship_by.cutoff_hour' or 'metrics.<name>.warning', got {path!r}"
            )
            raise ValidationError(
                msg,
                field="unconfirmed",
                value=path,
            )


@attrs.frozen(kw_only=True)
class RuleProfile:
    """One market's seller-performance rules, as data.

    Build your own, derive one from a built-in (:meth:`with_metric`, :meth:`with_ship_by`,
    :meth:`with_moratoria`, :func:`attrs.evolve`) or load one from a file
    (:func:`load_profile`).
    """

    market: str = attrs.field(validator=non_empty_str)
    """The market's short name as in :attr:`consign_core.domain.model.OrderRef.market`."""
    display_name: str = attrs.field(validator=non_empty_str)
    """Name used in messages, e.g. ``"Coupang"``."""
    metrics: tuple[MetricSpec, ...] = attrs.field(
        converter=_to_tuple, validator=_non_empty_tuple_of(MetricSpec)
    )
    """The metrics; names unique."""
    ship_by: ShipByRule = attrs.field(validator=_instance_of(ShipByRule))
    """The ship-by rule."""
    moratoria: tuple[Moratorium, ...] = attrs.field(
        default=(), converter=_to_tuple, validator=_tuple_of(Moratorium)
    )
    """Periods in which some penalty kinds are suspended (in addition to the calendar's)."""
    stock_out_counts_any_fault: bool = attrs.field(default=False, validator=_plain_bool)
    """Count a cancellation with reason STOCK_OUT as a stock-out cancel whoever the recorded
    fault is (Coupang counts out-of-stock cancels "regardless of who presses cancel" [C2]).
    The cancellation itself is never re-labelled."""
    unconfirmed: tuple[str, ...] = attrs.field(
        default=(), converter=_to_tuple, validator=_str_tuple
    )
    """Dotted paths of figures that are UNCONFIRMED or placeholders, e.g.
    ``"metrics.order_fulfilment.warning"``."""
    sources: tuple[str, ...] = attrs.field(default=(), converter=_to_tuple, validator=_str_tuple)
    """Where the figures come from."""
    notes: str = attrs.field(default="", validator=_plain_str)
    """Modelling notes."""

    def __attrs_post_init__(self) -> None:
        """Check unique metric names and well-formed ``unconfirmed`` paths."""
        names = [metric.name for metric in self.metrics]
        if len(set(names)) != len(names):
            msg = f"RuleProfile.metrics must have unique names, got {names!r}"
            raise ValidationError(
                msg,
                field="metrics",
                value=names,
            )
        _check_unconfirmed(self)

    # ------------------------------------------------------------------ lookups

    def metric(self, name: str) -> MetricSpec:
        """The metric called ``name``; ConfigurationError listing the names otherwise."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        known = ", ".join(metric.name for metric in self.metrics)
        msg = f"profile {self.market!r} has no metric {name!r}; known metrics: {known}"
        raise ConfigurationError(msg)

    def is_unconfirmed(self, path: str) -> bool:
        """Whether ``path`` (or a field under or above it) is flagged UNCONFIRMED."""
        return any(
            flag == path or flag.startswith(path + ".") or path.startswith(flag + ".")
            for flag in self.unconfirmed
        )

    def ship_by_deadline(
        self, paid_at: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR
    ) -> datetime:
        """The ship-by deadline of an order paid at ``paid_at`` under this profile's rule.

        The end of the deadline day, returned as 00:00 KST of the next day (see
        :meth:`consign_core.domain.calendar.BusinessCalendar.ship_by`).
        """
        return calendar.ship_by(
            paid_at,
            business_days=self.ship_by.business_days,
            cutoff_hour=self.ship_by.cutoff_hour,
        )

    # ------------------------------------------------------------------ overrides

    def with_metric(self, name: str, **changes: Any) -> RuleProfile:
        """A copy with metric ``name`` changed (as :func:`attrs.evolve`).

        Every changed field counts as confirmed by you: its UNCONFIRMED flag
        (``metrics.<name>.<field>``) is removed. An unknown field raises
        :class:`~consign_core.errors.ConfigurationError` naming it.
        """
        _check_fields(MetricSpec, changes)
        metric = attrs.evolve(self.metric(name), **changes)
        metrics = tuple(metric if m.name == name else m for m in self.metrics)
        cleared = {f"metrics.{name}.{field}" for field in changes}
        return attrs.evolve(
            self, metrics=metrics, unconfirmed=_drop_flags(self.unconfirmed, cleared)
        )

    def with_ship_by(self, **changes: Any) -> RuleProfile:
        """A copy with the ship-by rule changed; the changed fields' flags are removed."""
        _check_fields(ShipByRule, changes)
        cleared = {f"ship_by.{field}" for field in changes}
        return attrs.evolve(
            self,
            ship_by=attrs.evolve(self.ship_by, **changes),
            unconfirmed=_drop_flags(self.unconfirmed, cleared),
        )

    def with_moratoria(self, *moratoria: Moratorium) -> RuleProfile:
        """A copy with ``moratoria`` appended."""
        return attrs.evolve(self, moratoria=self.moratoria + tuple(moratoria))

    def confirm(self, *paths: str) -> RuleProfile:
        """A copy with the UNCONFIRMED flags ``paths`` (and any under them) removed."""
        return attrs.evolve(self, unconfirmed=_drop_flags(self.unconfirmed, set(paths)))


def _check_fields(cls: type[Any], changes: Mapping[str, object]) -> None:
    known = [field.name for field in attrs.fields(cls)]
    unknown = [name for name in changes if name not in known]
    if unknown:
        msg = (
            f"{cls.__name__} has no field {', '.join(map(repr, unknown))}; "
            f"known fields: {', '.join(known)}"
        )
        raise ConfigurationError(msg)


def _drop_flags(flags: tuple[str, ...], cleared: set[str]) -> tuple[str, ...]:
    return tuple(
        flag
        for flag in flags
        if not any(flag == path or flag.startswith(path + ".") for path in cleared)
    )


# --------------------------------------------------------------------------------------
# Built-in profiles
# --------------------------------------------------------------------------------------

_CANCELS: Final = (
    PointWeight(event=CountedEvent.STOCK_OUT_CANCEL),
    PointWeight(event=CountedEvent.SELLER_FAULT_CANCEL),
)

COUPANG: Final = RuleProfile(
    market="coupang",
    display_name="Coupang",
    metrics=(
        MetricSpec(
            name="order_fulfilment",
            title="order fulfilment",
            counts=_CANCELS,
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_PAID,
            window=Window.rolling_days(7),
            warning=Threshold.all_of(Condition.success_rate_below(0.99)),
            sanction=Threshold.all_of(Condition.success_rate_below(0.95)),
            notes=(
                "(orders - seller-caused cancels) / orders over the last 7 days [C1], [C2], "
                "[C15]; buyer remorse is not counted, out-of-stock cancels are, whoever "
                "pressed cancel [C2]. Warning below 99% is the 2016 '업체 취소율 <= 1.0%' "
                "figure [C7]; sanction below 95% is a low-reliability claim (cancel > 5%) "
                "[C19]. Both UNCONFIRMED."
            ),
        ),
        MetricSpec(
            name="on_time_shipment",
            title="on-time shipment",
            counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_DUE,
            window=Window.rolling_days(7),
            warning=Threshold.all_of(Condition.success_rate_below(0.99)),
            sanction=None,
            notes=(
                "Orders shipped (invoice uploaded) by the ship-by date / orders due, last 7 "
                "days [C1], [C14]. Warning below 99.0: a WING capture shows 정시출고완료 86.2 "
                "as 주의 with target 99.0 (third-party transcription, UNCONFIRMED). No "
                "sanction (경고) cut-off is known: the 86.2 = 주의 data point contradicts the "
                "'on-time < 95%' claim of [C19], so none is set; add your own."
            ),
        ),
    ),
    ship_by=ShipByRule(business_days=1, cutoff_hour=None, late_booking=LateBooking.DEADLINE),
    moratoria=(),
    stock_out_counts_any_fault=True,
    unconfirmed=(
        "metrics.order_fulfilment.unit",
        "metrics.order_fulfilment.warning",
        "metrics.order_fulfilment.sanction",
        "metrics.on_time_shipment.unit",
        "metrics.on_time_shipment.warning",
        "metrics.on_time_shipment.sanction",
        "ship_by.business_days",
        "ship_by.cutoff_hour",
    ),
    sources=(
        "[C1] globalsellers.coupang.com/seller-university/managing-your-seller-score",
        "[C2] globalsellers.coupang.com/jp/seller-university/seller-score-faq",
        "[C7] m.etnews.com/20160906000151 (2016 판매자 평점 thresholds)",
        "[C14] Coupang product API field outboundShippingTimeDay (third-party transcription)",
        "[C15] amzmm.com/38456.html (2022, quoting the CGF notice)",
        "[C19] 10100.com/encyclopedia/6/116401431 (low reliability)",
    ),
    notes=(
        "판매자점수 (seller score). Modelled: order fulfilment and on-time shipment over 7 days. "
        "Not modelled: on-time delivery (needs the promised delivery date) and the 24 h "
        "inquiry answer rate. Whether Coupang counts per order, per order item or per unit is "
        "UNCONFIRMED (ORDER used). The ship-by rule is a placeholder for the product's "
        "outboundShippingTimeDay (D+N [C14]); the ledger uses each order's own ship_by."
    ),
)
"""Coupang 판매자점수 (seller score): order fulfilment and on-time shipment, last 7 days.

- Order fulfilment = (orders - seller-caused cancels) / orders, 7 days [C1], [C2], [C15];
  out-of-stock cancels count whoever pressed cancel [C2] (``stock_out_counts_any_fault``).
- Thresholds are UNCONFIRMED placeholders: fulfilment warning < 99% (2016 cancel rate
  <= 1.0% [C7]) and sanction < 95% ([C19], low reliability); on-time shipment warning < 99%
  (WING capture, target 99.0), no sanction level.
- Ship-by: ``outboundShippingTimeDay`` (D+N) is set per product [C14]; 1 business day is a
  placeholder (UNCONFIRMED), as is the absent cut-off hour.
"""

NAVER: Final = RuleProfile(
    market="naver",
    display_name="Naver SmartStore",
    metrics=(
        MetricSpec(
            name="penalty_points",
            title="penalty points",
            counts=(
                PointWeight(event=CountedEvent.LATE_SHIPMENT, points=1),
                PointWeight(event=CountedEvent.LONG_LATE_SHIPMENT, points=3),
                PointWeight(event=CountedEvent.STOCK_OUT_CANCEL, points=2),
            ),
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_PAID,
            window=Window.rolling_days(30),
            warning=None,
            sanction=Threshold.all_of(Condition.count_at_least(10), Condition.rate_at_least(0.4)),
            notes=(
                "판매관리 페널티: late shipment 1 point [N1], [N2]; still unshipped later +3 "
                "points [N1], [N2] (timing UNCONFIRMED); 품절취소 2 points [N1], [N3], [N4]. "
                "Sanction when, over the last 30 days, points >= 10 and points / payment "
                "count >= 40% [N1], [N3] (denominator definition UNCONFIRMED). Buyer cancels "
                "are not penalised [N3]. Naver has no published warning level before its "
                "3-stage sanctions (per-stage consequences UNCONFIRMED)."
            ),
        ),
    ),
    ship_by=ShipByRule(
        business_days=3,
        cutoff_hour=None,
        late_booking=LateBooking.NEXT_BUSINESS_DAY,
        long_late_business_days=4,
    ),
    moratoria=(NAVER_CHUSEOK_2025,),
    stock_out_counts_any_fault=False,
    unconfirmed=(
        "metrics.penalty_points.denominator",
        "metrics.penalty_points.unit",
        "ship_by.cutoff_hour",
        "ship_by.long_late_business_days",
    ),
    sources=(
        "[N1] m.blog.naver.com/snsnumber8/222287231719 (blog, 2021-03-25)",
        "[N2] webuzzhint.com/entry/스마트스토어-페널티-규정feat-해외-구매대행 (blog)",
        "[N3] wholeneeds.com/스마트스토어-페널티-안받는-방법/ (blog)",
        "[N4] labforme.tistory.com/68 (blog)",
        "[N5] sellernow.co.kr/post/502781 (2025-10-02 summary of the Naver notice)",
    ),
    notes=(
        "Ship by 3 business days after payment, e.g. Monday order -> Thursday 24:00 [N2]; "
        "whether a payment cut-off applies is UNCONFIRMED. A late shipment is booked on the "
        "business day after the deadline (10/10 deadline penalised on 10/13 [N5]). The "
        "+3-point long delay is applied 4 business days after the deadline day ([N2] '+4 "
        "business days'; [N1] says '5+ business days'; UNCONFIRMED). The 2-point 'missed "
        "announced delay date' and the return-handling penalty are not modelled (no such "
        "events). Naver's order id is the productOrderId, one product line, so ORDER and LINE "
        "agree for typical orders."
    ),
)
"""Naver SmartStore 판매관리 페널티: penalty points over 30 days.

- Points: late shipment 1 [N1], [N2]; still unshipped later +3 [N1], [N2] (the day count is
  UNCONFIRMED: [N2] "+4 business days", [N1] "5+ business days"; 4 used); 품절취소 2 [N1],
  [N3], [N4]. Buyer cancels are not penalised [N3].
- Sanction: points >= 10 AND points / payments >= 40% over the last 30 days [N1], [N3]; the
  exact denominator is UNCONFIRMED (orders paid in the window used).
- Ship-by: 3 business days after payment, to 24:00 [N2]; cut-off UNCONFIRMED. A miss is booked
  on the next business day [N5].
- Moratorium: Chuseok 2025, 10/1-10/10, everything but 품절취소 suspended [N5].
"""

AMAZON: Final = RuleProfile(
    market="amazon",
    display_name="Amazon",
    metrics=(
        MetricSpec(
            name="cancellation_rate",
            title="cancellation rate",
            counts=_CANCELS,
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_PAID,
            window=Window.rolling_days(7),
            sanction=Threshold.all_of(Condition.rate_at_least(0.025)),
            notes=(
                "Seller-cancelled orders / total orders, 7 days, seller-fulfilled only, "
                "buyer-requested cancels excluded; target < 2.5%, above it offers can be "
                "deactivated [A1], [A2], [A3]."
            ),
        ),
        MetricSpec(
            name="late_shipment_rate_10d",
            title="late shipment rate (10 days)",
            counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_DUE,
            window=Window.rolling_days(10),
            sanction=Threshold.all_of(Condition.rate_at_least(0.04)),
            notes="Orders ship-confirmed after the expected ship date / orders; < 4% [A5], "
            "[A6]; both the 10- and 30-day windows matter [A10].",
        ),
        MetricSpec(
            name="late_shipment_rate_30d",
            title="late shipment rate (30 days)",
            counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_DUE,
            window=Window.rolling_days(30),
            sanction=Threshold.all_of(Condition.rate_at_least(0.04)),
            notes="As the 10-day rate, over 30 days [A5], [A6], [A10].",
        ),
    ),
    ship_by=ShipByRule(business_days=2, cutoff_hour=None, late_booking=LateBooking.DEADLINE),
    moratoria=(),
    stock_out_counts_any_fault=False,
    unconfirmed=("ship_by.business_days", "ship_by.cutoff_hour"),
    sources=(
        "[A1] sellercentral.amazon.co.uk help 200285210",
        "[A2] sellercentral.amazon.ca help 200285210",
        "[A3] sellercentral-europe.amazon.com help 200285210",
        "[A5] sellercentral.amazon.com.au help 200285190",
        "[A6] sellercentral.amazon.com help 202152050",
        "[A10] sellercentral-europe.amazon.com/forums/t/late-shipment-rate-10-day-or-30-day/219320",
    ),
    notes=(
        "Amazon has targets, not warning levels: crossing one is modelled as SANCTION. The "
        "late-shipment rate is evaluated when the expected ship date passes (denominator: "
        "orders due in the window) rather than at ship confirmation. The ship-by rule is a "
        "placeholder for the listing's handling time (national holidays are not operating "
        "days [A5])."
    ),
)
"""Amazon (anchor for cancel-rate calculators): cancellation rate and late shipment rate.

- Cancellation rate: seller-cancelled / orders, 7 days, target < 2.5% [A1], [A2], [A3].
- Late shipment rate: ship-confirmed after the expected ship date / orders, < 4%, over 10 and
  30 days [A5], [A6], [A10].
- The 2-business-day handling time and absent cut-off are placeholders (UNCONFIRMED).
"""

EBAY: Final = RuleProfile(
    market="ebay",
    display_name="eBay",
    metrics=(
        MetricSpec(
            name="transaction_defect_rate",
            title="transaction defect rate",
            counts=_CANCELS,
            unit=CountUnit.LINE,
            denominator=Denominator.ORDERS_PAID,
            window=Window.rolling_days(90),
            warning=Threshold.any_of(Condition.rate_above(0.005), Condition.count_at_least(4)),
            sanction=Threshold.all_of(Condition.rate_above(0.02), Condition.count_at_least(5)),
            notes=(
                "Seller-cancelled transactions (out of stock / unable to fulfil) / "
                "transactions [B1], [B2], [B5]; OutOfStock is a defect, BuyerCancelOrder is "
                "not [B6]. Top Rated needs <= 0.5% and <= 3 defects (warning = losing it); "
                "Below Standard is > 2% and >= 5 defects [B2] (another locale: no effect "
                "until 8 defects [B8]). Cases closed without seller resolution are not "
                "modelled. Window: 3 months if >= 400 transactions, else 12 months [B4]; 90 "
                "days used (set 365 for a small seller)."
            ),
        ),
        MetricSpec(
            name="late_shipment_rate",
            title="late shipment rate",
            counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
            unit=CountUnit.LINE,
            denominator=Denominator.ORDERS_DUE,
            window=Window.rolling_days(90),
            sanction=Threshold.all_of(Condition.rate_above(0.07), Condition.count_above(7)),
            notes=(
                "Above Standard needs <= 7% with <= 7 late shipments [B3]. eBay counts a "
                "shipment late only with no acceptance scan within handling time AND delivery "
                "after the estimate [B1]; the ledger sees only the handling-time part, so this "
                "over-counts."
            ),
        ),
    ),
    ship_by=ShipByRule(business_days=3, cutoff_hour=None, late_booking=LateBooking.DEADLINE),
    moratoria=(),
    stock_out_counts_any_fault=False,
    unconfirmed=(
        "metrics.transaction_defect_rate.window",
        "metrics.late_shipment_rate.counts",
        "ship_by.business_days",
        "ship_by.cutoff_hour",
    ),
    sources=(
        "[B1] sellercentre.ebay.com.au/how-we-measure-seller-standards",
        "[B2] ocsnext.ebay.com.my/ocs/sr?topicName=Defects&query=1514",
        "[B3] ocsnext.ebay.in/ocs/sr?query=1472",
        "[B4] export.ebay.com/en/customer-service/seller-level-and-sales/seller-performance-policy",
        "[B5] pages.ebay.com/bh/en-us/sellerinformation/news/fallupdate2015/seller-standards.html",
        "[B6] developer.ebay.com CancelReasonCodeType",
        "[B8] conyac.cc/ja/questions/204257/show",
    ),
    notes=(
        "eBay evaluates monthly on the 20th [B9]; the ledger evaluates continuously over a "
        "rolling window. Transactions are line items, hence unit LINE. The handling time (3 "
        "business days) is a placeholder."
    ),
)
"""eBay (anchor): transaction defect rate and late shipment rate, 90-day window.

- Defects: seller cancels for out of stock / unable to fulfil, per transaction (line item)
  [B1], [B2], [B5], [B6]. Warning = losing Top Rated (> 0.5% OR >= 4 defects); sanction =
  Below Standard (> 2% AND >= 5 defects) [B2].
- Late shipment: Below Standard modelled as > 7% AND > 7 late [B3]; eBay also requires a late
  delivery, which the ledger cannot see (flagged).
- Window: 3 months (>= 400 transactions) or 12 months [B4]; 90 rolling days used (flagged).
"""

_BUILTINS: Final = {profile.market: profile for profile in (COUPANG, NAVER, AMAZON, EBAY)}
_ALIASES: Final = {"smartstore": "naver", "naver_smartstore": "naver", "wing": "coupang"}


def builtin_profiles() -> dict[str, RuleProfile]:
    """The built-in profiles by market name: coupang, naver, amazon, ebay (a fresh dict)."""
    return dict(_BUILTINS)


def get_profile(name: str) -> RuleProfile:
    """The built-in profile for ``name`` (case-insensitive; ``"smartstore"`` means naver).

    Raises :class:`~consign_core.errors.ConfigurationError` listing the known names.
    """
    key = str(name).strip().casefold()
    profile = _BUILTINS.get(_ALIASES.get(key, key))
    if profile is None:
        known = ", ".join(sorted(_BUILTINS))
        msg = f"unknown rule profile {name!r}; known profiles: {known}"
        raise ConfigurationError(msg)
    return profile


# --------------------------------------------------------------------------------------
# JSON / TOML
# --------------------------------------------------------------------------------------


def dump_profile(profile: RuleProfile, format: str = "json") -> str:  # noqa: A002
    """Serialise ``profile`` as JSON (indented) or TOML text.

    ``load_profile(dump_profile(p, f))`` (or :func:`parse_profile`) gives back ``p`` exactly.
    TOML has no null: fields that are ``None`` are left out (they default to ``None``).
    """
    data = unstructure(profile)
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if format == "toml":
        return _toml_document(data)
    msg = f"format must be 'json' or 'toml', got {format!r}"
    raise ConfigurationError(msg)


def parse_profile(text: str, format: str | None = None) -> RuleProfile:  # noqa: A002
    """Read a profile from JSON or TOML ``text`` (format guessed from a leading ``{``).

    Unknown keys, bad values and syntax errors raise
    :class:`~consign_core.errors.ConfigurationError` naming the key or line.
    """
    return _parse(text, format, "text")


def load_profile(
    source: str | os.PathLike[str],
    format: str | None = None,  # noqa: A002
) -> RuleProfile:
    """Read a profile from a file path, or from JSON/TOML text.

    A :class:`os.PathLike` is always a path. A ``str`` is treated as text when it contains a
    newline or starts with ``{``, otherwise as a path. The format comes from ``format``, else
    the file suffix (``.json``/``.toml``), else the content. TOML needs :mod:`tomllib`
    (Python 3.11+) or the ``tomli`` package on 3.10.
    """
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
        return _parse(source, format, "text")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read rule profile file {str(path)!r}: {exc.strerror or exc}"
        raise ConfigurationError(msg) from exc
    if format is None and path.suffix.lower() in {".json", ".toml"}:
        format = "json" if path.suffix.lower() == ".json" else "toml"  # noqa: A001
    return _parse(text, format, repr(str(path)))


def _parse(text: str, format: str | None, where: str) -> RuleProfile:  # noqa: A002
    if format is None:
        format = "json" if text.lstrip().startswith("{") else "toml"  # noqa: A001
    data: object
    if format == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"rule profile {where} is not valid JSON: {exc}"
            raise ConfigurationError(msg) from exc
    elif format == "toml":
        data = _toml_loads(text, where)
    else:
        msg = f"format must be 'json' or 'toml', got {format!r}"
        raise ConfigurationError(msg)
    try:
        profile: RuleProfile = structure(data, RuleProfile)
    except ConsignError as exc:
        msg = f"invalid rule profile {where}: {exc}"
        raise ConfigurationError(msg) from exc
    return profile


def _toml_module() -> Any:
    name = "tomllib" if sys.version_info >= (3, 11) else "tomli"
    try:
        return importlib.import_module(name)
    except ImportError:
        msg = (
            "reading a TOML rule profile on Python 3.10 needs the 'tomli' package "
            "(pip install tomli), or use JSON"
        )
        raise ConfigurationError(msg) from None


def _toml_loads(text: str, where: str) -> object:
    toml = _toml_module()
    try:
        data: object = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        msg = f"rule profile {where} is not valid TOML: {exc}"
        raise ConfigurationError(msg) from exc
    return data


_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_string(value: str) -> str:
    out = ['"']
    for char in value:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _toml_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    return text if any(c in text for c in ".en") else text + ".0"


def _toml_scalar(value: object) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = _toml_float(value)
    elif isinstance(value, str):
        text = _toml_string(value)
    elif isinstance(value, list):
        text = "[" + ", ".join(_toml_scalar(item) for item in value) + "]"
    else:
        msg = f"cannot write {value!r} as a TOML value"
        raise ConfigurationError(msg)
    return text


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml_table(path: list[str], table: dict[str, Any], header: str | None, out: list[str]) -> None:
    if header is not None:
        if out:
            out.append("")
        out.append(header)
    nested: list[tuple[str, Any]] = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict) or _is_table_array(value):
            nested.append((key, value))
        else:
            if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
                msg = f"cannot write nested list {key!r} as TOML"
                raise ConfigurationError(msg)
            out.append(f"{_toml_key(key)} = {_toml_scalar(value)}")
    for key, value in nested:
        sub = [*path, _toml_key(key)]
        if isinstance(value, dict):
            _toml_table(sub, value, "[" + ".".join(sub) + "]", out)
        else:
            for item in value:
                _toml_table(sub, item, "[[" + ".".join(sub) + "]]", out)


def _toml_document(data: dict[str, Any]) -> str:
    out: list[str] = []
    _toml_table([], data, None, out)
    return "\n".join(out) + "\n"
