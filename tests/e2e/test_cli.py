"""The consign-core command: subcommands, JSON documents, exit codes and one-line errors."""

from __future__ import annotations

import builtins
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, TextIO

import pytest
from rich.console import Console
from rich.text import Text

from consign_core.cli import main
from consign_core.errors import ConfigurationError


SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data" / "orders.csv"
FAST = ["--orders", "150", "--quiet"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("consign-core")
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]


# ---------------------------------------------------------------------------- simulate


def test_simulate_prints_a_comparison_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "simulate", *FAST, "--suppliers", "10")
    assert code == 0
    for policy in ("confirm-immediately", "await-invoice", "trust-threshold", "expected-cost"):
        assert policy in out
    assert "seller-fault" in out
    assert "order fulfilment" in out
    assert "per seed" not in out


def test_simulate_table_shows_each_seed_and_the_mean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(
        capsys, "simulate", *FAST, "--seed", "3", "--seed", "5", "--policy", "await-invoice"
    )
    assert code == 0
    assert "mean of 2 runs" in out
    per_seed = out.split("per seed:")[1]
    assert len([line for line in per_seed.splitlines() if line.startswith("await-invoice")]) == 2


def test_simulate_json_is_the_documented_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(
        capsys,
        "simulate",
        *FAST,
        "--seeds",
        "2",
        "--policy",
        "expected-cost",
        "--policy",
        "confirm-immediately",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["scenario"] == "default"
    assert doc["seeds"] == [0, 1]
    assert doc["orders"] == 150
    assert [p["policy"] for p in doc["policies"]] == ["expected-cost", "confirm-immediately"]
    for p in doc["policies"]:
        for key in (
            "seller_fault_cancels",
            "seller_fault_cancel_rate",
            "buyer_cancels",
            "late_shipments",
            "escalations",
            "median_hours_to_confirm",
            "p90_hours_to_confirm",
            "total_cost",
            "metrics",
        ):
            assert key in p
    assert [r["seed"] for r in doc["per_seed"]] == [0, 1]


def test_simulate_json_is_reproducible_across_processes(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "consign_core", "simulate", *FAST, "--seed", "7", "--json"]
    args += ["--scenario", "group-orders", "--policy", "trust-threshold"]
    first = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    second = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert first == second
    assert json.loads(first)["seeds"] == [7]


def test_simulate_overrides_and_jobs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(
        capsys,
        "simulate",
        *FAST,
        "--market",
        "naver",
        "--alternate-share",
        "0",
        "--jobs",
        "2",
        "--policy",
        "await-invoice",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["market"] == "naver"
    assert doc["policies"][0]["rerouted"] == 0
    assert [m["name"] for m in doc["policies"][0]["metrics"]] == ["penalty_points"]


def terminal_console(stream: TextIO) -> Console:
    """What a 120-column colour terminal gets (the CLI's console factory in the tests)."""
    return Console(file=stream, force_terminal=True, width=120)


def test_simulate_progress_bar_goes_to_stderr_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter(float(i) for i in range(0, 100_000, 3))
    monkeypatch.setattr("consign_core.cli._output._clock", lambda: next(clock))
    monkeypatch.setattr("consign_core.cli._output._console_factory", terminal_console)
    code, out, err = run(
        capsys, "simulate", "--orders", "100", "--policy", "confirm-immediately", "--json"
    )
    assert code == 0
    json.loads(out)  # stdout stays pure JSON
    shown = Text.from_ansi(err).plain
    assert "consign-core: simulate" in shown
    assert "100%" in shown
    assert "100/100" in shown  # orders done of the total
    assert "━" in shown  # the bar itself
    assert "simulate done in" in shown


@pytest.mark.parametrize("terminal", [False, True])
def test_simulate_progress_is_quiet_when_piped_or_asked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    clock = iter(float(i) for i in range(0, 100_000, 3))
    monkeypatch.setattr("consign_core.cli._output._clock", lambda: next(clock))
    quiet: list[str] = []
    if terminal:  # a terminal, but --quiet
        monkeypatch.setattr("consign_core.cli._output._console_factory", terminal_console)
        quiet = ["--quiet"]
    code, out, err = run(
        capsys, "simulate", "--orders", "100", "--policy", "confirm-immediately", *quiet
    )
    assert code == 0
    assert "confirm-immediately" in out
    assert err == ""


def test_backtest_progress_bar_is_taken_down_when_the_run_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter(float(i) for i in range(0, 100_000, 3))
    monkeypatch.setattr("consign_core.cli._output._clock", lambda: next(clock))
    monkeypatch.setattr("consign_core.cli._output._console_factory", terminal_console)
    lab_backtest = importlib.import_module("consign_core.lab.backtest")

    def failing(*args: Any, **kwargs: Any) -> Any:
        progress = kwargs["progress"]
        progress(1, 10)
        progress(2, 10)
        raise ConfigurationError("the log broke halfway")

    monkeypatch.setattr(lab_backtest, "backtest", failing)
    code, out, err = run(capsys, "backtest", str(SAMPLE))
    assert code == 2
    assert out == ""
    shown = Text.from_ansi(err).plain
    assert "2/10" in shown  # the bar was up
    assert "done in" not in shown  # and no success is claimed
    assert shown.strip().splitlines()[-1] == "consign-core: error: the log broke halfway"


def test_simulate_plot_writes_a_png(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "policies.png"
    code, out, _err = run(capsys, "simulate", *FAST, "--seeds", "2", "--plot", str(target))
    assert code == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "plot written" in out


def test_simulate_plot_without_matplotlib_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_import = builtins.__import__

    def blocked(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".", maxsplit=1)[0] == "matplotlib":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", blocked)
    code, _out, err = run(capsys, "simulate", *FAST, "--plot", str(tmp_path / "x.png"))
    assert_one_line_error(code, err, "matplotlib", "consign-core[plot]")


def test_simulate_plot_into_a_missing_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    code, _out, err = run(capsys, "simulate", *FAST, "--plot", str(tmp_path / "no" / "x.png"))
    assert_one_line_error(code, err, "no such directory")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("plots", ["it is a directory"]),
        ("chart", ["ending in one of", ".png"]),
        ("chart.svgx", ["ending in one of", ".svg"]),
    ],
)
def test_simulate_plot_to_a_path_it_cannot_write_as_given_is_refused_before_running(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, words: list[str]
) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "plots").mkdir()
    code, _out, err = run(capsys, "simulate", *FAST, "--plot", str(tmp_path / name))
    assert_one_line_error(code, err, *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plots"]  # nothing written elsewhere


def test_a_seed_given_twice_runs_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "simulate", *FAST, "--seed", "5", "--seed", "5", "--json")
    assert code == 0
    assert json.loads(out)["seeds"] == [5]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["simulate", "--orders", "0"], ["--orders", ">= 1"]),
        (["simulate", "--orders", "many"], ["--orders", "whole number"]),
        (["simulate", "--policy", "sometimes"], ["--policy", "invalid choice"]),
        (["simulate", "--scenario", "moon"], ["--scenario"]),
        (["simulate", "--seed", "1", "--seeds", "2"], ["not allowed"]),
        (["simulate", "--alternate-share", "2"], ["0..1"]),
        (["simulate", "--alternate-share", "x"], ["0..1"]),
        (["simulate", "--unknown"], ["unrecognized"]),
        (["frobnicate"], ["invalid choice"]),
        ([], ["required"]),
        (["rates", str(SAMPLE)], ["--market"]),
        (["rates", str(SAMPLE), "--market", "coupang", "--at", "2025-04-01T10:00"], ["UTC offset"]),
        (["trust", str(SAMPLE), "--at", "soon"], ["ISO 8601"]),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert out == ""
    assert_one_line_error(code, err, *words)


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "simulate", "--help")
    assert code == 0
    assert "--scenario" in out


def test_scenarios_lists_the_built_in_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "scenarios")
    assert code == 0
    for name in ("default", "flaky-suppliers", "holiday-season", "group-orders"):
        assert name in out


# ---------------------------------------------------------------------------- files


def test_backtest_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "backtest", str(SAMPLE), "--policy", "await-invoice", "--quiet")
    assert code == 0
    assert "await-invoice" in out
    assert "Brier" in out
    assert "no tracking by ship_by" in out
    code, out, _err = run(
        capsys, "backtest", str(SAMPLE), "--policy", "confirm-immediately", "--json", "--quiet"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["rows"] == 300
    assert doc["policies"][0]["policy"] == "confirm-immediately"
    quality = doc["prediction_quality"]
    assert set(quality) == {"supplier_cancels", "no_tracking_by_ship_by"}
    assert set(quality["supplier_cancels"]) >= {"model", "global_rate", "supplier_rate"}


def test_backtest_without_extra_buyer_cancels(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(
        capsys,
        "backtest",
        str(SAMPLE),
        "--policy",
        "await-invoice",
        "--no-extra-buyer-cancels",
        "--json",
        "--quiet",
    )
    assert code == 0
    assert json.loads(out)["policies"][0]["buyer_cancels"] <= 2


def test_rates_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "rates", str(SAMPLE), "--market", "coupang")
    assert code == 0
    assert "order fulfilment" in out
    assert "headroom" in out
    code, out, _err = run(
        capsys,
        "rates",
        str(SAMPLE),
        "--market",
        "coupang",
        "--at",
        "2025-03-20T12:00:00+09:00",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["at"] == "2025-03-20T12:00:00+09:00"
    assert doc["metrics"][0]["name"] == "order_fulfilment"


def test_trust_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "trust", str(SAMPLE))
    assert code == 0
    assert "tier" in out
    assert "S" in out
    code, out, _err = run(capsys, "trust", str(SAMPLE), "--json")
    doc = json.loads(out)
    assert doc["command"] == "trust"
    assert {"supplier_id", "tier", "p_cancel", "median_hours_to_tracking"} <= set(
        doc["suppliers"][0]
    )


@pytest.mark.parametrize("command", ["backtest", "rates", "trust"])
def test_a_log_with_a_header_only_is_a_clear_error_for_every_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    header = SAMPLE.read_text(encoding="utf-8").splitlines()[0]
    empty = tmp_path / "empty.csv"
    empty.write_text(header + "\n", encoding="utf-8")
    extra = ["--market", "coupang"] if command == "rates" else []
    code, out, err = run(capsys, command, str(empty), *extra)
    assert out == ""
    assert_one_line_error(code, err, "the order log has no")


@pytest.mark.parametrize("command", ["backtest", "rates", "trust"])
def test_a_bad_csv_row_names_line_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace("+09:00", "", 1)  # a naive paid_at on line 6
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    extra = ["--market", "coupang"] if command == "rates" else []
    code, out, err = run(capsys, command, str(bad), *extra)
    assert out == ""
    assert_one_line_error(code, err, "line 6", "paid_at", "UTC offset")


@pytest.mark.parametrize("command", ["backtest", "rates", "trust"])
def test_a_missing_file_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    extra = ["--market", "coupang"] if command == "rates" else []
    code, _out, err = run(capsys, command, str(tmp_path / "nope.csv"), *extra)
    assert_one_line_error(code, err, "nope.csv", "no such file")


def test_backtest_of_a_multi_market_log_needs_a_market(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = SAMPLE.read_text(encoding="utf-8").replace(",coupang,", ",naver,", 10)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(text, encoding="utf-8")
    code, _out, err = run(capsys, "backtest", str(mixed), "--quiet")
    assert_one_line_error(code, err, "several markets", "--market")
    code, out, _err = run(
        capsys,
        "backtest",
        str(mixed),
        "--market",
        "naver",
        "--policy",
        "confirm-immediately",
        "--json",
        "--quiet",
    )
    assert code == 0
    assert json.loads(out)["excluded_rows"] == 290


def test_python_dash_m_runs_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "consign_core", "scenarios"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "holiday-season" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "consign_core", "simulate", "--orders", "-3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1


def test_module_entry_point_calls_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import runpy

    monkeypatch.setattr(sys, "argv", ["consign-core", "scenarios"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("consign_core", run_name="__main__")
    assert info.value.code == 0
    assert "default" in capsys.readouterr().out


# ---------------------------------------------------------------------------- saying what it used


def without_market_column(tmp_path: Path) -> Path:
    """The sample log as a seller's own export may be: no ``market`` column at all."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    at = header.index("market")
    kept = [",".join(c for i, c in enumerate(line.split(",")) if i != at) for line in lines]
    target = tmp_path / "no-market.csv"
    target.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return target


def test_backtest_without_market_says_it_used_coupang_rules_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = without_market_column(tmp_path)
    argv = ["backtest", str(log), "--policy", "confirm-immediately", "--quiet"]
    code, out, _err = run(capsys, *argv)
    assert code == 0
    head = out.splitlines()[0]
    assert "Coupang rules by default" in head
    assert "the log names no market" in head
    assert "--market" in head
    code, out, _err = run(capsys, *argv, "--json")
    doc = json.loads(out)
    assert (doc["market"], doc["market_source"]) == ("coupang", "default")


@pytest.mark.parametrize(
    ("extra", "source", "words"),
    [
        ([], "log", "Coupang rules, the market the log names"),
        (["--market", "coupang"], "option", "Coupang rules, as --market asked"),
    ],
)
def test_backtest_says_where_its_market_rules_came_from(
    capsys: pytest.CaptureFixture[str], extra: list[str], source: str, words: str
) -> None:
    argv = ["backtest", str(SAMPLE), "--policy", "await-invoice", "--quiet", *extra]
    code, out, _err = run(capsys, *argv)
    assert code == 0
    assert words in out.splitlines()[0]
    assert "by default" not in out
    code, out, _err = run(capsys, *argv, "--json")
    assert json.loads(out)["market_source"] == source


def test_backtest_json_keeps_every_key_and_only_adds_where_the_market_came_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from consign_core.lab.backtest import backtest, read_order_log

    code, out, _err = run(
        capsys, "backtest", str(SAMPLE), "--policy", "await-invoice", "--json", "--quiet"
    )
    assert code == 0
    doc = json.loads(out)
    library = backtest(read_order_log(SAMPLE), ["await-invoice"]).to_dict()
    assert list(doc) == [*list(library)[:3], "market_source", *list(library)[3:]]
    assert {key: value for key, value in doc.items() if key != "market_source"} == library


def naver_log(tmp_path: Path) -> Path:
    text = SAMPLE.read_text(encoding="utf-8").replace(",coupang,", ",naver,")
    target = tmp_path / "naver.csv"
    target.write_text(text, encoding="utf-8")
    return target


def rates_rows(out: str) -> dict[str, list[str]]:
    """The rates table's rows by metric title, cut at the plain table's dash runs."""
    lines = out.splitlines()
    dashes = next(i for i, line in enumerate(lines) if line.startswith("---"))
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[dashes])]
    rows: dict[str, list[str]] = {}
    for line in lines[dashes + 1 :]:
        if not line.strip():
            break
        cells = [line[start:end].strip() for start, end in spans]
        rows[cells[0]] = cells
    return rows


def test_rates_shows_naver_penalty_points_as_points(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = naver_log(tmp_path)
    code, out, _err = run(capsys, "rates", str(log), "--market", "naver", "--json")
    assert code == 0
    metric = json.loads(out)["metrics"][0]
    assert metric["name"] == "penalty_points"
    code, out, _err = run(capsys, "rates", str(log), "--market", "naver")
    assert code == 0
    assert out.startswith("Naver SmartStore at ")
    row = rates_rows(out)["penalty points"]
    points, orders = metric["numerator"], metric["denominator"]
    assert row[2] == f"{points} points"  # the value is the points, not a percentage
    assert "%" not in row[2]
    ratio = f"{100 * points / orders:.2f}%"
    assert row[3] == f"{points} points / {orders} orders = {ratio}"


def test_rates_names_the_success_rate_and_the_cancel_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _err = run(capsys, "rates", str(SAMPLE), "--market", "coupang", "--json")
    metrics = {m["name"]: m for m in json.loads(out)["metrics"]}
    code, out, _err = run(capsys, "rates", str(SAMPLE), "--market", "coupang")
    assert code == 0
    rows = rates_rows(out)
    fulfilment, on_time = metrics["order_fulfilment"], metrics["on_time_shipment"]
    assert rows["order fulfilment"][2] == f"{100 * fulfilment['value']:.2f}% success rate"
    assert rows["order fulfilment"][3] == (
        f"{fulfilment['numerator']} cancels / {fulfilment['denominator']} orders"
    )
    assert rows["on-time shipment"][2] == f"{100 * on_time['value']:.2f}% success rate"
    assert rows["on-time shipment"][3] == (
        f"{on_time['numerator']} late / {on_time['denominator']} orders due"
    )


@pytest.mark.parametrize(
    ("market", "value_words", "count_words"),
    [
        ("amazon", "cancel rate", "cancels /"),
        ("ebay", "cancel rate", "cancelled lines /"),
    ],
)
def test_rates_names_a_plain_rate_and_what_it_counts(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    market: str,
    value_words: str,
    count_words: str,
) -> None:
    log = tmp_path / f"{market}.csv"
    log.write_text(
        SAMPLE.read_text(encoding="utf-8").replace(",coupang,", f",{market},"), encoding="utf-8"
    )
    code, out, _err = run(capsys, "rates", str(log), "--market", market, "--json")
    first = json.loads(out)["metrics"][0]
    code, out, _err = run(capsys, "rates", str(log), "--market", market)
    assert code == 0
    row = rates_rows(out)[first["title"]]
    assert row[2] == f"{100 * first['value']:.2f}% {value_words}"
    assert row[3].startswith(f"{first['numerator']} {count_words} {first['denominator']} ")


def test_rates_headroom_says_the_cancels_that_reach_the_threshold(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = naver_log(tmp_path)
    code, out, _err = run(capsys, "rates", str(log), "--market", "naver", "--json")
    to_sanction = json.loads(out)["headroom"]["cancels_to_sanction"]
    code, out, _err = run(capsys, "rates", str(log), "--market", "naver")
    assert code == 0
    assert (
        f"headroom: {to_sanction} more seller-fault cancels reach the sanction threshold of "
        "Naver SmartStore penalty points"
    ) in out
