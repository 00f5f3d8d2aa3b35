"""The order-log CSV as real logs come: date-only deadlines, bounds, NFC, bad rows, zones."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST, BusinessCalendar
from consign_core.errors import ConfigurationError, ConsignError, ValidationError
from consign_core.lab.backtest import (
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    LoggedOutcome,
    OrderLog,
    OrderLogError,
    OrderLogRow,
    backtest,
    format_order_log,
    load_order_log,
    load_order_log_text,
    parse_order_log,
    rates_report,
    trust_table,
)


HEADER = "order_id,supplier_id,quantity,paid_at,ship_by,outcome,outcome_at,unit_price"
BRT = timezone(timedelta(hours=-3))


def log_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


def row(
    order_id: str = "O1",
    supplier_id: str = "S1",
    *,
    quantity: str = "1",
    paid_at: str = "2025-11-03T10:00:00+09:00",
    ship_by: str = "2025-11-05T00:00:00+09:00",
    outcome: str = "invoiced",
    outcome_at: str = "2025-11-04T09:00:00+09:00",
    unit_price: str = "9900",
) -> str:
    return (
        f"{order_id},{supplier_id},{quantity},{paid_at},{ship_by},{outcome},{outcome_at},"
        f"{unit_price}"
    )


def error_of(text: str) -> OrderLogError:
    with pytest.raises(OrderLogError) as info:
        parse_order_log(text, source="orders.csv")
    return info.value


def single_line(error: Exception) -> str:
    message = str(error)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------- deadlines


def test_a_date_only_ship_by_is_the_end_of_that_day_in_kst() -> None:
    (parsed,) = parse_order_log(log_text(row(ship_by="2025-11-04")))
    assert parsed.ship_by == datetime(2025, 11, 5, tzinfo=KST)  # 2025-11-04 24:00 KST
    assert parsed.ship_by.utcoffset() == timedelta(hours=9)


def test_a_date_only_ship_by_keeps_a_shipment_that_day_on_time() -> None:
    (parsed,) = parse_order_log(
        log_text(row(ship_by="2025-11-04", outcome_at="2025-11-04T21:30:00+09:00"))
    )
    assert parsed.outcome_at is not None
    assert parsed.outcome_at < parsed.ship_by


def test_a_date_only_ship_by_uses_the_given_zone() -> None:
    text = log_text(
        row(
            paid_at="2017-03-01T10:00:00-03:00", ship_by="2017-03-03", outcome="open", outcome_at=""
        )
    )
    (parsed,) = parse_order_log(text, zone=BRT)
    assert parsed.ship_by == datetime(2017, 3, 4, tzinfo=BRT)


def test_without_a_zone_the_log_zone_is_its_first_paid_at() -> None:
    text = log_text(
        row(
            "A",
            paid_at="2017-03-01T10:00:00-03:00",
            ship_by="2017-03-03",
            outcome="open",
            outcome_at="",
        ),
        row(
            "B",
            paid_at="2017-03-02T10:00:00-03:00",
            ship_by="2017-03-06",
            outcome="open",
            outcome_at="",
        ),
    )
    log = load_order_log_text(text, zone=None)
    assert log.zone.utcoffset(None) == timedelta(hours=-3)
    assert [r.ship_by for r in log] == [
        datetime(2017, 3, 4, tzinfo=BRT),
        datetime(2017, 3, 7, tzinfo=BRT),
    ]
    assert log.date_only_ship_by == 2


def test_a_date_only_ship_by_is_counted_and_the_zone_said() -> None:
    log = load_order_log_text(log_text(row("A", ship_by="2025-11-04"), row("B")))
    assert log.date_only_ship_by == 1
    assert log.zone is KST


def test_a_date_only_ship_by_matches_the_calendar_deadline_form() -> None:
    paid = datetime(2025, 9, 29, 10, tzinfo=KST)
    deadline = DEFAULT_CALENDAR.ship_by(paid, business_days=3)  # end of Thursday 2025-10-02
    (parsed,) = parse_order_log(
        log_text(row(paid_at=paid.isoformat(), ship_by="2025-10-02", outcome="open", outcome_at=""))
    )
    assert parsed.ship_by == deadline


@pytest.mark.parametrize("column", ["paid_at", "outcome_at"])
def test_a_naive_time_is_refused_with_a_suggestion_that_is_accepted(column: str) -> None:
    values = {"paid_at": "2025-11-03T10:00:00+09:00", "outcome_at": "2025-11-04T09:00:00+09:00"}
    naive = values[column].removesuffix("+09:00")
    bad = log_text(row(**{**values, column: naive}))
    error = error_of(bad)
    assert error.field == column
    assert error.line == 2
    hint = re.search(r"write e\.g\. (\S+)$", single_line(error))
    assert hint is not None
    assert "+09:00+09:00" not in hint.group(1)
    (fixed,) = parse_order_log(bad.replace(naive, hint.group(1)))
    assert getattr(fixed, column) == datetime.fromisoformat(values[column])


def test_a_date_only_paid_at_is_refused_with_an_accepted_suggestion() -> None:
    bad = log_text(row(paid_at="2025-11-03"))
    error = error_of(bad)
    assert error.field == "paid_at"
    hint = re.search(r"write e\.g\. (\S+)$", str(error))
    assert hint is not None
    (fixed,) = parse_order_log(bad.replace("2025-11-03,", f"{hint.group(1)},", 1))
    assert fixed.paid_at == datetime(2025, 11, 3, tzinfo=KST)


def test_an_impossible_date_only_ship_by_names_the_field() -> None:
    error = error_of(log_text(row(ship_by="2025-02-30")))
    assert error.field == "ship_by"
    assert "2025-02-30" in str(error)


# ---------------------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("quantity", "100000000000000000000000000000", ["10,000"]),
        ("quantity", "9" * 400, ["10,000", "400 characters"]),
        ("quantity", str(MAX_QUANTITY + 1), ["10,000"]),
        ("unit_price", str(MAX_UNIT_PRICE + 1), ["10,000,000,000"]),
        ("unit_price", "1" * 5000, ["10,000,000,000"]),
    ],
)
def test_absurd_numbers_are_refused_in_one_line_naming_line_and_field(
    column: str, value: str, words: list[str]
) -> None:
    error = error_of(log_text(row(), row("O2", **{column: value})))
    message = single_line(error)
    assert (error.line, error.field) == (3, column)
    assert message.startswith(f"orders.csv line 3, field '{column}'")
    assert len(message) < 200
    for word in words:
        assert word in message


def test_the_largest_quantity_and_price_are_accepted() -> None:
    (parsed,) = parse_order_log(
        log_text(row(quantity=str(MAX_QUANTITY), unit_price=str(MAX_UNIT_PRICE)))
    )
    assert (parsed.quantity, parsed.unit_price) == (MAX_QUANTITY, MAX_UNIT_PRICE)


@given(st.from_regex(r"-?[0-9]{1,500}", fullmatch=True))
def test_any_integer_looking_quantity_parses_within_bounds_or_is_a_typed_error(
    text: str,
) -> None:
    text_log = log_text(row(quantity=text))
    if 1 <= int(text) <= MAX_QUANTITY:
        (parsed,) = parse_order_log(text_log)
        assert parsed.quantity == int(text)
    else:
        with pytest.raises(OrderLogError) as info:
            parse_order_log(text_log)
        assert info.value.field == "quantity"


def test_a_huge_quantity_built_in_python_is_a_validation_error_without_its_digits() -> None:
    at = datetime(2025, 11, 3, tzinfo=KST)
    with pytest.raises(ValidationError) as info:
        OrderLogRow(
            order_id="O1",
            supplier_id="S1",
            quantity=10**5000,
            paid_at=at,
            ship_by=at,
            outcome=LoggedOutcome.OPEN,
            outcome_at=None,
        )
    assert info.value.field == "quantity"
    assert len(str(info.value)) < 200


# ---------------------------------------------------------------------------- text


def test_a_decomposed_supplier_name_is_the_same_supplier() -> None:
    composed = "한빛상사"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    rows = parse_order_log(log_text(row("O1", composed), row("O2", decomposed)))
    assert {r.supplier_id for r in rows} == {composed}
    assert [v.supplier_id for v in trust_table(rows)] == [composed]


@given(st.text(alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), min_size=1))
def test_nfc_and_nfd_of_a_name_are_one_supplier(name: str) -> None:
    nfd = unicodedata.normalize("NFD", name)
    rows = parse_order_log(log_text(row("O1", name), row("O2", nfd)))
    assert rows[0].supplier_id == rows[1].supplier_id == unicodedata.normalize("NFC", name)


def test_a_row_built_in_python_is_normalised_to_nfc() -> None:
    at = datetime(2025, 11, 3, tzinfo=KST)
    built = OrderLogRow(
        order_id="O1",
        supplier_id=unicodedata.normalize("NFD", "한빛상사"),
        sku=unicodedata.normalize("NFD", "양말-3"),
        quantity=1,
        paid_at=at,
        ship_by=at,
        outcome=LoggedOutcome.OPEN,
        outcome_at=None,
    )
    assert built.supplier_id == "한빛상사"
    assert built.sku == "양말-3"


def test_a_spreadsheets_trailing_empty_rows_are_not_rows() -> None:
    text = log_text(row("O1"), row("O2"), ",,,,,,,", ",,,,,,,", " , ,,,,,,")
    assert [r.order_id for r in parse_order_log(text)] == ["O1", "O2"]


@pytest.mark.parametrize(("separator", "said"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_file_with_another_separator_is_named_as_such(separator: str, said: str) -> None:
    text = log_text(row()).replace(",", separator)
    error = error_of(text)
    assert error.line == 1
    assert said in single_line(error)
    assert "comma" in str(error)


def test_a_header_only_file_has_no_rows() -> None:
    assert parse_order_log(HEADER + "\n") == []


# ---------------------------------------------------------------------------- messages


def test_a_deadline_before_payment_shows_iso_times_not_python_reprs() -> None:
    error = error_of(
        log_text(row(paid_at="2017-05-09T14:20:00-03:00", ship_by="2017-05-08T23:59:00-03:00"))
    )
    message = single_line(error)
    assert error.field == "ship_by"
    assert "2017-05-08T23:59:00-03:00" in message
    assert "2017-05-09T14:20:00-03:00" in message
    assert "datetime" not in message


def test_a_cancel_fault_on_a_shipped_order_shows_the_value_as_written() -> None:
    text = log_text(row() + ",seller", header=HEADER + ",cancel_fault")
    error = error_of(text)
    message = single_line(error)
    assert error.field == "cancel_fault"
    assert "got seller" in message
    assert "CancelFault" not in message
    assert "<" not in message


# ---------------------------------------------------------------------------- bad rows


BAD_ROWS = (
    row("O1"),
    row("O2", paid_at="2025-11-03T10:00:00+09:00", ship_by="2025-11-02T00:00:00+09:00"),
    row("O3", quantity="lots"),
    row("O1"),
    "O5,S1,1",
    row("O6"),
)


def test_by_default_the_first_bad_row_stops_the_read() -> None:
    error = error_of(log_text(*BAD_ROWS))
    assert (error.line, error.field) == (3, "ship_by")


def test_skipping_bad_rows_keeps_the_good_ones_and_says_why_for_each(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(log_text(*BAD_ROWS), encoding="utf-8")
    log = load_order_log(path, on_bad_rows="skip")
    assert [r.order_id for r in log] == ["O1", "O6"]
    assert [(s.line, s.field) for s in log.skipped] == [
        (3, "ship_by"),
        (4, "quantity"),
        (5, "order_id"),
        (6, None),
    ]
    described = [s.describe(log.source) for s in log.skipped]
    assert described[0].startswith(f"{path} line 3, field 'ship_by': must be at or after")
    assert "already appears on line 2" in described[2]
    assert "expected 8 fields" in described[3]


def test_a_skipped_row_says_what_the_error_would_have_said(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(log_text(*BAD_ROWS), encoding="utf-8")
    with pytest.raises(OrderLogError) as info:
        load_order_log(path)
    first = load_order_log(path, on_bad_rows="skip").skipped[0]
    assert first.describe(str(path)) == str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "order_id,supplier,quantity\nO1,S1,1\n",
        log_text(row()).replace(",", ";"),
        "",
    ],
)
def test_a_bad_header_stops_the_read_even_when_skipping(text: str) -> None:
    with pytest.raises(OrderLogError) as info:
        load_order_log_text(text, on_bad_rows="skip")
    assert info.value.line == 1


def test_an_unknown_bad_rows_mode_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="on_bad_rows"):
        load_order_log_text(log_text(row()), on_bad_rows="ignore")  # type: ignore[arg-type]


def test_a_log_of_skipped_rows_counts_them_in_the_reports() -> None:
    log = load_order_log_text(log_text(*BAD_ROWS), on_bad_rows="skip")
    assert isinstance(log, OrderLog)
    assert len(log) == 2
    report = backtest(log, ["confirm-immediately"], extra_buyer_cancels=False)
    assert report.to_dict()["skipped_rows"] == 4
    assert report.rows == 2
    assert rates_report(log, "coupang").to_dict()["skipped_rows"] == 4
    plain = backtest(list(log), ["confirm-immediately"], extra_buyer_cancels=False)
    assert plain.to_dict()["skipped_rows"] == 0


def test_every_read_error_is_a_consign_error() -> None:
    assert issubclass(OrderLogError, ConsignError)


def test_a_round_trip_keeps_a_date_only_deadline_as_its_instant() -> None:
    rows = parse_order_log(log_text(row(ship_by="2025-11-04")))
    assert parse_order_log(format_order_log(rows)) == rows


# ---------------------------------------------------------------------------- calendars


def test_a_country_calendar_counts_that_countrys_holidays() -> None:
    brazil = BusinessCalendar(country="BR", utc_offset=timedelta(hours=-3))
    republic_day = date(2017, 11, 15)  # Brazil's Proclamation of the Republic, a Wednesday
    assert not brazil.is_business_day(republic_day)
    assert DEFAULT_CALENDAR.is_business_day(republic_day)
    foundation_day = date(2025, 10, 3)  # Korea's 개천절, a Friday
    assert brazil.is_business_day(foundation_day)
    assert not DEFAULT_CALENDAR.is_business_day(foundation_day)


def test_a_country_calendar_counts_days_in_its_own_zone() -> None:
    brazil = BusinessCalendar(country="br", utc_offset=timedelta(hours=-3))
    assert brazil.country == "BR"
    # 22:00 in Brasilia is already the next day in UTC and in Korea: still one day's hours
    start = datetime(2017, 3, 6, 0, tzinfo=BRT)
    end = datetime(2017, 3, 6, 22, tzinfo=BRT)
    assert brazil.business_hours_between(start, end) == 22.0
    deadline = brazil.ship_by(datetime(2017, 3, 6, 10, tzinfo=BRT), business_days=1)
    assert deadline == datetime(2017, 3, 8, tzinfo=BRT)
    assert deadline.utcoffset() == timedelta(hours=-3)


def test_the_korean_default_is_unchanged() -> None:
    explicit = BusinessCalendar(country="KR")
    assert explicit == DEFAULT_CALENDAR
    assert DEFAULT_CALENDAR.zone is KST
    paid = datetime(2025, 9, 29, 10, tzinfo=KST)
    assert explicit.ship_by(paid, business_days=3) == datetime(2025, 10, 3, tzinfo=KST)
    assert explicit.holiday_name(date(2025, 10, 6)) == DEFAULT_CALENDAR.holiday_name(
        date(2025, 10, 6)
    )


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"country": "BR"}, ["utc_offset", "BR"]),
        ({"country": "XX", "utc_offset": timedelta(0)}, ["country", "XX"]),
        ({"country": "BR", "utc_offset": timedelta(hours=20)}, ["utc_offset"]),
    ],
)
def test_a_bad_country_calendar_is_a_configuration_error(
    kwargs: dict[str, object], words: list[str]
) -> None:
    with pytest.raises(ConfigurationError) as info:
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]
    for word in words:
        assert word in str(info.value)
