"""The order log's rows: one row per order, as the backtest, ``rates`` and ``trust`` read it
(the CSV reading and writing: ``lab._log_csv``).

Re-exported by :mod:`consign_core.lab.backtest`; ``docs/backtest.md`` documents the format.
A bad row stops the read with an :class:`OrderLogError` naming the line and the field, unless
the caller asks to skip bad rows (:func:`load_order_log` with ``on_bad_rows="skip"``): then
each skipped row is kept in :attr:`OrderLog.skipped` with the same line, field and reason, so
nothing is dropped silently. Blank lines and a spreadsheet's empty rows (``,,,,``) are not
rows. Every text value is normalised to Unicode NFC (a name exported decomposed, as some Mac
software writes Hangul, is the same name).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, datetime, tzinfo
from typing import Any, Final, Literal

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    fail,
    non_empty_str,
    optional,
)
from consign_core.domain.calendar import KST
from consign_core.domain.model import CancelFault, CancelReason
from consign_core.errors import SerializationError, ValidationError


__all__ = [
    "COLUMNS",
    "MAX_QUANTITY",
    "MAX_UNIT_PRICE",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "BadRows",
    "LoggedOutcome",
    "OrderLog",
    "OrderLogError",
    "OrderLogRow",
    "SkippedRow",
]

REQUIRED_COLUMNS: Final = (
    "order_id",
    "supplier_id",
    "quantity",
    "paid_at",
    "ship_by",
    "outcome",
    "outcome_at",
)
"""The columns every order log has, in the order they are written."""

OPTIONAL_COLUMNS: Final = (
    "market",
    "sku",
    "unit_price",
    "confirmed_at",
    "shipped_at",
    "cancel_fault",
    "cancel_reason",
)
"""The columns a log may have (any subset, any order)."""

COLUMNS: Final = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
"""Every column, in the order :func:`format_order_log` writes them."""

MAX_QUANTITY: Final = 10_000
"""The most units one order line may have: a consignment order of more is a typo."""

MAX_UNIT_PRICE: Final = 10_000_000_000
"""The highest unit price (10 billion, in the log's currency): above it, a typo or an id."""

BadRows = Literal["error", "skip"]
"""What a bad row does: ``"error"`` stops the read, ``"skip"`` reports and leaves it out."""


class LoggedOutcome(enum.Enum):
    """How a logged order ended (the ``outcome`` column)."""

    INVOICED = "invoiced"
    """The supplier registered tracking at ``outcome_at``."""
    SUPPLIER_CANCELLED = "supplier_cancelled"
    """The supplier cancelled at ``outcome_at`` and the market order was cancelled."""
    BUYER_CANCELLED = "buyer_cancelled"
    """The buyer cancelled at ``outcome_at``."""
    OPEN = "open"
    """Still open when the log was written (``outcome_at`` empty)."""


_CANCELLED: Final = frozenset({LoggedOutcome.SUPPLIER_CANCELLED, LoggedOutcome.BUYER_CANCELLED})

_KST: Final = KST
_FIRST_DAY: Final = date(1949, 1, 1)
_LAST_DAY: Final = date(2099, 12, 31)
# The business calendar's supported days (KST), as aware bounds: [_EARLIEST, _AFTER_LAST).
_EARLIEST: Final = datetime(_FIRST_DAY.year, 1, 1, tzinfo=_KST)
_AFTER_LAST: Final = datetime(_LAST_DAY.year + 1, 1, 1, tzinfo=_KST)
_RANGE: Final = f"within {_FIRST_DAY.isoformat()}..{_LAST_DAY.isoformat()} (KST)"


def _where(source: str, line: int, field: str | None) -> str:
    return f"{source} line {line}" + (f", field '{field}'" if field else "")


class OrderLogError(SerializationError):
    """An order-log CSV could not be read: ``line`` (1 = the header) and ``field`` say where."""

    def __init__(self, source: str, line: int, field: str | None, problem: str) -> None:
        """Build the one-line message ``"<source> line <n>, field '<f>': <problem>"``."""
        super().__init__(f"{_where(source, line, field)}: {problem}")
        self.source = source
        self.line = line
        self.field = field
        self.problem = problem


def _shown(value: object) -> str:
    """A value as a person writes it in the CSV: ISO times, enum values, the text itself."""
    if value is None:
        return "empty"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, str):
        return f"'{_short(value)}'"
    return _short(str(value))


def _short(text: str, limit: int = 40) -> str:
    """``text``, cut to ``limit`` characters (a 400-digit value is not repeated in full)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def _nfc(value: object) -> object:
    """Text in Unicode NFC (composed) form; anything else unchanged (the validator rejects it)."""
    if isinstance(value, str) and not value.isascii():
        return unicodedata.normalize("NFC", value)
    return value


def _optional_nfc(value: object) -> object:
    return None if value is None else _nfc(value)


def _in_range(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An aware time on a day the business calendar supports (never an overflow later)."""
    aware_datetime(instance, attribute, value)
    if not _EARLIEST <= value < _AFTER_LAST:
        fail(instance, attribute, value, f"a time {_RANGE}")


def _after_paid(instance: OrderLogRow, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    _in_range(instance, attribute, value)
    if value < instance.paid_at:
        fail(instance, attribute, value, f"at or after paid_at ({instance.paid_at.isoformat()})")


def _outcome_at(instance: OrderLogRow, attribute: attrs.Attribute[Any], value: Any) -> None:
    if instance.outcome is LoggedOutcome.OPEN:
        if value is not None:
            fail(instance, attribute, value, "empty when outcome is 'open'")
        return
    if value is None:
        fail(instance, attribute, value, f"a time when outcome is '{instance.outcome.value}'")
    _after_paid(instance, attribute, value)


def _cancel_only(instance: OrderLogRow, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and instance.outcome not in _CANCELLED:
        fail(instance, attribute, value, "empty unless the order was cancelled")


def _enum(cls: type[enum.Enum]) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, cls):
            allowed = ", ".join(m.value for m in cls)
            fail(instance, attribute, value, f"one of {allowed}")

    return check


def _int_within(minimum: int, maximum: int) -> Any:
    """Require an ``int`` (not a ``bool``) in ``minimum..maximum``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            fail(instance, attribute, value, f"an integer >= {minimum}")
        elif value > maximum:
            if value.bit_length() > 64:  # never a repr of a huge number (or its cost)
                digits = int(value.bit_length() * 0.30103) + 1
                owner = type(instance).__name__
                msg = (
                    f"{owner}.{attribute.name} must be an integer <= {maximum:,}, "
                    f"got a number of about {digits:,} digits"
                )
                raise ValidationError(msg, field=attribute.name, value=None)
            fail(instance, attribute, value, f"an integer <= {maximum:,}")

    return check


@attrs.frozen(kw_only=True)
class OrderLogRow:
    """One order of an order log (see ``docs/backtest.md`` for each column's meaning).

    Text values are normalised to Unicode NFC, so one name is one supplier however it was
    typed or exported.
    """

    order_id: str = attrs.field(converter=_nfc, validator=non_empty_str)
    """The market's order id (unique in a log)."""
    supplier_id: str = attrs.field(converter=_nfc, validator=non_empty_str)
    """The supplier the order was placed with."""
    quantity: int = attrs.field(validator=_int_within(1, MAX_QUANTITY))
    """Units ordered (1..:data:`MAX_QUANTITY`)."""
    paid_at: datetime = attrs.field(validator=_in_range)
    """When the buyer paid (the supplier order is taken as placed then)."""
    ship_by: datetime = attrs.field(validator=_after_paid)
    """The market's ship-by deadline."""
    outcome: LoggedOutcome = attrs.field(validator=_enum(LoggedOutcome))
    """How the order ended."""
    outcome_at: datetime | None = attrs.field(validator=_outcome_at)
    """When it ended (empty for ``open``)."""
    market: str | None = attrs.field(
        default=None, converter=_optional_nfc, validator=optional(non_empty_str)
    )
    """The market, e.g. ``coupang`` (empty: the one chosen on the command line)."""
    sku: str | None = attrs.field(
        default=None, converter=_optional_nfc, validator=optional(non_empty_str)
    )
    """The seller's SKU (the supplier item, for stock and quantity habits)."""
    unit_price: int | None = attrs.field(
        default=None, validator=optional(_int_within(0, MAX_UNIT_PRICE))
    )
    """Price per unit in KRW, 0..:data:`MAX_UNIT_PRICE` (lost sales are priced with it; empty
    counts as 0)."""
    confirmed_at: datetime | None = attrs.field(default=None, validator=_after_paid)
    """When the seller actually confirmed the order (발주확인), for historical logs."""
    shipped_at: datetime | None = attrs.field(default=None, validator=_after_paid)
    """When the waybill reached the market."""
    cancel_fault: CancelFault | None = attrs.field(
        default=None, validator=[_enum(CancelFault), _cancel_only]
    )
    """Who the market held at fault for a cancellation: seller, buyer or market."""
    cancel_reason: CancelReason | None = attrs.field(
        default=None, validator=[_enum(CancelReason), _cancel_only]
    )
    """Why the order was cancelled: stock_out, price_error, buyer_remorse, delivery_delay, other."""

    def cell(self, column: str) -> str:
        """The CSV text of ``column`` (``""`` for an empty value)."""
        value = getattr(self, column)
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, enum.Enum):
            return str(value.value)
        return str(value)


@attrs.frozen(kw_only=True)
class SkippedRow:
    """A row left out of an order log read with ``on_bad_rows="skip"``, and why."""

    line: int
    """The line of the file (1 = the header)."""
    field: str | None
    """The column at fault, as the header names it (``None``: the row as a whole)."""
    problem: str
    """The reason, as the error of ``on_bad_rows="error"`` says it."""

    def describe(self, source: str) -> str:
        """``"<source> line <n>, field '<f>': <problem>"``, as :class:`OrderLogError` says it."""
        return f"{_where(source, self.line, self.field)}: {self.problem}"


def _row_tuple(value: Iterable[OrderLogRow]) -> tuple[OrderLogRow, ...]:
    return tuple(value)


def _skipped_tuple(value: Iterable[SkippedRow]) -> tuple[SkippedRow, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class OrderLog:
    """An order log as read: its rows, the rows skipped (with why) and the zone it used.

    Iterating it gives the rows, so it can be passed wherever rows are expected; the backtest
    and the rates report then count :attr:`skipped` in their ``skipped_rows``.
    """

    source: str
    """The file name (or the ``source`` given for text)."""
    rows: tuple[OrderLogRow, ...] = attrs.field(converter=_row_tuple)
    """The good rows, in file order."""
    skipped: tuple[SkippedRow, ...] = attrs.field(default=(), converter=_skipped_tuple)
    """The bad rows left out (only with ``on_bad_rows="skip"``), in file order."""
    zone: tzinfo = KST
    """The zone a date-only ``ship_by`` ends its day in (KST unless the reader was told or
    found another)."""
    date_only_ship_by: int = 0
    """How many rows gave ``ship_by`` as a date alone (read as the end of that day in
    :attr:`zone`)."""

    def __iter__(self) -> Iterator[OrderLogRow]:
        """The rows."""
        return iter(self.rows)

    def __len__(self) -> int:
        """The number of rows (skipped rows not included)."""
        return len(self.rows)
