"""Coupang wire fixtures, shaped like the official examples (v4, v5 and their oddities).

Receivers are synthetic; the ids keep Coupang's sizes (18-digit shipmentBoxIds since late 2024).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx

from consign_core.adapters.coupang import CoupangClient, Throttle


VENDOR = "A00012345"
ACCESS = "test-access-key"
SECRET = "test-secret-key"  # noqa: S105 - the reference's test key
USER = "wing-login-7"
BOX = 123456789012345678  # > 2**53: a float would lose it
BOX2 = 123456789012345679
ORDER = 27000011112222
ITEM = 3145181064
NAME = "홍길순테스트"
PHONE = "0502-9876-5432"
ADDR = "부산광역시 해운대구 센텀중앙로 55"
SIGNED_AT = datetime(2025, 7, 15, 1, 2, 3, tzinfo=timezone.utc)


def v5_sheet(**over: Any) -> dict[str, Any]:
    sheet: dict[str, Any] = {
        "shipmentBoxId": BOX,
        "orderId": ORDER,
        "orderedAt": "2025-07-15T10:20:30.123456-08:00",  # the official example's odd offset
        "orderer": {"name": NAME, "email": "", "safeNumber": PHONE, "ordererNumber": None},
        "paidAt": "2025-07-15T10:21:00.000000+09:00",
        "status": "ACCEPT",
        "shippingPrice": {"currencyCode": "KRW", "units": 3000, "nanos": 0},
        "remotePrice": {"currencyCode": "KRW", "units": 0, "nanos": 0},
        "remoteArea": False,
        "parcelPrintMessage": "문 앞에 놓아주세요",
        "splitShipping": False,
        "ableSplitShipping": False,
        "receiver": {
            "name": NAME,
            "safeNumber": PHONE,
            "receiverNumber": None,
            "addr1": ADDR,
            "addr2": "101동 1001호",
            "postCode": "48058",
        },
        "orderItems": [
            {
                "vendorItemPackageId": 0,
                "vendorItemPackageName": "",
                "productId": 6000001234,
                "vendorItemId": ITEM,
                "vendorItemName": "무선 청소기 필터, 2개입",
                "shippingCount": 2,
                "salesPrice": {"currencyCode": "KRW", "units": 12900, "nanos": 0},
                "orderPrice": {"currencyCode": "KRW", "units": 25800, "nanos": 0},
                "discountPrice": {"currencyCode": "KRW", "units": 0, "nanos": 0},
                "instantCouponDiscount": {"currencyCode": "KRW", "units": 0, "nanos": 0},
                "externalVendorSkuCode": "",
                "etcInfoHeader": None,
                "etcInfoValue": None,
                "etcInfoValues": None,
                "sellerProductId": 14000055555,
                "sellerProductName": "무선 청소기 필터",
                "cancelCount": 0,
                "holdCountForCancel": 0,
                "estimatedShippingDate": "2025-07-17",
                "plannedShippingDate": "",
                "invoiceNumberUploadDate": "",
                "extraProperties": {"sameDayShipping": "false", "cutOffTimeHour": "18"},
                "pricingBadge": False,
                "usedProduct": False,
                "confirmDate": "",
                "deliveryChargeTypeName": "유료",
                "upBundleVendorItemId": None,
                "canceled": False,
            }
        ],
        "overseaShippingInfoDto": {
            "personalCustomsClearanceCode": None,
            "ordererSsn": None,
            "ordererPhoneNumber": None,
        },
        "deliveryCompanyName": "",
        "invoiceNumber": "",
        "inTrasitDateTime": "",
        "deliveredDate": "",
        "refer": "안드로이드앱",
        "shipmentType": "THIRD_PARTY",
        "isCod": False,
        "extraProperties": {"sameDayShipping": "false"},
    }
    sheet.update(over)
    return sheet


def v4_sheet(**over: Any) -> dict[str, Any]:
    sheet = v5_sheet()
    sheet.update(
        orderedAt="2025-07-15T10:20:30",
        paidAt="2025-07-15T10:21:00",
        shippingPrice=3000,
        remotePrice=0,
    )
    item = dict(sheet["orderItems"][0], salesPrice=12900, orderPrice=25800, discountPrice=0)
    sheet["orderItems"] = [item]
    sheet.update(over)
    return sheet


def list_body(*sheets: dict[str, Any], next_token: str = "") -> dict[str, Any]:
    return {"code": 200, "message": "OK", "data": list(sheets), "nextToken": next_token}


def single_body(sheet: dict[str, Any]) -> dict[str, Any]:
    return {"code": "200", "message": "OK", "data": sheet}  # string code, as officially shown


ACK_PARTIAL = {
    "code": "200",
    "message": "OK",
    "data": {
        "responseKey": -7326489997410939972,
        "responseCode": 1,
        "responseMessage": "apply instructStatus result - Partial errors.",
        "responseList": [
            {"shipmentBoxId": BOX, "succeed": True, "resultCode": "OK",
             "retryRequired": False, "resultMessage": "request succeeded."},
            {"shipmentBoxId": BOX2, "succeed": False, "resultCode": "NOT_FOUND_SHIPMENT_BOX",
             "retryRequired": True, "resultMessage": f"shipmentBoxId ({BOX2}) is not found."},
        ],
    },
}  # fmt: skip

INVOICE_INVALID_STATUS = {
    "code": 200,
    "message": "OK",
    "data": {
        "responseCode": 99,
        "responseMessage": "apply invoice result - All failed.",
        "responseList": [
            {"shipmentBoxId": BOX, "succeed": False, "resultCode": "INVALID_STATUS",
             "retryRequired": False,
             "resultMessage": f"배송진행상태가 유효하지 않습니다. [합포장번호 : {BOX}] "
                              f"[주문번호 : {ORDER}]"},
        ],
    },
}  # fmt: skip

CANCEL_2019 = {
    "code": "SUCCESS",
    "message": "",
    "data": {
        "receiptMap": {"receiptId": 363667, "receiptType": "CANCEL", "vendorItemIds": [ITEM],
                       "totalCount": 1},
        "orderId": ORDER,
        "failedVendorItemIds": [],
    },
}  # fmt: skip

STOPPED_OK = {
    "code": "200",
    "message": "OK",
    "data": {"resultCode": "SUCCESS", "resultMessage": "OK"},
}
COMPLETED_NESTED = {"data": {"code": "200", "message": "OK", "resultCode": "SUCCESS"}}

RETURN_REQUEST = {
    "receiptId": 363667,
    "orderId": ORDER,
    "paymentId": 99000011112222,
    "receiptType": "RETURN",
    "receiptStatus": "RELEASE_STOP_UNCHECKED",
    "createdAt": "2025-07-15T12:00:00",
    "modifiedAt": "2025-07-15T12:00:00",
    "requesterName": NAME,
    "requesterPhoneNumber": PHONE,
    "cancelReasonCategory1": "고객변심",
    "cancelReasonCategory2": "단순변심",
    "cancelReason": "단순변심",
    "cancelCountSum": 2,
    "returnDeliveryId": None,
    "releaseStopStatus": "미처리",
    "faultByType": "CUSTOMER",
    "preRefund": False,
    "returnItems": [
        {"vendorItemId": ITEM, "vendorItemName": "필터", "cancelCount": 2, "purchaseCount": 2,
         "shipmentBoxId": BOX, "sellerProductId": 14000055555, "releaseStatus": "N"},
    ],
}  # fmt: skip

HISTORY = {
    "code": 200,
    "message": "OK",
    "data": {
        "shipmentBoxId": BOX,
        "details": [
            {"deliveryStatus": "INSTRUCT", "deliveryStatusDesc": "상품준비중",
             "updatedAt": "2025-07-15T11:00:00+09:00"},
            {"deliveryStatus": "ACCEPT", "deliveryStatusDesc": "결제완료",
             "updatedAt": "2025-07-15T10:21:00+09:00"},
        ],
    },
}  # fmt: skip


class Recorder:
    """A MockTransport handler answering queued responses and keeping every request."""

    def __init__(self, *answers: httpx.Response | Callable[[httpx.Request], httpx.Response]):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def ok(body: object, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body, ensure_ascii=False).encode(),
                          headers={"Content-Type": "application/json", **headers})  # fmt: skip


def client(recorder: Recorder, **kwargs: Any) -> CoupangClient:
    settings: dict[str, Any] = {
        "transport": httpx.MockTransport(recorder),
        "clock": lambda: SIGNED_AT,
        "user_id": USER,
        "throttle": Throttle(1_000_000, sleep=lambda _: None),
        "retry_wait_initial": 0.0,
        "retry_wait_max": 0.0,
        "retry_wait_jitter": 0.0,
    }
    settings.update(kwargs)
    return CoupangClient(VENDOR, ACCESS, SECRET, **settings)
