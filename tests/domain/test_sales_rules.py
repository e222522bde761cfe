"""Telesales' rules (cti.domain.sales) and the amounts they read (cti.domain.amounts): no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cti.domain.amounts import money, positive_cents, to_decimal
from cti.domain.backoffice import Line
from cti.domain.model import QuoteStatus
from cti.domain.sales import (
    ItemIn,
    Product,
    check_billable,
    check_has_items,
    check_order_editable,
    check_quote_changeable,
    check_quote_customer,
    check_quote_orderable,
    check_valid_until,
    quote_editable,
    sale_line,
)
from cti.errors import Refused, UserInputError

WIDGET = Product(3, "W-1", True, Decimal("12.50"))
RETIRED = Product(4, "OLD", False, Decimal("1.00"))


def test_amounts_are_read_as_decimals_naming_their_field() -> None:
    assert to_decimal("12.50", "total") == Decimal("12.50")
    assert to_decimal(3, "total") == Decimal(3)
    for bad in ("twelve", True, "NaN", "Infinity"):
        with pytest.raises(UserInputError, match="expected a number") as exc:
            to_decimal(bad, "total")
        assert exc.value.field == "total"
    assert positive_cents(Decimal("0.01"), "amount") == Decimal("0.01")
    with pytest.raises(UserInputError, match="more than 0, in cents"):
        positive_cents(Decimal("1.001"), "amount")
    assert money(Decimal("12.5")) == "12.50"


def test_a_line_takes_the_products_price_unless_one_is_given() -> None:
    assert sale_line(0, ItemIn(3, "2"), WIDGET) == Line(3, Decimal(2), Decimal("12.50"))
    assert sale_line(0, ItemIn(3, "1.5", "10.00"), WIDGET) == Line(
        3, Decimal("1.5"), Decimal("10.00")
    )
    assert sale_line(0, ItemIn(3, 1, 0), WIDGET).total == Decimal("0.00")


def test_a_product_no_longer_sold_is_not_sold() -> None:
    with pytest.raises(UserInputError, match="OLD is not sold any more") as exc:
        sale_line(1, ItemIn(4, 1), RETIRED)
    assert exc.value.field == "items[1].product_id"


@pytest.mark.parametrize("quantity", ["0", "-1", "1.0001"])
def test_a_quantity_is_positive_with_three_decimals_at_most(quantity: str) -> None:
    with pytest.raises(UserInputError, match="with at most 3 decimals") as exc:
        sale_line(2, ItemIn(3, quantity), WIDGET)
    assert exc.value.field == "items[2].quantity"


@pytest.mark.parametrize("price", ["-0.01", "1.001"])
def test_a_price_is_zero_or_more_in_cents(price: str) -> None:
    with pytest.raises(UserInputError, match="0 or more, in cents") as exc:
        sale_line(0, ItemIn(3, 1, price), WIDGET)
    assert exc.value.field == "items[0].unit_price"


def test_a_quote_or_an_order_has_a_line() -> None:
    check_has_items([ItemIn(3, 1)])
    with pytest.raises(UserInputError, match="at least one item") as exc:
        check_has_items([])
    assert exc.value.field == "items"


def test_a_new_quote_is_not_valid_only_until_a_day_gone() -> None:
    today = date(2026, 3, 10)
    check_valid_until(None, today)
    check_valid_until(today, today)
    with pytest.raises(UserInputError, match="in the past") as exc:
        check_valid_until(date(2026, 3, 9), today)
    assert exc.value.field == "valid_until"


def test_only_an_open_quote_changes() -> None:
    assert quote_editable(QuoteStatus.OPEN)
    check_quote_changeable(QuoteStatus.OPEN)
    for status in (QuoteStatus.ACCEPTED, QuoteStatus.REJECTED, QuoteStatus.EXPIRED):
        assert not quote_editable(status)
        with pytest.raises(Refused, match=f"the quote is {status.value}; only open quotes change"):
            check_quote_changeable(status)


def test_only_an_open_quote_with_lines_makes_an_order() -> None:
    check_quote_orderable(QuoteStatus.OPEN, 2)
    with pytest.raises(Refused, match="only an open quote makes an order"):
        check_quote_orderable(QuoteStatus.ACCEPTED, 2)
    with pytest.raises(Refused, match="the quote has no items") as exc:
        check_quote_orderable(QuoteStatus.OPEN, 0)
    assert exc.value.field == "items"


def test_an_order_from_a_quote_is_for_the_quotes_customer() -> None:
    check_quote_customer(7, 7)
    with pytest.raises(UserInputError, match="for another customer") as exc:
        check_quote_customer(7, 8)
    assert exc.value.field == "quote_id"


def test_a_billed_order_is_locked_unless_the_setting_allows_it() -> None:
    lock = check_order_editable(5, billed=False, cancelled=False, edit_billed_orders=False)
    assert lock.editable
    assert check_order_editable(5, billed=True, cancelled=False, edit_billed_orders=True).editable
    with pytest.raises(Refused, match="order 5 cannot be changed: the order is billed") as exc:
        check_order_editable(5, billed=True, cancelled=False, edit_billed_orders=False)
    assert exc.value.field == "order"
    with pytest.raises(Refused, match="the order is cancelled"):
        check_order_editable(5, billed=False, cancelled=True, edit_billed_orders=True)


def test_an_order_is_billed_once_and_never_once_cancelled() -> None:
    check_billable(5, billed=False, cancelled=False, invoice=None)
    with pytest.raises(Refused, match=r"order 5 is already billed \(NF-9\)"):
        check_billable(5, billed=True, cancelled=False, invoice="NF-9")
    with pytest.raises(Refused, match="order 5 is cancelled"):
        check_billable(5, billed=False, cancelled=True, invoice=None)
