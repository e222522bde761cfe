"""Telemarketing tickets (seed 003): the catalogues admins keep (subjects, their occurrences, the
occurrences' actions), the items of an attention (each a child ticket with its own status), the
service orders and the potential non-conformities their actions create."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cti.db.tables.base import Base, CreatedAt, IdPk, Timestamp, UpdatedAt, enum_type, fk
from cti.domain.tickets import NonConformityStatus, TicketStatus


class TicketSubject(Base):
    """A subject ("Assunto"): what a ticket item is about."""

    __tablename__ = "ticket_subjects"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))


class TicketOccurrence(Base):
    """An occurrence ("Ocorrência") of a subject."""

    __tablename__ = "ticket_occurrences"
    __table_args__ = (sa.UniqueConstraint("subject_id", "name"),)

    id: Mapped[IdPk]
    subject_id: Mapped[int] = fk("ticket_subjects.id", ondelete="RESTRICT", nullable=False)
    name: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))


class TicketAction(Base):
    """An action ("Ação") of an occurrence: the status it sets on its item's child ticket, and
    whether it creates a service order and a potential non-conformity."""

    __tablename__ = "ticket_actions"
    __table_args__ = (sa.UniqueConstraint("occurrence_id", "name"),)

    id: Mapped[IdPk]
    occurrence_id: Mapped[int] = fk("ticket_occurrences.id", ondelete="RESTRICT", nullable=False)
    name: Mapped[str] = mapped_column(sa.Text)
    sets_status: Mapped[TicketStatus] = mapped_column(enum_type(TicketStatus, "sets_status"))
    service_order: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))
    nonconformity: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))


class TicketItem(Base):
    """An item of a telemarketing attention: a child ticket of the attention (the parent), with
    its own status; ``confirmed_at`` is when its action was applied (once)."""

    __tablename__ = "ticket_items"
    __table_args__ = (sa.UniqueConstraint("attention_id", "seq"),)

    id: Mapped[IdPk]
    attention_id: Mapped[int] = fk("attentions.id", ondelete="CASCADE", nullable=False)
    seq: Mapped[int] = mapped_column(sa.Integer)
    subject_id: Mapped[int] = fk("ticket_subjects.id", ondelete="RESTRICT", nullable=False)
    product: Mapped[str | None] = mapped_column(sa.Text)
    occurrence_id: Mapped[int] = fk("ticket_occurrences.id", ondelete="RESTRICT", nullable=False)
    action_id: Mapped[int] = fk("ticket_actions.id", ondelete="RESTRICT", nullable=False)
    owner_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    action_date: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[TicketStatus] = mapped_column(
        enum_type(TicketStatus, "status"), server_default="open"
    )
    confirmed_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class ServiceOrder(Base):
    """A service order ("Ordem de Serviço") an item's action created; ``number`` is its "Num OS"."""

    __tablename__ = "service_orders"

    id: Mapped[IdPk]
    number: Mapped[str] = mapped_column(sa.Text, unique=True)
    ticket_item_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("ticket_items.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[CreatedAt]


class NonConformity(Base):
    """A potential non-conformity (an FNC to check, seed 003's MV_QLYXCAL) raised by an item's
    action, for the quality team."""

    __tablename__ = "nonconformities"

    id: Mapped[IdPk]
    attention_id: Mapped[int] = fk("attentions.id", ondelete="CASCADE", nullable=False)
    ticket_item_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("ticket_items.id", ondelete="CASCADE"), unique=True
    )
    description: Mapped[str] = mapped_column(sa.Text)
    occurred_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[NonConformityStatus] = mapped_column(
        enum_type(NonConformityStatus, "status"), server_default="potential"
    )
    created_at: Mapped[CreatedAt]


__all__ = [
    "NonConformity",
    "ServiceOrder",
    "TicketAction",
    "TicketItem",
    "TicketOccurrence",
    "TicketSubject",
]
