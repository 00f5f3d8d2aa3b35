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

from typing import Final

from consign_core._exports import publish
from consign_core.domain.calendar import _business, _kst, _moratoria
from consign_core.domain.calendar._business import BusinessCalendar
from consign_core.domain.calendar._kst import kst_date, require_aware, to_kst
from consign_core.domain.calendar._moratoria import Moratorium, PenaltyKind


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

KST: Final = _kst.KST
"""Korea Standard Time, a fixed UTC+09:00 offset (Korea observes no daylight saving time)."""

DEFAULT_CALENDAR: Final = _business.DEFAULT_CALENDAR
"""The plain Korean calendar: Saturday/Sunday weekends, public holidays, a 0..24 window."""

NAVER_CHUSEOK_2025: Final = _moratoria.NAVER_CHUSEOK_2025
"""Naver's Chuseok 2025 moratorium: penalties suspended Oct 1–10 2025 except 품절취소."""

publish(__name__, __all__)
