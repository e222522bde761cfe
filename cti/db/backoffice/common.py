"""What the back-office repositories share: their errors, JSON-ready values, existence checks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.models import Attention, RequiredField
from cti.domain import amounts
from cti.domain.attentions import check_customer
from cti.domain.forms import check_required
from cti.errors import UserInputError
from cti.i18n import _


def iso(value: datetime | date | None) -> str | None:
    """A date or an aware datetime as ISO 8601 text."""
    return None if value is None else value.isoformat()


@overload
def money(value: Decimal) -> str: ...
@overload
def money(value: Decimal | None) -> str | None: ...
def money(value: Decimal | None) -> str | None:
    """An amount as text with two decimals (JSON numbers would lose cents)."""
    return None if value is None else amounts.money(value)


def qty(value: Decimal) -> str:
    """A quantity without trailing zeros (``2`` not ``2.000``)."""
    text = format(value.normalize(), "f")
    return text


async def must_exist(session: AsyncSession, model: Any, ident: object, field: str) -> Any:
    """The row with this primary key, or UserInputError naming ``field``."""
    row = await session.get(model, ident)
    if row is None:
        raise UserInputError(field, _("{ident} does not exist"), ident=ident)
    return row


async def check_attention(
    session: AsyncSession, attention_id: int | None, customer_id: int
) -> None:
    """An operation made from an attention (``attention_id``) must be about its customer."""
    if attention_id is None:
        return
    attention = await must_exist(session, Attention, attention_id, "attention_id")
    check_customer(attention.customer_id, customer_id)


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
    "check_attention",
    "enforce_required",
    "iso",
    "money",
    "must_exist",
    "qty",
    "required_fields",
]
