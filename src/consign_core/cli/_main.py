"""The ``consign-core`` command (also ``python -m consign_core``).

Subcommands:

- ``simulate``: compare confirmation policies on a simulated seller (``docs/simulate.md``);
- ``backtest FILE.csv``: replay a log of real orders under each policy, and score the trust
  model's online predictions (``docs/backtest.md``);
- ``rates FILE.csv --market M``: the cancel-rate / penalty report of the log, with headroom;
- ``trust FILE.csv``: the suppliers of the log with their tier, risk and time to tracking;
- ``scenarios``: the built-in simulation scenarios.

Every subcommand prints a table, or with ``--json`` the documented JSON document on stdout.
Progress goes to stderr for runs over a few seconds. Bad arguments or files exit with code 2
and a one-line message on stderr (CSV errors name the line and the field).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from consign_core.errors import ConsignError


__all__ = ["main"]

_PROG = "consign-core"
_clock = time.monotonic  # progress reporting only (the one clock read of the policy lab)


class _UsageError(Exception):
    """A bad argument or file: exit code 2 with a one-line message."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (raised, not printed and exited)."""

    def error(self, message: str) -> NoReturn:
        text = f"{self.prog}: error: {message}"
        raise _UsageError(text)


class _Progress:
    """Progress on stderr: nothing for the first seconds, then a line every few seconds."""

    def __init__(self, label: str, stream: TextIO, *, enabled: bool) -> None:
        self.label = label
        self.stream = stream
        self.enabled = enabled
        self.start = _clock()
        self.last = self.start
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = _clock()
        if now - self.start < 2.0 or now - self.last < 2.0:
            return
        self.last = now
        self.shown = True
        pct = 100.0 * done / total if total else 100.0
        self.stream.write(
            f"{_PROG}: {self.label} {pct:3.0f}% ({done:,}/{total:,}), {now - self.start:.0f} s\n"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.shown:
            elapsed = _clock() - self.start
            self.stream.write(f"{_PROG}: {self.label} done in {elapsed:.1f} s\n")
            self.stream.flush()


# --------------------------------------------------------------------------------------
# argument parsing
# --------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"expected a whole number, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if value < 1:
        msg = f"expected a number >= 1, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        msg = f"expected a whole number, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        msg = f"expected a number in 0..1, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not 0.0 <= value <= 1.0:
        msg = f"expected a number in 0..1, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _instant(text: str) -> datetime:
    value = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        msg = f"expected an ISO 8601 time such as 2025-09-29T10:00:00+09:00, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if parsed.utcoffset() is None:
        msg = f"the time {text!r} needs a UTC offset, e.g. {text}+09:00"
        raise argparse.ArgumentTypeError(msg)
    return parsed


def _build_parser() -> _Parser:
    from consign_core.domain.rules import builtin_profiles
    from consign_core.domain.timing import policy_names
    from consign_core.lab.sim import DEFAULT_ORDERS, scenario_names

    markets = sorted(builtin_profiles())
    policies = list(policy_names())
    parser = _Parser(
        prog=_PROG,
        description=(
            "The policy lab of consign-core: see what each order-confirmation (발주확인) policy "
            "would have done before trusting it with your account."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sim = sub.add_parser(
        "simulate",
        help="compare policies on a simulated seller",
        description="Compare confirmation policies on a seeded, simulated seller.",
    )
    sim.add_argument(
        "--scenario", default="default", choices=scenario_names(), help="built-in scenario"
    )
    sim.add_argument(
        "--orders",
        type=_positive_int,
        default=DEFAULT_ORDERS,
        help=f"orders per run (default {DEFAULT_ORDERS:,})",
    )
    seeds = sim.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seed", type=_int, action="append", help="a seed (repeat for several; default 0)"
    )
    seeds.add_argument("--seeds", type=_positive_int, help="run seeds 0..N-1")
    sim.add_argument(
        "--policy",
        action="append",
        choices=policies,
        help="a policy to compare (repeat; default: all four)",
    )
    sim.add_argument("--market", choices=markets, help="override the scenario's market")
    sim.add_argument(
        "--suppliers", type=_positive_int, help="override the scenario's number of suppliers"
    )
    sim.add_argument(
        "--alternate-share",
        type=_share,
        metavar="X",
        help="override the share of SKUs with an alternate supplier (0..1)",
    )
    sim.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        help="run policies and seeds in this many processes (default 1)",
    )
    sim.add_argument("--json", action="store_true", help="print the JSON document")
    sim.add_argument(
        "--plot",
        metavar="FILE.png",
        help="draw seller-fault cancel rate against time to confirmation (needs matplotlib)",
    )
    sim.add_argument("--quiet", action="store_true", help="no progress on stderr")

    bt = sub.add_parser(
        "backtest",
        help="replay a log of real orders under each policy",
        description="Replay an order-log CSV under each policy and score the trust model.",
    )
    bt.add_argument("file", metavar="FILE.csv", help="the order log")
    bt.add_argument(
        "--policy", action="append", choices=policies, help="a policy (repeat; default: all four)"
    )
    bt.add_argument(
        "--market", choices=markets, help="the market's rules (default: the log's market)"
    )
    bt.add_argument(
        "--seed", type=_int, default=0, help="seed of the extra buyer cancels (default 0)"
    )
    bt.add_argument(
        "--no-extra-buyer-cancels",
        action="store_true",
        help="replay only the logged buyer cancels (no buyer model for longer waits)",
    )
    bt.add_argument("--json", action="store_true", help="print the JSON document")
    bt.add_argument("--quiet", action="store_true", help="no progress on stderr")

    rates = sub.add_parser(
        "rates",
        help="the cancel-rate / penalty report of an order log",
        description="The cancel-rate and penalty report of an order log, with headroom.",
    )
    rates.add_argument("file", metavar="FILE.csv", help="the order log")
    rates.add_argument("--market", required=True, choices=markets, help="the market's rules")
    rates.add_argument(
        "--at", type=_instant, help="report at this time (default: the log's last time)"
    )
    rates.add_argument("--json", action="store_true", help="print the JSON document")

    trust = sub.add_parser(
        "trust",
        help="the suppliers of an order log, by risk",
        description="Suppliers of an order log with tier, cancel risk and time to tracking.",
    )
    trust.add_argument("file", metavar="FILE.csv", help="the order log")
    trust.add_argument(
        "--at", type=_instant, help="assess at this time (default: the log's last time)"
    )
    trust.add_argument("--json", action="store_true", help="print the JSON document")

    sub.add_parser(
        "scenarios",
        help="list the built-in simulation scenarios",
        description="List the built-in simulation scenarios.",
    )
    return parser


# --------------------------------------------------------------------------------------
# formatting helpers
# --------------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def fmt(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    lines = [fmt(headers), fmt(["-" * w for w in widths])]
    lines.extend(fmt(row) for row in rows)
    return "\n".join(lines)


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _pct(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.{digits}f}%"


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _dump(document: Any, out: TextIO) -> None:
    out.write(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False))
    out.write("\n")


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


def _check_plot_backend() -> None:
    try:
        import matplotlib as mpl
    except ImportError:
        msg = "--plot needs matplotlib; install it with: pip install 'consign-core[plot]'"
        raise _UsageError(msg) from None
    mpl.use("Agg")


def _check_plot_path(path: str) -> None:
    """Refuse, before any work, a plot path the picture cannot be written to as given."""
    _check_plot_backend()
    from matplotlib.figure import Figure

    target = Path(path)
    if target.is_dir():
        msg = f"cannot write the plot to {path}: it is a directory; give a file name"
        raise _UsageError(msg)
    if not target.resolve().parent.is_dir():
        msg = f"cannot write the plot to {path}: no such directory"
        raise _UsageError(msg)
    formats = Figure().canvas.get_supported_filetypes()
    suffix = target.suffix.lower().lstrip(".")
    if suffix not in formats:
        known = ", ".join(f".{f}" for f in sorted(formats))
        msg = f"cannot write the plot to {path}: give a file name ending in one of {known}"
        raise _UsageError(msg)


def _simulate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from consign_core.domain.timing import DEFAULT_POLICY_NAMES
    from consign_core.lab import compare_policies, get_scenario

    if args.plot:
        _check_plot_path(args.plot)
    scenario = get_scenario(args.scenario)
    changes: dict[str, Any] = {}
    if args.market:
        changes["market"] = args.market
    if args.suppliers:
        changes["suppliers"] = args.suppliers
    if args.alternate_share is not None:
        changes["alternate_share"] = args.alternate_share
    if changes:
        scenario = scenario.evolve(**changes)
    seeds = list(range(args.seeds)) if args.seeds else list(dict.fromkeys(args.seed or [0]))
    policies = list(dict.fromkeys(args.policy or DEFAULT_POLICY_NAMES))
    progress = _Progress("simulate", err, enabled=not args.quiet)
    executor = None
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(max_workers=args.jobs)
    try:
        comparison = compare_policies(
            scenario,
            policies,
            seeds=seeds,
            orders=args.orders,
            executor=executor,
            progress=progress,
        )
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    progress.finish()
    document = comparison.to_dict()
    if args.plot:
        _plot(document, args.plot)
    if args.json:
        _dump(document, out)
        return 0
    out.write(_simulate_text(document))
    if args.plot:
        out.write(f"\nplot written to {args.plot}\n")
    return 0


def _policy_table(policies: Sequence[dict[str, Any]]) -> str:
    rows = [
        [
            p["policy"],
            _count(p["seller_fault_cancels"]),
            _pct(p["seller_fault_cancel_rate"]),
            _count(p["buyer_cancels"]),
            _count(p["late_shipments"]),
            _count(p["escalations"]),
            _num(p["median_hours_to_confirm"]),
            _num(p["p90_hours_to_confirm"]),
            _num(p["total_cost"] / 1e6, 2),
            p["worst_status"],
        ]
        for p in policies
    ]
    headers = [
        "policy",
        "seller-fault",
        "rate",
        "buyer cancels",
        "late",
        "escalations",
        "median h",
        "p90 h",
        "cost (M KRW)",
        "worst status",
    ]
    return _table(headers, rows, right=set(range(1, 9)))


def _simulate_text(doc: dict[str, Any]) -> str:
    seeds = doc["seeds"]
    head = (
        f"scenario {doc['scenario']} ({doc['market']}), {doc['orders']:,} orders per run, "
        f"{doc['suppliers']} suppliers, seed{'s' if len(seeds) > 1 else ''} "
        f"{', '.join(str(s) for s in seeds)}"
    )
    if len(seeds) > 1:
        head += f" (mean of {len(seeds)} runs)"
    table = _policy_table(doc["policies"])
    metric_rows = []
    names: list[str] = []
    for p in doc["policies"]:
        names = [m["title"] for m in p["metrics"]]
        metric_rows.append(
            [p["policy"]]
            + [
                f"{m['worst_status']} (w {_count(m['days_warning'])} d, "
                f"s {_count(m['days_sanction'])} d)"
                for m in p["metrics"]
            ]
        )
    metrics = _table(["policy", *names], metric_rows, right=set())
    text = (
        f"{head}\n\n{table}\n\nmarket metrics, sampled daily "
        f"(worst status; days in warning / sanction):\n\n{metrics}\n"
    )
    if len(seeds) > 1:
        per_seed = [
            [
                p["policy"],
                str(run["seed"]),
                _count(p["seller_fault_cancels"]),
                _pct(p["seller_fault_cancel_rate"]),
                _count(p["buyer_cancels"]),
                _num(p["median_hours_to_confirm"]),
                _num(p["total_cost"] / 1e6, 2),
                p["worst_status"],
            ]
            for name in [q["policy"] for q in doc["policies"]]
            for run in doc["per_seed"]
            for p in run["policies"]
            if p["policy"] == name
        ]
        headers = [
            "policy",
            "seed",
            "seller-fault",
            "rate",
            "buyer cancels",
            "median h",
            "cost (M KRW)",
            "worst status",
        ]
        text += f"\nper seed:\n\n{_table(headers, per_seed, right={1, 2, 3, 4, 5, 6})}\n"
    return text


def _plot(doc: dict[str, Any], path: str) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5.0), dpi=120)
    for run in doc["per_seed"]:
        for p in run["policies"]:
            if p["median_hours_to_confirm"] is not None:
                ax.scatter(
                    p["median_hours_to_confirm"],
                    100 * p["seller_fault_cancel_rate"],
                    color="0.75",
                    s=14,
                    zorder=1,
                )
    points = [
        (p["median_hours_to_confirm"], 100 * p["seller_fault_cancel_rate"], p)
        for p in doc["policies"]
        if p["median_hours_to_confirm"] is not None
    ]
    xs = [x for x, _, _ in points] or [0.0]
    ys = [y for _, y, _ in points] or [0.0]
    x_span = max(max(xs) - min(xs), 1.0)
    y_span = max(max(ys) - min(ys), 0.1)
    for x, y, p in points:
        ax.scatter(x, y, s=60, zorder=2)
        # a neighbour just above takes the space over the point: write this label below it
        crowded = any(
            abs(ox - x) < 0.08 * x_span and 0 < oy - y < 0.15 * y_span for ox, oy, _ in points
        )
        ax.annotate(
            f"{p['policy']}\ncost {p['total_cost'] / 1e6:,.1f}M",
            (x, y),
            textcoords="offset points",
            xytext=(6, -22) if crowded else (6, 6),
            fontsize=8,
        )
    ax.set_xlabel("median hours from payment to confirmation")
    ax.set_ylabel("seller-fault cancel rate (%)")
    ax.set_title(
        f"{doc['scenario']} ({doc['market']}): {doc['orders']:,} orders, "
        f"{len(doc['seeds'])} seed(s)"
    )
    ax.grid(visible=True, alpha=0.3)
    ax.margins(x=0.15, y=0.2)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except (OSError, ValueError) as exc:
        msg = f"cannot write the plot to {path}: {getattr(exc, 'strerror', None) or exc}"
        raise _UsageError(msg) from None
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------------------
# backtest, rates, trust
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


def _scenarios(_args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    from consign_core.lab.sim import SCENARIOS

    for scenario in SCENARIOS.values():
        out.write(f"{scenario.name}\n    {scenario.description}\n")
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = {
    "simulate": _simulate,
    "backtest": _backtest,
    "rates": _rates,
    "trust": _trust,
    "scenarios": _scenarios,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``consign-core`` command with ``argv`` (default ``sys.argv[1:]``).

    Returns the exit code: 0 on success, 2 for bad arguments or files (with a one-line message
    on stderr).
    """
    out, err = sys.stdout, sys.stderr
    parser = _build_parser()
    try:
        try:
            args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0) if not isinstance(exc.code, str) else 2
        return _COMMANDS[args.command](args, out, err)
    except _UsageError as exc:
        text = _one_line(str(exc))
        if not text.startswith(_PROG):
            text = f"{_PROG}: error: {text}"
        err.write(f"{text}\n")
        return 2
    except ConsignError as exc:
        err.write(f"{_PROG}: error: {_one_line(str(exc))}\n")
        return 2
    except KeyboardInterrupt:
        err.write(f"{_PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())
