"""The built-in profiles :data:`COUPANG`, :data:`NAVER`, :data:`AMAZON`, :data:`EBAY`, and lookup.

Each profile's figures, ``sources`` and UNCONFIRMED flags; :func:`builtin_profiles` and
:func:`get_profile` (with the market-name aliases). The profiles' docstrings, citing the
sources of every figure, are in :mod:`consign_core.domain.rules`.
"""

from __future__ import annotations

from typing import Final

from consign_core.domain.calendar import NAVER_CHUSEOK_2025
from consign_core.domain.rules._enums import CountedEvent, CountUnit, Denominator, LateBooking
from consign_core.domain.rules._metrics import Condition, MetricSpec, PointWeight, Threshold, Window
from consign_core.domain.rules._profile import RuleProfile, ShipByRule
from consign_core.errors import ConfigurationError


_CANCELS: Final = (
    PointWeight(event=CountedEvent.STOCK_OUT_CANCEL),
    PointWeight(event=CountedEvent.SELLER_FAULT_CANCEL),
)

# Coupang publishes no minimum volume (UNCONFIRMED). Below 20 orders in the 7-day window a
# single seller-fault cancel is more than 5% of the volume, so one event alone would reach the
# 95% sanction placeholder; markets that publish a rule never rate a small account on one
# event (eBay: >= 5 defects [B2]; Naver: >= 10 points, 5 stock-out cancels [N1]).
_COUPANG_MINIMUM_ORDERS: Final = 20

# documented, with what each figure rests on, where it is re-exported:
# consign_core.domain.rules (the API docs read it there)
COUPANG: Final = RuleProfile(
    market="coupang",
    display_name="Coupang",
    metrics=(
        MetricSpec(
            name="order_fulfilment",
            title="order fulfilment",
            counts=_CANCELS,
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_PAID,
            window=Window.rolling_days(7),
            warning=Threshold.all_of(Condition.success_rate_below(0.99)),
            sanction=Threshold.all_of(Condition.success_rate_below(0.95)),
            minimum_volume=_COUPANG_MINIMUM_ORDERS,
            notes=(
                "(orders - seller-caused cancels) / orders over the last 7 days [C1], [C2], "
                "[C15]; buyer remorse is not counted, out-of-stock cancels are, whoever "
                "pressed cancel [C2]. Warning below 99% is the 2016 '업체 취소율 <= 1.0%' "
                "figure [C7]; sanction below 95% is a low-reliability claim (cancel > 5%) "
                "[C19]. Both UNCONFIRMED. Evaluated from 20 orders in the window: Coupang "
                "publishes no minimum (UNCONFIRMED); 20 is the smallest volume at which one "
                "cancel does not by itself reach the 95% sanction level (19/20 = 95%)."
            ),
        ),
        MetricSpec(
            name="on_time_shipment",
            title="on-time shipment",
            counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_DUE,
            window=Window.rolling_days(7),
            warning=Threshold.all_of(Condition.success_rate_below(0.99)),
            sanction=None,
            minimum_volume=_COUPANG_MINIMUM_ORDERS,
            notes=(
                "Orders shipped (invoice uploaded) by the ship-by date / orders due, last 7 "
                "days [C1], [C14]. Warning below 99.0: a WING capture shows 정시출고완료 86.2 "
                "as 주의 with target 99.0 (third-party transcription, UNCONFIRMED). No "
                "sanction (경고) cut-off is known: the 86.2 = 주의 data point contradicts the "
                "'on-time < 95%' claim of [C19], so none is set; add your own. Minimum volume: "
                "20 orders due in the window, as order fulfilment (UNCONFIRMED)."
            ),
        ),
    ),
    ship_by=ShipByRule(business_days=1, cutoff_hour=None, late_booking=LateBooking.DEADLINE),
    moratoria=(),
    stock_out_counts_any_fault=True,
    unconfirmed=(
        "metrics.order_fulfilment.unit",
        "metrics.order_fulfilment.warning",
        "metrics.order_fulfilment.sanction",
        "metrics.order_fulfilment.minimum_volume",
        "metrics.on_time_shipment.unit",
        "metrics.on_time_shipment.warning",
        "metrics.on_time_shipment.sanction",
        "metrics.on_time_shipment.minimum_volume",
        "ship_by.business_days",
        "ship_by.cutoff_hour",
    ),
    sources=(
        "[C1] globalsellers.coupang.com/seller-university/managing-your-seller-score",
        "[C2] globalsellers.coupang.com/jp/seller-university/seller-score-faq",
        "[C7] m.etnews.com/20160906000151 (2016 판매자 평점 thresholds)",
        "[C14] Coupang product API field outboundShippingTimeDay (third-party transcription)",
        "[C15] amzmm.com/38456.html (2022, quoting the CGF notice)",
        "[C19] 10100.com/encyclopedia/6/116401431 (low reliability)",
    ),
    notes=(
        "판매자점수 (seller score). Modelled: order fulfilment and on-time shipment over 7 days. "
        "Not modelled: on-time delivery (needs the promised delivery date) and the 24 h "
        "inquiry answer rate. Whether Coupang counts per order, per order item or per unit is "
        "UNCONFIRMED (ORDER used). The ship-by rule is a placeholder for the product's "
        "outboundShippingTimeDay (D+N [C14]); the ledger uses each order's own ship_by."
    ),
)


# documented, with what each figure rests on, where it is re-exported:
# consign_core.domain.rules (the API docs read it there)
NAVER: Final = RuleProfile(
    market="naver",
    display_name="Naver SmartStore",
    metrics=(
        MetricSpec(
            name="penalty_points",
            title="penalty points",
            counts=(
                PointWeight(event=CountedEvent.LATE_SHIPMENT, points=1),
                PointWeight(event=CountedEvent.LONG_LATE_SHIPMENT, points=3),
                PointWeight(event=CountedEvent.STOCK_OUT_CANCEL, points=2),
            ),
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_PAID,
            window=Window.rolling_days(30),
            warning=None,
            sanction=Threshold.all_of(Condition.count_at_least(10), Condition.rate_at_least(0.4)),
            notes=(
                "판매관리 페널티: late shipment 1 point [N1], [N2]; still unshipped later +3 "
                "points [N1], [N2] (timing UNCONFIRMED); 품절취소 2 points [N1], [N3], [N4]. "
                "Sanction when, over the last 30 days, points >= 10 and points / payment "
                "count >= 40% [N1], [N3] (denominator definition UNCONFIRMED). Buyer cancels "
                "are not penalised [N3]. Naver has no published warning level before its "
                "3-stage sanctions (per-stage consequences UNCONFIRMED). No minimum volume: "
                "the points >= 10 condition is Naver's own minimum count (10 points, e.g. 5 "
                "stock-out cancels in 30 days, before the ratio matters)."
            ),
        ),
    ),
    ship_by=ShipByRule(
        business_days=3,
        cutoff_hour=None,
        late_booking=LateBooking.NEXT_BUSINESS_DAY,
        long_late_business_days=4,
    ),
    moratoria=(NAVER_CHUSEOK_2025,),
    stock_out_counts_any_fault=False,
    unconfirmed=(
        "metrics.penalty_points.denominator",
        "metrics.penalty_points.unit",
        "ship_by.cutoff_hour",
        "ship_by.long_late_business_days",
    ),
    sources=(
        "[N1] m.blog.naver.com/snsnumber8/222287231719 (blog, 2021-03-25)",
        "[N2] webuzzhint.com/entry/스마트스토어-페널티-규정feat-해외-구매대행 (blog)",
        "[N3] wholeneeds.com/스마트스토어-페널티-안받는-방법/ (blog)",
        "[N4] labforme.tistory.com/68 (blog)",
        "[N5] sellernow.co.kr/post/502781 (2025-10-02 summary of the Naver notice)",
    ),
    notes=(
        "Ship by 3 business days after payment, e.g. Monday order -> Thursday 24:00 [N2]; "
        "whether a payment cut-off applies is UNCONFIRMED. A late shipment is booked on the "
        "business day after the deadline (10/10 deadline penalised on 10/13 [N5]). The "
        "+3-point long delay is applied 4 business days after the deadline day ([N2] '+4 "
        "business days'; [N1] says '5+ business days'; UNCONFIRMED). The 2-point 'missed "
        "announced delay date' and the return-handling penalty are not modelled (no such "
        "events). Naver's order id is the productOrderId, one product line, so ORDER and LINE "
        "agree for typical orders."
    ),
)


# documented, with what each figure rests on, where it is re-exported:
# consign_core.domain.rules (the API docs read it there)
AMAZON: Final = RuleProfile(
    market="amazon",
    display_name="Amazon",
    metrics=(
        MetricSpec(
            name="cancellation_rate",
            title="cancellation rate",
            counts=_CANCELS,
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_PAID,
            window=Window.rolling_days(7),
            sanction=Threshold.all_of(Condition.rate_at_least(0.025)),
            notes=(
                "Seller-cancelled orders / total orders, 7 days, seller-fulfilled only, "
                "buyer-requested cancels excluded; target < 2.5%, above it offers can be "
                "deactivated [A1], [A2], [A3]. No minimum volume: none is published in "
                "[A1], [A2], [A3] (the 'two consecutive seller cancels' rule [A3] removes "
                "an offer, it does not rate the account)."
            ),
        ),
        MetricSpec(
            name="late_shipment_rate_10d",
            title="late shipment rate (10 days)",
            counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_DUE,
            window=Window.rolling_days(10),
            sanction=Threshold.all_of(Condition.rate_at_least(0.04)),
            notes="Orders ship-confirmed after the expected ship date / orders; < 4% [A5], "
            "[A6]; both the 10- and 30-day windows matter [A10].",
        ),
        MetricSpec(
            name="late_shipment_rate_30d",
            title="late shipment rate (30 days)",
            counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
            unit=CountUnit.ORDER,
            denominator=Denominator.ORDERS_DUE,
            window=Window.rolling_days(30),
            sanction=Threshold.all_of(Condition.rate_at_least(0.04)),
            notes="As the 10-day rate, over 30 days [A5], [A6], [A10].",
        ),
    ),
    ship_by=ShipByRule(business_days=2, cutoff_hour=None, late_booking=LateBooking.DEADLINE),
    moratoria=(),
    stock_out_counts_any_fault=False,
    unconfirmed=("ship_by.business_days", "ship_by.cutoff_hour"),
    sources=(
        "[A1] sellercentral.amazon.co.uk help 200285210",
        "[A2] sellercentral.amazon.ca help 200285210",
        "[A3] sellercentral-europe.amazon.com help 200285210",
        "[A5] sellercentral.amazon.com.au help 200285190",
        "[A6] sellercentral.amazon.com help 202152050",
        "[A10] sellercentral-europe.amazon.com/forums/t/late-shipment-rate-10-day-or-30-day/219320",
    ),
    notes=(
        "Amazon has targets, not warning levels: crossing one is modelled as SANCTION. The "
        "late-shipment rate is evaluated when the expected ship date passes (denominator: "
        "orders due in the window) rather than at ship confirmation. The ship-by rule is a "
        "placeholder for the listing's handling time (national holidays are not operating "
        "days [A5])."
    ),
)


# documented, with what each figure rests on, where it is re-exported:
# consign_core.domain.rules (the API docs read it there)
EBAY: Final = RuleProfile(
    market="ebay",
    display_name="eBay",
    metrics=(
        MetricSpec(
            name="transaction_defect_rate",
            title="transaction defect rate",
            counts=_CANCELS,
            unit=CountUnit.LINE,
            denominator=Denominator.ORDERS_PAID,
            window=Window.rolling_days(90),
            warning=Threshold.any_of(Condition.rate_above(0.005), Condition.count_at_least(4)),
            sanction=Threshold.all_of(Condition.rate_above(0.02), Condition.count_at_least(5)),
            notes=(
                "Seller-cancelled transactions (out of stock / unable to fulfil) / "
                "transactions [B1], [B2], [B5]; OutOfStock is a defect, BuyerCancelOrder is "
                "not [B6]. Top Rated needs <= 0.5% and <= 3 defects (warning = losing it); "
                "Below Standard is > 2% and >= 5 defects [B2] (another locale: no effect "
                "until 8 defects [B8]). Cases closed without seller resolution are not "
                "modelled. Window: 3 months if >= 400 transactions, else 12 months [B4]; 90 "
                "days used (set 365 for a small seller). eBay's minimum counts are the "
                "defect counts of the thresholds (>= 5 for Below Standard), so no minimum "
                "volume is set."
            ),
        ),
        MetricSpec(
            name="late_shipment_rate",
            title="late shipment rate",
            counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
            unit=CountUnit.LINE,
            denominator=Denominator.ORDERS_DUE,
            window=Window.rolling_days(90),
            sanction=Threshold.all_of(Condition.rate_above(0.07), Condition.count_above(7)),
            notes=(
                "Above Standard needs <= 7% with <= 7 late shipments [B3]. eBay counts a "
                "shipment late only with no acceptance scan within handling time AND delivery "
                "after the estimate [B1]; the ledger sees only the handling-time part, so this "
                "over-counts."
            ),
        ),
    ),
    ship_by=ShipByRule(business_days=3, cutoff_hour=None, late_booking=LateBooking.DEADLINE),
    moratoria=(),
    stock_out_counts_any_fault=False,
    unconfirmed=(
        "metrics.transaction_defect_rate.window",
        "metrics.late_shipment_rate.counts",
        "ship_by.business_days",
        "ship_by.cutoff_hour",
    ),
    sources=(
        "[B1] sellercentre.ebay.com.au/how-we-measure-seller-standards",
        "[B2] ocsnext.ebay.com.my/ocs/sr?topicName=Defects&query=1514",
        "[B3] ocsnext.ebay.in/ocs/sr?query=1472",
        "[B4] export.ebay.com/en/customer-service/seller-level-and-sales/seller-performance-policy",
        "[B5] pages.ebay.com/bh/en-us/sellerinformation/news/fallupdate2015/seller-standards.html",
        "[B6] developer.ebay.com CancelReasonCodeType",
        "[B8] conyac.cc/ja/questions/204257/show",
    ),
    notes=(
        "eBay evaluates monthly on the 20th [B9]; the ledger evaluates continuously over a "
        "rolling window. Transactions are line items, hence unit LINE. The handling time (3 "
        "business days) is a placeholder."
    ),
)


_BUILTINS: Final = {profile.market: profile for profile in (COUPANG, NAVER, AMAZON, EBAY)}
_ALIASES: Final = {"smartstore": "naver", "naver_smartstore": "naver", "wing": "coupang"}


def builtin_profiles() -> dict[str, RuleProfile]:
    """The built-in profiles by market name: coupang, naver, amazon, ebay (a fresh dict)."""
    return dict(_BUILTINS)


def get_profile(name: str) -> RuleProfile:
    """The built-in profile for ``name`` (case-insensitive; ``"smartstore"`` means naver).

    Raises :class:`~consign_core.errors.ConfigurationError` listing the known names.
    """
    key = str(name).strip().casefold()
    profile = _BUILTINS.get(_ALIASES.get(key, key))
    if profile is None:
        known = ", ".join(sorted(_BUILTINS))
        msg = f"unknown rule profile {name!r}; known profiles: {known}"
        raise ConfigurationError(msg)
    return profile
