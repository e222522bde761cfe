"""People and organisation: users and their groups, customers and their contacts, suspects and
prospects, and everyone's phone numbers."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cti.db.tables.base import (
    Base,
    CreatedAt,
    IdPk,
    RoutineSet,
    Timestamp,
    UpdatedAt,
    enum_type,
    fk,
)
from cti.domain.model import (
    Role,
    Routine,
)
from cti.domain.wrapup import WrapupNeeds


class AttentionGroup(Base):
    """Grupo de Atención: holds the ideal talk time that turns the agent's timer red."""

    __tablename__ = "attention_groups"
    __table_args__ = (
        sa.CheckConstraint("ideal_talk_seconds > 0", name="ideal_talk_positive"),
        sa.CheckConstraint("max_wrapup_seconds > 0", name="max_wrapup_positive"),
        sa.CheckConstraint("pause_after_missed > 0", name="pause_after_missed_positive"),
    )

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    ideal_talk_seconds: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[CreatedAt]
    # LGPD/GDPR: members of this group may see personal fields unmasked (as Operator.personal_data).
    personal_data: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))
    # After-call work: what the attention needs before its agent leaves wrap-up (a status, or a
    # status and a closing reason), and the longest wrap-up (None: until the agent disposes it).
    wrapup_needs: Mapped[WrapupNeeds] = mapped_column(
        enum_type(WrapupNeeds, "wrapup_needs"), server_default="status"
    )
    max_wrapup_seconds: Mapped[int | None] = mapped_column(sa.Integer)
    # Redirection on no answer: after this many queue calls in a row rang out unanswered, cti
    # pauses the agent (cti.domain.no_answer); None: never.
    pause_after_missed: Mapped[int | None] = mapped_column(sa.Integer, server_default="1")


class Operator(Base):
    """A user of cti: an operator (agent), a supervisor or an admin."""

    __tablename__ = "operators"
    __table_args__ = (
        sa.CheckConstraint(
            "routines <@ ARRAY['telemarketing', 'telesales', 'collection']::text[]",
            name="routines_known",
        ),
        sa.CheckConstraint("username <> ''", name="username_not_empty"),
        sa.CheckConstraint("language IN ('en', 'pt-BR', 'es')", name="language_known"),
    )

    id: Mapped[IdPk]
    username: Mapped[str] = mapped_column(sa.Text, unique=True)
    full_name: Mapped[str | None] = mapped_column(sa.Text)
    password_hash: Mapped[str] = mapped_column(sa.Text)
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    routines: Mapped[frozenset[Routine]] = mapped_column(
        RoutineSet(), server_default=sa.text("'{}'::text[]")
    )
    group_id: Mapped[int | None] = fk("attention_groups.id", ondelete="SET NULL")
    # The number people dial to reach the agent, and the Asterisk interface (queue member).
    extension: Mapped[str | None] = mapped_column(sa.Text, unique=True)
    interface: Mapped[str | None] = mapped_column(sa.Text, unique=True)
    # The agent's phone is the desk's softphone (WebRTC): cti issues its SIP endpoint, named as
    # the extension, in ps_endpoints (cti.db.tables.pbx) instead of pjsip.conf holding it.
    softphone: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))
    # LGPD/GDPR: may this user see personal fields unmasked?
    personal_data: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))
    # The language the pages speak to them (cti.i18n.LANGUAGES); NULL: their browser's.
    language: Mapped[str | None] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Customer(Base):
    """A customer (entity) with its attention history, receivables and orders."""

    __tablename__ = "customers"
    __table_args__ = (sa.CheckConstraint("code <> ''", name="code_not_empty"),)

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    tax_id: Mapped[str | None] = mapped_column(sa.Text, index=True)
    email: Mapped[str | None] = mapped_column(sa.Text)
    address: Mapped[str | None] = mapped_column(sa.Text)
    # ISO 3166 alpha-2 country, used to read phone numbers written without a country code.
    region: Mapped[str | None] = mapped_column(sa.String(2))
    # IANA time zone, for calling windows.
    timezone: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Contact(Base):
    """A person at a customer."""

    __tablename__ = "contacts"
    __table_args__ = (sa.UniqueConstraint("customer_id", "name"),)

    id: Mapped[IdPk]
    customer_id: Mapped[int] = fk("customers.id", ondelete="CASCADE", nullable=False)
    name: Mapped[str] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.Text)
    position: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Suspect(Base):
    """An unqualified lead; converting it copies its data into a :class:`Prospect`."""

    __tablename__ = "suspects"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text)
    company: Mapped[str | None] = mapped_column(sa.Text)
    tax_id: Mapped[str | None] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.Text)
    address: Mapped[str | None] = mapped_column(sa.Text)
    region: Mapped[str | None] = mapped_column(sa.String(2))
    # Set when converted and kept (policy ``keep``/``ask``).
    prospect_id: Mapped[int | None] = fk("prospects.id", ondelete="SET NULL")
    converted_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Prospect(Base):
    """A qualified lead, made from a suspect or entered directly."""

    __tablename__ = "prospects"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text)
    company: Mapped[str | None] = mapped_column(sa.Text)
    tax_id: Mapped[str | None] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.Text)
    address: Mapped[str | None] = mapped_column(sa.Text)
    region: Mapped[str | None] = mapped_column(sa.String(2))
    # The suspect it came from; a plain number because that suspect may have been deleted.
    from_suspect: Mapped[int | None] = mapped_column(sa.BigInteger)
    customer_id: Mapped[int | None] = fk("customers.id", ondelete="SET NULL")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Phone(Base):
    """A normalised phone number of exactly one customer, contact, suspect or prospect.

    Caller-id lookup is ``WHERE phone = normalize_phone(caller_id)`` on the ``phone`` index.
    """

    __tablename__ = "phones"
    __table_args__ = (
        sa.CheckConstraint(
            "num_nonnulls(customer_id, contact_id, suspect_id, prospect_id) = 1", name="one_owner"
        ),
        sa.CheckConstraint("phone <> ''", name="phone_not_empty"),
        sa.UniqueConstraint("customer_id", "phone"),
        sa.UniqueConstraint("contact_id", "phone"),
        sa.UniqueConstraint("suspect_id", "phone"),
        sa.UniqueConstraint("prospect_id", "phone"),
    )

    id: Mapped[IdPk]
    phone: Mapped[str] = mapped_column(sa.Text, index=True)
    # As the user wrote it, for display.
    raw: Mapped[str | None] = mapped_column(sa.Text)
    label: Mapped[str | None] = mapped_column(sa.Text)
    customer_id: Mapped[int | None] = fk("customers.id", ondelete="CASCADE")
    contact_id: Mapped[int | None] = fk("contacts.id", ondelete="CASCADE")
    suspect_id: Mapped[int | None] = fk("suspects.id", ondelete="CASCADE")
    prospect_id: Mapped[int | None] = fk("prospects.id", ondelete="CASCADE")


__all__ = [
    "AttentionGroup",
    "Contact",
    "Customer",
    "Operator",
    "Phone",
    "Prospect",
    "Suspect",
]


class WebSession(Base):
    """A signed-in browser. Only a SHA-256 of its token is kept: a copy of this table lets nobody
    in. A session ends when signed out, taken over, ended by an admin, or when its time is up;
    ended rows stay a while (a page told why its session ended) and are then deleted."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        sa.CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),
        sa.Index("ix_web_sessions_user_id_live", "user_id", postgresql_where="ended_at IS NULL"),
    )

    token_hash: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("operators.id", ondelete="CASCADE")
    )
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Why it ended: signed_out, taken_over, expired, or an admin's words.
    end_reason: Mapped[str | None] = mapped_column(sa.Text)
    # An agent desk WebSocket is open on this session (the one-desk-per-operator rule).
    desk_open: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))


class DeskHolder(Base):
    """Which cti instance holds an operator's desk (their pops, timer and attentions) while
    several serve one call center. A lease: the holder renews it every second; one that ran
    out (its instance died) is taken by another instance, and the instance a desk's page
    connects to takes it at once."""

    __tablename__ = "desk_holders"

    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True
    )
    instance: Mapped[str] = mapped_column(sa.Text)
    pbx: Mapped[str] = mapped_column(sa.Text)
    interface: Mapped[str] = mapped_column(sa.Text)
    held_until: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
