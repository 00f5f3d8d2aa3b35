"""Result values of a simulation or backtest run, and their stable JSON form.

Re-exported by :mod:`consign_core.lab.sim`. ``docs/simulate.md`` documents the JSON schema.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from consign_core.domain.rules import MetricQuantity, MetricStatus, RuleProfile


__all__ = [
    "CostBreakdown",
    "MetricSummary",
    "PolicyResult",
    "mean_policy_dict",
    "percentile",
    "summarize_metrics",
]

SCHEMA_VERSION: Final = 1
"""Bumped on any incompatible change of the JSON documents."""

_STATUS_ORDER: Final = {"ok": 0, "warning": 1, "sanction": 2}


@attrs.frozen(kw_only=True)
class CostBreakdown:
    """A run's total cost by component, in KRW-equivalents (same weights for every policy).

    - ``seller_fault_cancels``: each seller-fault cancellation priced by
      :meth:`~consign_core.domain.timing.ExpectedCostWeights.cancel_penalty` at the ledger's
      headroom
      just before it was booked (so cancels near a threshold cost more);
    - ``lost_sales``: each buyer cancellation, ``lost_sale_fixed + lost_sale_margin x value``;
    - ``delay``: ``delay_per_hour`` x hours each order stayed unconfirmed (payment to
      confirmation or cancellation);
    - ``late_shipments``: ``late_shipment`` per order not shipped (nor cancelled) before its
      ship-by deadline;
    - ``escalations``: the person model's cost per escalation.
    """

    seller_fault_cancels: float
    """Penalty-weighted seller-fault cancellations."""
    lost_sales: float
    """Buyer cancellations."""
    delay: float
    """Hours unconfirmed."""
    late_shipments: float
    """Late shipments."""
    escalations: float
    """Escalations to a person."""

    @property
    def total(self) -> float:
        """The sum of the components."""
        return (
            self.seller_fault_cancels
            + self.lost_sales
            + self.delay
            + self.late_shipments
            + self.escalations
        )

    def to_dict(self) -> dict[str, float]:
        """The components as a JSON-ready mapping (plus ``total``)."""
        return {
            "seller_fault_cancels": self.seller_fault_cancels,
            "lost_sales": self.lost_sales,
            "delay": self.delay,
            "late_shipments": self.late_shipments,
            "escalations": self.escalations,
            "total": self.total,
        }


@attrs.frozen(kw_only=True)
class MetricSummary:
    """One market metric of the rule profile, sampled from the ledger once a day."""

    name: str
    """The metric's name in the profile, e.g. ``"order_fulfilment"``."""
    title: str
    """Its title."""
    worst_status: str
    """The worst daily status: ``"ok"``, ``"warning"`` or ``"sanction"``."""
    days_ok: int
    """Days sampled in OK."""
    days_warning: int
    """Days sampled in WARNING."""
    days_sanction: int
    """Days sampled in SANCTION."""
    worst_value: float | None
    """The worst sampled headline value (lowest success rate, highest rate or count)."""
    final_value: float | None
    """The last sampled headline value."""
    timeline: str
    """One character per sampled day: ``o`` ok, ``w`` warning, ``s`` sanction."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form."""
        return attrs.asdict(self)


def _metric_tuple(value: Iterable[MetricSummary]) -> tuple[MetricSummary, ...]:
    return tuple(value)


def _plain_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen(kw_only=True)
class PolicyResult:
    """What one policy did over one run (one scenario and seed, or one order log).

    Built by the simulator and the backtest (no validation of its own); :meth:`to_dict` is
    the run record of the JSON documents.
    """

    policy: str
    """The policy's name."""
    params: Mapping[str, Any] = attrs.field(converter=_plain_dict)
    """The policy's parameters as given (JSON-ready values)."""
    seed: int | None
    """The world's seed (``None`` for a backtest)."""
    orders: int
    """Orders that arrived."""
    seller_fault_cancels: int
    """Cancellations with fault SELLER (counted by every market)."""
    stock_out_cancels: int
    """Those of them with reason STOCK_OUT."""
    buyer_cancels: int
    """Cancellations with fault BUYER (free cancels before confirmation, approved stops after)."""
    supplier_cancels: int
    """Supplier orders the suppliers cancelled (whatever then happened to the market order)."""
    rerouted: int
    """Supplier orders placed at an alternate supplier after the first one failed."""
    late_shipments: int
    """Orders not shipped (waybill uploaded) nor cancelled before their ship-by deadline."""
    escalations: int
    """Orders handed to a person (each escalation counted)."""
    confirmed: int
    """Orders confirmed on the market (발주확인)."""
    shipped: int
    """Orders whose waybill reached the market."""
    open_at_end: int
    """Orders still open when the run ended (not counted as late unless their deadline passed)."""
    decisions: int
    """Times the policy was asked."""
    median_hours_to_confirm: float | None
    """Median hours from payment to confirmation, over confirmed orders."""
    p90_hours_to_confirm: float | None
    """90th percentile of the same."""
    mean_hours_to_confirm: float | None
    """Mean of the same."""
    cost: CostBreakdown
    """Total cost by component."""
    metrics: tuple[MetricSummary, ...] = attrs.field(converter=_metric_tuple)
    """Each metric of the market's rule profile over time."""

    unsold_orders: int = 0
    """Buyers who could not order because the listing was stopped (the item sold out at every
    source; see ``EngineSettings.mirror_listing``): priced as lost sales."""

    @property
    def seller_fault_cancel_rate(self) -> float:
        """Seller-fault cancellations per order (0 with no orders)."""
        return self.seller_fault_cancels / self.orders if self.orders else 0.0

    @property
    def buyer_cancel_rate(self) -> float:
        """Buyer cancellations per order."""
        return self.buyer_cancels / self.orders if self.orders else 0.0

    @property
    def late_shipment_rate(self) -> float:
        """Late shipments per order."""
        return self.late_shipments / self.orders if self.orders else 0.0

    @property
    def total_cost(self) -> float:
        """The total cost (see :class:`CostBreakdown`)."""
        return self.cost.total

    @property
    def worst_status(self) -> str:
        """The worst status of any metric on any day (``"ok"`` without metrics)."""
        worst = "ok"
        for metric in self.metrics:
            if _STATUS_ORDER[metric.worst_status] > _STATUS_ORDER[worst]:
                worst = metric.worst_status
        return worst

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (see ``docs/simulate.md``)."""
        return {
            "policy": self.policy,
            "params": dict(self.params),
            "seed": self.seed,
            "orders": self.orders,
            "seller_fault_cancels": self.seller_fault_cancels,
            "seller_fault_cancel_rate": self.seller_fault_cancel_rate,
            "stock_out_cancels": self.stock_out_cancels,
            "buyer_cancels": self.buyer_cancels,
            "buyer_cancel_rate": self.buyer_cancel_rate,
            "supplier_cancels": self.supplier_cancels,
            "rerouted": self.rerouted,
            "late_shipments": self.late_shipments,
            "late_shipment_rate": self.late_shipment_rate,
            "escalations": self.escalations,
            "confirmed": self.confirmed,
            "shipped": self.shipped,
            "open_at_end": self.open_at_end,
            "unsold_orders": self.unsold_orders,
            "decisions": self.decisions,
            "median_hours_to_confirm": self.median_hours_to_confirm,
            "p90_hours_to_confirm": self.p90_hours_to_confirm,
            "mean_hours_to_confirm": self.mean_hours_to_confirm,
            "total_cost": self.total_cost,
            "cost_per_order": self.total_cost / self.orders if self.orders else 0.0,
            "cost": self.cost.to_dict(),
            "worst_status": self.worst_status,
            "metrics": [m.to_dict() for m in self.metrics],
        }


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The ``q``-quantile (0..1) of already sorted values, linear interpolation; None if empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac)


_MEAN_KEYS: Final = (
    "orders",
    "seller_fault_cancels",
    "seller_fault_cancel_rate",
    "stock_out_cancels",
    "buyer_cancels",
    "buyer_cancel_rate",
    "supplier_cancels",
    "rerouted",
    "late_shipments",
    "late_shipment_rate",
    "escalations",
    "confirmed",
    "shipped",
    "open_at_end",
    "unsold_orders",
    "decisions",
    "median_hours_to_confirm",
    "p90_hours_to_confirm",
    "mean_hours_to_confirm",
    "total_cost",
    "cost_per_order",
)


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def mean_policy_dict(results: Sequence[PolicyResult]) -> dict[str, Any]:
    """One policy's results over several seeds as one JSON record: the mean of each number.

    Counts become floats; ``seeds`` lists the seeds; each metric keeps its worst status over
    the seeds and the mean days per status (no timeline); ``stdev_total_cost`` and
    ``stdev_seller_fault_cancel_rate`` give the spread between seeds (0 for one seed).
    """
    if not results:
        msg = "no results to average"
        raise ValueError(msg)
    dicts = [r.to_dict() for r in results]
    first = dicts[0]
    out: dict[str, Any] = {"policy": first["policy"], "params": first["params"]}
    out["seeds"] = [d["seed"] for d in dicts]
    for key in _MEAN_KEYS:
        out[key] = _mean([d[key] for d in dicts])
    costs = [d["cost"] for d in dicts]
    out["cost"] = {key: statistics.fmean(c[key] for c in costs) for key in costs[0]}
    out["stdev_total_cost"] = statistics.pstdev(d["total_cost"] for d in dicts)
    out["stdev_seller_fault_cancel_rate"] = statistics.pstdev(
        d["seller_fault_cancel_rate"] for d in dicts
    )
    worst = "ok"
    for d in dicts:
        if _STATUS_ORDER[d["worst_status"]] > _STATUS_ORDER[worst]:
            worst = d["worst_status"]
    out["worst_status"] = worst
    metrics = []
    for i, metric in enumerate(first["metrics"]):
        per_seed = [d["metrics"][i] for d in dicts]
        worst_m = max((m["worst_status"] for m in per_seed), key=_STATUS_ORDER.__getitem__)
        metrics.append(
            {
                "name": metric["name"],
                "title": metric["title"],
                "worst_status": worst_m,
                "days_ok": statistics.fmean(m["days_ok"] for m in per_seed),
                "days_warning": statistics.fmean(m["days_warning"] for m in per_seed),
                "days_sanction": statistics.fmean(m["days_sanction"] for m in per_seed),
                "worst_value": _mean([m["worst_value"] for m in per_seed]),
                "final_value": _mean([m["final_value"] for m in per_seed]),
            }
        )
    out["metrics"] = metrics
    return out


_STATUS_CHAR: Final = {MetricStatus.OK: "o", MetricStatus.WARNING: "w", MetricStatus.SANCTION: "s"}


def summarize_metrics(
    profile: RuleProfile, samples: Sequence[Sequence[tuple[MetricStatus, float | None]]]
) -> list[MetricSummary]:
    """Each metric of ``profile`` over the daily ``samples`` (one ``(status, value)`` per metric
    a day): days per status, the worst and the last value, the timeline."""
    metrics = []
    for i, metric in enumerate(profile.metrics):
        column = [s[i] for s in samples]
        statuses = [s for s, _ in column]
        values = [v for _, v in column if v is not None]
        if metric.headline is MetricQuantity.SUCCESS_RATE:
            worst_value = min(values) if values else None
        else:
            worst_value = max(values) if values else None
        worst = max(statuses, key=lambda s: s.severity, default=MetricStatus.OK)
        metrics.append(
            MetricSummary(
                name=metric.name,
                title=metric.title,
                worst_status=worst.value,
                days_ok=statuses.count(MetricStatus.OK),
                days_warning=statuses.count(MetricStatus.WARNING),
                days_sanction=statuses.count(MetricStatus.SANCTION),
                worst_value=worst_value,
                final_value=column[-1][1] if column else None,
                timeline="".join(_STATUS_CHAR[s] for s in statuses),
            )
        )
    return metrics
