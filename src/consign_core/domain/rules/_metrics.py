"""One metric of a profile: :class:`MetricSpec` and the values it is built from.

:class:`PointWeight` (what counts, with how many points), :class:`Window` (the look-back
window), :class:`Condition` and :class:`Threshold` (when the metric is in warning or
sanction), and :class:`MetricSpec`, which checks that they fit together.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final

import attrs

from consign_core.domain._validators import int_at_least, non_empty_str, optional
from consign_core.domain.rules._checks import (
    _enum_of,
    _finite_number,
    _instance_of,
    _metric_name,
    _non_empty_tuple_of,
    _plain_str,
    _to_float,
    _to_tuple,
)
from consign_core.domain.rules._enums import (
    Combine,
    Comparison,
    CountedEvent,
    CountUnit,
    Denominator,
    MetricQuantity,
    WindowKind,
)
from consign_core.errors import ValidationError


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
    minimum_volume: int | None = attrs.field(default=None, validator=optional(int_at_least(1)))
    """The floor: the metric is evaluated only while its denominator in the window (in
    :attr:`unit`) is at least this. Below it the status is OK, the report says it was not
    evaluated and no number of cancels reaches a threshold, the way markets leave a new or
    small account unrated. ``None``: always evaluated. Needs a denominator."""
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
            if self.minimum_volume is not None:
                msg = (
                    f"MetricSpec.minimum_volume needs a denominator to count the volume "
                    f"(metric {self.name!r}, denominator 'none'), got {self.minimum_volume!r}"
                )
                raise ValidationError(msg, field="minimum_volume", value=self.minimum_volume)
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
    def sums_points(self) -> bool:
        """Whether the metric sums penalty points (a weight other than 1), as Naver's does.

        Such a metric's numerator is shown as points, whatever its headline quantity.
        """
        return any(weight.points != 1 for weight in self.counts)

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
