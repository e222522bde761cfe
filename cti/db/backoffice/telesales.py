"""Telesales: quotes and sales orders with their items, made from an attention.

A billed order is locked unless ``sales.edit_billed_orders`` (the seeds' MV_ALTPED) is on; every
order read says which fields the form may enable (:func:`cti.domain.backoffice.order_lock`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_in
from cti.db.backoffice.common import (
    check_attention,
    enforce_required,
    iso,
    money,
    must_exist,
    qty,
)
from cti.db.backoffice.personal import Viewer
from cti.db.engine import Database
from cti.db.models import Customer, OrderItem, Product, Quote, QuoteItem, SalesOrder
from cti.domain import sales
from cti.domain.backoffice import Line, order_lock
from cti.domain.model import QuoteStatus
from cti.domain.sales import ItemIn
from cti.errors import NotFound, UserInputError
from cti.i18n import _


@dataclass(frozen=True, slots=True)
class _Kind:
    """A quote or an order, and its lines: the two share their lines' shape and their reads."""

    name: str
    model: Any
    item: Any
    key: Any  # the item's column naming its quote or order

    def lines_of(self, ident: int) -> Any:
        return sa.select(self.item).where(self.key == ident).order_by(self.item.line)


class ProductJson(TypedDict):
    """A product as the products list answers it."""

    id: int
    code: str
    name: str
    unit_price: str | None
    active: bool


class ItemJson(TypedDict):
    """A line of a quote or an order, as read back."""

    line: int
    product_id: int
    product_code: str
    product_name: str
    quantity: str
    unit_price: str
    total: str


class QuoteJson(TypedDict):
    """A quote with its items, as every quote endpoint answers it."""

    id: int
    customer_id: int
    attention_id: int | None
    operator_id: int | None
    status: str
    valid_until: str | None
    created_at: str | None
    updated_at: str | None
    items: list[ItemJson]
    total: str | None
    editable: bool


class OrderJson(TypedDict):
    """An order with its items and what its form may change, as every order endpoint answers."""

    id: int
    customer_id: int
    attention_id: int | None
    quote_id: int | None
    operator_id: int | None
    billed: bool
    billed_at: str | None
    invoice_number: str | None
    cancelled: bool
    created_at: str | None
    updated_at: str | None
    items: list[ItemJson]
    total: str | None
    editable: bool
    locked_reason: str | None
    fields: dict[str, bool]


_QUOTE = _Kind("quote", Quote, QuoteItem, QuoteItem.quote_id)
_ORDER = _Kind("order", SalesOrder, OrderItem, OrderItem.order_id)


async def list_products(db: Database, *, include_inactive: bool = False) -> list[ProductJson]:
    """The products telesales may quote, by code."""
    stmt = sa.select(Product).order_by(Product.code)
    if not include_inactive:
        stmt = stmt.where(Product.active)
    async with db.sessions() as s:
        rows = (await s.execute(stmt)).scalars().all()
    return [
        {
            "id": p.id,
            "code": p.code,
            "name": p.name,
            "unit_price": money(p.unit_price),
            "active": p.active,
        }
        for p in rows
    ]


async def _lines(session: AsyncSession, items: Sequence[ItemIn]) -> list[Line]:
    sales.check_has_items(items)
    ids = {i.product_id for i in items}
    products = {
        p.id: p
        for p in (await session.execute(sa.select(Product).where(Product.id.in_(ids)))).scalars()
    }
    out: list[Line] = []
    for n, item in enumerate(items):
        product = products.get(item.product_id)
        if product is None:
            raise UserInputError(
                f"items[{n}].product_id",
                _("{product_id} does not exist"),
                product_id=item.product_id,
            )
        row = sales.Product(product.id, product.code, product.active, product.unit_price)
        out.append(sales.sale_line(n, item, row))
    return out


async def _items_json(session: AsyncSession, kind: _Kind, ident: int) -> list[ItemJson]:
    rows = await session.execute(
        kind.lines_of(ident)
        .add_columns(Product.code, Product.name)
        .join(Product, Product.id == kind.item.product_id)
    )
    return [
        {
            "line": item.line,
            "product_id": item.product_id,
            "product_code": code,
            "product_name": name,
            "quantity": qty(item.quantity),
            "unit_price": money(item.unit_price),
            "total": money(Line(item.product_id, item.quantity, item.unit_price).total),
        }
        for item, code, name in rows
    ]


def _total(items: list[ItemJson]) -> str | None:
    return money(sum((Decimal(i["total"]) for i in items), Decimal("0.00")))


async def _put_items(session: AsyncSession, kind: _Kind, ident: int, lines: list[Line]) -> None:
    """Replace the lines of a quote or an order."""
    await session.execute(sa.delete(kind.item).where(kind.key == ident))
    session.add_all(
        kind.item(
            **{kind.key.key: ident},
            line=n,
            product_id=ln.product_id,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
        )
        for n, ln in enumerate(lines, start=1)
    )


async def _check_party(
    session: AsyncSession,
    kind: _Kind,
    customer_id: int,
    attention_id: int | None,
    required: dict[str, Any],
) -> None:
    """The form's required fields, the customer, and the attention it is made from (if any)."""
    await enforce_required(session, kind.name, {"attention_id": attention_id, **required})
    await must_exist(session, Customer, customer_id, "customer_id")
    await check_attention(session, attention_id, customer_id)


async def _insert(session: AsyncSession, kind: _Kind, lines: list[Line], **values: Any) -> Any:
    """A new quote or order with its lines."""
    made = kind.model(**values)
    session.add(made)
    await session.flush()
    await _put_items(session, kind, made.id, lines)
    await session.flush()
    return made


def _listed(
    kind: _Kind, customer_id: int | None, attention_id: int | None, limit: int
) -> sa.Select[Any]:
    """Quotes or orders, newest first, optionally of one customer or one attention."""
    model = kind.model
    stmt = sa.select(model).order_by(model.id.desc()).limit(limit)
    if customer_id is not None:
        stmt = stmt.where(model.customer_id == customer_id)
    if attention_id is not None:
        stmt = stmt.where(model.attention_id == attention_id)
    return stmt


# --- quotes ------------------------------------------------------------------------------------


async def _quote_json(session: AsyncSession, quote: Quote) -> QuoteJson:
    items = await _items_json(session, _QUOTE, quote.id)
    return {
        "id": quote.id,
        "customer_id": quote.customer_id,
        "attention_id": quote.attention_id,
        "operator_id": quote.operator_id,
        "status": str(quote.status),
        "valid_until": iso(quote.valid_until),
        "created_at": iso(quote.created_at),
        "updated_at": iso(quote.updated_at),
        "items": items,
        "total": _total(items),
        "editable": sales.quote_editable(quote.status),
    }


async def create_quote(
    db: Database,
    viewer: Viewer,
    *,
    customer_id: int,
    items: Sequence[ItemIn],
    attention_id: int | None = None,
    valid_until: date | None = None,
    today: date,
) -> QuoteJson:
    """A new open quote; raises UserInputError naming the field on bad input."""
    async with db.sessions.begin() as s:
        await _check_party(s, _QUOTE, customer_id, attention_id, {"valid_until": valid_until})
        sales.check_valid_until(valid_until, today)
        quote = await _insert(
            s,
            _QUOTE,
            await _lines(s, items),
            customer_id=customer_id,
            attention_id=attention_id,
            operator_id=viewer.id,
            valid_until=valid_until,
        )
        return await _quote_json(s, quote)


async def get_quote(db: Database, quote_id: int) -> QuoteJson:
    """A quote with its items; NotFound if unknown."""
    async with db.sessions() as s:
        quote = await s.get(Quote, quote_id)
        if quote is None:
            raise NotFound(_("quote"), quote_id)
        return await _quote_json(s, quote)


async def update_quote(
    db: Database,
    viewer: Viewer,
    quote_id: int,
    *,
    items: Sequence[ItemIn] | None = None,
    valid_until: date | None = None,
    status: QuoteStatus | None = None,
) -> QuoteJson:
    """Change an open quote's items, validity or status (accepted, rejected, expired)."""
    async with db.sessions.begin() as s:
        quote = await s.get(Quote, quote_id, with_for_update=True)
        if quote is None:
            raise NotFound(_("quote"), quote_id)
        sales.check_quote_changeable(quote.status)
        if items is not None:
            await _put_items(s, _QUOTE, quote.id, await _lines(s, items))
        if valid_until is not None:
            quote.valid_until = valid_until
        if status is not None:
            quote.status = status
        await s.flush()
        return await _quote_json(s, quote)


async def list_quotes(
    db: Database,
    *,
    customer_id: int | None = None,
    attention_id: int | None = None,
    limit: int = 100,
) -> list[QuoteJson]:
    """Quotes, newest first, optionally of one customer or one attention."""
    async with db.sessions() as s:
        quotes = (await s.execute(_listed(_QUOTE, customer_id, attention_id, limit))).scalars()
        return [await _quote_json(s, q) for q in quotes.all()]


# --- orders ------------------------------------------------------------------------------------


async def _order_json(session: AsyncSession, order: SalesOrder, edit_billed: bool) -> OrderJson:
    items = await _items_json(session, _ORDER, order.id)
    lock = order_lock(
        billed=order.billed, cancelled=order.cancelled, edit_billed_orders=edit_billed
    )
    return {
        "id": order.id,
        "customer_id": order.customer_id,
        "attention_id": order.attention_id,
        "quote_id": order.quote_id,
        "operator_id": order.operator_id,
        "billed": order.billed,
        "billed_at": iso(order.billed_at),
        "invoice_number": order.invoice_number,
        "cancelled": order.cancelled,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "items": items,
        "total": _total(items),
        "editable": lock.editable,
        "locked_reason": lock.reason,
        "fields": lock.fields(),
    }


async def create_order(
    db: Database,
    viewer: Viewer,
    *,
    customer_id: int,
    items: Sequence[ItemIn],
    attention_id: int | None = None,
    quote_id: int | None = None,
    edit_billed: bool,
) -> OrderJson:
    """A new sales order (not billed)."""
    async with db.sessions.begin() as s:
        await _check_party(s, _ORDER, customer_id, attention_id, {"quote_id": quote_id})
        if quote_id is not None:
            quote = await must_exist(s, Quote, quote_id, "quote_id")
            sales.check_quote_customer(quote.customer_id, customer_id)
        order = await _insert(
            s,
            _ORDER,
            await _lines(s, items),
            customer_id=customer_id,
            attention_id=attention_id,
            quote_id=quote_id,
            operator_id=viewer.id,
        )
        return await _order_json(s, order, edit_billed)


async def order_from_quote(
    db: Database, viewer: Viewer, quote_id: int, *, edit_billed: bool
) -> OrderJson:
    """Turn an open quote into a sales order with the same items; the quote becomes accepted."""
    async with db.sessions.begin() as s:
        quote = await s.get(Quote, quote_id, with_for_update=True)
        if quote is None:
            raise NotFound(_("quote"), quote_id)
        items = (await s.execute(_QUOTE.lines_of(quote_id))).scalars().all()
        sales.check_quote_orderable(quote.status, len(items))
        order = SalesOrder(
            customer_id=quote.customer_id,
            attention_id=quote.attention_id,
            quote_id=quote.id,
            operator_id=viewer.id,
        )
        s.add(order)
        await s.flush()
        await _put_items(
            s, _ORDER, order.id, [Line(i.product_id, i.quantity, i.unit_price) for i in items]
        )
        quote.status = QuoteStatus.ACCEPTED
        await s.flush()
        return await _order_json(s, order, edit_billed)


async def get_order(db: Database, order_id: int, *, edit_billed: bool) -> OrderJson:
    """An order with its items and what the form may change."""
    async with db.sessions() as s:
        order = await s.get(SalesOrder, order_id)
        if order is None:
            raise NotFound(_("order"), order_id)
        return await _order_json(s, order, edit_billed)


async def list_orders(
    db: Database,
    *,
    customer_id: int | None = None,
    attention_id: int | None = None,
    edit_billed: bool,
    limit: int = 100,
) -> list[OrderJson]:
    """Orders, newest first, optionally of one customer or one attention."""
    async with db.sessions() as s:
        orders = (await s.execute(_listed(_ORDER, customer_id, attention_id, limit))).scalars()
        return [await _order_json(s, o, edit_billed) for o in orders.all()]


async def update_order(
    db: Database,
    viewer: Viewer,
    order_id: int,
    *,
    items: Sequence[ItemIn] | None = None,
    cancelled: bool | None = None,
    edit_billed: bool,
) -> OrderJson:
    """Change an order's items or cancel it, if the MV_ALTPED rule allows it.

    Raises:
        Refused: the order is billed and ``sales.edit_billed_orders`` is off, or it is cancelled.
    """
    async with db.sessions.begin() as s:
        order = await s.get(SalesOrder, order_id, with_for_update=True)
        if order is None:
            raise NotFound(_("order"), order_id)
        sales.check_order_editable(
            order.id, billed=order.billed, cancelled=order.cancelled, edit_billed_orders=edit_billed
        )
        if items is not None:
            await _put_items(s, _ORDER, order.id, await _lines(s, items))
        if cancelled is not None:
            order.cancelled = cancelled
        # Touch the order so updated_at says when its lines changed too.
        order.updated_at = sa.func.now()
        if order.billed:
            await audit_in(
                s,
                viewer.username,
                "order.billed_edited",
                f"order:{order.id}",
                {"invoice_number": order.invoice_number},
            )
        await s.flush()
        await s.refresh(order)
        return await _order_json(s, order, edit_billed)


def _order_status(order: SalesOrder) -> str:
    if order.cancelled:
        return "cancelled"
    return f"billed {order.invoice_number}" if order.billed else "not billed"


async def attention_operation(session: AsyncSession, attention_id: int) -> dict[str, Any] | None:
    """The telesales operation of an attention (the footer's "operation"): its newest order, else
    its newest quote; None when the attention made neither.

    Returns ``{"kind": "order"|"quote", "id", "status", "total", "label"}``.
    """
    for kind in (_ORDER, _QUOTE):
        made = (await session.execute(_listed(kind, None, attention_id, 1))).scalar_one_or_none()
        if made is None:
            continue
        total = _total(await _items_json(session, kind, made.id))
        status = _order_status(made) if kind is _ORDER else str(made.status)
        return {
            "kind": kind.name,
            "id": made.id,
            "status": status,
            "total": total,
            "label": f"{kind.name.capitalize()} {made.id} · {status} · {total}",
        }
    return None


async def bill_order(
    db: Database, viewer: Viewer, order_id: int, *, invoice_number: str, edit_billed: bool
) -> OrderJson:
    """Record that billing invoiced the order (from then on MV_ALTPED decides if it may change)."""
    async with db.sessions.begin() as s:
        order = await s.get(SalesOrder, order_id, with_for_update=True)
        if order is None:
            raise NotFound(_("order"), order_id)
        sales.check_billable(
            order.id, billed=order.billed, cancelled=order.cancelled, invoice=order.invoice_number
        )
        order.billed = True
        order.billed_at = sa.func.now()
        order.invoice_number = invoice_number
        await audit_in(
            s, viewer.username, "order.billed", f"order:{order.id}", {"invoice": invoice_number}
        )
        await s.flush()
        await s.refresh(order)
        return await _order_json(s, order, edit_billed)


__all__ = [
    "ItemIn",
    "attention_operation",
    "bill_order",
    "create_order",
    "create_quote",
    "get_order",
    "get_quote",
    "list_orders",
    "list_products",
    "list_quotes",
    "order_from_quote",
    "update_order",
]
