"""Telesales: quotes and sales orders with their items, made from an attention.

A billed order is locked unless ``sales.edit_billed_orders`` (the seeds' MV_ALTPED) is on; every
order read says which fields the form may enable (:func:`cti.domain.backoffice.order_lock`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_in
from cti.db.backoffice.common import (
    NotFound,
    Refused,
    check_attention,
    enforce_required,
    iso,
    money,
    must_exist,
    qty,
    to_decimal,
)
from cti.db.backoffice.personal import Viewer
from cti.db.engine import Database
from cti.db.models import Customer, OrderItem, Product, Quote, QuoteItem, SalesOrder
from cti.domain.backoffice import Line, order_lock
from cti.domain.model import QuoteStatus
from cti.errors import UserInputError


@dataclass(frozen=True, slots=True)
class ItemIn:
    """A line as the form sends it; ``unit_price`` None takes the product's price."""

    product_id: int
    quantity: Any
    unit_price: Any = None


async def list_products(db: Database, *, include_inactive: bool = False) -> list[dict[str, Any]]:
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
    if not items:
        raise UserInputError("items", "at least one item")
    ids = {i.product_id for i in items}
    products = {
        p.id: p
        for p in (await session.execute(sa.select(Product).where(Product.id.in_(ids)))).scalars()
    }
    out: list[Line] = []
    for n, item in enumerate(items):
        product = products.get(item.product_id)
        if product is None:
            raise UserInputError(f"items[{n}].product_id", f"{item.product_id} does not exist")
        if not product.active:
            raise UserInputError(f"items[{n}].product_id", f"{product.code} is not sold any more")
        quantity = to_decimal(item.quantity, f"items[{n}].quantity")
        if quantity <= 0 or quantity != quantity.quantize(Decimal("0.001")):
            raise UserInputError(
                f"items[{n}].quantity", "must be more than 0, with at most 3 decimals"
            )
        price = (
            product.unit_price
            if item.unit_price is None
            else to_decimal(item.unit_price, f"items[{n}].unit_price")
        )
        if price < 0 or price != price.quantize(Decimal("0.01")):
            raise UserInputError(f"items[{n}].unit_price", "must be 0 or more, in cents")
        out.append(Line(product.id, quantity, price))
    return out


async def _items_json(session: AsyncSession, model: Any, key: Any, ident: int) -> list[Any]:
    rows = await session.execute(
        sa.select(model, Product.code, Product.name)
        .join(Product, Product.id == model.product_id)
        .where(key == ident)
        .order_by(model.line)
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


def _total(items: list[dict[str, Any]]) -> str | None:
    return money(sum((Decimal(i["total"]) for i in items), Decimal("0.00")))


# --- quotes ------------------------------------------------------------------------------------


async def _quote_json(session: AsyncSession, quote: Quote) -> dict[str, Any]:
    items = await _items_json(session, QuoteItem, QuoteItem.quote_id, quote.id)
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
        "editable": quote.status is QuoteStatus.OPEN,
    }


async def _put_quote_items(session: AsyncSession, quote_id: int, lines: list[Line]) -> None:
    await session.execute(sa.delete(QuoteItem).where(QuoteItem.quote_id == quote_id))
    session.add_all(
        QuoteItem(
            quote_id=quote_id,
            line=n,
            product_id=ln.product_id,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
        )
        for n, ln in enumerate(lines, start=1)
    )


async def create_quote(
    db: Database,
    viewer: Viewer,
    *,
    customer_id: int,
    items: Sequence[ItemIn],
    attention_id: int | None = None,
    valid_until: date | None = None,
    today: date,
) -> dict[str, Any]:
    """A new open quote; raises UserInputError naming the field on bad input."""
    async with db.sessions.begin() as s:
        await enforce_required(
            s, "quote", {"attention_id": attention_id, "valid_until": valid_until}
        )
        await must_exist(s, Customer, customer_id, "customer_id")
        await check_attention(s, attention_id, customer_id)
        if valid_until is not None and valid_until < today:
            raise UserInputError("valid_until", "is in the past")
        lines = await _lines(s, items)
        quote = Quote(
            customer_id=customer_id,
            attention_id=attention_id,
            operator_id=viewer.id,
            valid_until=valid_until,
        )
        s.add(quote)
        await s.flush()
        await _put_quote_items(s, quote.id, lines)
        await s.flush()
        return await _quote_json(s, quote)


async def get_quote(db: Database, quote_id: int) -> dict[str, Any]:
    """A quote with its items; NotFound if unknown."""
    async with db.sessions() as s:
        quote = await s.get(Quote, quote_id)
        if quote is None:
            raise NotFound("quote", quote_id)
        return await _quote_json(s, quote)


async def update_quote(
    db: Database,
    viewer: Viewer,
    quote_id: int,
    *,
    items: Sequence[ItemIn] | None = None,
    valid_until: date | None = None,
    status: QuoteStatus | None = None,
) -> dict[str, Any]:
    """Change an open quote's items, validity or status (accepted, rejected, expired)."""
    async with db.sessions.begin() as s:
        quote = await s.get(Quote, quote_id, with_for_update=True)
        if quote is None:
            raise NotFound("quote", quote_id)
        if quote.status is not QuoteStatus.OPEN:
            raise Refused(f"the quote is {quote.status.value}; only open quotes change", "status")
        if items is not None:
            await _put_quote_items(s, quote.id, await _lines(s, items))
        if valid_until is not None:
            quote.valid_until = valid_until
        if status is not None:
            quote.status = status
        await s.flush()
        return await _quote_json(s, quote)


# --- orders ------------------------------------------------------------------------------------


async def _order_json(
    session: AsyncSession, order: SalesOrder, edit_billed: bool
) -> dict[str, Any]:
    items = await _items_json(session, OrderItem, OrderItem.order_id, order.id)
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


async def _put_order_items(session: AsyncSession, order_id: int, lines: list[Line]) -> None:
    await session.execute(sa.delete(OrderItem).where(OrderItem.order_id == order_id))
    session.add_all(
        OrderItem(
            order_id=order_id,
            line=n,
            product_id=ln.product_id,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
        )
        for n, ln in enumerate(lines, start=1)
    )


async def create_order(
    db: Database,
    viewer: Viewer,
    *,
    customer_id: int,
    items: Sequence[ItemIn],
    attention_id: int | None = None,
    quote_id: int | None = None,
    edit_billed: bool,
) -> dict[str, Any]:
    """A new sales order (not billed)."""
    async with db.sessions.begin() as s:
        await enforce_required(s, "order", {"attention_id": attention_id, "quote_id": quote_id})
        await must_exist(s, Customer, customer_id, "customer_id")
        await check_attention(s, attention_id, customer_id)
        if quote_id is not None:
            quote = await must_exist(s, Quote, quote_id, "quote_id")
            if quote.customer_id != customer_id:
                raise UserInputError("quote_id", "that quote is for another customer")
        order = SalesOrder(
            customer_id=customer_id,
            attention_id=attention_id,
            quote_id=quote_id,
            operator_id=viewer.id,
        )
        lines = await _lines(s, items)
        s.add(order)
        await s.flush()
        await _put_order_items(s, order.id, lines)
        await s.flush()
        return await _order_json(s, order, edit_billed)


async def order_from_quote(
    db: Database, viewer: Viewer, quote_id: int, *, edit_billed: bool
) -> dict[str, Any]:
    """Turn an open quote into a sales order with the same items; the quote becomes accepted."""
    async with db.sessions.begin() as s:
        quote = await s.get(Quote, quote_id, with_for_update=True)
        if quote is None:
            raise NotFound("quote", quote_id)
        if quote.status is not QuoteStatus.OPEN:
            raise Refused(f"the quote is {quote.status.value}; only an open quote makes an order")
        items = (
            (
                await s.execute(
                    sa.select(QuoteItem)
                    .where(QuoteItem.quote_id == quote_id)
                    .order_by(QuoteItem.line)
                )
            )
            .scalars()
            .all()
        )
        if not items:
            raise Refused("the quote has no items", "items")
        order = SalesOrder(
            customer_id=quote.customer_id,
            attention_id=quote.attention_id,
            quote_id=quote.id,
            operator_id=viewer.id,
        )
        s.add(order)
        await s.flush()
        await _put_order_items(
            s, order.id, [Line(i.product_id, i.quantity, i.unit_price) for i in items]
        )
        quote.status = QuoteStatus.ACCEPTED
        await s.flush()
        return await _order_json(s, order, edit_billed)


async def get_order(db: Database, order_id: int, *, edit_billed: bool) -> dict[str, Any]:
    """An order with its items and what the form may change."""
    async with db.sessions() as s:
        order = await s.get(SalesOrder, order_id)
        if order is None:
            raise NotFound("order", order_id)
        return await _order_json(s, order, edit_billed)


async def list_orders(
    db: Database,
    *,
    customer_id: int | None = None,
    attention_id: int | None = None,
    edit_billed: bool,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Orders, newest first, optionally of one customer or one attention."""
    stmt = sa.select(SalesOrder).order_by(SalesOrder.id.desc()).limit(limit)
    if customer_id is not None:
        stmt = stmt.where(SalesOrder.customer_id == customer_id)
    if attention_id is not None:
        stmt = stmt.where(SalesOrder.attention_id == attention_id)
    async with db.sessions() as s:
        orders = (await s.execute(stmt)).scalars().all()
        return [await _order_json(s, o, edit_billed) for o in orders]


async def list_quotes(
    db: Database,
    *,
    customer_id: int | None = None,
    attention_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Quotes, newest first, optionally of one customer or one attention."""
    stmt = sa.select(Quote).order_by(Quote.id.desc()).limit(limit)
    if customer_id is not None:
        stmt = stmt.where(Quote.customer_id == customer_id)
    if attention_id is not None:
        stmt = stmt.where(Quote.attention_id == attention_id)
    async with db.sessions() as s:
        quotes = (await s.execute(stmt)).scalars().all()
        return [await _quote_json(s, q) for q in quotes]


async def update_order(
    db: Database,
    viewer: Viewer,
    order_id: int,
    *,
    items: Sequence[ItemIn] | None = None,
    cancelled: bool | None = None,
    edit_billed: bool,
) -> dict[str, Any]:
    """Change an order's items or cancel it, if the MV_ALTPED rule allows it.

    Raises:
        Refused: the order is billed and ``sales.edit_billed_orders`` is off, or it is cancelled.
    """
    async with db.sessions.begin() as s:
        order = await s.get(SalesOrder, order_id, with_for_update=True)
        if order is None:
            raise NotFound("order", order_id)
        lock = order_lock(
            billed=order.billed, cancelled=order.cancelled, edit_billed_orders=edit_billed
        )
        if not lock.editable:
            raise Refused(f"order {order.id} cannot be changed: {lock.reason}", "order")
        if items is not None:
            await _put_order_items(s, order.id, await _lines(s, items))
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
    kinds: tuple[tuple[str, Any, Any, Any], ...] = (
        ("order", SalesOrder, OrderItem, OrderItem.order_id),
        ("quote", Quote, QuoteItem, QuoteItem.quote_id),
    )
    for kind, model, item_model, key in kinds:
        made = (
            await session.execute(
                sa.select(model)
                .where(model.attention_id == attention_id)
                .order_by(model.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if made is None:
            continue
        total = _total(await _items_json(session, item_model, key, made.id))
        status = _order_status(made) if kind == "order" else str(made.status)
        return {
            "kind": kind,
            "id": made.id,
            "status": status,
            "total": total,
            "label": f"{kind.capitalize()} {made.id} · {status} · {total}",
        }
    return None


async def bill_order(
    db: Database, viewer: Viewer, order_id: int, *, invoice_number: str, edit_billed: bool
) -> dict[str, Any]:
    """Record that billing invoiced the order (from then on MV_ALTPED decides if it may change)."""
    async with db.sessions.begin() as s:
        order = await s.get(SalesOrder, order_id, with_for_update=True)
        if order is None:
            raise NotFound("order", order_id)
        if order.billed:
            raise Refused(f"order {order.id} is already billed ({order.invoice_number})", "order")
        if order.cancelled:
            raise Refused(f"order {order.id} is cancelled", "order")
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
