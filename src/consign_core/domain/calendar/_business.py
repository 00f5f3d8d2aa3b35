"""The business-day calendar itself: :class:`BusinessCalendar` and :data:`DEFAULT_CALENDAR`.

Its configuration (closed and open days, weekend, business hours, moratoria) with the
converters and validators of those fields, and the queries: business days, ship-by
deadlines, business hours and suspended penalties.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Final

import attrs

from consign_core.domain.calendar._kst import (
    _EPOCH,
    _MAX_YEAR,
    _MIN_ORD,
    _MIN_YEAR,
    _US_PER_HOUR,
    _US_PER_SECOND,
    KST,
    _check_ordinal,
    _check_plain_date,
    _is_int,
    _is_real,
    require_aware,
)
from consign_core.domain.calendar._moratoria import Moratorium, PenaltyKind, _kind_argument
from consign_core.domain.calendar._tables import (
    _holiday_dates,
    _public_holidays,
    _Span,
    _supported_countries,
    _Tables,
)
from consign_core.errors import ConfigurationError, ValidationError


def _to_date_set(value: Iterable[date]) -> frozenset[date]:
    try:
        return frozenset(value)
    except TypeError:
        msg = f"expected an iterable of datetime.date for a day set, got {value!r}"
        raise ConfigurationError(msg) from None


def _to_weekend(value: Iterable[int]) -> frozenset[int]:
    try:
        return frozenset(value)
    except TypeError:
        msg = f"weekend must be an iterable of weekday numbers (Monday=0..Sunday=6), got {value!r}"
        raise ConfigurationError(msg) from None


def _to_moratoria(value: Iterable[Moratorium]) -> tuple[Moratorium, ...]:
    try:
        return tuple(value)
    except TypeError:
        msg = f"moratoria must be an iterable of Moratorium, got {value!r}"
        raise ConfigurationError(msg) from None


def _validate_day_set(
    _instance: object, attribute: attrs.Attribute[Any], value: frozenset[object]
) -> None:
    for day in value:
        if not isinstance(day, date) or isinstance(day, datetime):
            msg = (
                f"{attribute.name} must contain only datetime.date values (not datetimes), "
                f"got {day!r}"
            )
            raise ConfigurationError(msg)


def _validate_weekend(
    _instance: object, _attribute: attrs.Attribute[Any], value: frozenset[object]
) -> None:
    for weekday in value:
        if not _is_int(weekday) or not 0 <= weekday <= 6:
            msg = f"weekend must contain weekday numbers 0..6 (Monday=0), got {weekday!r}"
            raise ConfigurationError(msg)
    if len(value) == 7:
        msg = f"weekend must leave at least one working weekday, got {sorted(value, key=repr)!r}"
        raise ConfigurationError(msg)


def _validate_moratoria(
    _instance: object, _attribute: attrs.Attribute[Any], value: tuple[object, ...]
) -> None:
    for item in value:
        if not isinstance(item, Moratorium):
            msg = f"moratoria must contain only Moratorium, got {item!r}"
            raise ConfigurationError(msg)


def _to_country(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _validate_country(_instance: object, _attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or value not in _supported_countries():
        msg = (
            f"country must be a country code of the holidays package (KR, BR, US, JP ...), "
            f"got {value!r}"
        )
        raise ConfigurationError(msg)


_MAX_OFFSET: Final = timedelta(hours=14)


def _validate_offset(_instance: object, _attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if (
        not isinstance(value, timedelta)
        or not -_MAX_OFFSET <= value <= _MAX_OFFSET
        or value % timedelta(minutes=1)
    ):
        msg = (
            f"utc_offset must be None or a whole-minute timedelta within +-14 hours, got {value!r}"
        )
        raise ConfigurationError(msg)


def _validate_hour(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not _is_int(value) or not 0 <= value <= 24:
        msg = f"{attribute.name} must be an int in 0..24, got {value!r}"
        raise ConfigurationError(msg)


@attrs.frozen(kw_only=True)
class BusinessCalendar:
    """A Korean business-day (영업일) calendar for one seller, courier or market.

    A day is a business day when it is not a weekend day, not a public holiday (공휴일,
    including 대체공휴일, election days and known 임시공휴일) and not in
    ``extra_closed_days``; a day in ``extra_open_days`` is a business day regardless.

    Attributes:
        extra_closed_days: Additional non-business days: courier non-pickup days (e.g. a
            택배 휴무 on 2025-10-02), seller days off (휴무일).
        extra_open_days: Days that are business days even though they are holidays or
            weekend days (the seller or courier works anyway). Must not overlap
            ``extra_closed_days``.
        moratoria: Marketplace penalty moratoria (see :class:`Moratorium`); they do not
            change which days are business days.
        weekend: Weekday numbers (Monday=0 .. Sunday=6) that are not business days.
        work_start_hour: Start of the daily business-hours window in KST (0..23).
        work_end_hour: End of the window, exclusive (1..24, > ``work_start_hour``). Only
            :meth:`business_hours_between` and :meth:`add_business_hours` use the window.
        country: Whose public holidays count: a country code of the ``holidays`` package
            (default ``"KR"``; e.g. ``"BR"`` for a Brazilian log).
        utc_offset: The fixed UTC offset whose days are counted (``None``: KST for ``"KR"``;
            another country needs it, e.g. ``timedelta(hours=-3)`` for Brasília time).

    Lists and sets are converted to frozensets and tuples, so instances are immutable,
    hashable and safe to share. Lookup tables are built lazily per year and cached on the
    instance (they are not part of its equality or repr).
    """

    extra_closed_days: frozenset[date] = attrs.field(
        default=frozenset(), converter=_to_date_set, validator=_validate_day_set
    )
    extra_open_days: frozenset[date] = attrs.field(
        default=frozenset(), converter=_to_date_set, validator=_validate_day_set
    )
    moratoria: tuple[Moratorium, ...] = attrs.field(
        default=(), converter=_to_moratoria, validator=_validate_moratoria
    )
    weekend: frozenset[int] = attrs.field(
        default=frozenset({5, 6}), converter=_to_weekend, validator=_validate_weekend
    )
    work_start_hour: int = attrs.field(default=0, validator=_validate_hour)
    work_end_hour: int = attrs.field(default=24, validator=_validate_hour)
    country: str = attrs.field(default="KR", converter=_to_country, validator=_validate_country)
    utc_offset: timedelta | None = attrs.field(default=None, validator=_validate_offset)
    _tables: _Tables = attrs.field(init=False, factory=_Tables, eq=False, repr=False, hash=False)
    _zone: tzinfo = attrs.field(init=False, default=KST, eq=False, repr=False, hash=False)
    _epoch: datetime = attrs.field(init=False, default=_EPOCH, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        """Check the cross-field rules (hours window, disjoint closed/open days)."""
        if self.work_start_hour > 23:
            msg = f"work_start_hour must be in 0..23, got {self.work_start_hour}"
            raise ConfigurationError(msg)
        if not self.work_start_hour < self.work_end_hour <= 24:
            msg = (
                f"work_end_hour must be in 1..24 and > work_start_hour "
                f"({self.work_start_hour}), got {self.work_end_hour}"
            )
            raise ConfigurationError(msg)
        overlap = self.extra_closed_days & self.extra_open_days
        if overlap:
            days = ", ".join(day.isoformat() for day in sorted(overlap))
            msg = f"extra_closed_days and extra_open_days must not overlap, got {days} in both"
            raise ConfigurationError(msg)
        if self.country != "KR" or self.utc_offset not in (None, KST.utcoffset(None)):
            if self.utc_offset is None:
                msg = (
                    f"a {self.country} calendar needs utc_offset, the zone its days are counted "
                    "in (e.g. timedelta(hours=-3) for Brasilia time)"
                )
                raise ConfigurationError(msg)
            zone = timezone(self.utc_offset)
            object.__setattr__(self, "_zone", zone)
            object.__setattr__(self, "_epoch", datetime(_MIN_YEAR, 1, 1, tzinfo=zone))

    @property
    def zone(self) -> tzinfo:
        """The zone whose days the calendar counts (:data:`KST` for the Korean default)."""
        return self._zone

    # ---------------------------------------------------------------- lazy tables

    def _year_flags(self, year: int) -> bytes:
        flags = self._tables.years.get(year)
        if flags is not None:
            return flags
        first = date(year, 1, 1)
        first_ord = first.toordinal()
        n_days = date(year, 12, 31).toordinal() - first_ord + 1
        week = bytes(0 if (first.weekday() + i) % 7 in self.weekend else 1 for i in range(7))
        buf = bytearray((week * (n_days // 7 + 1))[:n_days])
        for day in _holiday_dates(self.country, year):
            buf[day.toordinal() - first_ord] = 0
        for day in self.extra_closed_days:
            if day.year == year:
                buf[day.toordinal() - first_ord] = 0
        for day in self.extra_open_days:
            if day.year == year:
                buf[day.toordinal() - first_ord] = 1
        flags = bytes(buf)
        self._tables.years[year] = flags
        return flags

    def _extend(self, lo_year: int, hi_year: int) -> _Span:
        """Return a span covering at least ``lo_year..hi_year`` (both within range)."""
        span = self._tables.span
        if span is not None:
            lo_year = min(lo_year, span.lo_year)
            hi_year = max(hi_year, span.hi_year)
            if lo_year == span.lo_year and hi_year == span.hi_year:
                return span
        flags = b"".join(self._year_flags(year) for year in range(lo_year, hi_year + 1))
        span = _Span(lo_year, hi_year, flags)
        self._tables.span = span
        return span

    def _span_for_ordinals(self, *checks: tuple[int, str, object]) -> _Span:
        """Validate ``(ordinal, argument, value)`` triples and return a covering span."""
        for ordinal, argument, value in checks:
            _check_ordinal(ordinal, argument, value)
        lo = min(ordinal for ordinal, _, _ in checks)
        hi = max(ordinal for ordinal, _, _ in checks)
        return self._extend(date.fromordinal(lo).year, date.fromordinal(hi).year)

    def _span_for_day(self, day: date, argument: str) -> _Span:
        if type(day) is not date:
            _check_plain_date(day, argument)
        ordinal = day.toordinal()
        span = self._tables.span
        if span is not None and span.base_ord <= ordinal < span.end_ord:
            return span
        return self._span_for_ordinals((ordinal, argument, day))

    # ---------------------------------------------------------------- holidays

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` is a South Korean public holiday (공휴일, incl. 대체공휴일).

        This is the legal calendar only; ``extra_closed_days``/``extra_open_days`` do not
        affect it. See :meth:`is_business_day` for the seller's working days.
        """
        _check_plain_date(day, "day")
        _check_ordinal(day.toordinal(), "day", day)
        return day in _holiday_dates(self.country, day.year)

    def holiday_name(self, day: date) -> str | None:
        """The Korean name of the public holiday on ``day`` (e.g. ``"추석"``), else ``None``.

        Several holidays on one day are joined with ``"; "`` (e.g. 부처님오신날; 어린이날).
        """
        _check_plain_date(day, "day")
        _check_ordinal(day.toordinal(), "day", day)
        return _public_holidays(self.country, day.year).get(day)

    # ---------------------------------------------------------------- business days

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` is a business day (영업일) in this calendar."""
        span = self._span_for_day(day, "day")
        return bool(span.is_open[day.toordinal() - span.base_ord])

    def next_business_day(self, day: date, *, include_self: bool = False) -> date:
        """The first business day after ``day`` (or ``day`` itself if ``include_self``)."""
        if include_self and self.is_business_day(day):
            return day
        return self.add_business_days(day, 1)

    def previous_business_day(self, day: date, *, include_self: bool = False) -> date:
        """The last business day before ``day`` (or ``day`` itself if ``include_self``)."""
        if include_self and self.is_business_day(day):
            return day
        return self.add_business_days(day, -1)

    def add_business_days(self, day: date, n: int) -> date:
        """The ``n``-th business day after ``day`` (before it if ``n < 0``).

        ``day`` itself need not be a business day and is never counted; ``n == 0`` returns
        ``day`` unchanged. This matches ``holidays``' ``get_nth_working_day``; e.g. with the
        default calendar 2025-09-29 + 3 is 2025-10-02 and 2025-09-30 + 3 is 2025-10-10
        (Chuseok). Uses binary search over the prefix sums.

        Raises :class:`~consign_core.errors.ValidationError` if the result would fall
        outside 1949..2099.
        """
        if not _is_int(n):
            msg = f"n must be an int, got {n!r}"
            raise ValidationError(msg, field="n", value=n)
        span = self._span_for_day(day, "day")
        if n == 0:
            return day
        ordinal = day.toordinal()
        while True:
            idx = ordinal - span.base_ord
            prefix = span.prefix
            # target = the rank (1-based, within the span) of the wanted business day
            target = prefix[idx + 1] + n if n > 0 else prefix[idx] + n + 1
            if 1 <= target <= prefix[-1]:
                return date.fromordinal(span.base_ord + bisect_left(prefix, target) - 1)
            if n > 0:
                if span.hi_year >= _MAX_YEAR:
                    break
                # grow by (at least) the number of years n business days could need
                span = self._extend(span.lo_year, min(_MAX_YEAR, span.hi_year + 1 + n // 200))
            else:
                if span.lo_year <= _MIN_YEAR:
                    break
                span = self._extend(max(_MIN_YEAR, span.lo_year - 1 + n // 200), span.hi_year)
        msg = (
            f"n business days from day must fall within {_MIN_YEAR}..{_MAX_YEAR}, "
            f"got day={day.isoformat()}, n={n}"
        )
        raise ValidationError(msg, field="n", value=n)

    def business_days_between(self, start: date, end: date) -> int:
        """The number of business days ``d`` with ``start < d <= end``.

        Negative if ``end < start`` (``business_days_between(a, b) ==
        -business_days_between(b, a)``). O(1) once the years involved are tabulated.
        """
        if type(start) is not date:
            _check_plain_date(start, "start")
        if type(end) is not date:
            _check_plain_date(end, "end")
        s = start.toordinal()
        e = end.toordinal()
        span = self._tables.span
        if span is None or not (
            span.base_ord <= s < span.end_ord and span.base_ord <= e < span.end_ord
        ):
            span = self._span_for_ordinals((s, "start", start), (e, "end", end))
        base = span.base_ord - 1
        prefix = span.prefix
        return prefix[e - base] - prefix[s - base]

    # ---------------------------------------------------------------- deadlines

    def ship_by(
        self, paid_at: datetime, *, business_days: int, cutoff_hour: int | None = None
    ) -> datetime:
        """The ship-by deadline (발송기한) for "ship within N business days after payment".

        ``paid_at`` is converted to KST. The counting day (day 0) is the payment date if it
        is a business day and (``cutoff_hour`` is ``None`` or the payment's KST hour is
        before ``cutoff_hour``); otherwise it is the next business day (a payment after the
        cut-off, or on a weekend/holiday, counts from the next business day). The deadline
        day is ``add_business_days(day0, business_days)``; ``business_days=0`` means ship
        on day 0 itself.

        The deadline is the *end* of the deadline day, returned as 00:00 KST of the next
        calendar day: "Thursday 24:00" comes back as Friday ``00:00+09:00``. Shipping
        strictly before the returned instant is on time.

        Example: paid Monday 2025-09-29 10:00 KST with ``business_days=3`` gives
        2025-10-03 00:00 KST (Thursday 2025-10-02 24:00).
        """
        local = self._local(paid_at, "paid_at")
        if not _is_int(business_days) or business_days < 0:
            msg = f"business_days must be an int >= 0, got {business_days!r}"
            raise ValidationError(msg, field="business_days", value=business_days)
        if cutoff_hour is not None and (not _is_int(cutoff_hour) or not 1 <= cutoff_hour <= 24):
            msg = f"cutoff_hour must be None or an int in 1..24, got {cutoff_hour!r}"
            raise ValidationError(msg, field="cutoff_hour", value=cutoff_hour)
        paid_day = local.date()
        _check_ordinal(paid_day.toordinal(), "paid_at", paid_at)
        before_cutoff = cutoff_hour is None or local.hour < cutoff_hour
        if before_cutoff and self.is_business_day(paid_day):
            day0 = paid_day
        else:
            day0 = self.next_business_day(paid_day)
        deadline_day = self.add_business_days(day0, business_days)
        return self._epoch + timedelta(days=deadline_day.toordinal() + 1 - _MIN_ORD)

    def _local(self, value: datetime, argument: str) -> datetime:
        """``value`` (checked aware) in the calendar's zone."""
        return require_aware(value, argument).astimezone(self._zone)

    # ---------------------------------------------------------------- business hours

    def _window_us(self) -> tuple[int, int]:
        start_us = self.work_start_hour * _US_PER_HOUR
        return start_us, self.work_end_hour * _US_PER_HOUR - start_us

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """Business hours from ``start`` to ``end`` (negative if ``end < start``).

        Only the ``[work_start_hour, work_end_hour)`` window (KST) of business days
        counts. Both arguments must be timezone-aware; a naive one raises
        :class:`~consign_core.errors.NaiveDatetimeError` naming ``start`` or ``end``.
        Whole days come from the prefix sums and the partial first/last days from
        arithmetic, so a call costs a few microseconds.
        """
        epoch = self._epoch
        try:
            ds = start - epoch
        except TypeError:
            require_aware(start, "start")
            raise
        try:
            de = end - epoch
        except TypeError:
            require_aware(end, "end")
            raise
        s_day = ds.days
        e_day = de.days
        span = self._tables.span
        if span is None or not (
            span.base_day <= s_day < span.end_day and span.base_day <= e_day < span.end_day
        ):
            span = self._span_for_ordinals(
                (s_day + _MIN_ORD, "start", start), (e_day + _MIN_ORD, "end", end)
            )
        ws = self.work_start_hour * _US_PER_HOUR
        width = self.work_end_hour * _US_PER_HOUR - ws
        prefix = span.prefix
        is_open = span.is_open

        i = s_day - span.base_day
        total = -prefix[i] * width
        if is_open[i]:
            part = (ds.seconds * _US_PER_SECOND + ds.microseconds) - ws
            total -= width if part >= width else (part if part > 0 else 0)

        i = e_day - span.base_day
        total += prefix[i] * width
        if is_open[i]:
            part = (de.seconds * _US_PER_SECOND + de.microseconds) - ws
            total += width if part >= width else (part if part > 0 else 0)
        return total / _US_PER_HOUR

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant ``hours`` business hours after ``start`` (an aware KST datetime).

        The inverse of :meth:`business_hours_between`: the earliest instant ``t >= start``
        with ``business_hours_between(start, t) == hours`` (to the microsecond). If
        ``start`` is outside business time, counting starts at the next opening; a total
        that ends exactly at a closing time returns that closing time (e.g. 18:00), not the
        next opening. ``hours == 0`` returns ``start`` (converted to KST).
        """
        local = self._local(start, "start")
        if not _is_real(hours) or not math.isfinite(hours) or hours < 0:
            msg = f"hours must be a finite number >= 0, got {hours!r}"
            raise ValidationError(msg, field="hours", value=hours)
        amount = round(hours * _US_PER_HOUR)
        if amount == 0:
            return local
        ws, width = self._window_us()
        delta = local - self._epoch
        day = delta.days
        _check_ordinal(day + _MIN_ORD, "start", start)
        span = self._tables.span
        if span is None or not span.base_day <= day < span.end_day:
            span = self._span_for_ordinals((day + _MIN_ORD, "start", start))
        i = day - span.base_day
        done = span.prefix[i] * width
        if span.is_open[i]:
            part = (delta.seconds * _US_PER_SECOND + delta.microseconds) - ws
            done += width if part >= width else (part if part > 0 else 0)
        target = done + amount
        full, rest = divmod(target, width)
        # the business day holding the target: rank full+1 (inside it), or rank full (at
        # its closing time) when the target lands exactly on a day boundary
        rank = full + 1 if rest else full
        offset = ws + rest if rest else ws + width
        while span.prefix[-1] < rank:
            if span.hi_year >= _MAX_YEAR:
                msg = (
                    f"hours from start must end within {_MIN_YEAR}..{_MAX_YEAR}, "
                    f"got start={start!r}, hours={hours!r}"
                )
                raise ValidationError(msg, field="hours", value=hours)
            span = self._extend(
                span.lo_year, min(_MAX_YEAR, span.hi_year + 1 + amount // (200 * width))
            )
        idx = bisect_left(span.prefix, rank) - 1
        return self._epoch + timedelta(days=span.base_day + idx, microseconds=offset)

    # ---------------------------------------------------------------- moratoria

    def moratoria_on(self, day: date, market: str | None = None) -> tuple[Moratorium, ...]:
        """The configured moratoria covering ``day`` for ``market``.

        Matching follows :meth:`Moratorium.covers`: with ``market=None`` only market-wide
        moratoria are returned.
        """
        _check_plain_date(day, "day")
        return tuple(m for m in self.moratoria if m.covers(day, market))

    def is_penalty_suspended(
        self, kind: PenaltyKind | str, at: datetime, market: str | None = None
    ) -> bool:
        """Whether a ``kind`` penalty incurred at the aware instant ``at`` is suspended.

        Uses the KST calendar date of ``at``; a naive ``at`` raises
        :class:`~consign_core.errors.NaiveDatetimeError`. ``kind`` may be given by its value.
        """
        kind = _kind_argument(kind)
        day = self._local(at, "at").date()
        return any(m.suspends(kind, day, market) for m in self.moratoria)

    # ---------------------------------------------------------------- evolution

    def with_closed_days(self, *days: date) -> BusinessCalendar:
        """A copy with ``days`` added to ``extra_closed_days`` (and removed from open days)."""
        closed = _to_date_set(days)
        return attrs.evolve(
            self,
            extra_closed_days=self.extra_closed_days | closed,
            extra_open_days=self.extra_open_days - closed,
        )

    def with_moratoria(self, *m: Moratorium) -> BusinessCalendar:
        """A copy with the moratoria ``m`` appended to ``moratoria``."""
        return attrs.evolve(self, moratoria=self.moratoria + tuple(m))


# documented where it is re-exported, in consign_core.domain.calendar
DEFAULT_CALENDAR: Final = BusinessCalendar()
