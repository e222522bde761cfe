"""Telesales endpoints: products, quotes, sales orders (MV_ALTPED: billed orders are locked)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cti.db.backoffice import telesales as repo
from cti.domain.model import QuoteStatus
from cti.web.api import Api
from cti.web.backoffice.common import (
    ID,
    LIST,
    MONEY,
    NULLABLE_ID,
    OBJECT,
    body,
    ok,
    path_id,
    query_int,
    require_routine,
    route,
    today,
    viewer,
)
from cti.web.state import web_state

ROUTINE = "telesales"

ITEMS = {
    "type": "array",
    "maxItems": 200,
    "items": {
        "type": "object",
        "required": ["product_id", "quantity"],
        "properties": {
            "product_id": ID,
            "quantity": {**MONEY, "description": "a quantity above 0 (up to 3 decimals)"},
            "unit_price": {**MONEY, "nullable": True, "description": "default: the product's"},
        },
    },
}
ITEM_JSON = {
    "type": "object",
    "properties": {
        "line": {"type": "integer"},
        "product_id": {"type": "integer"},
        "product_code": {"type": "string"},
        "product_name": {"type": "string"},
        "quantity": {"type": "string"},
        "unit_price": {"type": "string"},
        "total": {"type": "string"},
    },
}
ORDER_JSON = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "customer_id": {"type": "integer"},
        "attention_id": {"type": ["integer", "null"]},
        "quote_id": {"type": ["integer", "null"]},
        "billed": {"type": "boolean"},
        "invoice_number": {"type": ["string", "null"]},
        "cancelled": {"type": "boolean"},
        "items": {"type": "array", "items": ITEM_JSON},
        "total": {"type": "string"},
        "editable": {
            "type": "boolean",
            "description": "false: show every field disabled (billed with MV_ALTPED off, cancelled)",
        },
        "locked_reason": {"type": ["string", "null"]},
        "fields": {
            "type": "object",
            "description": "each changeable field (items, cancelled): may the form enable it",
            "additionalProperties": {"type": "boolean"},
        },
    },
}


def _items(raw: list[dict[str, Any]] | None) -> list[repo.ItemIn] | None:
    if raw is None:
        return None
    return [repo.ItemIn(i["product_id"], i["quantity"], i.get("unit_price")) for i in raw]


def _edit_billed(request: web.Request) -> bool:
    return web_state(request).runtime.settings.sales.edit_billed_orders


def register(api: Api) -> None:
    """Declare the telesales endpoints."""

    @route(api, "GET", "/api/v1/telesales/products", summary="Products on sale", response=LIST)
    async def products(request: web.Request) -> web.StreamResponse:
        return ok(await repo.list_products(web_state(request).runtime.db))

    @route(
        api,
        "GET",
        "/api/v1/telesales/quotes",
        summary="Quotes, newest first (?customer_id=, ?attention_id=)",
        response=LIST,
    )
    async def quotes(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        return ok(
            await repo.list_quotes(
                web_state(request).runtime.db,
                customer_id=query_int(request, "customer_id"),
                attention_id=query_int(request, "attention_id"),
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/telesales/quotes",
        summary="Make a quote (from an attention) with its items",
        body={
            "type": "object",
            "required": ["customer_id", "items"],
            "properties": {
                "customer_id": ID,
                "attention_id": NULLABLE_ID,
                "valid_until": {"type": "string", "format": "date", "nullable": True},
                "items": ITEMS,
            },
        },
        response=OBJECT,
    )
    async def new_quote(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        b = body(request)
        quote = await repo.create_quote(
            web_state(request).runtime.db,
            viewer(request),
            customer_id=b["customer_id"],
            attention_id=b.get("attention_id"),
            valid_until=b.get("valid_until"),
            items=_items(b["items"]) or [],
            today=today(request),
        )
        return ok(quote, 201)

    @route(api, "GET", "/api/v1/telesales/quotes/{id}", summary="A quote", response=OBJECT)
    async def quote(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        return ok(await repo.get_quote(web_state(request).runtime.db, path_id(request)))

    @route(
        api,
        "PATCH",
        "/api/v1/telesales/quotes/{id}",
        summary="Change an open quote: items, validity, status",
        body={
            "type": "object",
            "properties": {
                "items": ITEMS,
                "valid_until": {"type": "string", "format": "date"},
                "status": {"type": "string", "enum": [s.value for s in QuoteStatus]},
            },
        },
        response=OBJECT,
    )
    async def change_quote(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        b = body(request)
        return ok(
            await repo.update_quote(
                web_state(request).runtime.db,
                viewer(request),
                path_id(request),
                items=_items(b.get("items")),
                valid_until=b.get("valid_until"),
                status=QuoteStatus(b["status"]) if "status" in b else None,
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/telesales/quotes/{id}/order",
        summary="Turn an open quote into a sales order (the quote becomes accepted)",
        response=ORDER_JSON,
    )
    async def quote_to_order(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        order = await repo.order_from_quote(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            edit_billed=_edit_billed(request),
        )
        return ok(order, 201)

    @route(
        api,
        "GET",
        "/api/v1/telesales/orders",
        summary="Sales orders, newest first (?customer_id=, ?attention_id=)",
        response={"type": "array", "items": ORDER_JSON},
    )
    async def orders(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        return ok(
            await repo.list_orders(
                web_state(request).runtime.db,
                customer_id=query_int(request, "customer_id"),
                attention_id=query_int(request, "attention_id"),
                edit_billed=_edit_billed(request),
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/telesales/orders",
        summary="Make a sales order (from an attention, optionally from a quote)",
        body={
            "type": "object",
            "required": ["customer_id", "items"],
            "properties": {
                "customer_id": ID,
                "attention_id": NULLABLE_ID,
                "quote_id": NULLABLE_ID,
                "items": ITEMS,
            },
        },
        response=ORDER_JSON,
    )
    async def new_order(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        b = body(request)
        order = await repo.create_order(
            web_state(request).runtime.db,
            viewer(request),
            customer_id=b["customer_id"],
            attention_id=b.get("attention_id"),
            quote_id=b.get("quote_id"),
            items=_items(b["items"]) or [],
            edit_billed=_edit_billed(request),
        )
        return ok(order, 201)

    @route(
        api,
        "GET",
        "/api/v1/telesales/orders/{id}",
        summary="A sales order; `editable` and `fields` say what the form may enable",
        response=ORDER_JSON,
    )
    async def order(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        return ok(
            await repo.get_order(
                web_state(request).runtime.db, path_id(request), edit_billed=_edit_billed(request)
            )
        )

    @route(
        api,
        "PATCH",
        "/api/v1/telesales/orders/{id}",
        summary="Change an order's items or cancel it; 409 when billed and MV_ALTPED is off",
        body={
            "type": "object",
            "properties": {"items": ITEMS, "cancelled": {"type": "boolean"}},
        },
        response=ORDER_JSON,
    )
    async def change_order(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        b = body(request)
        return ok(
            await repo.update_order(
                web_state(request).runtime.db,
                viewer(request),
                path_id(request),
                items=_items(b.get("items")),
                cancelled=b.get("cancelled"),
                edit_billed=_edit_billed(request),
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/telesales/orders/{id}/bill",
        role="supervisor",
        summary="Record the invoice that billed an order (billing's hand-off)",
        body={
            "type": "object",
            "required": ["invoice_number"],
            "properties": {"invoice_number": {"type": "string", "minLength": 1, "maxLength": 60}},
        },
        response=ORDER_JSON,
    )
    async def bill(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.bill_order(
                web_state(request).runtime.db,
                viewer(request),
                path_id(request),
                invoice_number=body(request)["invoice_number"].strip(),
                edit_billed=_edit_billed(request),
            )
        )
