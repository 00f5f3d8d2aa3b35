"""The lookup data behind :class:`BusinessCalendar`: public holidays and business-day tables.

The Korean public holidays of a year, read once per process from the ``holidays`` package,
and the per-calendar lazy cache (:class:`_Tables`) of business-day flags and prefix sums over
a contiguous range of years (:class:`_Span`) that makes counting business days O(1).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

from consign_core.domain.calendar._kst import _MIN_ORD


@functools.cache
def _kr_public_holidays(year: int) -> Mapping[date, str]:
    """Korean public holidays (공휴일) of ``year`` with their Korean names."""
    import holidays

    calendar = holidays.country_holidays("KR", categories=("public",), years=year, language="ko")
    return MappingProxyType({day: str(name) for day, name in calendar.items() if day.year == year})


@functools.cache
def _kr_holiday_dates(year: int) -> frozenset[date]:
    return frozenset(_kr_public_holidays(year))


@functools.cache
def _public_holidays(country: str, year: int) -> Mapping[date, str]:
    """The public holidays of ``country`` (a ``holidays`` country code) in ``year``.

    Korea's come with their Korean names (:func:`_kr_public_holidays`); other countries' in the
    ``holidays`` package's default language.
    """
    if country == "KR":
        return _kr_public_holidays(year)
    import holidays

    calendar = holidays.country_holidays(country, categories=("public",), years=year)
    return MappingProxyType({day: str(name) for day, name in calendar.items() if day.year == year})


@functools.cache
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    if country == "KR":
        return _kr_holiday_dates(year)
    return frozenset(_public_holidays(country, year))


@functools.cache
def _supported_countries() -> frozenset[str]:
    """The country codes the ``holidays`` package knows."""
    import holidays

    return frozenset(holidays.list_supported_countries())


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
