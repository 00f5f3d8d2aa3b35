"""FakeDomeme's API answers: each mode's handler, on the ledger's state (the routing,
sessions and faults in front of them are ``fake_domeme``'s)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from consign_core.testing._domeme_common import (
    LABELS,
    error,
    int_param,
    ok,
    one_as_object,
    parse_item_spec,
    wire_time,
)
from consign_core.testing._domeme_ledger import DomemeLedger, FakeDomemeOrder, FakeItem


__all__ = ["DomemeApi"]


class DomemeApi(DomemeLedger):
    """The handlers of the modes past the session check (``_<mode>(params)``)."""

    user_id: str

    def _getItemView(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        item = self.items.get(params.get("no", ""))
        if item is None or params.get("market") not in {"supply", "dome"}:
            return error("ITEM_ERROR", "상품 조회 실패", "ITEM_ERROR", "상품이 없습니다")
        select_opt = ""
        if item.options:
            data = {
                code: {
                    "name": f"옵션 {code}",
                    "qty": self._n(qty),
                    "supPrice": self._n(item.option_prices.get(code, 0)),
                    "domPrice": self._n(item.option_prices.get(code, 0)),
                    "dom": "1",
                    "sup": "1",
                    "hid": "0",
                }
                for code, qty in item.options.items()
            }
            select_opt = json.dumps(
                {"type": "combination", "set": [], "data": data}, ensure_ascii=False
            )
        return ok(
            {
                "basis": {"no": self._n(int(item.no)), "status": item.status, "title": item.title},
                "price": {"dome": f"1+{item.price}|20+{item.price - 100}", "supply": item.price},
                "qty": {
                    "inventory": self._n(max(item.stock, 0)),
                    "supplyUnit": self._n(1),
                    "domeMoq": self._n(1),
                },
                "deli": {
                    "method": "택배",
                    "pay": "선결제",
                    "supply": {"type": "고정배송비", "fee": self._n(item.shipping_fee)},
                    "sendAvg": str(item.send_avg),
                },
                "seller": {
                    "id": item.seller_id,
                    "nick": f"{item.seller_id} 상사",
                    "rank": self._n(item.seller_rank),
                    "score": {"avg": f"{item.seller_score:g}%", "cnt": self._n(120)},
                },
                "selectOpt": select_opt,
            }
        )

    def _getItemList(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        items = [i for i in self.items.values() if i.status == "판매중"]
        if params.get("id"):
            items = [i for i in items if i.seller_id == params["id"]]
        if params.get("kw"):
            items = [i for i in items if params["kw"] in i.title]
        size, page = int_param(params.get("sz"), 20), int_param(params.get("pg"), 1)
        chunk = items[(page - 1) * size : page * size]
        rows = [
            {
                "no": self._n(int(i.no)),
                "title": i.title,
                "price": self._n(i.price),
                "id": i.seller_id,
                "unitQty": self._n(1),
                "deli": {"who": "P", "fee": self._n(i.shipping_fee)},
            }
            for i in chunk
        ]
        return ok(
            {
                "header": {
                    "numberOfItems": len(items),
                    "currentPage": page,
                    "itemsPerPage": size,
                    "numberOfPages": max(1, math.ceil(len(items) / size)),
                },
                "list": {"item": one_as_object(rows)},
            }
        )

    def _getMyAsset(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802, ARG002
        cash = self._n(self.emoney)
        return ok(
            {
                "result": "SUCCESS",
                "id": self.user_id,
                "data": {
                    "currPoint": self._n(0),
                    "currEmoney": {"total": cash, "card": self._n(0), "cash": cash},
                },
            }
        )

    def _setOrder(  # noqa: N802, PLR0911, PLR0912 - one early answer per refusal
        self, params: Mapping[str, str]
    ) -> dict[str, Any]:
        lines = {k[5:-1]: v for k, v in params.items() if k.startswith("item[") and k[-1] == "]"}
        deliinfo = params.get("deliinfo", "")
        fields = deliinfo.split("|")
        if not lines or len(fields) != 9:
            return error("10", "주문 실패", "PARAM_ERROR", "item 또는 deliinfo 형식 오류")
        name, _, zip_code, address1, _, mobile, _, shop, _ = fields
        if not (name and zip_code and address1 and shop):
            return error("10", "주문 실패", "ORDER_CONSUMER_ERROR", "배송지 필수 항목 누락")
        digits = mobile.replace("-", "")
        if not (digits.isdigit() and digits.startswith("0") and 10 <= len(digits) <= 12):
            return error(
                "10",
                "주문 실패",
                "ORDER_CONSUMER_MOBILE_ERROR",
                "휴대전화 번호가 올바르지 않습니다",
            )
        plans: list[tuple[FakeItem, str, int, str, str]] = []
        total = 0
        for item_no, spec in lines.items():
            parsed = parse_item_spec(spec)
            item = self.items.get(item_no)
            if parsed is None:
                return error("10", "주문 실패", "PARAM_ERROR", "item 형식 오류")
            if item is None or item.status != "판매중":
                return error("ITEM_ERROR", "주문 실패", "ITEM_ERROR", "주문할 수 없는 상품입니다")
            options, memo, request = parsed
            for option, qty in options:
                stock = item.stock if option == "00" else item.options.get(option, 0)
                if option != "00" and option not in item.options:
                    return error("10", "주문 실패", "OPTION_ERROR", "옵션 코드가 없습니다")
                if qty > stock:
                    return error(
                        self.stock_out_dcode, "주문 실패", self.stock_out_dcode, "재고가 부족합니다"
                    )
                price = item.price + item.option_prices.get(option, 0)
                total += price * qty
                plans.append((item, option, qty, memo, request))
            total += item.shipping_fee
        if total > self.emoney:
            return error(
                "21",
                "주문 실패",
                "TOO_LESS_EMONEY_ERROR",
                "현금성 이머니가 부족하여 주문을 진행할 수 없습니다",
            )
        self.emoney -= total
        created = []
        for item, option, qty, memo, request in plans:
            if option == "00":
                self.set_stock(item.no, item.stock - qty)
            else:
                self.set_stock(item.no, item.options[option] - qty, option=option)
            order_no = str(self._next_order)
            self._next_order += 1
            amount = (item.price + item.option_prices.get(option, 0)) * qty + item.shipping_fee
            self.orders[order_no] = FakeDomemeOrder(
                order_no=order_no,
                item_no=item.no,
                option=option,
                quantity=qty,
                amount=amount,
                memo=memo,
                deliinfo=deliinfo,
                delivery_request=request,
                placed_at=self.clock(),
            )
            created.append(
                {
                    "orderNo": self._n(int(order_no)),
                    "itemNo": self._n(int(item.no)),
                    "getName": name,
                }
            )
        return ok({"result": "SUCCESS", "order": one_as_object(created)})

    def _getOrderList(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        if params.get("for") != "buy":
            return error("10", "잘못된 요청", "PARAM_ERROR", "for=buy 만 지원합니다")
        orders = sorted(self.orders.values(), key=lambda o: int(o.order_no), reverse=True)
        if params.get("day"):
            since = self.clock() - timedelta(days=int_param(params["day"], 7))
            orders = [o for o in orders if o.placed_at >= since]
        if params.get("itemNo"):
            orders = [o for o in orders if o.item_no == params["itemNo"]]
        if params.get("st"):
            orders = [o for o in orders if LABELS.get(o.status_mode) == params["st"]]
        size, page = int_param(params.get("ic"), 20), int_param(params.get("pg"), 1)
        chunk = orders[(page - 1) * size : page * size]
        rows = [
            {
                "orderNo": self._n(int(o.order_no)),
                "orderUid": f"U{o.order_no}",
                "status": LABELS.get(o.status_mode, o.status_mode),
                "itemNo": self._n(int(o.item_no)),
                "itemTitle": self.items[o.item_no].title,
                "market": "supply",
                "orderQty": self._n(o.quantity),
                "orderAmt": self._n(o.amount),
                "orderAmtPay": self._n(o.amount),
                "date": wire_time(o.placed_at),
            }
            for o in chunk
        ]
        return ok(
            {
                "numberOfItems": self._n(len(orders)),
                "numberOfPages": self._n(max(1, math.ceil(len(orders) / size))),
                "list": one_as_object(rows),
            }
        )

    def _getOrderView(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        order = self.orders.get(params.get("no", ""))
        if order is None or params.get("for") != "buy":
            return error("10", "조회 실패", "ORDER_ERROR", "주문이 없습니다")
        name, email, zip_code, address1, address2, mobile, phone, _, _ = order.deliinfo.split("|")
        item = self.items[order.item_no]
        view: dict[str, Any] = {
            "orderNo": self._n(int(order.order_no)),
            "orderUid": f"U{order.order_no}",
            "status": LABELS.get(order.status_mode, order.status_mode),
            "statusMode": order.status_mode,
            "orderMemo": order.memo,
            "orderQty": self._n(order.quantity),
            "orderAmtPay": self._n(order.amount),
            "date": wire_time(order.placed_at),
            "item": {"no": self._n(int(item.no)), "title": item.title},
            "sellerInfo": {"id": item.seller_id, "nick": f"{item.seller_id} 상사"},
            "consumer": {
                "name": name,
                "mobile": mobile,
                "phone": phone,
                "zipcode": zip_code,
                "addr1": address1,
                "addr2": address2,
                "email": email,
                "deliReq": order.delivery_request,
            },
            "delivery": {
                "company": order.courier,
                "companyName": {"DAEHAN": "CJ대한통운", "HYUNDAI": "롯데택배"}.get(
                    order.courier, order.courier
                ),
                "code": order.tracking,
            },
            "selectOpt": {"opt": {"name": order.option, "qty": self._n(order.quantity)}},
        }
        if order.deny_date is not None:
            view["denyDate"] = wire_time(order.deny_date)
            view["denyMemo"] = order.deny_memo
        return ok({"items": view})

    def _setOrdDeny(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        order = self.orders.get(params.get("no", ""))
        memo = params.get("memo", "")
        if order is None or params.get("type") != "buy" or not memo:
            return error("10", "취소 실패", "PARAM_ERROR", "type, no, memo 가 필요합니다")
        if order.status_mode == "WAITCHK":
            self._deny(order, "DENYBUY", memo, restock=True)
            return ok({"result": "complete"})
        if order.status_mode == "WAITDELI" and not order.tracking:
            order.cancel_requested = True
            order.deny_memo = memo
            return ok({"result": "req"})
        return error("10", "취소 실패", "ORDER_STATUS_ERROR", "배송중 이후에는 취소할 수 없습니다")

    def _getAllSupplyChk(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        wanted = set(params.get("status", "").split("_")) - {""}
        day = params.get("date")
        rows = [
            c
            for c in self.changes
            if (not wanted or c["status"] in wanted)
            and (not day or c["_day"] == day)
            and (params.get("sw") in {None, ""} or c["no"] == params.get("sw"))
        ]
        size, page = int_param(params.get("ic"), 100), int_param(params.get("pg"), 1)
        chunk = [
            {k: (self._n(v) if isinstance(v, int) else v) for k, v in c.items() if k != "_day"}
            for c in rows[(page - 1) * size : page * size]
        ]
        return ok(
            {
                "numberOfItems": self._n(len(rows)),
                "numberOfPages": self._n(max(1, math.ceil(len(rows) / size))),
                "items": {"item": one_as_object(chunk)},
            }
        )

    # ----------------------------------------------------------------------------------
    # Helpers
    # ----------------------------------------------------------------------------------
