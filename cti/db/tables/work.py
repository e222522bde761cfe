"""The work done with customers: cases, attentions and their notes, and incoming-call messages
(seed 004)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cti.db.tables.base import (
    Base,
    CreatedAt,
    IdPk,
    Timestamp,
    UpdatedAt,
    enum_type,
    fk,
)
from cti.domain.model import (
    AttentionKind,
    AttentionStatus,
    CaseStatus,
    Direction,
)


class Case(Base):
    """A case (seed 002): states active, assigned, suspended, closed, delinquent, withdrawn."""

    __tablename__ = "cases"
    __table_args__ = (
        sa.CheckConstraint(
            "status <> 'assigned' OR assignee_id IS NOT NULL", name="assigned_has_assignee"
        ),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = fk("customers.id", ondelete="CASCADE", nullable=False)
    kind: Mapped[AttentionKind] = mapped_column(enum_type(AttentionKind, "kind"))
    status: Mapped[CaseStatus] = mapped_column(
        enum_type(CaseStatus, "status"), server_default="active", index=True
    )
    assignee_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    subject: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Attention(Base):
    """One handled contact, inbound or outbound, with its outcome."""

    __tablename__ = "attentions"
    __table_args__ = (
        sa.CheckConstraint(
            "status <> 'planned' OR next_call_at IS NOT NULL", name="planned_has_next_call"
        ),
        sa.Index("ix_attentions_operator_status", "operator_id", "status"),
        # A party's newest attentions (the screen-pop's history), migration 0019.
        *(
            sa.Index(f"ix_attentions_{party}_created_at", party, "created_at")
            for party in ("customer_id", "contact_id", "suspect_id", "prospect_id")
        ),
    )

    id: Mapped[IdPk]
    kind: Mapped[AttentionKind] = mapped_column(enum_type(AttentionKind, "kind"))
    direction: Mapped[Direction] = mapped_column(enum_type(Direction, "direction"))
    status: Mapped[AttentionStatus] = mapped_column(
        enum_type(AttentionStatus, "status"), server_default="pending"
    )
    operator_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    group_id: Mapped[int | None] = fk("attention_groups.id", ondelete="SET NULL")
    customer_id: Mapped[int | None] = fk("customers.id", ondelete="SET NULL")
    contact_id: Mapped[int | None] = fk("contacts.id", ondelete="SET NULL")
    suspect_id: Mapped[int | None] = fk("suspects.id", ondelete="SET NULL")
    prospect_id: Mapped[int | None] = fk("prospects.id", ondelete="SET NULL")
    campaign_id: Mapped[int | None] = fk("campaigns.id", ondelete="SET NULL")
    lead_id: Mapped[int | None] = fk("leads.id", ondelete="SET NULL")
    case_id: Mapped[int | None] = fk("cases.id", ondelete="SET NULL")
    # The number talked to, normalised.
    phone: Mapped[str | None] = mapped_column(sa.Text, index=True)
    closing_reason_id: Mapped[int | None] = fk("closing_reasons.id", ondelete="RESTRICT")
    next_call_at: Mapped[Timestamp | None] = mapped_column(index=True)
    closed_at: Mapped[Timestamp | None]
    # Telemarketing: subject, product, occurrence, action, owner, action date and status.
    subject: Mapped[str | None] = mapped_column(sa.Text)
    product: Mapped[str | None] = mapped_column(sa.Text)
    occurrence: Mapped[str | None] = mapped_column(sa.Text)
    action: Mapped[str | None] = mapped_column(sa.Text)
    owner_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    action_date: Mapped[date | None] = mapped_column(sa.Date)
    action_status: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[CreatedAt] = mapped_column(index=True)
    updated_at: Mapped[UpdatedAt]
    # The group's maximum wrap-up time released its agent before they disposed it.
    wrapup_overrun: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))


class AttentionNote(Base):
    """A note on an attention; append-only (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "attention_notes"
    __table_args__ = (sa.CheckConstraint("text <> ''", name="text_not_empty"),)

    id: Mapped[IdPk]
    attention_id: Mapped[int] = fk("attentions.id", ondelete="RESTRICT", nullable=False)
    author_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("operators.id", ondelete="RESTRICT")
    )
    at: Mapped[CreatedAt]
    text: Mapped[str] = mapped_column(sa.Text)


# --- incoming-call messages (seed 004) ---------------------------------------------------------


class CallMessageSituation(Base):
    """A two-character situation; at most one is the usual pending one (the default)."""

    __tablename__ = "call_message_situations"
    __table_args__ = (
        sa.CheckConstraint("char_length(code) = 2", name="code_two_chars"),
        sa.CheckConstraint("pending OR NOT usual_pending", name="usual_pending_is_pending"),
        sa.Index(
            "ux_call_message_situations_usual_pending",
            "usual_pending",
            unique=True,
            postgresql_where=sa.text("usual_pending"),
        ),
    )

    code: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    pending: Mapped[bool] = mapped_column(sa.Boolean)
    usual_pending: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))


class CallMessageType(Base):
    """A two-character type classifying messages; at most one is the default."""

    __tablename__ = "call_message_types"
    __table_args__ = (
        sa.CheckConstraint("char_length(code) = 2", name="code_two_chars"),
        sa.Index(
            "ux_call_message_types_is_default",
            "is_default",
            unique=True,
            postgresql_where=sa.text("is_default"),
        ),
    )

    code: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    is_default: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))


class CallMessage(Base):
    """A call that could not be handled at once: from someone, to a user or a group."""

    __tablename__ = "call_messages"
    __table_args__ = (
        sa.CheckConstraint(
            "num_nonnulls(from_customer_id, from_contact_id, from_phone, from_tax_id,"
            " from_serial, from_code) >= 1",
            name="has_from",
        ),
        sa.CheckConstraint("num_nonnulls(to_user_id, to_group_id) = 1", name="one_recipient"),
        sa.CheckConstraint(
            "(finalized_at IS NULL) = (finalized_by IS NULL)", name="finalized_stamp_whole"
        ),
        sa.CheckConstraint(
            "(postponed_until IS NULL) OR (postpone_reason IS NOT NULL)", name="postpone_has_reason"
        ),
    )

    id: Mapped[IdPk]
    created_at: Mapped[CreatedAt] = mapped_column(index=True)
    created_by: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("operators.id", ondelete="RESTRICT")
    )
    situation_code: Mapped[str] = mapped_column(
        sa.String(2), sa.ForeignKey("call_message_situations.code", ondelete="RESTRICT")
    )
    type_code: Mapped[str | None] = mapped_column(
        sa.String(2), sa.ForeignKey("call_message_types.code", ondelete="RESTRICT")
    )
    from_customer_id: Mapped[int | None] = fk("customers.id", ondelete="SET NULL")
    from_contact_id: Mapped[int | None] = fk("contacts.id", ondelete="SET NULL")
    from_phone: Mapped[str | None] = mapped_column(sa.Text, index=True)
    from_tax_id: Mapped[str | None] = mapped_column(sa.Text)
    from_serial: Mapped[str | None] = mapped_column(sa.Text)
    from_code: Mapped[str | None] = mapped_column(sa.Text)
    to_user_id: Mapped[int | None] = fk("operators.id", ondelete="RESTRICT")
    to_group_id: Mapped[int | None] = fk("attention_groups.id", ondelete="RESTRICT")
    description: Mapped[str] = mapped_column(sa.Text)
    finalized_at: Mapped[Timestamp | None]
    finalized_by: Mapped[int | None] = mapped_column(
        sa.BigInteger, sa.ForeignKey("operators.id", ondelete="RESTRICT")
    )
    postponed_until: Mapped[Timestamp | None]
    postpone_reason: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[UpdatedAt]
    # The attention (action) created from this message, which finalized it.
    attention_id: Mapped[int | None] = fk("attentions.id", ondelete="SET NULL")


class CallMessageNote(Base):
    """A note on an incoming-call message; append-only."""

    __tablename__ = "call_message_notes"
    __table_args__ = (sa.CheckConstraint("text <> ''", name="text_not_empty"),)

    id: Mapped[IdPk]
    message_id: Mapped[int] = fk("call_messages.id", ondelete="RESTRICT", nullable=False)
    author_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("operators.id", ondelete="RESTRICT")
    )
    at: Mapped[CreatedAt]
    text: Mapped[str] = mapped_column(sa.Text)


__all__ = [
    "AgentPause",
    "Attention",
    "AttentionNote",
    "CallMessage",
    "CallMessageNote",
    "CallMessageSituation",
    "CallMessageType",
    "Case",
]


class Wrapup(Base):
    """One after-call work of an agent: from the end of a call until they disposed its attention
    (or the group's maximum wrap-up time released them: ``released``)."""

    __tablename__ = "wrapups"
    __table_args__ = (
        sa.CheckConstraint("seconds >= 0", name="seconds_not_negative"),
        sa.Index("ix_wrapups_operator_started", "operator_id", "started_at"),
    )

    id: Mapped[IdPk]
    operator_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    pbx: Mapped[str] = mapped_column(sa.Text)
    interface: Mapped[str] = mapped_column(sa.Text)
    attention_id: Mapped[int | None] = fk("attentions.id", ondelete="SET NULL")
    started_at: Mapped[Timestamp]
    ended_at: Mapped[Timestamp]
    seconds: Mapped[int] = mapped_column(sa.Integer)
    released: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))


class AgentPause(Base):
    """One pause of an operator at a desk (paused in their queues for ``reason``; a wrap-up is a
    :class:`Wrapup`), open (``ended_at`` NULL) while it goes on: at most one open per operator."""

    __tablename__ = "agent_pauses"
    __table_args__ = (
        sa.CheckConstraint("ended_at >= started_at", name="ends_after_start"),
        sa.Index("ix_agent_pauses_started", "started_at"),
        # The pauses that ended after a report's period began (reports._paused).
        sa.Index("ix_agent_pauses_ended", "ended_at"),
        sa.Index(
            "ix_agent_pauses_open",
            "operator_id",
            unique=True,
            postgresql_where=sa.text("ended_at IS NULL"),
        ),
    )

    id: Mapped[IdPk]
    operator_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("operators.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(sa.Text)
    started_at: Mapped[Timestamp]
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
