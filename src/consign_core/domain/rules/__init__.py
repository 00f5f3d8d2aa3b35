"""Market rule profiles as data: what counts against a seller, over which window, and when it hurts.

A :class:`RuleProfile` describes one market's seller-performance rules in plain data (attrs
classes, tuples, enums, numbers and strings only), so it round-trips exactly through
:func:`consign_core.domain.serialization.structure`/:func:`~consign_core.domain.serialization.unstructure`
and loads from / saves to JSON or TOML (:func:`load_profile`, :func:`dump_profile`).
The cancel-rate ledger (:mod:`consign_core.domain.cancel_rate`) evaluates a profile over an event
stream.

A profile holds:

- **metrics** (:class:`MetricSpec`): which events count and with how many points
  (:class:`PointWeight`), in which unit (:class:`CountUnit`: per order, per order line or per
  unit of quantity), over which denominator (:class:`Denominator`) and window
  (:class:`Window`: rolling N days or N calendar months), and the warning and sanction
  thresholds (:class:`Threshold`: one or more :class:`Condition` joined by ALL or ANY, e.g.
  Naver's "points >= 10 AND points / payments >= 40%"), and an optional minimum volume
  below which the metric is not evaluated (``minimum_volume``);
- the **ship-by rule** (:class:`ShipByRule`): N business days after payment, an optional daily
  cut-off hour, and when a late shipment is booked;
- **moratoria** (:class:`~consign_core.domain.calendar.Moratorium`): periods when some penalty kinds
  are suspended;
- **unconfirmed**: dotted paths of every figure that is not backed by a primary or otherwise
  reliable source (UNCONFIRMED) or is a library placeholder. Override them with
  :meth:`RuleProfile.with_metric` / :meth:`RuleProfile.with_ship_by` (which clear the flag of
  each field changed) or by editing a dumped profile file.

Built-in profiles: :data:`COUPANG`, :data:`NAVER`, :data:`AMAZON` and :data:`EBAY`; each one's
docstring and ``sources`` cite where every figure comes from. Source ids in brackets ([C1],
[N5], ...) are listed, with their addresses, in each profile's ``sources``.
"""

from __future__ import annotations

from typing import Final

from consign_core._exports import publish
from consign_core.domain.rules import _builtins
from consign_core.domain.rules._builtins import builtin_profiles, get_profile
from consign_core.domain.rules._enums import (
    Combine,
    Comparison,
    CountedEvent,
    CountUnit,
    Denominator,
    LateBooking,
    MetricQuantity,
    MetricStatus,
    WindowKind,
)
from consign_core.domain.rules._files import dump_profile, load_profile, parse_profile
from consign_core.domain.rules._metrics import Condition, MetricSpec, PointWeight, Threshold, Window
from consign_core.domain.rules._profile import RuleProfile, ShipByRule


__all__ = [
    "AMAZON",
    "COUPANG",
    "EBAY",
    "NAVER",
    "Combine",
    "Comparison",
    "Condition",
    "CountUnit",
    "CountedEvent",
    "Denominator",
    "LateBooking",
    "MetricQuantity",
    "MetricSpec",
    "MetricStatus",
    "PointWeight",
    "RuleProfile",
    "ShipByRule",
    "Threshold",
    "Window",
    "WindowKind",
    "builtin_profiles",
    "dump_profile",
    "get_profile",
    "load_profile",
    "parse_profile",
]

COUPANG: Final = _builtins.COUPANG
"""Coupang 판매자점수 (seller score): order fulfilment and on-time shipment, last 7 days.

- Order fulfilment = (orders - seller-caused cancels) / orders, 7 days [C1], [C2], [C15];
  out-of-stock cancels count whoever pressed cancel [C2] (``stock_out_counts_any_fault``).
- Thresholds are UNCONFIRMED placeholders: fulfilment warning < 99% (2016 cancel rate
  <= 1.0% [C7]) and sanction < 95% ([C19], low reliability); on-time shipment warning < 99%
  (WING capture, target 99.0), no sanction level.
- Minimum volume: both metrics are evaluated from 20 orders in the window
  (``minimum_volume``). Coupang publishes no minimum (UNCONFIRMED): 20 is the smallest volume
  at which one seller-fault cancel does not by itself reach the 95% sanction level (19/20),
  so a brand-new account is not rated on its first cancel.
- Ship-by: ``outboundShippingTimeDay`` (D+N) is set per product [C14]; 1 business day is a
  placeholder (UNCONFIRMED), as is the absent cut-off hour.
"""

NAVER: Final = _builtins.NAVER
"""Naver SmartStore 판매관리 페널티: penalty points over 30 days.

- Points: late shipment 1 [N1], [N2]; still unshipped later +3 [N1], [N2] (the day count is
  UNCONFIRMED: [N2] "+4 business days", [N1] "5+ business days"; 4 used); 품절취소 2 [N1],
  [N3], [N4]. Buyer cancels are not penalised [N3].
- Sanction: points >= 10 AND points / payments >= 40% over the last 30 days [N1], [N3]; the
  exact denominator is UNCONFIRMED (orders paid in the window used).
- Ship-by: 3 business days after payment, to 24:00 [N2]; cut-off UNCONFIRMED. A miss is booked
  on the next business day [N5].
- Moratorium: Chuseok 2025, 10/1-10/10, everything but 품절취소 suspended [N5].
- No minimum volume: "points >= 10" is Naver's own minimum count [N1].
"""

AMAZON: Final = _builtins.AMAZON
"""Amazon (anchor for cancel-rate calculators): cancellation rate and late shipment rate.

- Cancellation rate: seller-cancelled / orders, 7 days, target < 2.5% [A1], [A2], [A3].
- Late shipment rate: ship-confirmed after the expected ship date / orders, < 4%, over 10 and
  30 days [A5], [A6], [A10].
- No minimum volume: [A1], [A2], [A3] publish none.
- The 2-business-day handling time and absent cut-off are placeholders (UNCONFIRMED).
"""

EBAY: Final = _builtins.EBAY
"""eBay (anchor): transaction defect rate and late shipment rate, 90-day window.

- Defects: seller cancels for out of stock / unable to fulfil, per transaction (line item)
  [B1], [B2], [B5], [B6]. Warning = losing Top Rated (> 0.5% OR >= 4 defects); sanction =
  Below Standard (> 2% AND >= 5 defects) [B2].
- Late shipment: Below Standard modelled as > 7% AND > 7 late [B3]; eBay also requires a late
  delivery, which the ledger cannot see (flagged).
- Window: 3 months (>= 400 transactions) or 12 months [B4]; 90 rolling days used (flagged).
- No minimum volume: eBay's minimum counts are in its thresholds (>= 5 defects, > 7 late).
"""

publish(__name__, __all__)
