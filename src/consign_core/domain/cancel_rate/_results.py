"""What the ledger answers: :class:`MetricReport`, :class:`LedgerReport` and :class:`Headroom`.

Plain frozen values built by the ledger's queries, with the one-line explanations they give
a seller (``describe()``).
"""

from __future__ import annotations

from datetime import datetime

import attrs

from consign_core.domain.calendar import KST
from consign_core.domain.rules import MetricQuantity, MetricStatus
from consign_core.errors import ConfigurationError


@attrs.frozen(kw_only=True)
class MetricReport:
    """One metric at one instant (built by the ledger; no validation of its own)."""

    name: str
    """The metric's name in the profile."""
    title: str
    """The metric's title, e.g. ``"order fulfilment"``."""
    status: MetricStatus
    """OK, WARNING or SANCTION."""
    quantity: MetricQuantity
    """What :attr:`value` is: a count, a rate, or a success rate."""
    value: float | None
    """The headline value: the count, ``numerator / denominator``, or ``1 - that``;
    ``None`` for a rate with an empty denominator."""
    numerator: int
    """Counted points (or events) in the window, moratoria excluded."""
    denominator: int | None
    """Denominator events in the window; ``None`` for a metric without one."""
    suspended: int
    """Points in the window that a moratorium suspended (not in the numerator)."""
    window_start: datetime
    """The earliest instant in the window (KST)."""
    next_expiry: datetime | None
    """When the oldest counted event leaves the window (and the numerator drops)."""
    cancels_to_warning: int | None
    """More seller-fault stock-out cancels of a 1-unit single-line order before this metric
    is at least in warning (0 = already there; ``None`` = cannot be reached by cancels, which
    includes a metric below its minimum volume)."""
    cancels_to_sanction: int | None
    """The same for the sanction threshold."""
    evaluated: bool = True
    """``False`` while the denominator is below the metric's minimum volume
    (:attr:`~consign_core.domain.rules.MetricSpec.minimum_volume`): the status is then OK
    whatever the value, as a market leaves a new account unrated."""
    minimum_volume: int | None = None
    """The metric's minimum volume (``None``: none)."""
    counts_points: bool = False
    """Whether the numerator is a sum of penalty points (Naver), shown as points."""
    reason: str = ""
    """Why the status is not the thresholds' verdict (empty when it is), e.g.
    ``not evaluated: 1 order paid in the window, below the minimum volume of 20``."""

    def describe(self) -> str:
        """E.g. ``"order fulfilment 98.0% (2/100, window from 2025-09-24 10:00): warning"``.

        Penalty points are shown as points, with their ratio to the denominator (``"penalty
        points 4 points (4/25 = 16.0%, window from ...): ok"``); a metric below its minimum
        volume says so after its status.
        """
        if self.counts_points:
            shown = f"{self.numerator} point{'' if self.numerator == 1 else 's'}"
        elif self.value is None:
            shown = "n/a"
        elif self.quantity is MetricQuantity.COUNT:
            shown = f"{self.numerator}"
        else:
            shown = f"{self.value * 100:.1f}%"
        if self.denominator is None:
            ratio = f"{self.numerator}"
        elif self.counts_points and self.denominator:
            ratio = (
                f"{self.numerator}/{self.denominator} = "
                f"{self.numerator / self.denominator * 100:.1f}%"
            )
        else:
            ratio = f"{self.numerator}/{self.denominator}"
        start = self.window_start.astimezone(KST).strftime("%Y-%m-%d %H:%M")
        text = f"{self.title} {shown} ({ratio}, window from {start}): {self.status.value}"
        return f"{text}, {self.reason}" if self.reason else text


@attrs.frozen(kw_only=True)
class LedgerReport:
    """Every metric of a profile at one instant."""

    market: str
    """The profile's market."""
    at: datetime
    """The instant reported on."""
    status: MetricStatus
    """The worst status over the metrics."""
    metrics: tuple[MetricReport, ...]
    """One report per metric, in profile order."""
    orders_remembered: int
    """Orders the ledger currently remembers (see :attr:`Ledger.retention`)."""

    def metric(self, name: str) -> MetricReport:
        """The report of metric ``name``; ConfigurationError listing the names otherwise."""
        for report in self.metrics:
            if report.name == name:
                return report
        known = ", ".join(report.name for report in self.metrics)
        msg = f"no metric {name!r} in this report; known metrics: {known}"
        raise ConfigurationError(msg)


@attrs.frozen(kw_only=True)
class Headroom:
    """How many more seller-fault stock-out cancels take the seller to a threshold.

    Each count is the number of such cancels that *reaches* the threshold: with
    ``cancels_to_warning == 2`` one more cancel leaves the seller short of warning and the
    second one reaches it (the seller can absorb one fewer than the count without reaching
    it). Counts are of orders like the one asked about (a 20-unit order weighs 20 under a UNIT
    profile). "Warning" means *at least* warning: a metric without a warning level reaches it
    with its sanction. The hypothetical orders are taken to be paid orders already in the
    denominators, so a rate's denominator does not move.
    """

    cancels_to_warning: int | None
    """The number of cancels that puts the first metric counting them at least in warning
    (the last of them reaches it); 0 = already there; ``None`` = no metric can get there by
    such cancels (none counts them, or a moratorium suspends them). A metric such cancels
    cannot move (on-time shipment, say) bounds no headroom, even when it is in warning;
    :attr:`status` still reports it."""
    cancels_to_sanction: int | None
    """The number of cancels that puts the first metric in sanction; 0 / ``None`` as above."""
    metric: str
    """The metric that binds :attr:`cancels_to_warning` (else the sanction one; else "")."""
    metric_title: str
    """Its title."""
    warning_level: MetricStatus
    """The level :attr:`metric` reaches after :attr:`cancels_to_warning` cancels (WARNING,
    or SANCTION for a metric without a warning level)."""
    sanction_metric: str
    """The metric that binds :attr:`cancels_to_sanction` (or "")."""
    sanction_metric_title: str
    """Its title."""
    status: MetricStatus
    """The worst current status over the metrics."""
    market_name: str
    """The profile's display name, e.g. ``"Coupang"``."""

    def describe(self) -> str:
        """A one-line explanation for the seller.

        E.g. ``"2 more seller-fault cancels reach the warning threshold of Coupang order
        fulfilment"``: the count is the number of cancels that reaches the threshold, as in
        :attr:`cancels_to_warning` and :attr:`cancels_to_sanction`.
        """
        if self.cancels_to_warning is None and self.cancels_to_sanction is None:
            return f"seller-fault stock-out cancels cannot reach a {self.market_name} threshold now"
        if self.cancels_to_sanction == 0:
            # not self.status: a metric such cancels cannot move (late shipments) may be the
            # one in sanction, while the metrics that count them still have room
            return (
                f"already at the sanction threshold of {self.market_name} "
                f"{self.sanction_metric_title}"
            )
        if self.cancels_to_warning == 0:
            text = f"already at the warning threshold of {self.market_name} {self.metric_title}"
            if self.cancels_to_sanction is not None:
                text += (
                    f"; {_cancels(self.cancels_to_sanction)} the sanction threshold "
                    f"of {self.market_name} {self.sanction_metric_title}"
                )
            return text
        if self.cancels_to_warning is None:
            assert self.cancels_to_sanction is not None  # noqa: S101 - checked above
            return (
                f"{_cancels(self.cancels_to_sanction)} the sanction threshold of "
                f"{self.market_name} {self.sanction_metric_title}"
            )
        return (
            f"{_cancels(self.cancels_to_warning)} the {self.warning_level.value} "
            f"threshold of {self.market_name} {self.metric_title}"
        )


def _cancels(count: int) -> str:
    """``"1 more seller-fault cancel reaches"`` / ``"2 more seller-fault cancels reach"``."""
    if count == 1:
        return "1 more seller-fault cancel reaches"
    return f"{count} more seller-fault cancels reach"
