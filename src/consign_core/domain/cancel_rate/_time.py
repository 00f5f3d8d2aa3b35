"""Time as integer microseconds ("ticks") counted from 1970-01-01 00:00 KST.

The ledger keeps every instant as ticks, so that windows, deadlines and the clock compare
and subtract integers; the epoch is in KST, so that the common case (KST datetimes)
converts without a ``utcoffset()`` call. Also the KST day and calendar-month arithmetic of
the windows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from consign_core.domain.calendar import KST, require_aware


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=KST)  # ticks count from 1970-01-01 00:00 KST
_US: Final = timedelta(microseconds=1)
_DAY: Final = 86_400_000_000
_NEVER: Final = 1 << 62
_START: Final = -(1 << 62)
_MIN_DT: Final = datetime(1, 1, 2, tzinfo=KST)  # the clock before any event or query
_MIN_T: Final = (_MIN_DT - _EPOCH) // _US  # the same in ticks


def _ticks(value: datetime, argument: str) -> int:
    try:
        return (value - _EPOCH) // _US
    except TypeError:
        require_aware(value, argument)
        raise


def _dt(ticks: int) -> datetime:
    days, micros = divmod(ticks, _DAY)
    return _EPOCH + timedelta(days, 0, micros)


def _day_start(day: date) -> int:
    return (day.toordinal() - 719163) * _DAY  # 719163 = date(1970, 1, 1).toordinal()


def _kst_day(ticks: int) -> date:
    return date.fromordinal(ticks // _DAY + 719163)


def _month_shift(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
