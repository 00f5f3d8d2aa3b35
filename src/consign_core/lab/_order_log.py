"""The order-log CSV: one row per order, as the backtest, ``rates`` and ``trust`` read it.

Re-exported by :mod:`consign_core.lab.backtest`; ``docs/backtest.md`` documents the format.
A bad row stops the read with an :class:`OrderLogError` naming the line and the field, unless
the caller asks to skip bad rows (:func:`load_order_log` with ``on_bad_rows="skip"``): then
each skipped row is kept in :attr:`OrderLog.skipped` with the same line, field and reason, so
nothing is dropped silently. Blank lines and a spreadsheet's empty rows (``,,,,``) are not
rows. Every text value is normalised to Unicode NFC (a name exported decomposed, as some Mac
software writes Hangul, is the same name).
"""

from __future__ import annotations

import csv
import enum
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import IO, Any, Final, Literal

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    fail,
    non_empty_str,
    optional,
)
from consign_core.domain.calendar import KST
from consign_core.domain.model import CancelFault, CancelReason
from consign_core.domain.rules import get_profile
from consign_core.errors import ConfigurationError, SerializationError, ValidationError


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
    "format_order_log",
    "load_order_log",
    "load_order_log_text",
    "parse_order_log",
    "read_order_log",
    "write_order_log",
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


# --------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------


@attrs.frozen
class _Day:
    """A date written alone (no time), for the columns where that has a meaning."""

    day: date


def _time(text: str, zone: tzinfo | None) -> datetime:
    value = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        msg = f"'{_short(text)}' is not an ISO 8601 time; write e.g. 2025-09-29T10:00:00+09:00"
        raise ValueError(msg) from None
    if parsed.utcoffset() is None:
        # the same wall time in the log's zone, written the canonical way
        hint = parsed.replace(tzinfo=zone or _KST).isoformat()
        msg = f"'{text}' has no UTC offset; write e.g. {hint}"
        raise ValueError(msg)
    if not _EARLIEST <= parsed < _AFTER_LAST:
        msg = f"'{_short(text)}' is outside the supported dates; write a time {_RANGE}"
        raise ValueError(msg)
    return parsed


_DATE_ONLY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _deadline(text: str, zone: tzinfo | None) -> datetime | _Day:
    """A ship-by time, or a date alone (the end of that day, resolved with the row's zone)."""
    if _DATE_ONLY.fullmatch(text) is not None:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            msg = f"'{text}' is not a date; write e.g. 2025-09-29 or 2025-09-29T18:00:00+09:00"
            raise ValueError(msg) from None
        if not _FIRST_DAY <= day <= _LAST_DAY:
            msg = f"'{text}' is outside the supported dates; write a day {_RANGE}"
            raise ValueError(msg)
        return _Day(day)
    return _time(text, zone)


def _end_of_day(day: date, zone: tzinfo) -> datetime:
    """The end of ``day`` (24:00) in ``zone``: 00:00 of the next day, the calendar's form."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


_MARKETS: Final = "coupang, naver (or smartstore), amazon, ebay"

_WHOLE: Final = re.compile(r"-?[0-9]+")


def _bounded(maximum: int, unit: str) -> Any:
    """A parser of a whole number ``<= maximum`` that never converts a huge digit string."""
    digits = len(str(maximum))

    def parse(text: str, _zone: tzinfo | None) -> int:
        # ASCII digits only: int() would also take "+3", "1_0" and full-width digits
        if _WHOLE.fullmatch(text) is None:
            msg = f"'{_short(text)}' is not a whole number (digits 0-9 only)"
            raise ValueError(msg)
        if len(text.lstrip("-").lstrip("0")) > digits or int(text) > maximum:
            msg = f"{_short(text)} is more than the maximum of {maximum:,} {unit}"
            raise ValueError(msg)
        return int(text)

    return parse


def _text(text: str, _zone: tzinfo | None) -> str:
    return unicodedata.normalize("NFC", text)


def _market(text: str, _zone: tzinfo | None) -> str:
    try:
        return get_profile(text).market  # aliases (smartstore -> naver) become one name
    except ConfigurationError:
        msg = f"'{_short(text)}' is not a known market; write one of {_MARKETS}"
        raise ValueError(msg) from None


def _choice(cls: type[enum.Enum]) -> Any:
    def parse(text: str, _zone: tzinfo | None) -> Any:
        try:
            return cls(text.strip().lower())
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            msg = f"'{_short(text)}' is not one of {allowed}"
            raise ValueError(msg) from None

    return parse


_PARSERS: Final[dict[str, Any]] = {
    "order_id": _text,
    "supplier_id": _text,
    "quantity": _bounded(MAX_QUANTITY, "units a line"),
    "paid_at": _time,
    "ship_by": _deadline,
    "outcome": _choice(LoggedOutcome),
    "outcome_at": _time,
    "market": _market,
    "sku": _text,
    "unit_price": _bounded(MAX_UNIT_PRICE, "a unit"),
    "confirmed_at": _time,
    "shipped_at": _time,
    "cancel_fault": _choice(CancelFault),
    "cancel_reason": _choice(CancelReason),
}

_SEPARATORS: Final = ((";", "semicolons (;)"), ("\t", "tabs"), ("|", "vertical bars (|)"))


def _header(row: list[str], source: str) -> list[str]:
    names = [unicodedata.normalize("NFC", name.strip()) for name in row]
    if names:
        names[0] = names[0].removeprefix("\ufeff").strip()  # a byte-order mark, however read
    if len(names) == 1:
        for separator, said in _SEPARATORS:
            if separator in names[0] and {n.strip() for n in names[0].split(separator)} & set(
                REQUIRED_COLUMNS
            ):
                problem = (
                    f"the file is separated by {said}, not commas; the order log is "
                    "comma-separated CSV (export it again as CSV with commas)"
                )
                raise OrderLogError(source, 1, None, problem)
    seen: set[str] = set()
    for name in names:
        if name not in _PARSERS:
            allowed = ", ".join(COLUMNS)
            problem = f"unknown column; the columns are: {allowed}"
            raise OrderLogError(source, 1, _short(name), problem)
        if name in seen:
            raise OrderLogError(source, 1, name, "the column appears twice")
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            raise OrderLogError(source, 1, name, "required column missing")
    return names


def _records(reader: Any, source: str) -> Iterator[list[str]]:
    """The reader's records; a CSV-level error (e.g. an oversized field) names its line."""
    while True:
        try:
            record: list[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problem = f"not readable as CSV ({exc})"
            if "field limit" in str(exc):
                problem = f"a field is too large to be an order-log value ({exc})"
            raise OrderLogError(source, max(1, reader.line_num), None, problem) from None
        yield record


# paid_at first: a date-only ship_by ends its day in the zone of the log's first paid_at
_ORDER: Final = {name: i for i, name in enumerate(("paid_at", *COLUMNS))}


class _Reader:
    """One read of an order log: the header, the rows, the skipped rows, the zone."""

    def __init__(self, source: str, zone: tzinfo | None, on_bad_rows: BadRows) -> None:
        if on_bad_rows not in ("error", "skip"):
            msg = f"on_bad_rows must be 'error' or 'skip', got {on_bad_rows!r}"
            raise ConfigurationError(msg)
        self.source = source
        self.zone = zone
        self.skip = on_bad_rows == "skip"
        self.rows: list[OrderLogRow] = []
        self.skipped: list[SkippedRow] = []
        self.date_only = 0
        self._seen_ids: dict[str, int] = {}

    def read(self, lines: Iterable[str]) -> OrderLog:
        reader = csv.reader(lines)
        header: list[str] | None = None
        fields: list[tuple[int, str]] = []
        for record in _records(reader, self.source):
            if not record or all(not cell.strip() for cell in record):
                continue  # a blank line, or a spreadsheet's empty row, is not a row
            if header is None:
                header = _header(record, self.source)
                fields = sorted(enumerate(header), key=lambda item: _ORDER[item[1]])
                continue
            line = reader.line_num
            try:
                self.rows.append(self._row(header, fields, record, line))
            except OrderLogError as exc:
                if not self.skip:
                    raise
                self.skipped.append(SkippedRow(line=exc.line, field=exc.field, problem=exc.problem))
        if header is None:
            raise OrderLogError(self.source, 1, None, "the file is empty; expected a header line")
        return OrderLog(
            source=self.source,
            rows=self.rows,
            skipped=self.skipped,
            zone=self.zone or _KST,
            date_only_ship_by=self.date_only,
        )

    def _row(
        self, header: list[str], fields: list[tuple[int, str]], record: list[str], line: int
    ) -> OrderLogRow:
        source = self.source
        if len(record) != len(header):
            problem = f"expected {len(header)} fields ({', '.join(header)}), got {len(record)}"
            raise OrderLogError(source, line, None, problem)
        values: dict[str, Any] = {}
        zone = self.zone
        for index, name in fields:
            text = record[index].strip()
            if not text:
                if name in REQUIRED_COLUMNS and name != "outcome_at":
                    raise OrderLogError(source, line, name, "empty; this column is required")
                values[name] = None
                continue
            try:
                values[name] = _PARSERS[name](text, zone)
            except ValueError as exc:
                raise OrderLogError(source, line, name, str(exc)) from None
            if name == "paid_at" and zone is None:
                zone = values[name].tzinfo
        ship_by = values["ship_by"]
        if isinstance(ship_by, _Day):
            values["ship_by"] = _end_of_day(ship_by.day, zone or _KST)
        try:
            row = OrderLogRow(**values)
        except ValidationError as exc:
            raise OrderLogError(source, line, exc.field, _problem(exc)) from None
        first = self._seen_ids.get(row.order_id)
        if first is not None:
            problem = f"'{_short(row.order_id)}' already appears on line {first}"
            raise OrderLogError(source, line, "order_id", problem)
        self._seen_ids[row.order_id] = line
        if self.zone is None:
            self.zone = zone  # the log's zone: its first good row's paid_at
        self.date_only += isinstance(ship_by, _Day)
        return row


def _problem(exc: ValidationError) -> str:
    """A row validator's message without the class name, the value as written in the CSV."""
    text = str(exc)
    prefix = f"OrderLogRow.{exc.field} must be "
    if not text.startswith(prefix):
        return text
    expected = text[len(prefix) :].rsplit(", got ", 1)[0]
    return f"must be {expected}, got {_shown(exc.value)}"


def load_order_log_text(
    text: str,
    *,
    source: str = "<text>",
    zone: tzinfo | None = KST,
    on_bad_rows: BadRows = "error",
) -> OrderLog:
    """Read order-log CSV text into an :class:`OrderLog` (see :func:`load_order_log`)."""
    lines = io.StringIO(text.removeprefix("\ufeff"), newline="")
    return _Reader(source, zone, on_bad_rows).read(lines)


def load_order_log(
    path: str | Path, *, zone: tzinfo | None = KST, on_bad_rows: BadRows = "error"
) -> OrderLog:
    """Read an order-log CSV file (UTF-8, an optional BOM) into an :class:`OrderLog`.

    ``on_bad_rows="error"`` (the default) raises :class:`OrderLogError` (file, line, field) on
    the first bad row; ``"skip"`` leaves bad rows out and lists them in
    :attr:`OrderLog.skipped`. A bad header, a file that is not UTF-8 or not CSV is an error
    either way. ``zone`` is where a date-only ``ship_by`` ends its day (default KST; ``None``:
    the zone of the log's first ``paid_at``). Raises :class:`OSError` if the file cannot be
    read.
    """
    p = Path(path)
    with p.open(encoding="utf-8-sig", newline="") as handle:
        try:
            return _Reader(str(path), zone, on_bad_rows).read(handle)
        except UnicodeDecodeError as exc:
            reason = exc.reason
    line = _first_non_utf8_line(p)
    problem = (
        f"not UTF-8 text ({reason}); the file must be UTF-8: a file saved as cp949 (EUC-KR, "
        "Korean Excel) must be converted to UTF-8 first, e.g. 'iconv -f cp949 -t utf-8'"
    )
    raise OrderLogError(str(path), line, None, problem)


def parse_order_log(
    text: str, *, source: str = "<text>", zone: tzinfo | None = KST
) -> list[OrderLogRow]:
    """Parse order-log CSV text; :class:`OrderLogError` (line, field) on the first bad row."""
    return list(load_order_log_text(text, source=source, zone=zone).rows)


def read_order_log(path: str | Path, *, zone: tzinfo | None = KST) -> list[OrderLogRow]:
    """Read an order-log CSV file (UTF-8, an optional BOM); errors name the file and line.

    Raises :class:`OrderLogError` for bad content and :class:`OSError` if the file cannot be
    read. :func:`load_order_log` can skip bad rows instead.
    """
    return list(load_order_log(path, zone=zone).rows)


def _first_non_utf8_line(path: Path) -> int:
    """The first line (1-based) that is not UTF-8; a multi-byte character never spans one."""
    number = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not _is_utf8(raw):
                return number
    return max(1, number)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def _columns(rows: Sequence[OrderLogRow]) -> tuple[str, ...]:
    used = [c for c in OPTIONAL_COLUMNS if any(getattr(r, c) is not None for r in rows)]
    return REQUIRED_COLUMNS + tuple(used)


def _write(rows: Sequence[OrderLogRow], handle: IO[str], columns: Sequence[str] | None) -> None:
    names = tuple(columns) if columns is not None else _columns(rows)
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([row.cell(name) for name in names])


def format_order_log(rows: Iterable[OrderLogRow], *, columns: Sequence[str] | None = None) -> str:
    """The CSV text of ``rows``: the required columns, then the optional ones any row uses.

    ``parse_order_log(format_order_log(rows)) == list(rows)``.
    """
    items = list(rows)
    buffer = io.StringIO()
    _write(items, buffer, columns)
    return buffer.getvalue()


def write_order_log(
    rows: Iterable[OrderLogRow], path: str | Path, *, columns: Sequence[str] | None = None
) -> None:
    """Write ``rows`` as an order-log CSV file (UTF-8)."""
    text = format_order_log(rows, columns=columns)
    Path(path).write_text(text, encoding="utf-8")
