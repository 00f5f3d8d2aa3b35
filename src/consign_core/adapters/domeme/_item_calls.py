"""The Domeme Open API item calls and the item change feed (``getAllSupplyChk``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from consign_core.adapters.domeme._session import ClientCore, get_field, item_no_of
from consign_core.adapters.domeme._wire_items import ItemListPage, ItemView, prepare_item_view
from consign_core.adapters.domeme._wire_orders import ChangeFeedPage
from consign_core.adapters.domeme._wire_parse import as_rows
from consign_core.errors import ValidationError


__all__ = ["ItemCalls"]


class ItemCalls(ClientCore):
    """Items (Open API) and the items' change feed (Private API)."""

    def get_item(self, item_no: str | int) -> ItemView:
        """``getItemView``: stock (``qty.inventory``, options' ``qty``), supply price,
        shipping fee, the supplier's rank and score and average dispatch days."""
        body = self._send(
            "getItemView", {"no": item_no_of(item_no), "market": self.market}, private=False
        )
        payload = prepare_item_view(body, path="$.domeggook")
        return self._structure(payload, ItemView, "getItemView")

    def list_items(
        self,
        *,
        keyword: str | None = None,
        seller_id: str | None = None,
        category: str | None = None,
        page: int = 1,
        size: int = 100,
        sort: str | None = None,
    ) -> ItemListPage:
        """``getItemList``: items on sale, by keyword, seller or category."""
        if not 1 <= size <= 200:
            msg = f"size must be 1..200, got {size!r}"
            raise ValidationError(msg, field="size", value=size)
        params: dict[str, str] = {"market": self.market, "sz": str(size), "pg": str(page)}
        given = (("kw", keyword), ("id", seller_id), ("ca", category), ("so", sort))
        params.update({key: value for key, value in given if value})
        body = self._send("getItemList", params, private=False)
        header = body.get("header") if isinstance(body.get("header"), Mapping) else {}
        rows = as_rows(get_field(body, "list"))
        payload = {
            "items": rows,
            "total": get_field(header, "numberOfItems"),
            "page": get_field(header, "currentPage"),
            "pages": get_field(header, "numberOfPages"),
        }
        return self._structure(payload, ItemListPage, "getItemList")

    def list_changes(
        self,
        *,
        date: str | None = None,
        statuses: Sequence[str] = (
            "SOLDOUT",
            "RESTART",
            "AMT",
            "OPTSOLDOUT",
            "OPTRESTART",
            "CLOSE",
            "DEL",
        ),
        page: int = 1,
        size: int = 100,
        item_no: str | int | None = None,
    ) -> ChangeFeedPage:
        """``getAllSupplyChk``: items sold out, restocked, repriced or closed (``date`` as
        YYYYMMDD)."""
        params: dict[str, str] = {
            "type": "all",
            "status": "_".join(statuses),
            "pg": str(page),
            "ic": str(size),
        }
        if date:
            params["date"] = date
        if item_no is not None:
            params["sc"], params["sw"] = "no", item_no_of(item_no)
        body = self._private("getAllSupplyChk", params)
        header = body.get("header") if isinstance(body.get("header"), Mapping) else body
        rows = as_rows(get_field(body, "items") or get_field(body, "list"))
        payload = {
            "changes": rows,
            "total": get_field(header, "numberOfItems"),
            "pages": get_field(header, "numberOfPages"),
        }
        return self._structure(payload, ChangeFeedPage, "getAllSupplyChk")
