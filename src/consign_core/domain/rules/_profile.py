"""A whole market: :class:`ShipByRule` and :class:`RuleProfile`, with its lookups and overrides.

The ship-by rule, the profile with its cross-field checks (unique metric names, well-formed
UNCONFIRMED paths), and the derivations that clear the UNCONFIRMED flag of each field
changed (:meth:`RuleProfile.with_metric`, :meth:`RuleProfile.with_ship_by`,
:meth:`RuleProfile.confirm`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from consign_core.domain._validators import int_at_least, non_empty_str, optional
from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar, Moratorium
from consign_core.domain.rules._checks import (
    _cutoff_hour,
    _enum_of,
    _instance_of,
    _non_empty_tuple_of,
    _plain_bool,
    _plain_str,
    _str_tuple,
    _to_tuple,
    _tuple_of,
)
from consign_core.domain.rules._enums import LateBooking
from consign_core.domain.rules._metrics import MetricSpec
from consign_core.errors import ConfigurationError, ValidationError


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
