"""Time zones for tests: a zone with a repeated wall hour (no zoneinfo data needed)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo


class FallBackZone(tzinfo):
    """A zone leaving daylight saving time: the wall hour 01:00-02:00 happens twice.

    ``fold=0`` is the first pass (UTC-4), ``fold=1`` the second (UTC-5), as in zoneinfo.
    """

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=-5 if dt is not None and dt.fold else -4)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "EST" if dt is not None and dt.fold else "EDT"
