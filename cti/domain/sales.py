"""Telesales' rules for quotes and sales orders, as pure functions.

The repository (:mod:`cti.db.backoffice.telesales`) reads the quote, the order or the products a
request names, hands them here and writes what these functions allow. Whether an order may still
change (the seeds' MV_ALTPED) is :func:`cti.domain.backoffice.order_lock`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from cti.domain.amounts import MILLI, is_cents, to_decimal
from cti.domain.backoffice import Line, OrderLock, order_lock
from cti.domain.model import QuoteStatus
from cti.domain.texts import _
from cti.errors import Refused, UserInputError


@dataclass(frozen=True, slots=True)
class ItemIn:
    """A line as the form sends it; ``unit_price`` None takes the product's price."""

    product_id: int
    quantity: Any
    unit_price: Any = None


@dataclass(frozen=True, slots=True)
class Product:
    """A product as a line needs it."""

    id: int
    code: str
    active: bool
    unit_price: Decimal


def check_has_items(items: object) -> None:
    """A quote or an order has at least one line."""
    if not items:
        raise UserInputError("items", _("at least one item"))


def sale_line(n: int, item: ItemIn, product: Product) -> Line:
    """Line ``n`` of a quote or an order: the product is still sold, the quantity is above zero
    with at most three decimals, the price (the product's when none is given) is 0 or more in
    cents."""
    if not product.active:
        raise UserInputError(
            f"items[{n}].product_id", _("{code} is not sold any more"), code=product.code
        )
    quantity = to_decimal(item.quantity, f"items[{n}].quantity")
    if quantity <= 0 or quantity != quantity.quantize(MILLI):
        raise UserInputError(
            f"items[{n}].quantity", _("must be more than 0, with at most 3 decimals")
        )
    price = (
        product.unit_price
        if item.unit_price is None
        else to_decimal(item.unit_price, f"items[{n}].unit_price")
    )
    if price < 0 or not is_cents(price):
        raise UserInputError(f"items[{n}].unit_price", _("must be 0 or more, in cents"))
    return Line(product.id, quantity, price)


def check_valid_until(valid_until: date | None, today: date) -> None:
    """A new quote is not valid only until a day already gone."""
    if valid_until is not None and valid_until < today:
        raise UserInputError("valid_until", _("is in the past"))


def quote_editable(status: QuoteStatus) -> bool:
    """Whether a quote may still change: only an open one does (its items, validity or status)."""
    return status is QuoteStatus.OPEN


def check_quote_changeable(status: QuoteStatus) -> None:
    """Only an open quote changes (:func:`quote_editable`)."""
    if not quote_editable(status):
        raise Refused(
            _("the quote is {value}; only open quotes change"), "status", value=status.value
        )


def check_quote_orderable(status: QuoteStatus, lines: int) -> None:
    """Only an open quote with lines makes an order."""
    if status is not QuoteStatus.OPEN:
        raise Refused(
            _("the quote is {value}; only an open quote makes an order"), value=status.value
        )
    if not lines:
        raise Refused(_("the quote has no items"), "items")


def check_quote_customer(quote_customer_id: int, customer_id: int) -> None:
    """An order made from a quote is for the quote's customer."""
    if quote_customer_id != customer_id:
        raise UserInputError("quote_id", _("that quote is for another customer"))


def check_order_editable(
    order_id: int, *, billed: bool, cancelled: bool, edit_billed_orders: bool
) -> OrderLock:
    """The order's lock when it may be changed; Refused naming why not (MV_ALTPED)."""
    lock = order_lock(billed=billed, cancelled=cancelled, edit_billed_orders=edit_billed_orders)
    if not lock.editable:
        raise Refused(
            _("order {order_id} cannot be changed: {reason}"),
            "order",
            order_id=order_id,
            reason=lock.reason,
        )
    return lock


def check_billable(order_id: int, *, billed: bool, cancelled: bool, invoice: str | None) -> None:
    """An order is billed once, and never once cancelled (``invoice``: its invoice number)."""
    if billed:
        raise Refused(
            _("order {order_id} is already billed ({invoice})"),
            "order",
            order_id=order_id,
            invoice=invoice,
        )
    if cancelled:
        raise Refused(_("order {order_id} is cancelled"), "order", order_id=order_id)


__all__ = [
    "ItemIn",
    "Product",
    "check_billable",
    "check_has_items",
    "check_order_editable",
    "check_quote_changeable",
    "check_quote_customer",
    "check_quote_orderable",
    "check_valid_until",
    "quote_editable",
    "sale_line",
]
