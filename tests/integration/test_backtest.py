"""The order-log CSV, the counterfactual backtest, prediction quality, rates and trust tables."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST
from consign_core.domain.model import CancelFault, CancelReason
from consign_core.domain.timing import DEFAULT_POLICY_NAMES
from consign_core.errors import ConfigurationError, SerializationError
from consign_core.lab._prediction import _online_predictions as online_predictions
from consign_core.lab._runner import DEFAULT_CADENCE_MINUTES
from consign_core.lab.backtest import (
    COLUMNS,
    REQUIRED_COLUMNS,
    LoggedOutcome,
    OrderLogError,
    OrderLogRow,
    backtest,
    format_order_log,
    log_markets,
    parse_order_log,
    prediction_quality,
    rates_report,
    read_order_log,
    rows_from_records,
    truncate_log,
    trust_table,
    write_order_log,
)
from consign_core.lab.sim import get_scenario, simulate_log


SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data" / "orders.csv"
HEADER = ",".join(REQUIRED_COLUMNS)
T0 = datetime(2025, 9, 29, 10, 0, tzinfo=KST)


@pytest.fixture(scope="module")
def sample_rows() -> list[OrderLogRow]:
    return read_order_log(SAMPLE)


def line(order_id: str = "A1", **cells: str) -> str:
    values = {
        "order_id": order_id,
        "supplier_id": "S1",
        "quantity": "1",
        "paid_at": "2025-09-29T10:00:00+09:00",
        "ship_by": "2025-10-01T00:00:00+09:00",
        "outcome": "invoiced",
        "outcome_at": "2025-09-30T09:00:00+09:00",
    }
    values.update(cells)
    return ",".join(values[c] for c in REQUIRED_COLUMNS)


# ---------------------------------------------------------------------------- the file format


def test_sample_file_reads_every_row(sample_rows: list[OrderLogRow]) -> None:
    data_lines = [x for x in SAMPLE.read_text(encoding="utf-8").splitlines()[1:] if x.strip()]
    assert len(sample_rows) == len(data_lines) >= 200
    outcomes = {r.outcome for r in sample_rows}
    assert outcomes == set(LoggedOutcome)


def test_minimal_log_uses_defaults_for_optional_columns() -> None:
    [row] = parse_order_log(f"{HEADER}\n{line()}\n")
    assert row.market is None
    assert row.sku is None
    assert row.unit_price is None
    assert row.outcome is LoggedOutcome.INVOICED
    assert row.paid_at == T0


def test_z_times_and_bom_and_blank_lines_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    text = f"{HEADER}\n\n{line(paid_at='2025-09-29T01:00:00Z')}\n\n"
    path.write_text("\ufeff" + text, encoding="utf-8")
    [row] = read_order_log(path)
    assert row.paid_at == T0


@pytest.mark.parametrize(
    ("text", "lineno", "field", "words"),
    [
        (f"{HEADER}\n{line(paid_at='2025-09-29 10:00')}\n", 2, "paid_at", "UTC offset"),
        (f"{HEADER}\n{line(paid_at='yesterday')}\n", 2, "paid_at", "ISO 8601"),
        (f"{HEADER}\n{line(quantity='two')}\n", 2, "quantity", "whole number"),
        (f"{HEADER}\n{line(quantity='0')}\n", 2, "quantity", ">= 1"),
        (f"{HEADER}\n{line(outcome='lost')}\n", 2, "outcome", "invoiced"),
        (f"{HEADER}\n{line(outcome_at='')}\n", 2, "outcome_at", "a time when outcome"),
        (f"{HEADER}\n{line(outcome='open')}\n", 2, "outcome_at", "empty when outcome"),
        (
            f"{HEADER}\n{line(ship_by='2025-09-28T00:00:00+09:00')}\n",
            2,
            "ship_by",
            "at or after paid_at",
        ),
        (f"{HEADER}\n{line(order_id='')}\n", 2, "order_id", "required"),
        (f"{HEADER}\n{line()}\n{line()}\n", 3, "order_id", "already appears on line 2"),
        (f"{HEADER}\n{line()}\n\n{line('A2', supplier_id='')}\n", 4, "supplier_id", "required"),
        (f"{HEADER}\n{line()},extra\n", 2, None, "expected 7 fields"),
        ("order_id,supplier_id\nA1,S1\n", 1, "quantity", "required column missing"),
        (f"{HEADER},colour\n{line()},red\n", 1, "colour", "unknown column"),
        (f"{HEADER},market,market\n", 1, "market", "twice"),
        ("", 1, None, "empty"),
    ],
)
def test_bad_rows_name_the_line_and_the_field(
    text: str, lineno: int, field: str | None, words: str
) -> None:
    with pytest.raises(OrderLogError) as info:
        parse_order_log(text, source="orders.csv")
    error = info.value
    assert error.line == lineno
    assert error.field == field
    assert words in str(error)
    assert str(error).startswith(f"orders.csv line {lineno}")
    assert isinstance(error, SerializationError)
    assert "\n" not in str(error)


def test_optional_columns_are_validated_too() -> None:
    header = HEADER + ",cancel_fault,cancel_reason,unit_price,confirmed_at"
    bad_fault = line() + ",seller,,,"
    with pytest.raises(OrderLogError, match="cancel_fault") as info:
        parse_order_log(f"{header}\n{bad_fault}\n")
    assert "unless the order was cancelled" in str(info.value)
    bad_reason = line(outcome="supplier_cancelled") + ",seller,lost_parcel,,"
    with pytest.raises(OrderLogError, match="cancel_reason"):
        parse_order_log(f"{header}\n{bad_reason}\n")
    bad_price = line() + ",,,-5,"
    with pytest.raises(OrderLogError, match="unit_price"):
        parse_order_log(f"{header}\n{bad_price}\n")
    early = line() + ",,,100,2025-09-28T00:00:00+09:00"
    with pytest.raises(OrderLogError, match="confirmed_at"):
        parse_order_log(f"{header}\n{early}\n")


def test_non_utf8_file_is_an_order_log_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(HEADER.encode() + b"\n" + line(supplier_id="S\xe9").encode("latin-1"))
    with pytest.raises(OrderLogError, match="UTF-8"):
        read_order_log(path)


OFFSETS = st.sampled_from([KST, timezone.utc, timezone(timedelta(hours=-5))])


@st.composite
def log_rows(draw: st.DrawFn, order_id: str) -> OrderLogRow:
    tz = draw(OFFSETS)
    paid = datetime(2025, 1, 1, tzinfo=tz) + timedelta(seconds=draw(st.integers(0, 300 * 86_400)))
    outcome = draw(st.sampled_from(LoggedOutcome))
    later = st.integers(0, 10 * 86_400).map(lambda s: paid + timedelta(seconds=s))
    cancelled = outcome in {LoggedOutcome.SUPPLIER_CANCELLED, LoggedOutcome.BUYER_CANCELLED}
    return OrderLogRow(
        order_id=order_id,
        supplier_id=draw(st.sampled_from(["S1", "S2", "도매-3"])),
        quantity=draw(st.integers(1, 40)),
        paid_at=paid,
        ship_by=draw(later),
        outcome=outcome,
        outcome_at=None if outcome is LoggedOutcome.OPEN else draw(later),
        market=draw(st.none() | st.sampled_from(["coupang", "naver"])),
        sku=draw(st.none() | st.sampled_from(["MUG-1", "gift set, 20"])),
        unit_price=draw(st.none() | st.integers(0, 2_000_000)),
        confirmed_at=draw(st.none() | later),
        shipped_at=draw(st.none() | later),
        cancel_fault=draw(st.none() | st.sampled_from(CancelFault)) if cancelled else None,
        cancel_reason=draw(st.none() | st.sampled_from(CancelReason)) if cancelled else None,
    )


@st.composite
def logs(draw: st.DrawFn) -> list[OrderLogRow]:
    n = draw(st.integers(1, 8))
    return [draw(log_rows(f"O{i}")) for i in range(n)]


@given(rows=logs())
def test_any_valid_log_round_trips_through_csv(rows: list[OrderLogRow]) -> None:
    text = format_order_log(rows)
    assert parse_order_log(text) == rows


@given(rows=logs())
def test_round_trip_keeps_every_column_when_asked(rows: list[OrderLogRow]) -> None:
    text = format_order_log(rows, columns=COLUMNS)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert parse_order_log(text) == rows


def test_write_and_read_file(tmp_path: Path, sample_rows: list[OrderLogRow]) -> None:
    path = tmp_path / "copy.csv"
    write_order_log(sample_rows, path)
    assert read_order_log(path) == sample_rows


# ---------------------------------------------------------------------------- backtest


@pytest.fixture(scope="module")
def report(sample_rows: list[OrderLogRow]):  # type: ignore[no-untyped-def]
    return backtest(sample_rows)


def test_backtest_reports_every_policy_on_every_row(report, sample_rows) -> None:  # type: ignore[no-untyped-def]
    assert [r.policy for r in report.results] == list(DEFAULT_POLICY_NAMES)
    assert report.rows == len(sample_rows)
    assert report.excluded_rows == 0
    for r in report.results:
        assert r.orders == len(sample_rows)
        assert r.shipped + r.seller_fault_cancels + r.buyer_cancels + r.open_at_end == r.orders


def test_backtest_replays_the_logged_supplier_outcomes(report, sample_rows) -> None:  # type: ignore[no-untyped-def]
    logged = sum(r.outcome is LoggedOutcome.SUPPLIER_CANCELLED for r in sample_rows)
    replay = backtest(sample_rows, ["confirm-immediately"], extra_buyer_cancels=False)
    assert replay.results[0].supplier_cancels == logged
    immediate = report.results[0]
    assert immediate.policy == "confirm-immediately"
    # confirmed in the engine's first run after the order is paid: within one poll cadence
    assert immediate.median_hours_to_confirm is not None
    assert 0.0 <= immediate.median_hours_to_confirm <= DEFAULT_CADENCE_MINUTES / 60
    waiting = next(r for r in report.results if r.policy == "await-invoice")
    assert waiting.median_hours_to_confirm is not None
    assert waiting.median_hours_to_confirm > 5.0


def test_backtest_stops_at_the_end_of_the_log(report, sample_rows) -> None:  # type: ignore[no-untyped-def]
    still_open = sum(r.outcome is LoggedOutcome.OPEN for r in sample_rows)
    assert report.end == max(
        t
        for r in sample_rows
        for t in (r.paid_at, r.outcome_at, r.confirmed_at, r.shipped_at)
        if t is not None
    )
    assert all(r.open_at_end >= still_open - 2 for r in report.results)


def test_backtest_history_counts_the_log(report, sample_rows) -> None:  # type: ignore[no-untyped-def]
    history = report.history
    assert history["orders"] == len(sample_rows)
    assert history["invoiced"] + history["supplier_cancelled"] + history[
        "buyer_cancelled"
    ] + history["open"] == len(sample_rows)


def test_backtest_json_has_the_documented_schema(report) -> None:  # type: ignore[no-untyped-def]
    doc = report.to_dict()
    assert {"schema_version", "market", "rows", "policies", "prediction_quality", "history"} <= set(
        doc
    )
    for key in ("supplier_cancels", "no_tracking_by_ship_by"):
        q = doc["prediction_quality"][key]
        assert q["n"] > 0
        for who in ("model", "global_rate", "supplier_rate"):
            assert 0.0 <= q[who]["brier"] <= 1.0
            assert q[who]["log_loss"] >= 0.0
    json.dumps(doc, allow_nan=False)


def test_without_the_buyer_model_only_logged_buyer_cancels_happen(sample_rows) -> None:  # type: ignore[no-untyped-def]
    logged = sum(r.outcome is LoggedOutcome.BUYER_CANCELLED for r in sample_rows)
    rep = backtest(sample_rows, ["await-invoice"], extra_buyer_cancels=False)
    assert rep.results[0].buyer_cancels <= logged
    with_model = backtest(sample_rows, ["await-invoice"], seed=3)
    assert with_model.results[0].buyer_cancels > rep.results[0].buyer_cancels


def test_backtest_is_reproducible(sample_rows) -> None:  # type: ignore[no-untyped-def]
    a = backtest(sample_rows[:120], ["expected-cost"]).to_dict()
    b = backtest(sample_rows[:120], ["expected-cost"]).to_dict()
    assert a == b


def test_market_choice_with_several_markets(sample_rows) -> None:  # type: ignore[no-untyped-def]
    import attrs

    mixed = [
        attrs.evolve(r, market="naver") if i % 3 == 0 else r for i, r in enumerate(sample_rows)
    ]
    assert log_markets(mixed) == ("coupang", "naver")
    with pytest.raises(ConfigurationError, match="several markets"):
        backtest(mixed, ["confirm-immediately"])
    rep = backtest(mixed, ["confirm-immediately"], market="naver")
    assert rep.market == "naver"
    assert rep.rows + rep.excluded_rows == len(mixed)
    assert rep.excluded_rows > 0


def test_empty_or_foreign_logs_are_configuration_errors(sample_rows) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError, match="no rows"):
        backtest([])
    import attrs

    naver_only = [attrs.evolve(r, market="naver") for r in sample_rows[:5]]
    with pytest.raises(ConfigurationError, match="no orders of market"):
        backtest(naver_only, market="coupang")


# ---------------------------------------------------------------------------- online prediction


def test_predictions_never_see_a_later_event(sample_rows) -> None:  # type: ignore[no-untyped-def]
    """Cutting the log at any time leaves every earlier prediction unchanged."""
    full_cancel, full_late = online_predictions(
        sorted(sample_rows, key=lambda r: r.paid_at), None, DEFAULT_CALENDAR
    )
    for cut_index in (40, 150, 260):
        cut = sample_rows[cut_index].paid_at
        early = truncate_log(sample_rows, cut)
        cancel, late = online_predictions(
            sorted(early, key=lambda r: r.paid_at), None, DEFAULT_CALENDAR
        )
        for oid, forecast in cancel.items():
            assert full_cancel[oid][:3] == forecast[:3], oid
        for oid, forecast in late.items():
            assert full_late[oid][:3] == forecast[:3], oid


def test_prediction_quality_of_an_empty_log_is_none() -> None:
    quality = prediction_quality([])
    assert quality.supplier_cancels is None
    assert quality.no_tracking_by_ship_by is None
    assert quality.to_dict() == {"supplier_cancels": None, "no_tracking_by_ship_by": None}


def test_truncate_log_forgets_the_future(sample_rows) -> None:  # type: ignore[no-untyped-def]
    cut = sample_rows[100].paid_at
    early = truncate_log(sample_rows, cut)
    assert all(r.paid_at <= cut for r in early)
    for r in early:
        for t in (r.outcome_at, r.confirmed_at, r.shipped_at):
            assert t is None or t <= cut
        if r.outcome is LoggedOutcome.OPEN:
            assert r.cancel_fault is None


# ---------------------------------------------------------------------------- rates and trust


def test_rates_report_of_the_sample(sample_rows) -> None:  # type: ignore[no-untyped-def]
    rates = rates_report(sample_rows, "coupang")
    doc = rates.to_dict()
    assert doc["market"] == "coupang"
    assert [m["name"] for m in doc["metrics"]] == ["order_fulfilment", "on_time_shipment"]
    assert doc["status"] in {"ok", "warning", "sanction"}
    assert doc["headroom"]["describe"]
    first_week = rates_report(sample_rows, "coupang", at=sample_rows[60].paid_at)
    assert first_week.report.at == sample_rows[60].paid_at


def test_rates_use_the_logged_fault_and_reason(sample_rows) -> None:  # type: ignore[no-untyped-def]
    import attrs

    at = max(r.outcome_at for r in sample_rows if r.outcome_at is not None)
    rows = [
        attrs.evolve(r, cancel_fault=CancelFault.BUYER, cancel_reason=CancelReason.BUYER_REMORSE)
        if r.outcome is LoggedOutcome.SUPPLIER_CANCELLED
        else r
        for r in sample_rows
    ]
    fulfilment = rates_report(rows, "coupang", at=at).report.metric("order_fulfilment")
    assert fulfilment.numerator == 0


def test_trust_table_lists_every_supplier_riskiest_first(sample_rows) -> None:  # type: ignore[no-untyped-def]
    views = trust_table(sample_rows)
    assert {v.supplier_id for v in views} == {r.supplier_id for r in sample_rows}
    assert sum(v.orders for v in views) == len(sample_rows)
    risks = [v.p_cancel for v in views]
    assert risks == sorted(risks, reverse=True)
    assert all(v.tier in {"trusted", "unproven", "risky", "quarantined"} for v in views)
    assert trust_table([]) == []


def test_rows_from_simulated_records_are_a_valid_log() -> None:
    scenario = get_scenario("default").evolve(
        name="tiny", suppliers=6, days=5.0, alternate_share=0.0
    )
    _result, records = simulate_log(scenario, seed=3, orders=60)
    rows = rows_from_records(records)
    assert len(rows) == 60
    assert parse_order_log(format_order_log(rows)) == rows
    paid = [r.paid_at for r in rows]
    assert paid == sorted(paid)


# ---------------------------------------------------------------------------- review fixes


def _row(order_id: str, paid: datetime, outcome: LoggedOutcome, **kw: object) -> OrderLogRow:
    values: dict[str, object] = {
        "supplier_id": "SUP",
        "quantity": 1,
        "ship_by": paid + timedelta(days=3),
        "outcome_at": None if outcome is LoggedOutcome.OPEN else paid + timedelta(hours=10),
    }
    values.update(kw)
    return OrderLogRow(order_id=order_id, paid_at=paid, outcome=outcome, **values)  # type: ignore[arg-type]


def _shipping_log(*, buyer_cancels: bool) -> list[OrderLogRow]:
    """A supplier that ships every order in 10 h; every other order the buyer cancels early."""
    rows = []
    start = datetime(2025, 3, 3, 10, tzinfo=KST)  # a month without public holidays
    for i in range(60):
        paid = start + timedelta(hours=6 * i)
        rows.append(_row(f"S{i}", paid, LoggedOutcome.INVOICED))
        if buyer_cancels and i % 2 == 0:
            rows.append(
                _row(
                    f"B{i}",
                    paid,
                    LoggedOutcome.BUYER_CANCELLED,
                    outcome_at=paid + timedelta(minutes=30),
                )
            )
    return rows


def test_trust_table_withdraws_buyer_cancelled_supplier_orders() -> None:
    """A buyer cancel withdraws the supplier order: it does not sit pending and make the
    supplier look slow."""
    [plain] = trust_table(_shipping_log(buyer_cancels=False))
    [mixed] = trust_table(_shipping_log(buyer_cancels=True))
    assert mixed.orders == 90
    assert plain.median_hours_to_tracking is not None
    assert mixed.median_hours_to_tracking is not None
    assert mixed.p90_hours_to_tracking is not None
    assert plain.p90_hours_to_tracking is not None
    assert abs(mixed.median_hours_to_tracking - plain.median_hours_to_tracking) < 0.5
    assert abs(mixed.p90_hours_to_tracking - plain.p90_hours_to_tracking) < 0.5


def test_online_forecasts_withdraw_buyer_cancelled_supplier_orders() -> None:
    """The online model sees a buyer-cancelled supplier order leave at its outcome_at: the
    shipped orders' forecasts stay as without those cancels."""
    _, plain = online_predictions(_shipping_log(buyer_cancels=False), None, DEFAULT_CALENDAR)
    _, mixed = online_predictions(
        sorted(_shipping_log(buyer_cancels=True), key=lambda r: r.paid_at),
        None,
        DEFAULT_CALENDAR,
    )
    with_cancels = sum(mixed[oid][0] for oid in plain) / len(plain)
    without = sum(f[0] for f in plain.values()) / len(plain)
    assert with_cancels <= without + 0.05  # pending forever, they would push it far up


def test_a_buyer_cancel_answers_no_tracking_by_ship_by_only_after_the_deadline() -> None:
    early = _row(
        "B1",
        T0,
        LoggedOutcome.BUYER_CANCELLED,
        ship_by=T0 + timedelta(days=1),
        outcome_at=T0 + timedelta(hours=2),
    )
    late = _row(
        "B2",
        T0,
        LoggedOutcome.BUYER_CANCELLED,
        ship_by=T0 + timedelta(days=1),
        outcome_at=T0 + timedelta(days=2),
    )
    shipped = _row("S1", T0 + timedelta(days=3), LoggedOutcome.INVOICED)
    _, scored = online_predictions([early, late, shipped], None, DEFAULT_CALENDAR)
    assert "B1" not in scored
    assert scored["B2"][3] is True
    quality = prediction_quality([early, late, shipped])
    assert quality.no_tracking_by_ship_by is not None
    assert quality.no_tracking_by_ship_by.model.n == 2


def test_trust_table_at_a_time_counts_only_what_was_known_then(sample_rows) -> None:  # type: ignore[no-untyped-def]
    at = sample_rows[20].paid_at
    views = trust_table(sample_rows, at=at)
    paid = [r for r in sample_rows if r.paid_at <= at]
    assert {v.supplier_id for v in views} == {r.supplier_id for r in paid}
    assert sum(v.orders for v in views) == len(paid)
    known = [r for r in paid if r.outcome_at is not None and r.outcome_at <= at]
    assert sum(v.supplier_cancels for v in views) == sum(
        r.outcome is LoggedOutcome.SUPPLIER_CANCELLED for r in known
    )
    assert sum(v.invoiced for v in views) == sum(r.outcome is LoggedOutcome.INVOICED for r in known)
    assert trust_table(sample_rows, at=sample_rows[0].paid_at - timedelta(hours=1)) == []


def test_rates_report_at_a_time_counts_only_rows_paid_by_then(sample_rows) -> None:  # type: ignore[no-untyped-def]
    at = sample_rows[60].paid_at
    report = rates_report(sample_rows, "coupang", at=at)
    assert report.rows == sum(r.paid_at <= at for r in sample_rows)
    assert rates_report(sample_rows, "coupang").rows == len(sample_rows)


@pytest.mark.parametrize("outcome", [LoggedOutcome.INVOICED, LoggedOutcome.SUPPLIER_CANCELLED])
def test_a_forecast_never_sees_its_own_outcome_at_the_same_instant(outcome: LoggedOutcome) -> None:
    """An outcome (or a deadline) at the very instant of payment comes after the forecast."""
    row = _row("X1", T0, outcome, outcome_at=T0, ship_by=T0)
    cancel, late = online_predictions([row], None, DEFAULT_CALENDAR)
    _, p_global, p_supplier, _ = cancel["X1"]
    assert p_global == p_supplier == 0.5  # the prior: nothing known yet
    _, p_global, p_supplier, _ = late["X1"]
    assert p_global == p_supplier == 0.5
    other = LoggedOutcome.INVOICED if outcome is LoggedOutcome.SUPPLIER_CANCELLED else outcome
    flipped, _ = online_predictions(
        [_row("X1", T0, other, outcome_at=T0, ship_by=T0)], None, DEFAULT_CALENDAR
    )
    assert flipped["X1"][:3] == cancel["X1"][:3]


def test_a_logged_buyer_cancel_blamed_on_the_seller_stays_the_sellers() -> None:
    text = (
        f"{HEADER},cancel_fault,cancel_reason\n"
        + line(
            "A1",
            outcome="buyer_cancelled",
            ship_by="2025-09-30T00:00:00+09:00",
            outcome_at="2025-10-01T10:00:00+09:00",
        )
        + ",seller,delivery_delay\n"
        + line("A2")
        + ",,\n"
    )
    rows = parse_order_log(text)
    report = backtest(
        rows, ["confirm-immediately", "await-invoice", "expected-cost"], extra_buyer_cancels=False
    )
    assert report.history["seller_fault_cancels"] == 1
    for result in report.results:
        assert result.seller_fault_cancels == 1, result.policy
        assert result.buyer_cancels == 0, result.policy


def test_replay_keeps_suppliers_apart_whatever_their_names(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from consign_core.lab._supplier import SimulatedSupplier

    rows = []
    for i in range(5):
        paid = T0 + timedelta(hours=5 * i)
        rows.append(_row(f"X{i}", paid, LoggedOutcome.INVOICED, supplier_id="A/B", sku="C"))
        rows.append(
            _row(
                f"Y{i}",
                paid + timedelta(minutes=1),
                LoggedOutcome.INVOICED,
                supplier_id="A",
                sku="B/C",
            )
        )
    placed: dict[str, set[str]] = {}
    original = SimulatedSupplier.place_order

    def spy(self, request):  # type: ignore[no-untyped-def]
        placed.setdefault(request.order_ref.order_id[0], set()).add(request.supplier_id)
        return original(self, request)

    monkeypatch.setattr(SimulatedSupplier, "place_order", spy)
    backtest(rows, ["confirm-immediately"], extra_buyer_cancels=False)
    assert placed == {"X": {"A/B"}, "Y": {"A"}}


@pytest.mark.parametrize(
    ("cells", "field", "words"),
    [
        ({"quantity": "+3"}, "quantity", "whole number"),
        ({"quantity": "1_0"}, "quantity", "whole number"),
        ({"quantity": "\uff11"}, "quantity", "whole number"),
        ({"paid_at": "9999-12-31T10:00:00+09:00"}, "paid_at", "1949-01-01..2099-12-31"),
        ({"paid_at": "0001-01-01T10:00:00+09:00"}, "paid_at", "1949-01-01..2099-12-31"),
        ({"ship_by": "9999-12-31T23:59:59-09:00"}, "ship_by", "1949-01-01..2099-12-31"),
        ({"paid_at": "2025-09-29"}, "paid_at", "write e.g. 2025-09-29T00:00:00+09:00"),
    ],
)
def test_bad_numbers_and_dates_name_the_line_and_the_field(
    cells: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(OrderLogError) as info:
        parse_order_log(f"{HEADER}\n{line()}\n{line('A2', **cells)}\n", source="orders.csv")
    assert info.value.line == 3
    assert info.value.field == field
    assert words in str(info.value)


def test_the_hint_for_a_time_without_offset_parses() -> None:
    with pytest.raises(OrderLogError) as info:
        parse_order_log(f"{HEADER}\n{line(paid_at='2025-09-29')}\n")
    hint = str(info.value).rsplit("write e.g. ", 1)[1]
    [row] = parse_order_log(f"{HEADER}\n{line(paid_at=hint)}\n")
    assert row.paid_at == datetime(2025, 9, 29, tzinfo=KST)


def test_parse_order_log_accepts_a_leading_bom() -> None:
    [row] = parse_order_log(f"\ufeff{HEADER}\n{line()}\n")
    assert row.order_id == "A1"


def test_an_oversized_field_is_an_order_log_error_naming_the_line() -> None:
    text = f"{HEADER}\n{line()}\n{line('B' * 140_000)}\n"
    with pytest.raises(OrderLogError) as info:
        parse_order_log(text, source="orders.csv")
    assert info.value.line == 3
    assert "\n" not in str(info.value)


def test_a_cp949_file_names_its_first_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    text = f"{HEADER},sku\n{line()},MUG\n{line('A2')},양말\n"
    path.write_bytes(text.encode("cp949"))
    with pytest.raises(OrderLogError) as info:
        read_order_log(path)
    assert info.value.line == 3
    assert "cp949" in str(info.value)
    assert "UTF-8" in str(info.value)


def test_market_aliases_are_one_market() -> None:
    text = f"{HEADER},market\n{line()},naver\n{line('A2')},SmartStore\n"
    rows = parse_order_log(text)
    assert [r.market for r in rows] == ["naver", "naver"]
    assert log_markets(rows) == ("naver",)
    report = backtest(rows, ["confirm-immediately"], extra_buyer_cancels=False)
    assert report.market == "naver"
    assert report.excluded_rows == 0


def test_an_unknown_market_names_the_line_and_the_field() -> None:
    with pytest.raises(OrderLogError) as info:
        parse_order_log(f"{HEADER},market\n{line()},11st\n", source="orders.csv")
    assert info.value.line == 2
    assert info.value.field == "market"
    assert "11st" in str(info.value)
