"""What every table shares: the declarative base, its naming convention, the column types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator

from cti.domain.model import Routine

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


ROUTINE_VALUES = tuple(r.value for r in Routine)


class Base(DeclarativeBase):
    """Every table of cti."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    # Read server-made values (ids, created_at, the trigger's updated_at) back with RETURNING on
    # INSERT and UPDATE: an expired attribute would otherwise need lazy I/O, which asyncio forbids.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy reads it per class


def enum_type(enum: type[StrEnum], name: str) -> sa.Enum:
    """A StrEnum stored as VARCHAR with a CHECK listing its values (constraint ``ck_<table>_<name>``)."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class RoutineSet(TypeDecorator[frozenset[Routine]]):
    """An operator's routines: a set in Python, a sorted ``text[]`` in PostgreSQL."""

    impl = ARRAY(sa.Text())
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> list[str] | None:
        if value is None:
            return None
        return sorted({Routine(v).value for v in value})

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> frozenset[Routine] | None:
        if value is None:
            return None
        return frozenset(Routine(v) for v in value)


IdPk = Annotated[int, mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)]


Timestamp = Annotated[datetime, mapped_column(sa.DateTime(timezone=True))]


CreatedAt = Annotated[
    datetime, mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
]


# Stamped by the cti_touch trigger on UPDATE; the ORM re-reads it instead of sending its own.
UpdatedAt = Annotated[
    datetime,
    mapped_column(
        sa.DateTime(timezone=True),
        server_default=sa.func.now(),
        server_onupdate=sa.FetchedValue(),
    ),
]


Money = Annotated[Decimal, mapped_column(sa.Numeric(14, 2))]


def fk(target: str, *, ondelete: str | None = None, nullable: bool = True) -> Any:
    """A BIGINT foreign key column, indexed (lookups and ON DELETE both need it)."""
    return mapped_column(
        sa.BigInteger, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True
    )


__all__ = [
    "NAMING_CONVENTION",
    "ROUTINE_VALUES",
    "Base",
    "CreatedAt",
    "IdPk",
    "Money",
    "RoutineSet",
    "Timestamp",
    "UpdatedAt",
    "enum_type",
    "fk",
]
