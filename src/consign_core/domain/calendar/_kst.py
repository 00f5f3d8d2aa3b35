"""Korea Standard Time and the checks every calendar function runs on its arguments.

:data:`KST` and the aware-datetime helpers (:func:`require_aware`, :func:`to_kst`,
:func:`kst_date`), the supported date range (1949..2099) with the KST epoch the tables count
from, and the type checks for dates, integers and numbers shared by the other parts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Final, TypeGuard

from consign_core.errors import NaiveDatetimeError, ValidationError


# KST is documented where it is re-exported, in consign_core.domain.calendar (the API docs
# read it there).
KST: Final = timezone(timedelta(hours=9), "KST")

# The supported dates: 1949-01-01..2099-12-31.
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


def _is_datetime(value: object) -> bool:
    return isinstance(value, datetime)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
