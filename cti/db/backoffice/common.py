"""What the back-office repositories share: their errors, JSON-ready values, existence checks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.models import Attention, RequiredField
from cti.domain.backoffice import check_required
from cti.errors import CTIError, UserInputError


class NotFound(CTIError):
    """The record named in the request does not exist (HTTP 404)."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} does not exist")
        self.what = what


class Refused(CTIError):
    """The request is well formed but a rule forbids it now (HTTP 409); ``field`` names what."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def iso(value: datetime | date | None) -> str | None:
    """A date or an aware datetime as ISO 8601 text."""
    return None if value is None else value.isoformat()


def money(value: Decimal | None) -> str | None:
    """An amount as text with two decimals (JSON numbers would lose cents)."""
    return None if value is None else str(value.quantize(Decimal("0.01")))


def qty(value: Decimal) -> str:
    """A quantity without trailing zeros (``2`` not ``2.000``)."""
    text = format(value.normalize(), "f")
    return text


def to_decimal(value: Any, field: str) -> Decimal:
    """A JSON number or numeric text as a Decimal; UserInputError naming ``field`` otherwise."""
    if isinstance(value, bool):
        raise UserInputError(field, "expected a number")
    try:
        out = Decimal(str(value).strip())
    except ArithmeticError:
        raise UserInputError(field, "expected a number") from None
    if not out.is_finite():
        raise UserInputError(field, "expected a number")
    return out


async def must_exist(session: AsyncSession, model: Any, ident: object, field: str) -> Any:
    """The row with this primary key, or UserInputError naming ``field``."""
    row = await session.get(model, ident)
    if row is None:
        raise UserInputError(field, f"{ident} does not exist")
    return row


async def check_attention(
    session: AsyncSession, attention_id: int | None, customer_id: int
) -> None:
    """An operation made from an attention (``attention_id``) must be about its customer."""
    if attention_id is None:
        return
    attention = await must_exist(session, Attention, attention_id, "attention_id")
    if attention.customer_id is not None and attention.customer_id != customer_id:
        raise UserInputError("attention_id", "that attention is about another customer")


async def required_fields(session: AsyncSession, form: str) -> list[str]:
    """The fields an admin made mandatory on ``form``."""
    rows = await session.execute(
        sa.select(RequiredField.field)
        .where(RequiredField.form == form)
        .order_by(RequiredField.field)
    )
    return list(rows.scalars())


async def enforce_required(session: AsyncSession, form: str, values: dict[str, Any]) -> None:
    """Raise UserInputError naming the first mandatory field of ``form`` left empty in ``values``.

    Any form that saves through the API calls this (the agent desk's attention form included).
    """
    check_required(form, await required_fields(session, form), values)


__all__ = [
    "NotFound",
    "Refused",
    "check_attention",
    "enforce_required",
    "iso",
    "money",
    "must_exist",
    "qty",
    "required_fields",
    "to_decimal",
]
