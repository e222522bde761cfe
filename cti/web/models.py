"""What the endpoint modules' models share: the base of every answer, the plain "done" answer, and
the field types several modules use (record ids, amounts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    """What an endpoint answers: every key it holds is declared (an undeclared one is an error
    when answers are checked, CTI_CHECK_ANSWERS)."""

    model_config = ConfigDict(extra="forbid")


class Done(Answer):
    """The request was carried out."""

    ok: Literal[True]


# A record's id in a body (a path's id is read with ``path_id``).
Id = Annotated[int, Field(ge=1)]

# What a money column holds (NUMERIC(14, 2)); the cents are checked with the rules of the record.
Money = Annotated[
    Decimal,
    Field(
        le=Decimal("999999999999.99"),
        description="an amount as text with up to two decimals (a JSON number is accepted too)",
    ),
]

# An amount as answered.
MoneyText = Annotated[
    str, Field(pattern=r"^-?\d+\.\d{2}$", description="an amount as text, two decimals")
]

__all__ = ["Answer", "Done", "Id", "Money", "MoneyText"]
