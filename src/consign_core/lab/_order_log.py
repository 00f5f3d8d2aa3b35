"""The order-log CSV: one row per order, as the backtest, ``rates`` and ``trust`` read it.

Re-exported by :mod:`consign_core.lab.backtest`; ``docs/backtest.md`` documents the format.
A bad row stops the read with an :class:`OrderLogError` naming the line and the field; no row
is ever skipped (blank lines are not rows).
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Final

import attrs

from consign_core.domain._validators import (
    aware_datetime,
    fail,
    int_at_least,
    non_empty_str,
    optional,
)
from consign_core.domain.model import CancelFault, CancelReason
from consign_core.domain.rules import get_profile
from consign_core.errors import ConfigurationError, SerializationError, ValidationError


__all__ = [
    "COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "LoggedOutcome",
    "OrderLogError",
    "OrderLogRow",
    "format_order_log",
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

_KST: Final = timezone(timedelta(hours=9))
_FIRST_DAY: Final = date(1949, 1, 1)
_LAST_DAY: Final = date(2099, 12, 31)
# The business calendar's supported days (KST), as aware bounds: [_EARLIEST, _AFTER_LAST).
_EARLIEST: Final = datetime(_FIRST_DAY.year, 1, 1, tzinfo=_KST)
_AFTER_LAST: Final = datetime(_LAST_DAY.year + 1, 1, 1, tzinfo=_KST)
_RANGE: Final = f"within {_FIRST_DAY.isoformat()}..{_LAST_DAY.isoformat()} (KST)"


class OrderLogError(SerializationError):
    """An order-log CSV could not be read: ``line`` (1 = the header) and ``field`` say where."""

    def __init__(self, source: str, line: int, field: str | None, problem: str) -> None:
        """Build the one-line message ``"<source> line <n>, field '<f>': <problem>"``."""
        where = f"{source} line {line}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.line = line
        self.field = field
        self.problem = problem


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
        fail(instance, attribute, value, f"a time when outcome is {instance.outcome.value!r}")
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


@attrs.frozen(kw_only=True)
class OrderLogRow:
    """One order of an order log (see ``docs/backtest.md`` for each column's meaning)."""

    order_id: str = attrs.field(validator=non_empty_str)
    """The market's order id (unique in a log)."""
    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier the order was placed with."""
    quantity: int = attrs.field(validator=int_at_least(1))
    """Units ordered."""
    paid_at: datetime = attrs.field(validator=_in_range)
    """When the buyer paid (the supplier order is taken as placed then)."""
    ship_by: datetime = attrs.field(validator=_after_paid)
    """The market's ship-by deadline."""
    outcome: LoggedOutcome = attrs.field(validator=_enum(LoggedOutcome))
    """How the order ended."""
    outcome_at: datetime | None = attrs.field(validator=_outcome_at)
    """When it ended (empty for ``open``)."""
    market: str | None = attrs.field(default=None, validator=optional(non_empty_str))
    """The market, e.g. ``coupang`` (empty: the one chosen on the command line)."""
    sku: str | None = attrs.field(default=None, validator=optional(non_empty_str))
    """The seller's SKU (the supplier item, for stock and quantity habits)."""
    unit_price: int | None = attrs.field(default=None, validator=optional(int_at_least(0)))
    """Price per unit in KRW (lost sales are priced with it; empty counts as 0)."""
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


# --------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------


def _time(text: str) -> datetime:
    value = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        msg = f"{text!r} is not an ISO 8601 time; write e.g. 2025-09-29T10:00:00+09:00"
        raise ValueError(msg) from None
    if parsed.utcoffset() is None:
        # the same wall time in KST, written the canonical way (a date alone gets 00:00)
        hint = parsed.replace(tzinfo=_KST).isoformat()
        msg = f"{text!r} has no UTC offset; write e.g. {hint}"
        raise ValueError(msg)
    if not _EARLIEST <= parsed < _AFTER_LAST:
        msg = f"{text!r} is outside the supported dates; write a time {_RANGE}"
        raise ValueError(msg)
    return parsed


_MARKETS: Final = "coupang, naver (or smartstore), amazon, ebay"

_WHOLE: Final = re.compile(r"-?[0-9]+")


def _int(text: str) -> int:
    # ASCII digits only: int() would also take "+3", "1_0" and full-width digits
    if _WHOLE.fullmatch(text) is None:
        msg = f"{text!r} is not a whole number (digits 0-9 only)"
        raise ValueError(msg)
    return int(text)


def _market(text: str) -> str:
    try:
        return get_profile(text).market  # aliases (smartstore -> naver) become one name
    except ConfigurationError:
        msg = f"{text!r} is not a known market; write one of {_MARKETS}"
        raise ValueError(msg) from None


def _choice(cls: type[enum.Enum]) -> Any:
    def parse(text: str) -> Any:
        try:
            return cls(text.strip().lower())
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            msg = f"{text!r} is not one of {allowed}"
            raise ValueError(msg) from None

    return parse


_PARSERS: Final[dict[str, Any]] = {
    "order_id": str,
    "supplier_id": str,
    "quantity": _int,
    "paid_at": _time,
    "ship_by": _time,
    "outcome": _choice(LoggedOutcome),
    "outcome_at": _time,
    "market": _market,
    "sku": str,
    "unit_price": _int,
    "confirmed_at": _time,
    "shipped_at": _time,
    "cancel_fault": _choice(CancelFault),
    "cancel_reason": _choice(CancelReason),
}


def _header(row: list[str], source: str) -> list[str]:
    names = [name.strip() for name in row]
    if names:
        names[0] = names[0].removeprefix("\ufeff").strip()  # a byte-order mark, however read
    seen: set[str] = set()
    for name in names:
        if name not in _PARSERS:
            allowed = ", ".join(COLUMNS)
            raise OrderLogError(source, 1, name, f"unknown column; the columns are: {allowed}")
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


def _rows(lines: Iterable[str], source: str) -> Iterator[OrderLogRow]:
    reader = csv.reader(lines)
    header: list[str] | None = None
    seen_ids: dict[str, int] = {}
    for record in _records(reader, source):
        line = reader.line_num
        if header is None:
            if not record or all(not cell.strip() for cell in record):
                continue
            header = _header(record, source)
            continue
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line is not a row
        if len(record) != len(header):
            problem = f"expected {len(header)} fields ({', '.join(header)}), got {len(record)}"
            raise OrderLogError(source, line, None, problem)
        values: dict[str, Any] = {}
        for name, raw in zip(header, record, strict=True):
            text = raw.strip()
            if not text:
                if name in REQUIRED_COLUMNS and name != "outcome_at":
                    raise OrderLogError(source, line, name, "empty; this column is required")
                values[name] = None
                continue
            try:
                values[name] = _PARSERS[name](text)
            except ValueError as exc:
                raise OrderLogError(source, line, name, str(exc)) from None
        try:
            row = OrderLogRow(**values)
        except ValidationError as exc:
            raise OrderLogError(source, line, exc.field, _problem(exc)) from None
        first = seen_ids.get(row.order_id)
        if first is not None:
            raise OrderLogError(
                source, line, "order_id", f"{row.order_id!r} already appears on line {first}"
            )
        seen_ids[row.order_id] = line
        yield row
    if header is None:
        raise OrderLogError(source, 1, None, "the file is empty; expected a header line")


def _problem(exc: ValidationError) -> str:
    text = str(exc)
    prefix = f"OrderLogRow.{exc.field} must be "
    if text.startswith(prefix):
        return "must be " + text[len(prefix) :]
    return text


def parse_order_log(text: str, *, source: str = "<text>") -> list[OrderLogRow]:
    """Parse order-log CSV text; :class:`OrderLogError` (line, field) on the first bad row."""
    return list(_rows(io.StringIO(text.removeprefix("\ufeff"), newline=""), source))


def read_order_log(path: str | Path) -> list[OrderLogRow]:
    """Read an order-log CSV file (UTF-8, an optional BOM); errors name the file and line.

    Raises :class:`OrderLogError` for bad content and :class:`OSError` if the file cannot be
    read.
    """
    p = Path(path)
    with p.open(encoding="utf-8-sig", newline="") as handle:
        try:
            return list(_rows(handle, str(path)))
        except UnicodeDecodeError as exc:
            reason = exc.reason
    line = _first_non_utf8_line(p)
    problem = (
        f"not UTF-8 text ({reason}); the file must be UTF-8: a file saved as cp949 (EUC-KR, "
        "Korean Excel) must be converted to UTF-8 first, e.g. 'iconv -f cp949 -t utf-8'"
    )
    raise OrderLogError(str(path), line, None, problem)


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
