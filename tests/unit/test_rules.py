"""Market rule profiles: built-ins, validation, overrides, JSON/TOML round trips."""

from __future__ import annotations

import json
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consign_core.domain.calendar import (
    DEFAULT_CALENDAR,
    KST,
    NAVER_CHUSEOK_2025,
    Moratorium,
    PenaltyKind,
)
from consign_core.domain.model import MarketOrder, OrderLine, OrderRef
from consign_core.domain.rules import (
    AMAZON,
    COUPANG,
    EBAY,
    NAVER,
    Combine,
    Comparison,
    Condition,
    CountedEvent,
    CountUnit,
    Denominator,
    LateBooking,
    MetricQuantity,
    MetricSpec,
    MetricStatus,
    PointWeight,
    RuleProfile,
    ShipByRule,
    Threshold,
    Window,
    WindowKind,
    builtin_profiles,
    dump_profile,
    get_profile,
    load_profile,
    parse_profile,
)
from consign_core.domain.serialization import structure, unstructure
from consign_core.errors import ConfigurationError, SerializationError, ValidationError
from tests.unit.test_cancel_rate_differential import profiles


BUILTINS = [COUPANG, NAVER, AMAZON, EBAY]


def group_order(quantity: int = 20, lines: int = 1) -> MarketOrder:
    paid = datetime(2025, 9, 29, 10, tzinfo=KST)
    return MarketOrder(
        ref=OrderRef(market="coupang", order_id="G1"),
        lines=tuple(
            OrderLine(sku=f"S{i}", quantity=quantity, unit_price=9_900) for i in range(lines)
        ),
        paid_at=paid,
        ship_by=COUPANG.ship_by_deadline(paid),
    )


# --------------------------------------------------------------------------- built-ins


def test_builtin_profiles_are_keyed_by_market_short_name() -> None:
    profiles_by_name = builtin_profiles()
    assert sorted(profiles_by_name) == ["amazon", "coupang", "ebay", "naver"]
    assert all(name == p.market for name, p in profiles_by_name.items())
    profiles_by_name.clear()  # a fresh dict each call
    assert len(builtin_profiles()) == 4


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("coupang", COUPANG),
        ("NAVER", NAVER),
        (" amazon ", AMAZON),
        ("ebay", EBAY),
        ("smartstore", NAVER),
    ],
)
def test_get_profile_is_case_insensitive_and_knows_aliases(
    name: str, expected: RuleProfile
) -> None:
    assert get_profile(name) is expected


def test_get_profile_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="gmarket") as info:
        get_profile("gmarket")
    assert "amazon, coupang, ebay, naver" in str(info.value)


@pytest.mark.parametrize("profile", BUILTINS, ids=lambda p: p.market)
def test_every_builtin_cites_sources_in_profile_and_docstring(profile: RuleProfile) -> None:
    assert profile.sources
    assert all(source.startswith("[") for source in profile.sources)
    for metric in profile.metrics:
        assert metric.notes


def test_unconfirmed_figures_of_the_reference_are_flagged() -> None:
    # Coupang: current caution/warning cut-offs are UNCONFIRMED (reference section 5)
    assert COUPANG.is_unconfirmed("metrics.order_fulfilment.warning")
    assert COUPANG.is_unconfirmed("metrics.order_fulfilment.sanction")
    assert COUPANG.is_unconfirmed("metrics.on_time_shipment.warning")
    # Naver: the ratio denominator and the "+3 points" timing are UNCONFIRMED
    assert NAVER.is_unconfirmed("metrics.penalty_points.denominator")
    assert NAVER.is_unconfirmed("ship_by.long_late_business_days")
    # Amazon's 2.5% / 4% targets are documented: not flagged
    assert not AMAZON.is_unconfirmed("metrics.cancellation_rate.sanction")
    assert AMAZON.is_unconfirmed("ship_by.business_days")  # a placeholder handling time
    # a flag on a parent path covers its fields
    assert COUPANG.is_unconfirmed("metrics.order_fulfilment")


def test_naver_sanction_is_ten_points_and_forty_percent_over_thirty_days() -> None:
    metric = NAVER.metric("penalty_points")
    assert metric.window == Window.rolling_days(30)
    assert metric.sanction == Threshold.all_of(
        Condition.count_at_least(10), Condition.rate_at_least(0.4)
    )
    assert metric.points_for(CountedEvent.LATE_SHIPMENT) == 1
    assert metric.points_for(CountedEvent.STOCK_OUT_CANCEL) == 2
    assert metric.points_for(CountedEvent.SELLER_FAULT_CANCEL) == 0
    assert NAVER.moratoria == (NAVER_CHUSEOK_2025,)
    assert NAVER.ship_by.late_booking is LateBooking.NEXT_BUSINESS_DAY


def test_coupang_counts_stock_outs_whoever_pressed_cancel_and_others_do_not() -> None:
    assert COUPANG.stock_out_counts_any_fault
    assert not NAVER.stock_out_counts_any_fault
    assert not AMAZON.stock_out_counts_any_fault
    assert not EBAY.stock_out_counts_any_fault


def test_ebay_counts_transactions_that_is_order_lines() -> None:
    assert EBAY.metric("transaction_defect_rate").unit is CountUnit.LINE
    warning = EBAY.metric("transaction_defect_rate").warning
    assert warning is not None
    assert warning.combine is Combine.ANY


def test_naver_ship_by_deadline_is_three_business_days_to_midnight() -> None:
    monday = datetime(2025, 9, 29, 10, tzinfo=KST)
    assert NAVER.ship_by_deadline(monday) == datetime(2025, 10, 3, tzinfo=KST)  # Thu 24:00
    tuesday = datetime(2025, 9, 30, 10, tzinfo=KST)  # Chuseok holidays are skipped
    assert NAVER.ship_by_deadline(tuesday, DEFAULT_CALENDAR) == datetime(2025, 10, 11, tzinfo=KST)


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("unit", "expected"), [(CountUnit.ORDER, 1), (CountUnit.LINE, 2), (CountUnit.UNIT, 40)]
)
def test_a_group_order_weighs_one_or_its_lines_or_its_units(unit: CountUnit, expected: int) -> None:
    assert unit.amount(group_order(quantity=20, lines=2)) == expected


# --------------------------------------------------------------------------- conditions


def test_condition_values_compare_exactly_as_written() -> None:
    assert Condition.rate_at_least(0.4).exact_value() == pytest.approx(0.4)
    assert str(Condition.rate_at_least(0.4).exact_value()) == "2/5"
    assert str(Condition.success_rate_below(0.99).exact_value()) == "99/100"


def test_conditions_describe_themselves() -> None:
    naver = NAVER.metric("penalty_points").sanction
    assert naver is not None
    assert naver.describe() == "count >= 10 and rate >= 40%"
    assert Condition.success_rate_below(0.99).describe() == "success rate < 99%"
    assert Window.rolling_days(7).describe() == "7 days"
    assert Window.calendar_months(1).describe() == "calendar month"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (
            {"quantity": MetricQuantity.RATE, "comparison": Comparison.BELOW, "value": 0.1},
            "comparison",
        ),
        (
            {"quantity": MetricQuantity.SUCCESS_RATE, "comparison": Comparison.ABOVE, "value": 0.9},
            "comparison",
        ),
        (
            {"quantity": MetricQuantity.RATE, "comparison": Comparison.AT_LEAST, "value": 2.5},
            "value",
        ),
        (
            {"quantity": MetricQuantity.RATE, "comparison": Comparison.AT_LEAST, "value": 0.0},
            "value",
        ),
        (
            {"quantity": MetricQuantity.COUNT, "comparison": Comparison.AT_LEAST, "value": 0},
            "value",
        ),
        (
            {"quantity": MetricQuantity.SUCCESS_RATE, "comparison": Comparison.BELOW, "value": 0.0},
            "value",
        ),
        (
            {
                "quantity": MetricQuantity.COUNT,
                "comparison": Comparison.ABOVE,
                "value": float("nan"),
            },
            "value",
        ),
        ({"quantity": "rate", "comparison": Comparison.ABOVE, "value": 0.1}, "quantity"),
    ],
)
def test_invalid_conditions_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Condition(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_rate_thresholds_need_a_denominator() -> None:
    with pytest.raises(ValidationError, match="denominator") as info:
        MetricSpec(
            name="bad",
            title="bad",
            counts=(PointWeight(event=CountedEvent.STOCK_OUT_CANCEL),),
            window=Window.rolling_days(7),
            sanction=Threshold.all_of(Condition.rate_at_least(0.1)),
        )
    assert info.value.field == "denominator"


def test_a_metric_counts_each_event_kind_once() -> None:
    with pytest.raises(ValidationError, match="stock_out_cancel"):
        MetricSpec(
            name="dup",
            title="dup",
            counts=(
                PointWeight(event=CountedEvent.STOCK_OUT_CANCEL),
                PointWeight(event=CountedEvent.STOCK_OUT_CANCEL, points=2),
            ),
            window=Window.rolling_days(7),
        )


@pytest.mark.parametrize("name", ["Order Fulfilment", "", "1st", "a-b"])
def test_metric_names_are_identifiers(name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        attrs.evolve(COUPANG.metrics[0], name=name)


def test_profile_metric_names_are_unique() -> None:
    with pytest.raises(ValidationError, match="unique"):
        attrs.evolve(COUPANG, metrics=(COUPANG.metrics[0], COUPANG.metrics[0]))


def test_a_typo_in_an_unconfirmed_path_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"metrics\.order_fulfilmnet\.warning"):
        attrs.evolve(COUPANG, unconfirmed=("metrics.order_fulfilmnet.warning",))
    with pytest.raises(ValidationError, match=r"ship_by\.cut_off"):
        attrs.evolve(COUPANG, unconfirmed=("ship_by.cut_off",))


def test_unknown_metric_lookup_lists_the_names() -> None:
    with pytest.raises(ConfigurationError, match="order_fulfilment, on_time_shipment"):
        COUPANG.metric("cancel_rate")


def test_headline_quantity_follows_the_thresholds() -> None:
    assert COUPANG.metric("order_fulfilment").headline is MetricQuantity.SUCCESS_RATE
    assert AMAZON.metric("cancellation_rate").headline is MetricQuantity.RATE
    count_only = MetricSpec(
        name="points",
        title="points",
        counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
        window=Window.rolling_days(7),
        sanction=Threshold.all_of(Condition.count_at_least(3)),
    )
    assert count_only.headline is MetricQuantity.COUNT


def test_status_severity_orders_the_levels() -> None:
    assert [s.severity for s in MetricStatus] == [0, 1, 2]


@pytest.mark.parametrize(
    ("field", "value"),
    [("window", 7), ("warning", "99%"), ("sanction", 0.95)],
)
def test_a_metric_field_of_the_wrong_type_is_a_validation_error_naming_it(
    field: str, value: object
) -> None:
    spec = COUPANG.metric("order_fulfilment")
    with pytest.raises(ValidationError, match=rf"MetricSpec\.{field} must be") as info:
        attrs.evolve(spec, **{field: value})  # type: ignore[arg-type]
    assert (info.value.field, info.value.value) == (field, value)


def test_a_ship_by_rule_of_the_wrong_type_is_a_validation_error_naming_it() -> None:
    with pytest.raises(ValidationError, match=r"RuleProfile\.ship_by must be") as info:
        attrs.evolve(COUPANG, ship_by=2)  # type: ignore[arg-type]
    assert (info.value.field, info.value.value) == ("ship_by", 2)


# --------------------------------------------------------------------------- overrides


def test_overriding_an_unconfirmed_figure_clears_its_flag_only() -> None:
    mine = COUPANG.with_metric(
        "order_fulfilment", warning=Threshold.all_of(Condition.success_rate_below(0.97))
    )
    assert not mine.is_unconfirmed("metrics.order_fulfilment.warning")
    assert mine.is_unconfirmed("metrics.order_fulfilment.sanction")
    warning = mine.metric("order_fulfilment").warning
    assert warning is not None
    assert warning.conditions[0].value == 0.97
    assert COUPANG.is_unconfirmed("metrics.order_fulfilment.warning")  # built-in untouched


def test_with_ship_by_and_confirm_clear_flags() -> None:
    mine = NAVER.with_ship_by(cutoff_hour=15)
    assert mine.ship_by.cutoff_hour == 15
    assert not mine.is_unconfirmed("ship_by.cutoff_hour")
    assert mine.is_unconfirmed("ship_by.long_late_business_days")
    assert not NAVER.confirm("metrics.penalty_points").is_unconfirmed(
        "metrics.penalty_points.denominator"
    )


def test_with_moratoria_appends() -> None:
    strike = Moratorium(
        start=date(2021, 12, 28),
        end=date(2022, 3, 2),
        suspended=frozenset({PenaltyKind.LATE_SHIPMENT}),
        market="coupang",
        note="courier strike [C10]",
    )
    assert COUPANG.with_moratoria(strike).moratoria == (strike,)


def test_overriding_an_unknown_metric_field_names_it_and_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"'threshold'.*warning"):
        COUPANG.with_metric("order_fulfilment", threshold=None)


def test_overriding_an_unknown_ship_by_field_names_it_and_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"'days'.*business_days"):
        COUPANG.with_ship_by(days=2)


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("profile", BUILTINS, ids=lambda p: p.market)
def test_builtins_round_trip_exactly_through_the_converter(profile: RuleProfile) -> None:
    data = unstructure(profile)
    json.dumps(data)  # plain JSON data
    assert structure(data, RuleProfile) == profile


@pytest.mark.parametrize("fmt", ["json", "toml"])
@pytest.mark.parametrize("profile", BUILTINS, ids=lambda p: p.market)
def test_builtins_round_trip_through_json_and_toml_text(profile: RuleProfile, fmt: str) -> None:
    text = dump_profile(profile, fmt)
    assert parse_profile(text) == profile
    assert parse_profile(text, fmt) == profile
    assert load_profile(text) == profile


@given(profiles())
def test_random_profiles_round_trip_through_json_and_toml(profile: RuleProfile) -> None:
    back: RuleProfile = structure(unstructure(profile), RuleProfile)
    assert back == profile
    assert parse_profile(dump_profile(profile, "json")) == profile
    assert parse_profile(dump_profile(profile, "toml")) == profile


def test_load_profile_reads_files_by_suffix(tmp_path: Path) -> None:
    for fmt in ("json", "toml"):
        path = tmp_path / f"naver.{fmt}"
        path.write_text(dump_profile(NAVER, fmt), encoding="utf-8")
        assert load_profile(path) == NAVER
        assert load_profile(str(path)) == NAVER
    odd = tmp_path / "naver.profile"
    odd.write_text(dump_profile(NAVER, "toml"), encoding="utf-8")
    assert load_profile(odd) == NAVER  # sniffed


def test_toml_output_is_readable_tables() -> None:
    text = dump_profile(NAVER, "toml")
    assert '[[metrics]]\nname = "penalty_points"' in text
    assert "[[metrics.sanction.conditions]]" in text
    assert 'late_booking = "next_business_day"' in text
    assert "null" not in text


def test_an_unknown_key_in_a_profile_file_is_named(tmp_path: Path) -> None:
    data = unstructure(COUPANG)
    data["metrics"][0]["treshold"] = 0.5
    with pytest.raises(ConfigurationError, match="treshold"):
        parse_profile(json.dumps(data))
    toml_text = dump_profile(COUPANG, "toml").replace(
        "[[metrics]]\n", "[[metrics]]\nwindow_days = 7\n", 1
    )
    path = tmp_path / "coupang.toml"
    path.write_text(toml_text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="window_days"):
        load_profile(path)


def test_a_bad_value_in_a_profile_file_is_named() -> None:
    data = unstructure(NAVER)
    data["metrics"][0]["window"]["length"] = 0
    with pytest.raises(ConfigurationError, match="length"):
        parse_profile(json.dumps(data))
    data = unstructure(NAVER)
    data["metrics"][0]["unit"] = "box"
    with pytest.raises(ConfigurationError, match="unit"):
        parse_profile(json.dumps(data))


def test_a_profile_flag_written_as_the_string_false_is_an_error_not_true() -> None:
    data = json.loads(dump_profile(COUPANG))
    assert data["stock_out_counts_any_fault"] is True
    data["stock_out_counts_any_fault"] = "false"  # meant False; bool("false") is True
    with pytest.raises(ConfigurationError, match=r"expected true or false, got 'false'"):
        parse_profile(json.dumps(data))


def test_structure_reports_unknown_keys_as_serialization_errors() -> None:
    data = unstructure(AMAZON)
    data["colour"] = "blue"
    with pytest.raises(SerializationError, match="colour"):
        structure(data, RuleProfile)


def test_syntax_errors_and_missing_files_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        parse_profile("{ nope", "json")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        parse_profile("market = = 1\n", "toml")
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_profile(tmp_path / "missing.toml")
    with pytest.raises(ConfigurationError, match="format"):
        dump_profile(NAVER, "yaml")


def test_a_hand_written_toml_profile_with_a_calendar_month_window() -> None:
    text = """
market = "auction"
display_name = "Auction"
unconfirmed = ["metrics.cancel_rate.sanction"]

[ship_by]
business_days = 3

[[metrics]]
name = "cancel_rate"
title = "sale cancel rate"
denominator = "orders_paid"
[metrics.window]
kind = "calendar_month"
length = 1
[[metrics.counts]]
event = "stock_out_cancel"
[[metrics.counts]]
event = "seller_fault_cancel"
[metrics.sanction]
conditions = [{quantity = "rate", comparison = "at_least", value = 0.05}]
"""
    profile = load_profile(text)
    metric = profile.metric("cancel_rate")
    assert metric.window.kind is WindowKind.CALENDAR_MONTH
    assert metric.denominator is Denominator.ORDERS_PAID
    assert metric.unit is CountUnit.ORDER
    assert profile.ship_by == ShipByRule(business_days=3)
    assert profile.is_unconfirmed("metrics.cancel_rate.sanction")
    assert parse_profile(dump_profile(profile, "toml")) == profile


@given(st.text(max_size=30))
def test_toml_strings_survive_any_text(note: str) -> None:
    profile = attrs.evolve(NAVER, notes=note, display_name=note if note.strip() else "x")
    assert parse_profile(dump_profile(profile, "toml"), "toml") == profile


def test_reading_toml_on_python_3_10_without_tomli_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> object:
        if name in {"tomllib", "tomli"}:
            raise ModuleNotFoundError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(ConfigurationError, match="tomli"):
        parse_profile(dump_profile(NAVER, "toml"), "toml")
    assert parse_profile(dump_profile(NAVER, "json")) == NAVER  # JSON needs nothing


# --------------------------------------------------------------------------- minimum volume


def _floored(minimum: object, denominator: Denominator = Denominator.ORDERS_PAID) -> MetricSpec:
    return MetricSpec(
        name="fulfilment",
        title="fulfilment",
        counts=(PointWeight(event=CountedEvent.STOCK_OUT_CANCEL),),
        denominator=denominator,
        window=Window.rolling_days(7),
        warning=None
        if denominator is Denominator.NONE
        else Threshold.all_of(Condition.success_rate_below(0.99)),
        minimum_volume=minimum,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("minimum", [0, -3, True, "20", 2.5])
def test_a_minimum_volume_must_be_a_whole_number_of_at_least_one(minimum: object) -> None:
    with pytest.raises(ValidationError) as info:
        _floored(minimum)
    assert info.value.field == "minimum_volume"
    assert info.value.value == minimum


def test_a_minimum_volume_needs_a_denominator_to_count() -> None:
    with pytest.raises(ValidationError, match="needs a denominator") as info:
        _floored(5, Denominator.NONE)
    assert (info.value.field, info.value.value) == ("minimum_volume", 5)
    assert _floored(None, Denominator.NONE).minimum_volume is None


def test_coupang_minimum_volume_is_flagged_unconfirmed_and_can_be_overridden() -> None:
    for metric in COUPANG.metrics:
        assert metric.minimum_volume is not None
        assert COUPANG.is_unconfirmed(f"metrics.{metric.name}.minimum_volume")
        assert "minimum" in metric.notes.casefold()
    mine = COUPANG.with_metric("order_fulfilment", minimum_volume=50)
    assert mine.metric("order_fulfilment").minimum_volume == 50
    assert not mine.is_unconfirmed("metrics.order_fulfilment.minimum_volume")
    assert mine.is_unconfirmed("metrics.on_time_shipment.minimum_volume")
    none = COUPANG.with_metric("order_fulfilment", minimum_volume=None)
    assert none.metric("order_fulfilment").minimum_volume is None


@pytest.mark.parametrize("profile", [NAVER, AMAZON, EBAY], ids=lambda p: p.market)
def test_markets_whose_minimum_counts_are_in_their_thresholds_have_no_volume_floor(
    profile: RuleProfile,
) -> None:
    assert all(metric.minimum_volume is None for metric in profile.metrics)
    assert any("minimum" in metric.notes.casefold() for metric in profile.metrics)


def test_the_coupang_floor_is_the_least_volume_where_one_cancel_is_not_a_sanction() -> None:
    """The reason given for the UNCONFIRMED choice holds for the profile's own threshold."""
    metric = COUPANG.metric("order_fulfilment")
    floor = metric.minimum_volume
    assert floor is not None
    assert metric.sanction is not None
    limit = metric.sanction.conditions[0].exact_value()  # success rate below this: sanction
    assert 1 - Fraction(1, floor) >= limit  # one cancel at the floor is not below it
    assert 1 - Fraction(1, floor - 1) < limit  # one order fewer, and it would be


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_a_minimum_volume_round_trips_through_profile_files(fmt: str) -> None:
    for minimum in (1, 20, None):
        profile = COUPANG.with_metric("order_fulfilment", minimum_volume=minimum)
        assert parse_profile(dump_profile(profile, fmt), fmt) == profile
    old = json.loads(dump_profile(COUPANG, "json"))
    for metric in old["metrics"]:
        del metric["minimum_volume"]  # a file written before the field existed
    loaded = parse_profile(json.dumps(old), "json")
    assert all(metric.minimum_volume is None for metric in loaded.metrics)


def test_a_metric_sums_points_when_a_weight_is_not_one() -> None:
    assert NAVER.metric("penalty_points").sums_points
    assert not any(metric.sums_points for metric in COUPANG.metrics)
    one = attrs.evolve(
        NAVER.metric("penalty_points"), counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),)
    )
    assert not one.sums_points
