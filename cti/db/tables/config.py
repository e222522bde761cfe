"""What admins maintain (closing and pause reasons, required fields, scripts, products, the
attention status labels) and the append-only audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cti.db.tables.base import (
    Base,
    CreatedAt,
    IdPk,
    Money,
    UpdatedAt,
    enum_type,
    fk,
)
from cti.domain.model import (
    AttentionKind,
    AttentionStatus,
)


class ClosingReason(Base):
    """Why an attention was closed (Encerramento)."""

    __tablename__ = "closing_reasons"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    # Offered only in attentions of this kind; NULL: in all.
    kind: Mapped[AttentionKind | None] = mapped_column(enum_type(AttentionKind, "kind"))
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))


class PauseReason(Base):
    """Why an agent paused (lunch, break, ...); ``name`` is sent to Asterisk as the pause reason."""

    __tablename__ = "pause_reasons"
    # cti's own pause of an agent in after-call work (cti.domain.wrapup.WRAPUP_REASON).
    __table_args__ = (sa.CheckConstraint("name <> 'wrap-up'", name="not_wrapup"),)

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))


class RequiredField(Base):
    """A field an admin made mandatory on a form (e.g. ``telemarketing``, ``subject``)."""

    __tablename__ = "required_fields"

    form: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    field: Mapped[str] = mapped_column(sa.Text, primary_key=True)


class Script(Base):
    """A dynamic script an agent runs during a campaign call (:mod:`cti.domain.scripts`);
    ``body`` holds the steps of its current ``version``."""

    __tablename__ = "scripts"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    body: Mapped[Any] = mapped_column(JSONB, server_default=sa.text("'[]'::jsonb"))
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class ScriptVersion(Base):
    """Each version a script had: answers point here, so a later edit never changes what an
    agent was asked."""

    __tablename__ = "script_versions"
    __table_args__ = (sa.UniqueConstraint("script_id", "version"),)

    id: Mapped[IdPk]
    script_id: Mapped[int] = fk("scripts.id", ondelete="CASCADE", nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer)
    body: Mapped[Any] = mapped_column(JSONB)
    created_by: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[CreatedAt]


class ScriptAnswers(Base):
    """What an agent answered running a script during an attention (one set per attention)."""

    __tablename__ = "script_answers"

    id: Mapped[IdPk]
    attention_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("attentions.id", ondelete="CASCADE"), unique=True
    )
    script_version_id: Mapped[int] = fk("script_versions.id", nullable=False)
    campaign_id: Mapped[int | None] = fk("campaigns.id", ondelete="SET NULL")
    operator_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    answers: Mapped[Any] = mapped_column(JSONB)
    saved_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class Product(Base):
    """What telesales quotes and orders."""

    __tablename__ = "products"
    __table_args__ = (sa.CheckConstraint("unit_price >= 0", name="price_not_negative"),)

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    unit_price: Mapped[Money]
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))


class AttentionStatusLabel(Base):
    """The label an admin gave an attention status (Pendiente, Planificado, ...); else its name."""

    __tablename__ = "attention_status_labels"
    __table_args__ = (sa.CheckConstraint("label <> ''", name="label_not_empty"),)

    status: Mapped[AttentionStatus] = mapped_column(
        enum_type(AttentionStatus, "status"), primary_key=True
    )
    label: Mapped[str] = mapped_column(sa.Text)


# --- audit --------------------------------------------------------------------------------------


class AuditEvent(Base):
    """One line of the append-only audit log (LGPD): reads of personal data, refusals, exports.

    ``actor`` is the username as text so that the log outlives the user.
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_subject_at", "subject", "at"),)

    id: Mapped[IdPk]
    at: Mapped[CreatedAt] = mapped_column(index=True)
    actor: Mapped[str | None] = mapped_column(sa.Text, index=True)
    action: Mapped[str] = mapped_column(sa.Text, index=True)
    subject: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[Any] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))


__all__ = [
    "AttentionStatusLabel",
    "AuditEvent",
    "ClosingReason",
    "PauseReason",
    "Product",
    "RequiredField",
    "Script",
]
