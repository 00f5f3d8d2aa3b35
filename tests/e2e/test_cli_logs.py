"""``backtest``, ``rates`` and ``trust`` on order logs as they come from real sellers."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from consign_core.cli import main


HEADER = "order_id,supplier_id,quantity,paid_at,ship_by,outcome,outcome_at,unit_price"
COMMANDS = ("backtest", "rates", "trust")
FAST = ("--policy", "expected-cost", "--no-extra-buyer-cancels", "--quiet")


def extra(command: str) -> list[str]:
    """The options a command needs beyond the file (rates needs a market, backtest is cut)."""
    if command == "rates":
        return ["--market", "coupang"]
    if command == "backtest":
        return list(FAST)
    return []


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code: int, out: str, err: str, *words: str) -> str:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("consign-core")
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def orders(
    n: int = 24,
    *,
    zone: str = "+09:00",
    start: datetime = datetime(2025, 11, 3, 10),  # noqa: DTZ001 - the zone is written
    supplier: str = "S1",
) -> list[str]:
    """``n`` orders, one every 5 hours, shipped 20 hours after payment within a 3-day deadline;
    every sixth is cancelled by the supplier after 6 hours."""
    rows = []
    for i in range(n):
        paid = start + timedelta(hours=5 * i)
        ship_by = (paid + timedelta(days=3)).replace(hour=0, minute=0)
        cancelled = i % 6 == 5
        outcome_at = paid + timedelta(hours=6 if cancelled else 20)
        outcome = "supplier_cancelled" if cancelled else "invoiced"
        rows.append(
            f"O{i:03d},{supplier},1,{paid.isoformat()}{zone},{ship_by.isoformat()}{zone},"
            f"{outcome},{outcome_at.isoformat()}{zone},12000"
        )
    return rows


def write(tmp_path: Path, rows: list[str], name: str = "orders.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def with_a_deadline_before_payment(rows: list[str], index: int = 4) -> list[str]:
    """``rows`` with row ``index`` (line ``index + 2``) due before its payment, as real logs
    have."""
    cells = rows[index].split(",")
    paid = datetime.fromisoformat(cells[3])
    cells[4] = (paid - timedelta(hours=12)).isoformat()
    return [*rows[:index], ",".join(cells), *rows[index + 1 :]]


# ---------------------------------------------------------------------------- bad rows


@pytest.mark.parametrize("command", COMMANDS)
def test_by_default_a_bad_row_stops_every_command_naming_line_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    log = write(tmp_path, with_a_deadline_before_payment(orders()))
    code, out, err = run(capsys, command, str(log), *extra(command))
    line = one_line_error(code, out, err, "orders.csv line 6", "'ship_by'", "at or after")
    assert "datetime" not in line


@pytest.mark.parametrize("command", COMMANDS)
def test_skipping_reports_each_bad_row_and_counts_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    rows = with_a_deadline_before_payment(orders())
    rows[9] = rows[9].replace(",1,", ",many,", 1)  # line 11
    log = write(tmp_path, rows)
    code, out, err = run(
        capsys, command, str(log), *extra(command), "--on-bad-rows", "skip", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["skipped_rows"] == 2
    reported = [line for line in err.splitlines() if "skipped" in line]
    assert len(reported) == 2
    assert "orders.csv line 6, field 'ship_by'" in reported[0]
    assert "orders.csv line 11, field 'quantity'" in reported[1]
    assert "'many' is not a whole number" in reported[1]


def test_a_clean_log_reports_no_skipped_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = write(tmp_path, orders())
    code, out, err = run(capsys, "backtest", str(log), *FAST, "--on-bad-rows", "skip", "--json")
    assert code == 0
    assert json.loads(out)["skipped_rows"] == 0
    assert "skipped" not in err


def test_the_skipped_rows_are_said_in_the_tables_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = write(tmp_path, with_a_deadline_before_payment(orders()))
    for command in COMMANDS:
        code, out, _err = run(capsys, command, str(log), *extra(command), "--on-bad-rows", "skip")
        assert code == 0
        assert "1 bad row skipped" in out, command


def test_a_log_whose_every_row_is_bad_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = [r.replace(",1,", ",0,", 1) for r in orders(3)]
    log = write(tmp_path, rows)
    code, _out, err = run(capsys, "trust", str(log), "--on-bad-rows", "skip")
    assert code == 2
    assert err.count("consign-core: skipped") == 3
    assert "orders.csv: the order log has no rows left: all 3 were skipped" in err


# ---------------------------------------------------------------------------- calendars


def test_the_backtest_contract_with_a_country_calendar(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = with_a_deadline_before_payment(orders(zone="-03:00", start=datetime(2017, 11, 13, 10)))  # noqa: DTZ001
    log = write(tmp_path, rows)
    code, out, err = run(
        capsys,
        "backtest",
        "--on-bad-rows",
        "skip",
        "--calendar",
        "BR",
        "--policy",
        "expected-cost",
        "--json",
        "--quiet",
        str(log),
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["calendar"] == "BR"
    assert doc["skipped_rows"] == 1
    assert doc["rows"] == 23
    assert [p["policy"] for p in doc["policies"]] == ["expected-cost"]


def test_the_default_calendar_is_korean(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = write(tmp_path, orders())
    for command in COMMANDS:
        code, out, _err = run(capsys, command, str(log), *extra(command), "--json")
        assert code == 0
        assert json.loads(out)["calendar"] == "KR", command


def test_a_countrys_holiday_is_not_a_business_hour(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # paid Tuesday 2017-11-14 10:00 in Brasilia, shipped 48 hours later: Wednesday 11-15 is
    # Brazil's Republic Day (a Korean business day), so Brazil counts 24 business hours fewer
    rows = [
        f"O{i},S1,1,2017-11-14T10:00:0{i}-03:00,2017-11-20T00:00:00-03:00,invoiced,"
        f"2017-11-16T10:00:0{i}-03:00,100"
        for i in range(5)
    ]
    log = write(tmp_path, rows)
    hours = {}
    for country in ("KR", "BR"):
        code, out, err = run(capsys, "trust", str(log), "--calendar", country, "--json")
        assert code == 0, err
        (supplier,) = json.loads(out)["suppliers"]
        hours[country] = supplier["median_hours_to_tracking"]
    assert hours["KR"] is not None
    assert hours["BR"] is not None
    assert hours["BR"] < hours["KR"] - 12.0  # the model's estimate, a day shorter


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_country_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    log = write(tmp_path, orders())
    code, out, err = run(capsys, command, str(log), *extra(command), "--calendar", "XX")
    one_line_error(code, out, err, "--calendar", "XX")


# ---------------------------------------------------------------------------- deadlines


def test_a_date_only_ship_by_keeps_the_deadline_at_the_end_of_the_day(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    explicit = orders()
    # the same deadlines, written as the day they end (the day before the 00:00 instant)
    dated = []
    for line in explicit:
        cells = line.split(",")
        end = datetime.fromisoformat(cells[4])
        cells[4] = (end - timedelta(days=1)).date().isoformat()
        dated.append(",".join(cells))
    docs = []
    for name, rows in (("explicit.csv", explicit), ("dated.csv", dated)):
        code, out, err = run(capsys, "backtest", str(write(tmp_path, rows, name)), *FAST, "--json")
        assert code == 0, err
        docs.append((json.loads(out), err))
    (explicit_doc, explicit_err), (dated_doc, dated_err) = docs
    assert dated_doc["history"] == explicit_doc["history"]
    assert dated_doc["policies"] == explicit_doc["policies"]
    assert "date-only" not in explicit_err
    assert "24 date-only ship_by values read as the end of that day in KST (+09:00)" in dated_err


def test_a_date_only_ship_by_of_a_foreign_log_ends_in_its_zone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = [
        "O1,S1,1,2017-03-01T10:00:00-03:00,2017-03-03,invoiced,2017-03-03T21:00:00-03:00,100",
    ]
    log = write(tmp_path, rows)
    code, out, err = run(capsys, "backtest", str(log), *FAST, "--calendar", "BR", "--json")
    assert code == 0, err
    assert "UTC-03:00" in err
    assert json.loads(out)["history"]["late_shipments"] == 0  # shipped 21:00 on the day


@pytest.mark.parametrize("command", ["rates", "trust"])
def test_a_date_only_at_is_the_end_of_that_day(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    log = write(tmp_path, orders())
    code, out, err = run(capsys, command, str(log), *extra(command), "--at", "2025-11-04", "--json")
    assert code == 0, err
    dated = json.loads(out)
    code, out, _err = run(
        capsys, command, str(log), *extra(command), "--at", "2025-11-05T00:00:00+09:00", "--json"
    )
    assert code == 0
    assert json.loads(out) == dated
    if command == "rates":
        assert dated["at"] == "2025-11-05T00:00:00+09:00"


@pytest.mark.parametrize("command", ["rates", "trust"])
def test_a_naive_at_is_refused_with_a_suggestion_that_is_accepted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    log = write(tmp_path, orders())
    code, out, err = run(capsys, command, str(log), *extra(command), "--at", "2025-11-04T18:00")
    line = one_line_error(code, out, err, "--at", "UTC offset")
    hint = re.search(r"e\.g\. (\S+)$", line)
    assert hint is not None
    code, out, err = run(capsys, command, str(log), *extra(command), "--at", hint.group(1))
    assert code == 0, err


# ---------------------------------------------------------------------------- absurd input


@pytest.mark.parametrize(
    ("value", "column"),
    [("100000000000000000000000000000", "quantity"), ("9" * 400, "quantity")],
)
def test_an_absurd_quantity_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str, column: str
) -> None:
    rows = orders(6)
    rows[2] = rows[2].replace(",1,", f",{value},", 1)
    log = write(tmp_path, rows)
    for command in COMMANDS:
        code, out, err = run(capsys, command, str(log), *extra(command))
        line = one_line_error(code, out, err, "line 4", f"'{column}'", "10,000")
        assert len(line) < 250


def test_a_decomposed_korean_name_is_one_supplier(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name = "한빛상사"
    rows = orders(6, supplier=name) + [
        r.replace("O0", "P0") for r in orders(6, supplier=unicodedata.normalize("NFD", name))
    ]
    log = write(tmp_path, rows)
    code, out, err = run(capsys, "trust", str(log), "--json")
    assert code == 0, err
    suppliers = json.loads(out)["suppliers"]
    assert [s["supplier_id"] for s in suppliers] == [name]
    assert suppliers[0]["orders"] == 12


@pytest.mark.parametrize("command", COMMANDS)
def test_a_spreadsheets_trailing_empty_rows_are_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    log = write(tmp_path, [*orders(), ",,,,,,,", ",,,,,,,"])
    code, out, err = run(capsys, command, str(log), *extra(command), "--json")
    assert code == 0, err
    assert "skipped" not in err
    if command != "trust":
        assert json.loads(out)["rows"] == 24


@pytest.mark.parametrize("command", COMMANDS)
def test_a_semicolon_separated_file_is_named_as_such(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    log = write(tmp_path, [r.replace(",", ";") for r in orders()], header=HEADER.replace(",", ";"))
    code, out, err = run(capsys, command, str(log), *extra(command))
    one_line_error(code, out, err, "orders.csv line 1", "semicolons", "comma")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_directory_is_called_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    code, out, err = run(capsys, command, str(folder), *extra(command))
    line = one_line_error(code, out, err, "exports", "is a directory")
    assert "no such file" not in line


@pytest.mark.parametrize("command", COMMANDS)
def test_a_header_only_file_is_one_message_with_the_file_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    log = write(tmp_path, [], name="april.csv")
    code, out, err = run(capsys, command, str(log), *extra(command))
    one_line_error(code, out, err, "april.csv", "the order log has no rows")


def test_a_cancel_fault_error_shows_the_value_as_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = [f"{r},seller" for r in orders(3)]
    log = write(tmp_path, rows, header=HEADER + ",cancel_fault")
    code, out, err = run(capsys, "trust", str(log))
    line = one_line_error(code, out, err, "'cancel_fault'", "got seller")
    assert "CancelFault" not in line


# ---------------------------------------------------------------------------- no alternates


def test_a_backtest_says_waiting_cannot_avoid_a_counted_stock_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = write(tmp_path, orders())
    code, out, _err = run(capsys, "backtest", str(log), *FAST, "--market", "coupang")
    assert code == 0
    assert "no alternate suppliers" in out
    assert "expected-cost confirms at once" in out
    code, out, _err = run(capsys, "backtest", str(log), *FAST, "--market", "coupang", "--json")
    (note,) = json.loads(out)["notes"]
    assert "waiting cannot avoid" in note
    assert "Coupang" in note


def test_no_such_note_where_the_market_does_not_count_every_stock_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = write(tmp_path, orders())
    code, out, _err = run(capsys, "backtest", str(log), *FAST, "--market", "naver", "--json")
    assert code == 0
    assert json.loads(out)["notes"] == []


def test_rates_of_a_new_account_say_the_metrics_are_not_evaluated_yet(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "new.csv"
    path.write_text(
        "order_id,supplier_id,quantity,paid_at,ship_by,outcome,outcome_at\n"
        "O1,S1,1,2025-09-01T10:00:00+09:00,2025-09-04T00:00:00+09:00,"
        "supplier_cancelled,2025-09-01T12:00:00+09:00\n",
        encoding="utf-8",
    )
    assert main(["rates", str(path), "--market", "coupang", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    fulfilment = next(m for m in doc["metrics"] if m["name"] == "order_fulfilment")
    assert fulfilment["evaluated"] is False
    assert fulfilment["minimum_volume"] == 20
    assert "minimum volume" in fulfilment["reason"]
    assert fulfilment["status"] == "ok"
    assert main(["rates", str(path), "--market", "coupang"]) == 0
    assert "ok (not evaluated)" in capsys.readouterr().out
