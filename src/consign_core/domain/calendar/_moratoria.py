"""Penalty moratoria (페널티 유예): the penalty kinds a market can suspend, and the periods.

:class:`PenaltyKind`, :class:`Moratorium` with the validators of its fields, and the
built-in :data:`NAVER_CHUSEOK_2025` (documented in :mod:`consign_core.domain.calendar`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Final

import attrs

from consign_core.domain.calendar._kst import _check_plain_date
from consign_core.errors import ValidationError


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


# documented where it is re-exported, in consign_core.domain.calendar
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
