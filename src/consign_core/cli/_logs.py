"""``consign-core backtest``, ``rates`` and ``trust``: the commands that read an order log."""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from consign_core.cli._args import _UsageError
from consign_core.cli._output import _console, _dump, _num, _pct, _Progress, _table
from consign_core.cli._simulate import _policy_table


if TYPE_CHECKING:
    from rich.console import Console

    from consign_core.domain.calendar import BusinessCalendar
    from consign_core.domain.rules import MetricSpec
    from consign_core.lab.backtest import OrderLog


_PROG = "consign-core"


def _zone_name(zone: tzinfo) -> str:
    """``KST (+09:00)`` or ``UTC-03:00``: a zone as a person reads it."""
    name = zone.tzname(None) or "UTC"
    offset = zone.utcoffset(None) or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    written = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return name if written in name else f"{name} ({written})"


def _load_log(args: argparse.Namespace, err: TextIO) -> tuple[OrderLog, BusinessCalendar]:
    """The order log of ``args.file`` and the business calendar to count it with.

    Skipped rows (``--on-bad-rows skip``) are reported on ``err``, one line each, and so is
    the zone date-only ``ship_by`` values were read in. A file with no rows is an error.
    """
    from consign_core.domain.calendar import DEFAULT_CALENDAR, KST, BusinessCalendar
    from consign_core.lab.backtest import load_order_log

    path: str = args.file
    target = Path(path)
    if target.is_dir():
        msg = f"cannot read {path}: it is a directory, not a file"
        raise _UsageError(msg)
    if not target.is_file():
        msg = f"cannot read {path}: no such file"
        raise _UsageError(msg)
    country: str = args.calendar
    try:
        log = load_order_log(
            path, zone=KST if country == "KR" else None, on_bad_rows=args.on_bad_rows
        )
    except OSError as exc:
        msg = f"cannot read {path}: {exc.strerror or exc}"
        raise _UsageError(msg) from None
    for skipped in log.skipped:
        err.write(f"{_PROG}: skipped {skipped.describe(log.source)}\n")
    if log.date_only_ship_by:
        count = log.date_only_ship_by
        err.write(
            f"{_PROG}: note: {count:,} date-only ship_by value{'s' if count != 1 else ''} read "
            f"as the end of that day in {_zone_name(log.zone)}\n"
        )
    if not log.rows:
        if log.skipped:
            msg = f"{path}: the order log has no rows left: all {len(log.skipped):,} were skipped"
        else:
            msg = f"{path}: the order log has no rows, only a header"
        raise _UsageError(msg)
    if country == "KR":
        return log, DEFAULT_CALENDAR
    return log, BusinessCalendar(country=country, utc_offset=log.zone.utcoffset(None))


def _at(value: datetime | date | None, calendar: BusinessCalendar) -> datetime | None:
    """``--at``: a time as given, a date alone as the end of that day in the calendar's zone."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value + timedelta(days=1), datetime.min.time(), tzinfo=calendar.zone)


def _log_facts(doc: dict[str, Any]) -> str:
    """``; 1 bad row skipped; business days of BR`` (empty for a clean KR log)."""
    text = ""
    skipped = doc.get("skipped_rows", 0)
    if skipped:
        text += f"; {skipped:,} bad row{'s' if skipped != 1 else ''} skipped"
    if doc.get("calendar", "KR") != "KR":
        text += f"; business days of {doc['calendar']}"
    return text


def _backtest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from consign_core.domain.timing import DEFAULT_POLICY_NAMES
    from consign_core.lab.backtest import backtest, log_markets

    rows, calendar = _load_log(args, err)
    policies = list(dict.fromkeys(args.policy or DEFAULT_POLICY_NAMES))
    with _Progress("backtest", _console(err), enabled=not args.quiet) as progress:
        report = backtest(
            rows,
            policies,
            market=args.market,
            seed=args.seed,
            extra_buyer_cancels=not args.no_extra_buyer_cancels,
            calendar=calendar,
            progress=progress,
        )
    if args.market is not None:
        source = "option"
    elif log_markets(rows):
        source = "log"
    else:
        source = "default"
    doc = _with_market_source(report.to_dict(), source)
    if args.json:
        _dump(doc, out)
        return 0
    out.write(_backtest_text(doc, _console(out)))
    return 0


def _with_market_source(doc: dict[str, Any], source: str) -> dict[str, Any]:
    """``doc`` with ``market_source`` after ``market``: how the rules were chosen.

    ``"option"`` (``--market``), ``"log"`` (the log's ``market`` column) or ``"default"``
    (the log names no market: Coupang's rules by default).
    """
    result: dict[str, Any] = {}
    for key, value in doc.items():
        result[key] = value
        if key == "market":
            result["market_source"] = source
    return result


def _rules_used(doc: dict[str, Any]) -> str:
    """Which market's rules the backtest applied, and why (said even when it is the default)."""
    from consign_core.domain.rules import get_profile

    name = get_profile(doc["market"]).display_name
    source = doc.get("market_source")
    if source == "default":
        return f"{name} rules by default: the log names no market; choose the rules with --market"
    if source == "log":
        return f"{name} rules, the market the log names"
    if source == "option":
        return f"{name} rules, as --market asked"
    return f"{name} rules"


def _backtest_text(doc: dict[str, Any], console: Console) -> str:
    head = (
        f"backtest of {doc['rows']:,} orders from {doc['start'][:10]} to {doc['end'][:10]} "
        f"under {_rules_used(doc)}"
    )
    if doc["excluded_rows"]:
        head += f"; {doc['excluded_rows']:,} rows of other markets left out"
    head += _log_facts(doc)
    h = doc["history"]
    history = (
        f"as logged: {h['supplier_cancelled']} supplier cancels "
        f"({h['seller_fault_cancels']} seller fault), {h['buyer_cancelled']} buyer cancels, "
        f"{h['late_shipments']} late shipments, "
        f"median {_num(h['median_hours_to_confirm'])} h to confirm"
    )
    table = _policy_table(doc["policies"], console)
    quality_rows = []
    for key, label in (
        ("supplier_cancels", "the supplier cancels"),
        ("no_tracking_by_ship_by", "no tracking by ship_by"),
    ):
        q = doc["prediction_quality"][key]
        if q is None:
            quality_rows.append([label, "0", "-", "-", "-", "-", "-", "-"])
            continue
        quality_rows.append(
            [
                label,
                f"{q['n']:,}",
                f"{q['model']['brier']:.4f}",
                f"{q['global_rate']['brier']:.4f}",
                f"{q['supplier_rate']['brier']:.4f}",
                f"{q['model']['log_loss']:.4f}",
                f"{q['global_rate']['log_loss']:.4f}",
                f"{q['supplier_rate']['log_loss']:.4f}",
            ]
        )
    quality = _table(
        [
            "question",
            "n",
            "Brier model",
            "global",
            "supplier",
            "log loss model",
            "global",
            "supplier",
        ],
        quality_rows,
        set(range(1, 8)),
        console,
    )
    notes = "".join(f"note: {note}\n" for note in doc.get("notes", ()))
    return (
        f"{head}\n{history}\n\n{table}\n\n{notes}{chr(10) if notes else ''}"
        f"trust model, online prediction quality "
        f"(lower is better; baselines: global rate so far, supplier's frequency so far):\n\n"
        f"{quality}\n"
    )


def _rates(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from consign_core.domain.rules import get_profile
    from consign_core.lab.backtest import rates_report

    rows, calendar = _load_log(args, err)
    report = rates_report(rows, args.market, at=_at(args.at, calendar), calendar=calendar)
    doc = report.to_dict()
    if args.json:
        _dump(doc, out)
        return 0
    profile = get_profile(doc["market"])
    specs = {spec.name: spec for spec in profile.metrics}
    lines = [
        f"{profile.display_name} at {doc['at']}: {doc['status']} ({doc['rows']:,} orders"
        + (f"; {doc['excluded_rows']:,} of other markets left out" if doc["excluded_rows"] else "")
        + _log_facts(doc)
        + ")",
        "",
    ]
    rows_out = [
        [
            m["title"],
            m["status"] if m.get("evaluated", True) else f"{m['status']} (not evaluated)",
            _metric_value(m, specs.get(m["name"])),
            _metric_count(m, specs.get(m["name"])),
            "-" if m["cancels_to_warning"] is None else str(m["cancels_to_warning"]),
            "-" if m["cancels_to_sanction"] is None else str(m["cancels_to_sanction"]),
            "-" if m["next_expiry"] is None else m["next_expiry"][:16].replace("T", " "),
        ]
        for m in doc["metrics"]
    ]
    lines.append(
        _table(
            [
                "metric",
                "status",
                "value",
                "count",
                "cancels to warning",
                "to sanction",
                "next expiry",
            ],
            rows_out,
            {2, 3, 4, 5},
            _console(out),
        )
    )
    lines.extend(["", f"headroom: {doc['headroom']['describe']}", ""])
    out.write("\n".join(lines))
    return 0


_UNIT_NOUNS = {"order": ("order", "orders"), "line": ("line", "lines"), "unit": ("unit", "units")}
_DENOMINATOR_SUFFIX = {"orders_paid": "", "orders_due": " due", "orders_shipped": " shipped"}
_CANCEL_EVENTS = frozenset({"stock_out_cancel", "seller_fault_cancel"})
_LATE_EVENTS = frozenset({"late_shipment", "long_late_shipment"})


def _is_points(spec: MetricSpec | None) -> bool:
    """Whether the metric sums penalty points (weights other than 1), as Naver's does."""
    return spec is not None and any(weight.points != 1 for weight in spec.counts)


def _counted_kind(spec: MetricSpec | None) -> str:
    """What the metric counts: ``"points"``, ``"cancel"``, ``"late"`` or ``""`` (a mix)."""
    if spec is None:
        return ""
    if _is_points(spec):
        return "points"
    events = {weight.event.value for weight in spec.counts}
    if events <= _CANCEL_EVENTS:
        return "cancel"
    if events <= _LATE_EVENTS:
        return "late"
    return ""


def _numerator_nouns(spec: MetricSpec | None) -> tuple[str, str]:
    """(singular, plural) of what the metric's numerator counts: points, cancels, late ..."""
    kind = _counted_kind(spec)
    if spec is None or not kind:
        return ("counted", "counted")
    if kind == "points":
        return ("point", "points")
    unit = spec.unit.value
    if kind == "cancel":
        if unit == "order":
            return ("cancel", "cancels")
        return (f"cancelled {_UNIT_NOUNS[unit][0]}", f"cancelled {_UNIT_NOUNS[unit][1]}")
    return ("late", "late") if unit == "order" else (f"late {_UNIT_NOUNS[unit][1]}",) * 2


def _denominator_noun(spec: MetricSpec | None, count: int) -> str:
    """What the denominator counts: orders (paid), orders due, units ..."""
    if spec is None:
        return ""
    singular, plural = _UNIT_NOUNS.get(spec.unit.value, ("", ""))
    suffix = _DENOMINATOR_SUFFIX.get(spec.denominator.value, "")
    return f"{singular if count == 1 else plural}{suffix}"


def _metric_value(m: dict[str, Any], spec: MetricSpec | None) -> str:
    """The headline value, saying what it is: points as points, a success rate as one."""
    singular, plural = _numerator_nouns(spec)
    if _is_points(spec) or m["quantity"] == "count":
        return f"{m['numerator']:,} {singular if m['numerator'] == 1 else plural}"
    if m["value"] is None:
        return "-"
    if m["quantity"] == "success_rate":
        return f"{_pct(m['value'])} success rate"
    kind = {"cancel": "cancel rate", "late": "late rate"}.get(_counted_kind(spec), "rate")
    return f"{_pct(m['value'])} {kind}"


def _metric_count(m: dict[str, Any], spec: MetricSpec | None) -> str:
    """The counts behind the value, each named: ``3 cancels / 71 orders``."""
    singular, plural = _numerator_nouns(spec)
    numerator = m["numerator"]
    text = f"{numerator:,} {singular if numerator == 1 else plural}"
    denominator = m["denominator"]
    if denominator is None:
        return text
    text += f" / {denominator:,} {_denominator_noun(spec, denominator)}".rstrip()
    if _is_points(spec) and denominator:  # the points-to-orders ratio (Naver's 40% rule)
        text += f" = {_pct(numerator / denominator)}"
    return text


def _trust(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from consign_core.lab.backtest import trust_table

    rows, calendar = _load_log(args, err)
    views = trust_table(rows, at=_at(args.at, calendar), calendar=calendar)
    doc = {
        "schema_version": 1,
        "command": "trust",
        "suppliers": [v.to_dict() for v in views],
        "skipped_rows": len(rows.skipped),
        "calendar": calendar.country,
    }
    if args.json:
        _dump(doc, out)
        return 0
    table = _table(
        [
            "supplier",
            "tier",
            "risk",
            "up to",
            "orders",
            "cancels",
            "eff. orders",
            "median h to tracking",
            "p90 h",
        ],
        [
            [
                v.supplier_id,
                v.tier,
                _pct(v.p_cancel, 1),
                _pct(v.p_cancel_upper, 1),
                str(v.orders),
                str(v.supplier_cancels),
                _num(v.effective_orders),
                _num(v.median_hours_to_tracking),
                _num(v.p90_hours_to_tracking),
            ]
            for v in views
        ],
        {2, 3, 4, 5, 6, 7, 8},
        _console(out),
    )
    out.write(
        f"{len(views)} suppliers, riskiest first (hours are business hours{_log_facts(doc)})"
        f"\n\n{table}\n"
    )
    return 0
