"""The order-log CSV: reading (with bad rows stopping the read or skipped and reported) and
writing; the rows themselves are ``lab._order_log``'s."""

from __future__ import annotations

import csv
import enum
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import IO, Any, Final

import attrs

from consign_core.domain.calendar import KST
from consign_core.domain.model import CancelFault, CancelReason
from consign_core.domain.rules import get_profile
from consign_core.errors import ConfigurationError, ValidationError
from consign_core.lab._order_log import (
    _AFTER_LAST,
    _EARLIEST,
    _FIRST_DAY,
    _KST,
    _LAST_DAY,
    _RANGE,
    COLUMNS,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    BadRows,
    LoggedOutcome,
    OrderLog,
    OrderLogError,
    OrderLogRow,
    SkippedRow,
    _short,
    _shown,
)


__all__ = [
    "format_order_log",
    "load_order_log",
    "load_order_log_text",
    "parse_order_log",
    "read_order_log",
    "write_order_log",
]


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
