"""What customers owe and buy: receivables, promises to pay and instalment plans (collection),
quotes and sales orders with their lines (telesales)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cti.db.tables.base import (
    Base,
    CreatedAt,
    IdPk,
    Money,
    Timestamp,
    UpdatedAt,
    enum_type,
    fk,
)
from cti.domain.model import (
    PromiseStatus,
    QuoteStatus,
)

# --- collection -------------------------------------------------------------------------------


class Receivable(Base):
    """An invoice a customer owes (overdue when ``due_on`` is past and it is not paid)."""

    __tablename__ = "receivables"
    __table_args__ = (
        sa.UniqueConstraint("customer_id", "invoice_number"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("paid = (paid_at IS NOT NULL)", name="paid_has_date"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = fk("customers.id", ondelete="CASCADE", nullable=False)
    invoice_number: Mapped[str] = mapped_column(sa.Text)
    issued_on: Mapped[date | None] = mapped_column(sa.Date)
    due_on: Mapped[date] = mapped_column(sa.Date, index=True)
    amount: Mapped[Money]
    paid: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))
    paid_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]


class PaymentPromise(Base):
    """A promise to pay recorded in a collection attention; a broken one returns to collection."""

    __tablename__ = "payment_promises"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[IdPk]
    customer_id: Mapped[int] = fk("customers.id", ondelete="CASCADE", nullable=False)
    attention_id: Mapped[int | None] = fk("attentions.id", ondelete="SET NULL")
    receivable_id: Mapped[int | None] = fk("receivables.id", ondelete="SET NULL")
    promised_on: Mapped[date] = mapped_column(sa.Date)
    amount: Mapped[Money]
    status: Mapped[PromiseStatus] = mapped_column(
        enum_type(PromiseStatus, "status"), server_default="open"
    )
    created_by: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class PaymentPlan(Base):
    """A negotiated plan of instalments."""

    __tablename__ = "payment_plans"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = fk("customers.id", ondelete="CASCADE", nullable=False)
    attention_id: Mapped[int | None] = fk("attentions.id", ondelete="SET NULL")
    created_by: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    created_at: Mapped[CreatedAt]
    # The plan's outcome: open while instalments are due, kept when all are paid, broken when one
    # fell due unpaid.
    status: Mapped[PromiseStatus] = mapped_column(
        enum_type(PromiseStatus, "status"), server_default="open"
    )


class Instalment(Base):
    """One instalment of a payment plan."""

    __tablename__ = "instalments"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "seq"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("seq > 0", name="seq_positive"),
    )

    id: Mapped[IdPk]
    plan_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("payment_plans.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(sa.Integer)
    due_on: Mapped[date] = mapped_column(sa.Date)
    amount: Mapped[Money]
    paid_at: Mapped[Timestamp | None]


# --- telesales --------------------------------------------------------------------------------


class _LineColumns:
    """The columns a line of a quote and a line of an order share (each names its parent)."""

    line: Mapped[int] = mapped_column(sa.Integer)
    product_id: Mapped[int] = fk("products.id", ondelete="RESTRICT", nullable=False)
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(12, 3))
    unit_price: Mapped[Money]


def _line_checks(parent: str) -> tuple[Any, ...]:
    """A line's constraints: numbered once per parent, a positive quantity, a price not below 0."""
    return (
        sa.UniqueConstraint(parent, "line"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )


class Quote(Base):
    """A telesales quote (orçamento)."""

    __tablename__ = "quotes"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = fk("customers.id", ondelete="CASCADE", nullable=False)
    attention_id: Mapped[int | None] = fk("attentions.id", ondelete="SET NULL")
    operator_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    status: Mapped[QuoteStatus] = mapped_column(
        enum_type(QuoteStatus, "status"), server_default="open"
    )
    valid_until: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class QuoteItem(_LineColumns, Base):
    """A line of a quote."""

    __tablename__ = "quote_items"
    __table_args__ = _line_checks("quote_id")

    id: Mapped[IdPk]
    quote_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("quotes.id", ondelete="CASCADE")
    )


class SalesOrder(Base):
    """A sales order; once ``billed`` it may be edited only with ``sales.edit_billed_orders``."""

    __tablename__ = "sales_orders"
    __table_args__ = (
        sa.CheckConstraint("billed = (billed_at IS NOT NULL)", name="billed_has_date"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = fk("customers.id", ondelete="CASCADE", nullable=False)
    attention_id: Mapped[int | None] = fk("attentions.id", ondelete="SET NULL")
    quote_id: Mapped[int | None] = fk("quotes.id", ondelete="SET NULL")
    operator_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    billed: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))
    billed_at: Mapped[Timestamp | None]
    invoice_number: Mapped[str | None] = mapped_column(sa.Text)
    cancelled: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class OrderItem(_LineColumns, Base):
    """A line of a sales order."""

    __tablename__ = "order_items"
    __table_args__ = _line_checks("order_id")

    id: Mapped[IdPk]
    order_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("sales_orders.id", ondelete="CASCADE")
    )


__all__ = [
    "Instalment",
    "OrderItem",
    "PaymentPlan",
    "PaymentPromise",
    "Quote",
    "QuoteItem",
    "Receivable",
    "SalesOrder",
]
