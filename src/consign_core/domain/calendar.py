"""Korean business days (영업일) for shipping deadlines (발송기한) and penalty moratoria.

Everything here is pure: no I/O, no wall-clock reads, no environment reads. All instants
are timezone-aware and are interpreted in Korea Standard Time (:data:`KST`, UTC+9, no DST).

* Public holidays (공휴일) come from the ``holidays`` package (``country_holidays("KR",
  categories=("public",))``): Seollal and Chuseok, substitute holidays (대체공휴일), election
  days and the temporary holidays (임시공휴일) a ``holidays`` release knows about. Labor Day
  (근로자의날, 5/1) is a public holiday only from 2026 in that category.
* :class:`BusinessCalendar` adds what the law does not know: courier non-pickup days and
  seller days off (``extra_closed_days``), holidays a seller works anyway
  (``extra_open_days``), a custom weekend, a daily business-hours window and marketplace
  penalty moratoria (:class:`Moratorium`).
* Supported dates are 1949-01-01..2099-12-31. Per-calendar tables (business-day flags and
  prefix sums over a contiguous range of years) are built lazily for the years touched, so
  :meth:`BusinessCalendar.business_days_between` and
  :meth:`BusinessCalendar.business_hours_between` are O(1) after the first call for a year.
"""

from __future__ import annotations

import enum
import functools
import itertools
import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, Final, TypeGuard

import attrs

from consign_core.errors import ConfigurationError, NaiveDatetimeError, ValidationError


__all__ = [
    "DEFAULT_CALENDAR",
    "KST",
    "NAVER_CHUSEOK_2025",
    "BusinessCalendar",
    "Moratorium",
    "PenaltyKind",
    "kst_date",
    "require_aware",
    "to_kst",
]

KST: Final = timezone(timedelta(hours=9), "KST")
"""Korea Standard Time, a fixed UTC+09:00 offset (Korea observes no daylight saving time)."""

_MIN_YEAR: Final = 1949
_MAX_YEAR: Final = 2099
_MIN_ORD: Final = date(_MIN_YEAR, 1, 1).toordinal()
_MAX_ORD: Final = date(_MAX_YEAR, 12, 31).toordinal()
# Midnight KST of the first supported day. ``aware - _EPOCH`` yields a timedelta whose
# ``days`` is the KST day index and whose ``seconds``/``microseconds`` are the time of day
# in KST, exactly, with no float rounding and no tz conversion call.
_EPOCH: Final = datetime(_MIN_YEAR, 1, 1, tzinfo=KST)
_US_PER_HOUR: Final = 3_600_000_000
_US_PER_SECOND: Final = 1_000_000


# --------------------------------------------------------------------------------------
# Aware-datetime helpers
# --------------------------------------------------------------------------------------


def require_aware(value: datetime, argument: str) -> datetime:
    """Return ``value`` unchanged if it is a timezone-aware datetime.

    Raises :class:`~consign_core.errors.NaiveDatetimeError` (whose message names
    ``argument``) for a naive datetime, and :class:`~consign_core.errors.ValidationError`
    for anything that is not a datetime at all.
    """
    if not _is_datetime(value):
        msg = f"{argument} must be a timezone-aware datetime, got {type(value).__name__} {value!r}"
        raise ValidationError(msg, field=argument, value=value)
    if value.utcoffset() is None:
        raise NaiveDatetimeError(argument, value)
    return value


def to_kst(value: datetime, argument: str = "value") -> datetime:
    """Check that ``value`` is aware (see :func:`require_aware`) and convert it to :data:`KST`."""
    return require_aware(value, argument).astimezone(KST)


def kst_date(value: datetime, argument: str = "value") -> date:
    """Return the calendar date of the aware instant ``value`` in Korea (KST)."""
    return to_kst(value, argument).date()


# --------------------------------------------------------------------------------------
# Penalty kinds and moratoria
# --------------------------------------------------------------------------------------


class PenaltyKind(enum.Enum):
    """The kinds of marketplace penalty that a moratorium can suspend.

    The market-rules module imports this enum from here.
    """

    LATE_SHIPMENT = "late_shipment"
    """발송지연: the ship-by deadline (발송기한) was missed."""

    SELLER_FAULT_CANCEL = "seller_fault_cancel"
    """A cancel the market attributes to the seller (other than a stock-out)."""

    STOCK_OUT_CANCEL = "stock_out_cancel"
    """품절취소: the seller cancelled because the item was sold out."""

    OTHER = "other"
    """Any other penalised event (e.g. a return or exchange handled late)."""


def _to_penalty_kinds(value: Iterable[PenaltyKind | str]) -> frozenset[PenaltyKind]:
    if isinstance(value, str):
        value = (value,)
    try:
        items = list(value)
    except TypeError:
        msg = f"suspended must be an iterable of PenaltyKind, got {value!r}"
        raise ValidationError(msg, field="suspended", value=value) from None
    return frozenset(_to_penalty_kind(item) for item in items)


def _to_penalty_kind(item: object) -> PenaltyKind:
    try:
        return PenaltyKind(item)
    except ValueError:
        allowed = ", ".join(kind.value for kind in PenaltyKind)
        msg = f"suspended must contain only PenaltyKind values ({allowed}), got {item!r}"
        raise ValidationError(msg, field="suspended", value=item) from None


def _kind_argument(kind: object, argument: str = "kind") -> PenaltyKind:
    """``kind`` as a PenaltyKind (its string value is converted, as in Moratorium)."""
    if isinstance(kind, PenaltyKind):
        return kind
    try:
        return PenaltyKind(kind)
    except ValueError:
        allowed = ", ".join(member.value for member in PenaltyKind)
        msg = f"{argument} must be a PenaltyKind ({allowed}), got {kind!r}"
        raise ValidationError(msg, field=argument, value=kind) from None


def _is_datetime(value: object) -> bool:
    return isinstance(value, datetime)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _validate_plain_date(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        msg = f"{attribute.name} must be a datetime.date (not a datetime), got {value!r}"
        raise ValidationError(msg, field=attribute.name, value=value)


def _validate_market(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        msg = f"{attribute.name} must be None (all markets) or a non-empty string, got {value!r}"
        raise ValidationError(msg, field=attribute.name, value=value)


def _validate_note(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        msg = f"{attribute.name} must be a string, got {value!r}"
        raise ValidationError(msg, field=attribute.name, value=value)


def _market_matches(own: str | None, asked: str | None) -> bool:
    if own is None:
        return True
    return asked is not None and asked.strip().casefold() == own.strip().casefold()


@attrs.frozen(kw_only=True)
class Moratorium:
    """A period in which a marketplace does not apply some penalties (페널티 유예).

    Markets announce these around long holidays (e.g. Chuseok) or courier strikes; they are
    not derivable from the legal calendar and must be configured.

    Attributes:
        start: First day of the moratorium (KST calendar date, inclusive).
        end: Last day of the moratorium (inclusive); must not be before ``start``.
        suspended: The :class:`PenaltyKind` values that are *not* applied in the period.
            Strings such as ``"late_shipment"`` are converted.
        market: The market it applies to (compared case-insensitively, e.g. ``"naver"``),
            or ``None`` for a moratorium that applies to every market.
        note: Free text, e.g. the source of the announcement.
    """

    start: date = attrs.field(validator=_validate_plain_date)
    end: date = attrs.field(validator=_validate_plain_date)
    suspended: frozenset[PenaltyKind] = attrs.field(converter=_to_penalty_kinds)
    market: str | None = attrs.field(default=None, validator=_validate_market)
    note: str = attrs.field(default="", validator=_validate_note)

    def __attrs_post_init__(self) -> None:
        """Check the cross-field rules: ``end >= start`` and a non-empty ``suspended``."""
        if self.end < self.start:
            msg = (
                f"end must be on or after start ({self.start.isoformat()}), "
                f"got {self.end.isoformat()}"
            )
            raise ValidationError(msg, field="end", value=self.end)
        if not self.suspended:
            msg = "suspended must name at least one PenaltyKind, got an empty set"
            raise ValidationError(msg, field="suspended", value=self.suspended)

    def covers(self, day: date, market: str | None = None) -> bool:
        """Whether ``day`` lies in the period and the moratorium applies to ``market``.

        A market-specific moratorium never matches ``market=None`` (an unspecified market):
        only market-wide moratoria (``self.market is None``) do. ``day`` must be a
        :class:`~datetime.date` (use :func:`kst_date` for an instant).
        """
        if type(day) is not date:
            _check_plain_date(day, "day")
        return self.start <= day <= self.end and _market_matches(self.market, market)

    def suspends(self, kind: PenaltyKind | str, day: date, market: str | None = None) -> bool:
        """Whether a penalty of ``kind`` incurred on ``day`` in ``market`` is suspended.

        ``kind`` may be given by its value (``"late_shipment"``), as in the constructor.
        """
        return _kind_argument(kind) in self.suspended and self.covers(day, market)


NAVER_CHUSEOK_2025: Final = Moratorium(
    start=date(2025, 10, 1),
    end=date(2025, 10, 10),
    suspended=frozenset(
        {PenaltyKind.LATE_SHIPMENT, PenaltyKind.SELLER_FAULT_CANCEL, PenaltyKind.OTHER}
    ),
    market="naver",
    note=(
        "Naver SmartStore suspended 판매관리 페널티 from 2025-10-01 to 2025-10-10 (Chuseok) "
        "except 품절취소; a 10/10 deadline was penalised on 10/13, the next business day; "
        "굿서비스 빠른배송 exempted. Source: sellernow.co.kr/post/502781 (2025-10-02 summary "
        "of the Naver notice) [N5]."
    ),
)
"""Naver's Chuseok 2025 moratorium: penalties suspended Oct 1–10 2025 except 품절취소."""


# --------------------------------------------------------------------------------------
# Holiday data (module-level cache, keyed by year)
# --------------------------------------------------------------------------------------


@functools.cache
def _kr_public_holidays(year: int) -> Mapping[date, str]:
    """Korean public holidays (공휴일) of ``year`` with their Korean names."""
    import holidays

    calendar = holidays.country_holidays("KR", categories=("public",), years=year, language="ko")
    return MappingProxyType({day: str(name) for day, name in calendar.items() if day.year == year})


@functools.cache
def _kr_holiday_dates(year: int) -> frozenset[date]:
    return frozenset(_kr_public_holidays(year))


# --------------------------------------------------------------------------------------
# BusinessCalendar
# --------------------------------------------------------------------------------------


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


def _validate_hour(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not _is_int(value) or not 0 <= value <= 24:
        msg = f"{attribute.name} must be an int in 0..24, got {value!r}"
        raise ConfigurationError(msg)


class _Span:
    """Business-day flags and prefix sums over a contiguous range of years."""

    __slots__ = (
        "base_day",
        "base_ord",
        "end_day",
        "end_ord",
        "hi_year",
        "is_open",
        "lo_year",
        "prefix",
    )

    def __init__(self, lo_year: int, hi_year: int, is_open: bytes) -> None:
        self.lo_year = lo_year
        self.hi_year = hi_year
        self.base_ord = date(lo_year, 1, 1).toordinal()
        self.end_ord = date(hi_year, 12, 31).toordinal() + 1  # exclusive
        self.base_day = self.base_ord - _MIN_ORD  # day index relative to _EPOCH
        self.end_day = self.end_ord - _MIN_ORD  # exclusive
        self.is_open = is_open
        # prefix[i] = number of business days among span indices < i.
        self.prefix: list[int] = list(itertools.accumulate(is_open, initial=0))


class _Tables:
    """Mutable lazy cache attached to a (frozen) BusinessCalendar; not part of its value."""

    __slots__ = ("span", "years")

    def __init__(self) -> None:
        self.span: _Span | None = None
        self.years: dict[int, bytes] = {}


def _check_plain_date(value: object, argument: str) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        msg = f"{argument} must be a datetime.date (use kst_date() for a datetime), got {value!r}"
        raise ValidationError(msg, field=argument, value=value)


def _check_ordinal(ordinal: int, argument: str, value: object) -> None:
    if not _MIN_ORD <= ordinal <= _MAX_ORD:
        msg = (
            f"{argument} must fall within {_MIN_YEAR}-01-01..{_MAX_YEAR}-12-31 (KST), got {value!r}"
        )
        raise ValidationError(msg, field=argument, value=value)


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
    _tables: _Tables = attrs.field(init=False, factory=_Tables, eq=False, repr=False, hash=False)

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
        for day in _kr_holiday_dates(year):
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
        return day in _kr_holiday_dates(day.year)

    def holiday_name(self, day: date) -> str | None:
        """The Korean name of the public holiday on ``day`` (e.g. ``"추석"``), else ``None``.

        Several holidays on one day are joined with ``"; "`` (e.g. 부처님오신날; 어린이날).
        """
        _check_plain_date(day, "day")
        _check_ordinal(day.toordinal(), "day", day)
        return _kr_public_holidays(day.year).get(day)

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
        local = to_kst(paid_at, "paid_at")
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
        return _EPOCH + timedelta(days=deadline_day.toordinal() + 1 - _MIN_ORD)

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
        try:
            ds = start - _EPOCH
        except TypeError:
            require_aware(start, "start")
            raise
        try:
            de = end - _EPOCH
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
        local = to_kst(start, "start")
        if not _is_real(hours) or not math.isfinite(hours) or hours < 0:
            msg = f"hours must be a finite number >= 0, got {hours!r}"
            raise ValidationError(msg, field="hours", value=hours)
        amount = round(hours * _US_PER_HOUR)
        if amount == 0:
            return local
        ws, width = self._window_us()
        delta = local - _EPOCH
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
        return _EPOCH + timedelta(days=span.base_day + idx, microseconds=offset)

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
        day = kst_date(at, "at")
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


DEFAULT_CALENDAR: Final = BusinessCalendar()
"""The plain Korean calendar: Saturday/Sunday weekends, public holidays, a 0..24 window."""
