"""Telesales endpoints: products, quotes, sales orders (MV_ALTPED: billed orders are locked).

``GET   /api/v1/telesales/products``            products on sale
``GET   /api/v1/telesales/{quotes|orders}``     ?customer_id=&attention_id=, newest first
``POST  /api/v1/telesales/{quotes|orders}``     {customer_id, attention_id?, items, ...}
``GET   /api/v1/telesales/{quotes|orders}/{id}``
``PATCH /api/v1/telesales/{quotes|orders}/{id}``
``POST  /api/v1/telesales/quotes/{id}/order``   an open quote becomes an order
``POST  /api/v1/telesales/orders/{id}/bill``    {invoice_number} (supervisors)

Quotes and orders are made of the same lines (:class:`SaleItem`) and declared by one factory
(:func:`_sale_routes`); what differs is in their bodies and answers. Every endpoint but the
products list and billing needs the telesales routine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, RootModel

from cti.db.backoffice import telesales as repo
from cti.domain.model import QuoteStatus
from cti.web.api import Api, Body, Handler, Route, RouteMaker, body_of
from cti.web.backoffice.common import (
    TAG,
    ok,
    path_id,
    query_int,
    require_routine,
    today,
    viewer,
)
from cti.web.models import Answer, Id, Money, MoneyText
from cti.web.state import web_state

ROUTINE = "telesales"
route = RouteMaker(TAG, "operator")

# The column's bounds (NUMERIC(12, 3)); the decimals are checked with the rules.
Quantity = Annotated[
    Decimal,
    Field(
        le=Decimal("999999999.999"),
        description="a quantity above 0 (up to 3 decimals), as text or a JSON number",
    ),
]

# --- bodies -------------------------------------------------------------------------------------


class SaleItem(Body):
    """A line of a quote or an order, as the form sends it."""

    product_id: Id
    quantity: Quantity
    unit_price: Money | None = Field(default=None, description="default: the product's price")


Items = Annotated[list[SaleItem], Field(max_length=200)]


class NewSale(Body):
    customer_id: Id
    attention_id: Id | None = Field(default=None, description="the attention it is made from")
    items: Items


class NewQuote(NewSale):
    valid_until: dt.date | None = None


class NewOrder(NewSale):
    quote_id: Id | None = None


class QuoteChange(Body):
    items: Items | None = None
    valid_until: dt.date | None = None
    status: QuoteStatus | None = None


class OrderChange(Body):
    items: Items | None = None
    cancelled: bool | None = None


class Billing(Body):
    invoice_number: Annotated[str, Field(min_length=1, max_length=60)]


# --- answers ------------------------------------------------------------------------------------


class Product(Answer):
    id: int
    code: str
    name: str
    unit_price: MoneyText
    active: bool


class Products(RootModel[list[Product]]):
    """Products on sale, by code."""


class SaleLine(Answer):
    """A line of a quote or an order as answered."""

    line: int
    product_id: int
    product_code: str
    product_name: str
    quantity: str = Field(description="a decimal number as text, without trailing zeros")
    unit_price: MoneyText
    total: MoneyText


class Sale(Answer):
    id: int
    customer_id: int
    attention_id: int | None
    operator_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    items: list[SaleLine]
    total: MoneyText


class Quote(Sale):
    """A quote; ``editable`` while it is open."""

    status: QuoteStatus
    valid_until: dt.date | None
    editable: bool


class Quotes(RootModel[list[Quote]]):
    """Quotes, newest first."""


class OrderFields(Answer):
    """Each changeable field of the order form: may the form enable it."""

    items: bool
    cancelled: bool


class Order(Sale):
    """A sales order; ``editable`` and ``fields`` say what the form may enable."""

    quote_id: int | None
    billed: bool
    billed_at: dt.datetime | None
    invoice_number: str | None
    cancelled: bool
    editable: bool = Field(
        description="false: show every field disabled (billed with MV_ALTPED off, cancelled)"
    )
    locked_reason: str | None
    fields: OrderFields


class Orders(RootModel[list[Order]]):
    """Sales orders, newest first."""


# --- handlers -----------------------------------------------------------------------------------


def _lines(items: list[SaleItem]) -> list[repo.ItemIn]:
    return [repo.ItemIn(i.product_id, i.quantity, i.unit_price) for i in items]


def _edit_billed(request: web.Request) -> bool:
    return web_state(request).runtime.settings.sales.edit_billed_orders


async def products(request: web.Request) -> web.StreamResponse:
    return ok(await repo.list_products(web_state(request).runtime.db))


async def quotes(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    return ok(
        await repo.list_quotes(
            web_state(request).runtime.db,
            customer_id=query_int(request, "customer_id"),
            attention_id=query_int(request, "attention_id"),
        )
    )


async def new_quote(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    b = body_of(request, NewQuote)
    made = await repo.create_quote(
        web_state(request).runtime.db,
        viewer(request),
        customer_id=b.customer_id,
        attention_id=b.attention_id,
        valid_until=b.valid_until,
        items=_lines(b.items),
        today=today(request),
    )
    return ok(made, 201)


async def quote(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    return ok(await repo.get_quote(web_state(request).runtime.db, path_id(request)))


async def change_quote(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    b = body_of(request, QuoteChange)
    return ok(
        await repo.update_quote(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            items=None if b.items is None else _lines(b.items),
            valid_until=b.valid_until,
            status=b.status,
        )
    )


async def quote_to_order(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    made = await repo.order_from_quote(
        web_state(request).runtime.db,
        viewer(request),
        path_id(request),
        edit_billed=_edit_billed(request),
    )
    return ok(made, 201)


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


async def new_order(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    b = body_of(request, NewOrder)
    made = await repo.create_order(
        web_state(request).runtime.db,
        viewer(request),
        customer_id=b.customer_id,
        attention_id=b.attention_id,
        quote_id=b.quote_id,
        items=_lines(b.items),
        edit_billed=_edit_billed(request),
    )
    return ok(made, 201)


async def order(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    return ok(
        await repo.get_order(
            web_state(request).runtime.db, path_id(request), edit_billed=_edit_billed(request)
        )
    )


async def change_order(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    b = body_of(request, OrderChange)
    return ok(
        await repo.update_order(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            items=None if b.items is None else _lines(b.items),
            cancelled=b.cancelled,
            edit_billed=_edit_billed(request),
        )
    )


async def bill(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.bill_order(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            invoice_number=body_of(request, Billing).invoice_number.strip(),
            edit_billed=_edit_billed(request),
        )
    )


# --- the route table ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Sales:
    """The endpoints of one kind of sale document (quotes, orders) and what tells them apart."""

    plural: str
    listing: Handler
    making: Handler
    reading: Handler
    changing: Handler
    new: type[Body]
    change: type[Body]
    answer: type[BaseModel]
    answers: type[BaseModel]
    making_summary: str
    reading_summary: str
    changing_summary: str


def _sale_routes(sales: _Sales) -> tuple[Route, ...]:
    """List, make, read and change one kind of sale document."""
    base = f"/api/v1/telesales/{sales.plural}"
    return (
        route(
            "GET",
            base,
            sales.listing,
            f"{sales.plural.capitalize()}, newest first (?customer_id=, ?attention_id=)",
            response=sales.answers,
        ),
        route(
            "POST", base, sales.making, sales.making_summary, body=sales.new, response=sales.answer
        ),
        route("GET", f"{base}/{{id}}", sales.reading, sales.reading_summary, response=sales.answer),
        route(
            "PATCH",
            f"{base}/{{id}}",
            sales.changing,
            sales.changing_summary,
            body=sales.change,
            response=sales.answer,
        ),
    )


QUOTES = _Sales(
    plural="quotes",
    listing=quotes,
    making=new_quote,
    reading=quote,
    changing=change_quote,
    new=NewQuote,
    change=QuoteChange,
    answer=Quote,
    answers=Quotes,
    making_summary="Make a quote (from an attention) with its items",
    reading_summary="A quote",
    changing_summary="Change an open quote: items, validity, status",
)
ORDERS = _Sales(
    plural="orders",
    listing=orders,
    making=new_order,
    reading=order,
    changing=change_order,
    new=NewOrder,
    change=OrderChange,
    answer=Order,
    answers=Orders,
    making_summary="Make a sales order (from an attention, optionally from a quote)",
    reading_summary="A sales order; `editable` and `fields` say what the form may enable",
    changing_summary="Change an order's items or cancel it; 409 when billed and MV_ALTPED is off",
)

ROUTES: tuple[Route, ...] = (
    route("GET", "/api/v1/telesales/products", products, "Products on sale", response=Products),
    *_sale_routes(QUOTES),
    route(
        "POST",
        "/api/v1/telesales/quotes/{id}/order",
        quote_to_order,
        "Turn an open quote into a sales order (the quote becomes accepted)",
        response=Order,
    ),
    *_sale_routes(ORDERS),
    route(
        "POST",
        "/api/v1/telesales/orders/{id}/bill",
        bill,
        "Record the invoice that billed an order (billing's hand-off)",
        role="supervisor",
        body=Billing,
        response=Order,
    ),
)


def register(api: Api) -> None:
    """Declare the telesales endpoints."""
    api.add(ROUTES)
