"""Amounts as a form sends them: read into Decimals, checked for sign and precision, shown as text.

Money and quantities travel as JSON text (a JSON number would lose cents), so they are read here
with the field they came in, and a wrong one is a UserInputError naming that field.
"""

from __future__ import annotations

from decimal import Decimal

from cti.domain.texts import _
from cti.errors import UserInputError

# An amount as a form sends it: a JSON number or numeric text (read with :func:`to_decimal`).
Amount = Decimal | int | float | str

CENT = Decimal("0.01")
# Quantities are stored with three decimals (NUMERIC(12, 3)).
MILLI = Decimal("0.001")


def to_decimal(value: Amount, field: str) -> Decimal:
    """A JSON number or numeric text as a Decimal; UserInputError naming ``field`` otherwise."""
    if isinstance(value, bool):
        raise UserInputError(field, _("expected a number"))
    try:
        out = Decimal(str(value).strip())
    except ArithmeticError:
        raise UserInputError(field, _("expected a number")) from None
    if not out.is_finite():
        raise UserInputError(field, _("expected a number"))
    return out


def is_cents(value: Decimal) -> bool:
    """Whether ``value`` has at most two decimals."""
    return value == value.quantize(CENT)


def positive_cents(value: Decimal, field: str) -> Decimal:
    """``value`` when it is above zero with at most two decimals (an amount of money owed)."""
    if value <= 0 or not is_cents(value):
        raise UserInputError(field, _("must be more than 0, in cents"))
    return value


def money(value: Decimal) -> str:
    """An amount as text with two decimals (``12.5`` → ``12.50``)."""
    return str(value.quantize(CENT))


__all__ = ["CENT", "MILLI", "is_cents", "money", "positive_cents", "to_decimal"]


def parse_decimal(text: str) -> tuple[Decimal, str]:
    """A decimal number written either way (``1.234,50`` or ``1,234.50``, ``12,5`` or ``12.5``),
    and which decimal mark was assumed (``.`` or ``,``).

    Raises:
        ValueError: not a number.
    """
    s = text.strip().replace(" ", "").replace("\u00a0", "")
    if not s:
        raise ValueError("empty")
    last_dot, last_comma = s.rfind("."), s.rfind(",")
    if last_comma > last_dot:
        mark = ","
        s = s.replace(".", "").replace(",", ".")
    elif last_dot > last_comma >= 0:
        mark = "."
        s = s.replace(",", "")
    elif last_dot >= 0 and s.count(".") > 1:
        mark = ","  # 1.234.567: thousands only
        s = s.replace(".", "")
    else:
        mark = "."
    try:
        return Decimal(s), mark
    except ArithmeticError as exc:
        raise ValueError(text) from exc
