"""``consign-core backtest``, ``rates`` and ``trust``: the commands that read an order log."""

import argparse
from pathlib import Path
from typing import Any, TextIO

from consign_core.cli._args import _UsageError
from consign_core.cli._output import _dump, _num, _pct, _Progress, _table
from consign_core.cli._simulate import _policy_table


def _load_rows(path: str) -> Any:
    from consign_core.lab.backtest import read_order_log

    if not Path(path).is_file():
        msg = f"cannot read {path}: no such file"
        raise _UsageError(msg)
    try:
        return read_order_log(path)
    except OSError as exc:
        msg = f"cannot read {path}: {exc.strerror or exc}"
        raise _UsageError(msg) from None


# --------------------------------------------------------------------------------------
# simulate
# --------------------------------------------------------------------------------------


def _backtest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from consign_core.domain.timing import DEFAULT_POLICY_NAMES
    from consign_core.lab.backtest import backtest

    rows = _load_rows(args.file)
    policies = list(dict.fromkeys(args.policy or DEFAULT_POLICY_NAMES))
    progress = _Progress("backtest", err, enabled=not args.quiet)
    report = backtest(
        rows,
        policies,
        market=args.market,
        seed=args.seed,
        extra_buyer_cancels=not args.no_extra_buyer_cancels,
        progress=progress,
    )
    progress.finish()
    doc = report.to_dict()
    if args.json:
        _dump(doc, out)
        return 0
    out.write(_backtest_text(doc))
    return 0


def _backtest_text(doc: dict[str, Any]) -> str:
    head = (
        f"backtest of {doc['rows']:,} orders ({doc['market']}) from {doc['start'][:10]} "
        f"to {doc['end'][:10]}"
    )
    if doc["excluded_rows"]:
        head += f"; {doc['excluded_rows']:,} rows of other markets left out"
    h = doc["history"]
    history = (
        f"as logged: {h['supplier_cancelled']} supplier cancels "
        f"({h['seller_fault_cancels']} seller fault), {h['buyer_cancelled']} buyer cancels, "
        f"{h['late_shipments']} late shipments, "
        f"median {_num(h['median_hours_to_confirm'])} h to confirm"
    )
    table = _policy_table(doc["policies"])
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
        right=set(range(1, 8)),
    )
    return (
        f"{head}\n{history}\n\n{table}\n\ntrust model, online prediction quality "
        f"(lower is better; baselines: global rate so far, supplier's frequency so far):\n\n"
        f"{quality}\n"
    )


def _rates(args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    from consign_core.lab.backtest import rates_report

    rows = _load_rows(args.file)
    report = rates_report(rows, args.market, at=args.at)
    doc = report.to_dict()
    if args.json:
        _dump(doc, out)
        return 0
    lines = [
        f"{report.report.market} at {doc['at']}: {doc['status']} ({doc['rows']:,} orders"
        + (f"; {doc['excluded_rows']:,} of other markets left out" if doc["excluded_rows"] else "")
        + ")",
        "",
    ]
    rows_out = [
        [
            m["title"],
            m["status"],
            "-"
            if m["value"] is None
            else (f"{m['value']:g}" if m["quantity"] == "count" else _pct(m["value"])),
            f"{m['numerator']}" + ("" if m["denominator"] is None else f"/{m['denominator']}"),
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
            right={2, 3, 4, 5},
        )
    )
    lines.extend(["", f"headroom: {doc['headroom']['describe']}", ""])
    out.write("\n".join(lines))
    return 0


def _trust(args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    from consign_core.lab.backtest import trust_table

    rows = _load_rows(args.file)
    if not rows:
        msg = f"{args.file}: the order log has no rows"
        raise _UsageError(msg)
    views = trust_table(rows, at=args.at)
    if args.json:
        _dump(
            {
                "schema_version": 1,
                "command": "trust",
                "suppliers": [v.to_dict() for v in views],
            },
            out,
        )
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
        right={2, 3, 4, 5, 6, 7, 8},
    )
    out.write(f"{len(views)} suppliers, riskiest first (hours are business hours)\n\n{table}\n")
    return 0
