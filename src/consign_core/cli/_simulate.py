"""``consign-core simulate`` and ``scenarios``: the policy comparison, its table and its plot."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from consign_core.cli._args import _UsageError
from consign_core.cli._output import _console, _count, _dump, _num, _pct, _Progress, _table


if TYPE_CHECKING:
    from rich.console import Console


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
    executor = None
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(max_workers=args.jobs)
    try:
        with _Progress("simulate", _console(err), enabled=not args.quiet) as progress:
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
    document = comparison.to_dict()
    if args.plot:
        _plot(document, args.plot)
    if args.json:
        _dump(document, out)
        return 0
    out.write(_simulate_text(document, _console(out)))
    if args.plot:
        out.write(f"\nplot written to {args.plot}\n")
    return 0


def _gain(value: float | None) -> str:
    return _pct(value, 0) if value is not None else "-"


def _money(value: float | None, scale: float = 1e6, digits: int = 2) -> str:
    return "-" if value is None else _num(value / scale, digits)


def _policy_table(
    policies: Sequence[dict[str, Any]], console: Console, oracle: dict[str, Any] | None = None
) -> str:
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
            _num(p["cost_per_order"], 0),
            _money(p.get("regret")),
            _gain(p.get("gain_captured")),
            p["worst_status"],
        ]
        for p in ([*policies, oracle] if oracle is not None else policies)
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
        "KRW/order",
        "regret (M)",
        "gain captured",
        "worst status",
    ]
    return _table(headers, rows, set(range(1, 12)), console)


def _cost_note(doc: dict[str, Any]) -> str:
    """What "cost" is, with the weights the runs were priced at."""
    w = doc["weights"]
    factor = 1 + w["warning_multiplier"] + w["sanction_multiplier"]
    note = (
        "cost: KRW-equivalents, the same weights for every policy: each seller-fault cancel "
        f"{w['seller_fault_cancel']:,.0f} (up to x{factor:,.0f} as the account nears a "
        f"threshold), each lost sale (buyer cancel) {w['lost_sale_fixed']:,.0f} + "
        f"{100 * w['lost_sale_margin']:.0f}% of the order value, {w['delay_per_hour']:,.0f} "
        f"an hour an order waits unconfirmed, {w['late_shipment']:,.0f} a late shipment"
    )
    escalation = doc.get("escalation_cost")
    if escalation is not None:
        note += f", {escalation:,.0f} an escalation to a person"
    note += "; KRW/order is the cost divided by the orders."
    if doc.get("oracle") is not None:
        best = doc.get("best_baseline")
        note += (
            "\noracle: the clairvoyant bound (every order confirmed at its own cheapest moment, "
            "with hindsight of the world's draws; not a policy). regret = cost - oracle's; "
            "gain captured = (best baseline - cost) / (best baseline - oracle)"
        )
        note += f", best baseline {best['policy']}." if best else " (no baseline was run)."
    return note


def _simulate_text(doc: dict[str, Any], console: Console) -> str:
    seeds = doc["seeds"]
    head = (
        f"scenario {doc['scenario']} ({doc['market']}), {doc['orders']:,} orders per run, "
        f"{doc['suppliers']} suppliers, seed{'s' if len(seeds) > 1 else ''} "
        f"{', '.join(str(s) for s in seeds)}"
    )
    if len(seeds) > 1:
        head += f" (mean of {len(seeds)} runs)"
    table = _policy_table(doc["policies"], console, doc.get("oracle"))
    metric_rows = []
    names: list[str] = []
    oracle = doc.get("oracle")
    for p in [*doc["policies"], *([oracle] if oracle is not None else [])]:
        names = [m["title"] for m in p["metrics"]]
        metric_rows.append(
            [p["policy"]]
            + [
                f"{m['worst_status']} (w {_count(m['days_warning'])} d, "
                f"s {_count(m['days_sanction'])} d)"
                for m in p["metrics"]
            ]
        )
    metrics = _table(["policy", *names], metric_rows, set(), console)
    text = (
        f"{head}\n\n{table}\n\n{_cost_note(doc)}\n\nmarket metrics, sampled daily "
        f"(worst status; days in warning / sanction):\n\n{metrics}\n"
    )
    if len(seeds) > 1:
        names_asked = [q["policy"] for q in doc["policies"]]
        if doc.get("oracle") is not None:
            names_asked.append(doc["oracle"]["policy"])
        per_seed = [
            [
                p["policy"],
                str(run["seed"]),
                _count(p["seller_fault_cancels"]),
                _pct(p["seller_fault_cancel_rate"]),
                _count(p["buyer_cancels"]),
                _num(p["median_hours_to_confirm"]),
                _num(p["total_cost"] / 1e6, 2),
                _money(p.get("regret")),
                _gain(p.get("gain_captured")),
                p["worst_status"],
            ]
            for name in names_asked
            for run in doc["per_seed"]
            for p in [*run["policies"], *([run["oracle"]] if run.get("oracle") else [])]
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
            "regret (M)",
            "gain captured",
            "worst status",
        ]
        text += f"\nper seed:\n\n{_table(headers, per_seed, set(range(1, 9)), console)}\n"
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


def _scenarios(_args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    from consign_core.lab.sim import SCENARIOS

    for scenario in SCENARIOS.values():
        out.write(f"{scenario.name}\n    {scenario.description}\n")
    return 0
