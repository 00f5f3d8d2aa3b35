"""Tests for consign_core.domain.calendar: Korean business days, deadlines and moratoria."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.domain import calendar as cal
from consign_core.domain.calendar import (
    DEFAULT_CALENDAR,
    KST,
    NAVER_CHUSEOK_2025,
    BusinessCalendar,
    Moratorium,
    PenaltyKind,
    kst_date,
    require_aware,
    to_kst,
)
from consign_core.errors import ConfigurationError, NaiveDatetimeError, ValidationError
from tests.strategies import examples


NINE_TO_SIX = BusinessCalendar(work_start_hour=9, work_end_hour=18)
COURIER_OFF = BusinessCalendar(extra_closed_days={date(2025, 10, 2)})
CALENDARS = [
    DEFAULT_CALENDAR,
    NINE_TO_SIX,
    BusinessCalendar(
        extra_closed_days=[date(2025, 10, 2), date(2030, 2, 1)],
        extra_open_days=[date(2025, 10, 6), date(2027, 6, 5)],
        work_start_hour=8,
        work_end_hour=20,
    ),
    BusinessCalendar(weekend={6}),
]
TIMEZONES = [
    KST,
    timezone.utc,
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
]

dates = st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31))
instants = st.datetimes(
    min_value=datetime(2015, 1, 1),  # noqa: DTZ001 - bounds of an aware strategy
    max_value=datetime(2035, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from(TIMEZONES),
)
calendars = st.sampled_from(CALENDARS)


def kst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=KST)


# --------------------------------------------------------------------- module surface


def test_all_is_sorted_and_documented() -> None:
    # isort-style order (constants, classes, functions), as ruff's RUF022 enforces
    def kind(name: str) -> int:
        return 0 if name.isupper() else 1 if name[0].isupper() else 2

    assert cal.__all__ == sorted(cal.__all__, key=lambda name: (kind(name), name))
    for name in cal.__all__:
        assert getattr(cal, name).__doc__


def test_kst_is_a_fixed_plus_nine_offset() -> None:
    assert KST.utcoffset(None) == timedelta(hours=9)
    assert KST.tzname(None) == "KST"


def test_penalty_kind_values_are_stable_strings() -> None:
    assert [kind.value for kind in PenaltyKind] == [
        "late_shipment",
        "seller_fault_cancel",
        "stock_out_cancel",
        "other",
    ]
    assert PenaltyKind("stock_out_cancel") is PenaltyKind.STOCK_OUT_CANCEL
    assert not isinstance(PenaltyKind.OTHER, str)  # plain Enum: serialised by value, never as a str
    assert PenaltyKind.OTHER.value == "other"


# --------------------------------------------------------------------- aware datetimes


def test_require_aware_returns_an_aware_value_unchanged() -> None:
    value = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert require_aware(value, "x") is value


def test_require_aware_names_the_argument_of_a_naive_datetime() -> None:
    with pytest.raises(NaiveDatetimeError, match="confirmed_at must be a timezone-aware"):
        require_aware(datetime(2025, 1, 1), "confirmed_at")  # noqa: DTZ001


def test_require_aware_rejects_a_plain_date() -> None:
    with pytest.raises(ValidationError, match="when must be a timezone-aware datetime"):
        require_aware(date(2025, 1, 1), "when")  # type: ignore[arg-type]


def test_to_kst_converts_utc_to_korean_time() -> None:
    converted = to_kst(datetime(2025, 9, 30, 16, 0, tzinfo=timezone.utc))
    assert converted == kst(2025, 10, 1, 1, 0)
    assert converted.tzinfo is KST


def test_kst_date_uses_the_korean_calendar_day() -> None:
    assert kst_date(datetime(2025, 9, 30, 15, 30, tzinfo=timezone.utc)) == date(2025, 10, 1)
    assert kst_date(datetime(2025, 9, 30, 14, 59, tzinfo=timezone.utc)) == date(2025, 9, 30)


def test_to_kst_defaults_the_argument_name_to_value() -> None:
    with pytest.raises(NaiveDatetimeError, match=r"^value must be"):
        to_kst(datetime(2025, 1, 1))  # noqa: DTZ001


# --------------------------------------------------------------------- holidays


@pytest.mark.parametrize(
    "day", [date(2025, 10, d) for d in range(3, 10)], ids=lambda d: d.isoformat()
)
def test_chuseok_2025_days_are_not_business_days(day: date) -> None:
    assert not DEFAULT_CALENDAR.is_business_day(day)


def test_business_resumes_after_chuseok_2025() -> None:
    assert DEFAULT_CALENDAR.is_business_day(date(2025, 10, 2))
    assert DEFAULT_CALENDAR.is_business_day(date(2025, 10, 10))


def test_labor_day_is_public_only_from_2026() -> None:
    assert DEFAULT_CALENDAR.is_holiday(date(2026, 5, 1))
    assert not DEFAULT_CALENDAR.is_holiday(date(2025, 5, 1))
    assert DEFAULT_CALENDAR.is_business_day(date(2025, 5, 1))


def test_substitute_holiday_for_independence_movement_day_2025() -> None:
    assert DEFAULT_CALENDAR.is_holiday(date(2025, 3, 3))
    assert DEFAULT_CALENDAR.holiday_name(date(2025, 3, 3)) == "삼일절 대체 휴일"


def test_presidential_election_2025_is_a_holiday() -> None:
    assert DEFAULT_CALENDAR.is_holiday(date(2025, 6, 3))
    assert not DEFAULT_CALENDAR.is_business_day(date(2025, 6, 3))


def test_holiday_name_is_korean_and_none_on_ordinary_days() -> None:
    assert DEFAULT_CALENDAR.holiday_name(date(2025, 10, 6)) == "추석"
    assert DEFAULT_CALENDAR.holiday_name(date(2025, 10, 1)) is None


def test_weekends_are_not_business_days() -> None:
    assert not DEFAULT_CALENDAR.is_business_day(date(2025, 10, 4))  # Saturday
    assert BusinessCalendar(weekend={6}).is_business_day(date(2025, 9, 27))  # Saturday


# --------------------------------------------------------------------- business days


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 9, 29), date(2025, 10, 2)),
        (date(2025, 9, 30), date(2025, 10, 10)),
        (date(2026, 4, 29), date(2026, 5, 6)),
    ],
)
def test_add_three_business_days_matches_the_reference_examples(day: date, expected: date) -> None:
    assert DEFAULT_CALENDAR.add_business_days(day, 3) == expected


def test_add_zero_business_days_returns_the_day_even_on_a_holiday() -> None:
    assert DEFAULT_CALENDAR.add_business_days(date(2025, 10, 6), 0) == date(2025, 10, 6)


def test_add_negative_business_days_counts_backwards_over_chuseok() -> None:
    assert DEFAULT_CALENDAR.add_business_days(date(2025, 10, 10), -1) == date(2025, 10, 2)
    assert DEFAULT_CALENDAR.add_business_days(date(2025, 10, 13), -3) == date(2025, 10, 1)


def test_next_and_previous_business_day() -> None:
    assert DEFAULT_CALENDAR.next_business_day(date(2025, 10, 2)) == date(2025, 10, 10)
    assert DEFAULT_CALENDAR.next_business_day(date(2025, 10, 2), include_self=True) == date(
        2025, 10, 2
    )
    assert DEFAULT_CALENDAR.next_business_day(date(2025, 10, 4), include_self=True) == date(
        2025, 10, 10
    )
    assert DEFAULT_CALENDAR.previous_business_day(date(2025, 10, 10)) == date(2025, 10, 2)
    assert DEFAULT_CALENDAR.previous_business_day(date(2025, 10, 10), include_self=True) == date(
        2025, 10, 10
    )
    assert DEFAULT_CALENDAR.previous_business_day(date(2025, 10, 5), include_self=True) == date(
        2025, 10, 2
    )


def test_courier_non_pickup_day_shifts_the_deadline() -> None:
    assert COURIER_OFF.add_business_days(date(2025, 9, 29), 3) == date(2025, 10, 10)
    assert COURIER_OFF.ship_by(kst(2025, 9, 29, 10), business_days=3) == kst(2025, 10, 11)


def test_extra_open_day_overrides_a_holiday() -> None:
    works_chuseok = BusinessCalendar(extra_open_days={date(2025, 10, 6)})
    assert works_chuseok.is_holiday(date(2025, 10, 6))
    assert works_chuseok.is_business_day(date(2025, 10, 6))
    assert works_chuseok.add_business_days(date(2025, 9, 30), 3) == date(2025, 10, 6)


def test_business_days_between_counts_the_half_open_interval() -> None:
    assert DEFAULT_CALENDAR.business_days_between(date(2025, 9, 29), date(2025, 10, 2)) == 3
    assert DEFAULT_CALENDAR.business_days_between(date(2025, 9, 30), date(2025, 10, 10)) == 3
    assert DEFAULT_CALENDAR.business_days_between(date(2025, 10, 10), date(2025, 9, 30)) == -3
    assert DEFAULT_CALENDAR.business_days_between(date(2025, 10, 5), date(2025, 10, 5)) == 0


def test_business_days_between_crosses_years() -> None:
    # 2024-12-31 (Tue) .. 2025-01-02: 1/1 is a holiday, 1/2 is a business day
    assert DEFAULT_CALENDAR.business_days_between(date(2024, 12, 30), date(2025, 1, 2)) == 2
    assert DEFAULT_CALENDAR.business_days_between(date(2016, 1, 1), date(2034, 1, 1)) == sum(
        DEFAULT_CALENDAR.business_days_between(date(y, 1, 1), date(y + 1, 1, 1))
        for y in range(2016, 2034)
    )


def test_dates_outside_the_supported_range_are_rejected() -> None:
    with pytest.raises(ValidationError, match=r"day must fall within 1949-01-01\.\.2099-12-31"):
        DEFAULT_CALENDAR.is_business_day(date(2100, 1, 1))
    with pytest.raises(ValidationError, match="start must fall within"):
        DEFAULT_CALENDAR.business_days_between(date(1948, 12, 31), date(2025, 1, 1))
    with pytest.raises(ValidationError, match="n business days from day must fall within"):
        DEFAULT_CALENDAR.add_business_days(date(2099, 12, 1), 100)


def test_datetimes_are_rejected_where_a_date_is_expected() -> None:
    with pytest.raises(ValidationError, match=r"end must be a datetime\.date"):
        DEFAULT_CALENDAR.business_days_between(date(2025, 1, 1), kst(2025, 1, 5))
    with pytest.raises(ValidationError, match=r"day must be a datetime\.date"):
        DEFAULT_CALENDAR.is_business_day(kst(2025, 1, 5))


def test_non_integer_n_is_rejected() -> None:
    with pytest.raises(ValidationError, match="n must be an int"):
        DEFAULT_CALENDAR.add_business_days(date(2025, 1, 6), 1.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------- ship_by


def test_monday_payment_ships_by_thursday_midnight() -> None:
    deadline = DEFAULT_CALENDAR.ship_by(kst(2025, 9, 29, 10), business_days=3)
    assert deadline == kst(2025, 10, 3)  # Thursday 2025-10-02 24:00
    assert deadline.tzinfo is KST


def test_payment_after_cutoff_counts_from_the_next_business_day() -> None:
    deadline = DEFAULT_CALENDAR.ship_by(kst(2025, 9, 29, 19), business_days=3, cutoff_hour=15)
    assert deadline == kst(2025, 10, 11)


def test_payment_before_cutoff_counts_from_the_same_day() -> None:
    deadline = DEFAULT_CALENDAR.ship_by(kst(2025, 9, 29, 14, 59), business_days=3, cutoff_hour=15)
    assert deadline == kst(2025, 10, 3)


def test_weekend_payment_counts_from_monday() -> None:
    assert DEFAULT_CALENDAR.ship_by(kst(2025, 9, 27, 9), business_days=3) == kst(2025, 10, 3)


def test_holiday_payment_counts_from_the_next_business_day() -> None:
    # paid on Chuseok: day 0 is 10/10, +3 business days is Thursday 10/16
    assert DEFAULT_CALENDAR.ship_by(kst(2025, 10, 6, 9), business_days=3) == kst(2025, 10, 16)


def test_ship_by_uses_the_korean_date_of_a_utc_payment() -> None:
    paid = datetime(2025, 9, 28, 16, 30, tzinfo=timezone.utc)  # Monday 01:30 KST
    assert DEFAULT_CALENDAR.ship_by(paid, business_days=3) == kst(2025, 10, 3)


def test_zero_business_days_means_the_same_effective_day() -> None:
    assert DEFAULT_CALENDAR.ship_by(kst(2025, 9, 29, 10), business_days=0) == kst(2025, 9, 30)
    assert DEFAULT_CALENDAR.ship_by(kst(2025, 9, 29, 16), business_days=0, cutoff_hour=15) == kst(
        2025, 10, 1
    )


def test_ship_by_rejects_a_naive_payment_time() -> None:
    with pytest.raises(NaiveDatetimeError, match="paid_at must be a timezone-aware datetime"):
        DEFAULT_CALENDAR.ship_by(datetime(2025, 9, 29, 10), business_days=3)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"business_days": -1}, "business_days must be an int >= 0, got -1"),
        ({"business_days": 3, "cutoff_hour": 0}, "cutoff_hour must be None or an int in 1..24"),
        ({"business_days": 3, "cutoff_hour": 25}, "got 25"),
    ],
)
def test_ship_by_rejects_bad_arguments(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DEFAULT_CALENDAR.ship_by(kst(2025, 9, 29, 10), **kwargs)


# --------------------------------------------------------------------- business hours


def test_business_hours_count_only_the_window_of_business_days() -> None:
    # Thu 10/2 17:00 -> Fri 10/10 10:00 across Chuseok: 1 h + 1 h
    assert NINE_TO_SIX.business_hours_between(kst(2025, 10, 2, 17), kst(2025, 10, 10, 10)) == 2.0
    assert NINE_TO_SIX.business_hours_between(kst(2025, 10, 10, 10), kst(2025, 10, 2, 17)) == -2.0


def test_business_hours_with_the_default_window_count_whole_days() -> None:
    assert DEFAULT_CALENDAR.business_hours_between(kst(2025, 10, 2), kst(2025, 10, 11)) == 48.0


def test_business_hours_accept_mixed_time_zones() -> None:
    start = datetime(2025, 9, 29, 1, 0, tzinfo=timezone.utc)  # 10:00 KST
    assert NINE_TO_SIX.business_hours_between(start, kst(2025, 9, 29, 12)) == 2.0


def test_business_hours_reject_naive_instants_by_name() -> None:
    naive = datetime(2025, 9, 29, 10)  # noqa: DTZ001
    with pytest.raises(NaiveDatetimeError, match=r"^start must be a timezone-aware"):
        DEFAULT_CALENDAR.business_hours_between(naive, kst(2025, 9, 30))
    with pytest.raises(NaiveDatetimeError, match=r"^end must be a timezone-aware"):
        DEFAULT_CALENDAR.business_hours_between(kst(2025, 9, 30), naive)
    with pytest.raises(NaiveDatetimeError, match=r"^start must be a timezone-aware"):
        DEFAULT_CALENDAR.add_business_hours(naive, 1.0)


def test_add_business_hours_starts_counting_at_the_next_opening() -> None:
    # Saturday 2025-09-27 -> Monday 09:00 opening, plus 2 h
    assert NINE_TO_SIX.add_business_hours(kst(2025, 9, 27, 12), 2) == kst(2025, 9, 29, 11)
    # after closing on Thu 10/2 -> next opening is Fri 10/10 09:00
    assert NINE_TO_SIX.add_business_hours(kst(2025, 10, 2, 20), 1.5) == kst(2025, 10, 10, 10, 30)


def test_add_business_hours_ending_at_closing_returns_the_closing_time() -> None:
    assert NINE_TO_SIX.add_business_hours(kst(2025, 9, 29, 9), 9) == kst(2025, 9, 29, 18)
    assert DEFAULT_CALENDAR.add_business_hours(kst(2025, 10, 2, 12), 12) == kst(2025, 10, 3)


def test_add_zero_business_hours_returns_start_in_kst() -> None:
    start = datetime(2025, 10, 4, 3, tzinfo=timezone.utc)
    result = NINE_TO_SIX.add_business_hours(start, 0)
    assert result == start
    assert result.tzinfo is KST


@pytest.mark.parametrize("hours", [-1.0, float("nan"), float("inf")])
def test_add_business_hours_rejects_bad_amounts(hours: float) -> None:
    with pytest.raises(ValidationError, match="hours must be a finite number >= 0"):
        DEFAULT_CALENDAR.add_business_hours(kst(2025, 9, 29, 9), hours)


# --------------------------------------------------------------------- configuration


def test_user_collections_are_converted_to_immutable_ones() -> None:
    calendar = BusinessCalendar(
        extra_closed_days=[date(2025, 10, 2)],
        moratoria=[NAVER_CHUSEOK_2025],
        weekend=[6],
    )
    assert calendar.extra_closed_days == frozenset({date(2025, 10, 2)})
    assert calendar.moratoria == (NAVER_CHUSEOK_2025,)
    assert calendar.weekend == frozenset({6})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"work_end_hour": 0}, "work_end_hour must be in 1..24 and > work_start_hour"),
        ({"work_start_hour": 9, "work_end_hour": 9}, "got 9"),
        ({"work_end_hour": 25}, "work_end_hour must be an int in 0..24, got 25"),
        ({"work_start_hour": -1}, "work_start_hour must be an int in 0..24, got -1"),
        ({"work_start_hour": 24}, "work_start_hour must be in 0..23, got 24"),
        ({"weekend": [7]}, "weekend must contain weekday numbers 0..6"),
        ({"weekend": range(7)}, "weekend must leave at least one working weekday"),
        ({"extra_closed_days": [kst(2025, 1, 1)]}, "extra_closed_days must contain only"),
        ({"extra_open_days": date(2025, 1, 1)}, "expected an iterable of datetime.date"),
        ({"moratoria": ["naver"]}, "moratoria must contain only Moratorium"),
        (
            {"extra_closed_days": [date(2025, 1, 1)], "extra_open_days": [date(2025, 1, 1)]},
            "must not overlap, got 2025-01-01",
        ),
    ],
)
def test_invalid_calendar_settings_raise_configuration_error(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_work_end_hour_error_names_field_and_value() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        BusinessCalendar(work_end_hour=0)
    assert str(excinfo.value) == "work_end_hour must be in 1..24 and > work_start_hour (0), got 0"


def test_with_closed_days_returns_an_evolved_copy() -> None:
    base = BusinessCalendar(extra_open_days={date(2025, 10, 6)})
    closed = base.with_closed_days(date(2025, 10, 2), date(2025, 10, 6))
    assert closed.extra_closed_days == {date(2025, 10, 2), date(2025, 10, 6)}
    assert closed.extra_open_days == frozenset()
    assert not closed.is_business_day(date(2025, 10, 2))
    assert base.is_business_day(date(2025, 10, 2))
    assert base != closed


def test_calendars_compare_by_value_not_by_cache() -> None:
    used = BusinessCalendar(weekend={5, 6})
    used.is_business_day(date(2025, 1, 1))
    assert used == BusinessCalendar()
    assert hash(used) == hash(BusinessCalendar())
    assert "tables" not in repr(used)


# --------------------------------------------------------------------- moratoria


def test_naver_chuseok_2025_suspends_late_shipment_for_naver_only() -> None:
    day = date(2025, 10, 5)
    assert NAVER_CHUSEOK_2025.suspends(PenaltyKind.LATE_SHIPMENT, day, "naver")
    assert NAVER_CHUSEOK_2025.suspends(PenaltyKind.LATE_SHIPMENT, day, "Naver")
    assert not NAVER_CHUSEOK_2025.suspends(PenaltyKind.STOCK_OUT_CANCEL, day, "naver")
    assert not NAVER_CHUSEOK_2025.suspends(PenaltyKind.LATE_SHIPMENT, day, "coupang")
    assert not NAVER_CHUSEOK_2025.suspends(PenaltyKind.LATE_SHIPMENT, day)


def test_naver_chuseok_2025_covers_october_first_to_tenth_inclusive() -> None:
    kind = PenaltyKind.SELLER_FAULT_CANCEL
    assert NAVER_CHUSEOK_2025.suspends(kind, date(2025, 10, 1), "naver")
    assert NAVER_CHUSEOK_2025.suspends(kind, date(2025, 10, 10), "naver")
    assert not NAVER_CHUSEOK_2025.suspends(kind, date(2025, 9, 30), "naver")
    assert not NAVER_CHUSEOK_2025.suspends(kind, date(2025, 10, 11), "naver")
    assert NAVER_CHUSEOK_2025.suspended == frozenset(PenaltyKind) - {PenaltyKind.STOCK_OUT_CANCEL}
    assert "품절취소" in NAVER_CHUSEOK_2025.note


def test_market_wide_moratorium_applies_to_every_market() -> None:
    strike = Moratorium(
        start=date(2021, 6, 1), end=date(2021, 6, 30), suspended=["late_shipment"], note="파업"
    )
    assert strike.suspended == {PenaltyKind.LATE_SHIPMENT}
    assert strike.suspends(PenaltyKind.LATE_SHIPMENT, date(2021, 6, 15), "coupang")
    assert strike.suspends(PenaltyKind.LATE_SHIPMENT, date(2021, 6, 15))


def test_moratorium_end_before_start_raises() -> None:
    with pytest.raises(ValidationError, match="end must be on or after start") as excinfo:
        Moratorium(start=date(2025, 10, 10), end=date(2025, 10, 1), suspended=["other"])
    assert excinfo.value.field == "end"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"suspended": ["late"]}, "suspended must contain only PenaltyKind values"),
        ({"suspended": []}, "suspended must name at least one PenaltyKind"),
        ({"suspended": 3}, "suspended must be an iterable of PenaltyKind"),
        ({"suspended": ["other"], "market": " "}, "market must be None"),
        ({"suspended": ["other"], "start": kst(2025, 1, 1)}, r"start must be a datetime\.date"),
    ],
)
def test_invalid_moratoria_raise_validation_error(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"start": date(2025, 1, 1), "end": date(2025, 1, 2)}
    arguments.update(kwargs)
    with pytest.raises(ValidationError, match=message):
        Moratorium(**arguments)  # type: ignore[arg-type]


def test_calendar_reports_suspended_penalties_by_korean_date() -> None:
    calendar = DEFAULT_CALENDAR.with_moratoria(NAVER_CHUSEOK_2025)
    late = PenaltyKind.LATE_SHIPMENT
    # 2025-09-30 15:30 UTC is 2025-10-01 00:30 KST
    assert calendar.is_penalty_suspended(
        late, datetime(2025, 9, 30, 15, 30, tzinfo=timezone.utc), "naver"
    )
    assert not calendar.is_penalty_suspended(late, kst(2025, 9, 30, 23, 59), "naver")
    assert not calendar.is_penalty_suspended(late, kst(2025, 10, 13, 9), "naver")
    assert not calendar.is_penalty_suspended(
        PenaltyKind.STOCK_OUT_CANCEL, kst(2025, 10, 5), "naver"
    )
    assert calendar.moratoria_on(date(2025, 10, 5), "naver") == (NAVER_CHUSEOK_2025,)
    assert calendar.moratoria_on(date(2025, 10, 5), "coupang") == ()
    assert DEFAULT_CALENDAR.moratoria == ()


def test_is_penalty_suspended_rejects_a_naive_instant() -> None:
    with pytest.raises(NaiveDatetimeError, match=r"^at must be a timezone-aware"):
        DEFAULT_CALENDAR.is_penalty_suspended(
            PenaltyKind.OTHER,
            datetime(2025, 10, 5),  # noqa: DTZ001
        )


def test_a_moratorium_asked_about_a_datetime_says_to_pass_a_date() -> None:
    with pytest.raises(ValidationError, match=r"day must be a datetime\.date") as info:
        NAVER_CHUSEOK_2025.covers(kst(2025, 10, 2, 9), "naver")  # a datetime is a date to mypy
    assert info.value.field == "day"


def test_a_moratorium_takes_penalty_kinds_as_strings_as_its_constructor_does() -> None:
    day = date(2025, 10, 2)
    assert NAVER_CHUSEOK_2025.suspends("late_shipment", day, "naver")
    assert not NAVER_CHUSEOK_2025.suspends("stock_out_cancel", day, "naver")
    assert NAVER_CHUSEOK_2025.suspends(PenaltyKind.LATE_SHIPMENT, day, "naver")
    at = kst(2025, 10, 2, 9)
    assert DEFAULT_CALENDAR.with_moratoria(NAVER_CHUSEOK_2025).is_penalty_suspended(
        "late_shipment", at, "naver"
    )
    for calendar in (DEFAULT_CALENDAR, DEFAULT_CALENDAR.with_moratoria(NAVER_CHUSEOK_2025)):
        with pytest.raises(ValidationError, match="kind must be a PenaltyKind") as info:
            calendar.is_penalty_suspended("late shipment", at, "naver")  # a typo: not False
        assert (info.value.field, info.value.value) == ("kind", "late shipment")


# --------------------------------------------------------------------- properties

KR_PUBLIC = holidays.country_holidays("KR", categories=("public",), years=range(2014, 2038))


@settings(max_examples=examples(150))
@given(day=dates, n=st.integers(min_value=-60, max_value=60))
def test_add_business_days_agrees_with_holidays_nth_working_day(day: date, n: int) -> None:
    expected = day if n == 0 else KR_PUBLIC.get_nth_working_day(day, n)
    assert DEFAULT_CALENDAR.add_business_days(day, n) == expected


@settings(max_examples=examples(150))
@given(calendar=calendars, day=dates, n=st.integers(min_value=1, max_value=400))
def test_adding_n_business_days_lands_on_a_business_day_n_days_away(
    calendar: BusinessCalendar, day: date, n: int
) -> None:
    result = calendar.add_business_days(day, n)
    assert calendar.is_business_day(result)
    assert calendar.business_days_between(day, result) == n
    assert calendar.business_days_between(result, day) == -n


@settings(max_examples=examples(100))
@given(calendar=calendars, day=dates, n=st.integers(min_value=-300, max_value=300))
def test_add_business_days_is_strictly_monotone_in_n(
    calendar: BusinessCalendar, day: date, n: int
) -> None:
    assert calendar.add_business_days(day, n) < calendar.add_business_days(day, n + 1)


@settings(max_examples=examples(60))
@given(calendar=calendars, start=dates, length=st.integers(min_value=0, max_value=60))
def test_business_days_between_matches_a_day_by_day_count(
    calendar: BusinessCalendar, start: date, length: int
) -> None:
    end = start + timedelta(days=length)
    expected = sum(
        calendar.is_business_day(start + timedelta(days=k)) for k in range(1, length + 1)
    )
    assert calendar.business_days_between(start, end) == expected


@settings(max_examples=examples(150))
@given(calendar=calendars, a=instants, b=instants)
def test_business_hours_are_antisymmetric_and_non_negative_forward(
    calendar: BusinessCalendar, a: datetime, b: datetime
) -> None:
    forward = calendar.business_hours_between(a, b)
    assert forward == -calendar.business_hours_between(b, a)
    if b >= a:
        assert forward >= 0
        assert forward <= (b - a).total_seconds() / 3600 + 1e-9


@settings(max_examples=examples(150))
@given(calendar=calendars, a=instants, b=instants, c=instants)
def test_business_hours_are_additive(
    calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    total = calendar.business_hours_between(a, b) + calendar.business_hours_between(b, c)
    assert calendar.business_hours_between(a, c) == pytest.approx(total, abs=1e-6)


@settings(max_examples=examples(150))
@given(
    calendar=calendars,
    start=instants,
    hours=st.floats(min_value=0, max_value=3000, allow_nan=False, allow_infinity=False),
)
def test_add_business_hours_round_trips_with_business_hours_between(
    calendar: BusinessCalendar, start: datetime, hours: float
) -> None:
    end = calendar.add_business_hours(start, hours)
    assert end.tzinfo is KST
    assert end >= start
    assert calendar.business_hours_between(start, end) == pytest.approx(hours, abs=1e-6)


@settings(max_examples=examples(100))
@given(day=dates, t1=st.times(), t2=st.times())
def test_default_window_counts_elapsed_hours_within_one_business_day(
    day: date, t1: time, t2: time
) -> None:
    day = DEFAULT_CALENDAR.next_business_day(day, include_self=True)
    a = datetime.combine(day, t1, tzinfo=KST)
    b = datetime.combine(day, t2, tzinfo=KST)
    elapsed = (b - a).total_seconds() / 3600
    assert DEFAULT_CALENDAR.business_hours_between(a, b) == pytest.approx(elapsed, abs=1e-9)


@settings(max_examples=examples(80))
@given(
    paid=instants,
    business_days=st.integers(min_value=0, max_value=10),
    cutoff=st.none() | st.integers(min_value=1, max_value=24),
)
def test_ship_by_is_a_kst_midnight_after_a_business_day_after_payment(
    paid: datetime, business_days: int, cutoff: int | None
) -> None:
    deadline = DEFAULT_CALENDAR.ship_by(paid, business_days=business_days, cutoff_hour=cutoff)
    assert deadline.tzinfo is KST
    assert deadline.time() == time(0)
    last_day = deadline.date() - timedelta(days=1)
    assert DEFAULT_CALENDAR.is_business_day(last_day)
    assert deadline > paid
    paid_day = kst_date(paid)
    counted = DEFAULT_CALENDAR.business_days_between(paid_day, last_day)
    assert counted in (business_days, business_days + 1)
