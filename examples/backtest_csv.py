"""Backtest the confirmation policies on a log of real orders, and check the trust model.

In this example, we:

- read ``examples/data/orders.csv`` (300 orders of a Coupang seller who confirmed every order
  at once; the format is in ``docs/backtest.md``) with clear errors for a bad row;
- replay the log under each built-in policy, strictly online (no decision sees a later event),
  and print what each would have done;
- print how well the trust model predicted, online, "the supplier cancels" and "no tracking by
  ship_by", next to the two naive baselines;
- print the log's cancel-rate report with the headroom left, and the three riskiest suppliers.

``consign-core backtest|rates|trust examples/data/orders.csv`` do the same from the command line.
"""

from __future__ import annotations

from pathlib import Path

from consign_core.lab.backtest import backtest, rates_report, read_order_log, trust_table


LOG = Path(__file__).resolve().parent / "data" / "orders.csv"


def main() -> None:
    """Run the backtest and print the tables."""
    rows = read_order_log(LOG)
    report = backtest(rows)
    print(f"{report.rows} orders from {report.start:%Y-%m-%d} to {report.end:%Y-%m-%d}")
    print(f"as logged: {report.history}\n")
    for result in report.results:
        median = result.median_hours_to_confirm or 0.0
        print(
            f"{result.policy:<20} seller-fault {result.seller_fault_cancels:>3}  "
            f"buyer cancels {result.buyer_cancels:>3}  late {result.late_shipments:>3}  "
            f"median {median:5.1f} h  cost {result.total_cost / 1e6:6.2f}M KRW"
        )

    print("\ntrust model, online (Brier score; lower is better):")
    for scores in (report.prediction.supplier_cancels, report.prediction.no_tracking_by_ship_by):
        if scores is None:
            continue
        print(
            f"  {scores.question:<24} model {scores.model.brier:.4f}  "
            f"global rate {scores.global_rate.brier:.4f}  "
            f"supplier's frequency {scores.supplier_rate.brier:.4f}  (n={scores.model.n})"
        )

    rates = rates_report(rows, "coupang")
    print(f"\nCoupang at {rates.report.at:%Y-%m-%d %H:%M}: {rates.report.status.value}")
    for metric in rates.report.metrics:
        print(f"  {metric.describe()}")
    print(f"  headroom: {rates.headroom.describe()}")

    print("\nriskiest suppliers:")
    for view in trust_table(rows)[:3]:
        print(f"  {view.supplier_id} {view.tier:<11} {view.reason}")


if __name__ == "__main__":
    main()
