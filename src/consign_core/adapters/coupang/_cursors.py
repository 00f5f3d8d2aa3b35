"""The cursors of :class:`~consign_core.adapters.coupang.CoupangMarket`: short JSON texts the
engine stores, so a restart neither loses nor repeats an order or a buyer request."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from consign_core.adapters.coupang._wire import KST
from consign_core.errors import ValidationError


__all__ = ["OrderCursor", "encode_receipts", "minute", "seen_receipts"]

_MAX_SEEN = 5_000


def minute(moment: datetime) -> datetime:
    """``moment`` in KST, floored to the minute (Coupang's windows are minute-granular)."""
    return moment.astimezone(KST).replace(second=0, microsecond=0)


class OrderCursor:
    """The paid-order cursor: ``{"v": 1, "start": ..., "seen": {box: paid minute}}`` plus,
    while the first poll pages through days, ``"day_from"`` and ``"day_token"``."""

    def __init__(
        self,
        *,
        start: datetime,
        seen: dict[int, str],
        day_from: date | None = None,
        day_token: str | None = None,
    ) -> None:
        self.start = minute(start)
        self.seen = seen
        self.day_from = day_from
        self.day_token = day_token

    def trimmed(self) -> OrderCursor:
        """Forget boxes paid before the next window (they cannot be listed again)."""
        floor = (self.start - timedelta(minutes=1)).isoformat()
        keep = {box: at for box, at in self.seen.items() if at >= floor or self.day_token}
        if len(keep) > _MAX_SEEN:
            keep = dict(sorted(keep.items(), key=lambda kv: kv[1])[-_MAX_SEEN:])
        return OrderCursor(
            start=self.start, seen=keep, day_from=self.day_from, day_token=self.day_token
        )

    def encode(self) -> str:
        data: dict[str, object] = {
            "v": 1,
            "start": self.start.isoformat(),
            "seen": {str(k): v for k, v in self.seen.items()},
        }
        if self.day_token is not None:
            data["day_from"] = self.day_from.isoformat() if self.day_from else None
            data["day_token"] = self.day_token
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def decode(cls, cursor: str) -> OrderCursor:
        data = _loads(cursor, "order")
        try:
            start = datetime.fromisoformat(str(data["start"]))
            if start.tzinfo is None:
                start = start.replace(tzinfo=KST)
            seen = {int(k): str(v) for k, v in dict(data.get("seen") or {}).items()}
            day_from = data.get("day_from")
            token = data.get("day_token")
            return cls(
                start=start,
                seen=seen,
                day_from=date.fromisoformat(day_from) if day_from else None,
                day_token=None if token is None else str(token),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            msg = f"not a CoupangMarket order cursor: {cursor[:80]!r}"
            raise ValidationError(msg, field="cursor", value=cursor[:80]) from None


def _loads(cursor: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(cursor)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("v") != 1:
        msg = f"not a CoupangMarket {what} cursor: {cursor[:80]!r}"
        raise ValidationError(msg, field="cursor", value=cursor[:80])
    return data


def seen_receipts(cursor: str | None) -> dict[int, str]:
    if cursor is None:
        return {}
    data = _loads(cursor, "request")
    try:
        return {int(k): str(v) for k, v in dict(data["seen"]).items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        msg = f"not a CoupangMarket request cursor: {cursor[:80]!r}"
        raise ValidationError(msg, field="cursor", value=cursor[:80]) from None


def encode_receipts(seen: dict[int, str]) -> str:
    data = {"v": 1, "seen": {str(k): v for k, v in seen.items()}}
    return json.dumps(data, separators=(",", ":"), sort_keys=True)
