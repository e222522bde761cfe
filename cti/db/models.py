"""The PostgreSQL schema as SQLAlchemy 2 typed models.

The database does the checking a database should: foreign keys, CHECK constraints on every enum
column (stored as text so that a value can be added by a migration without a type rewrite), unique
keys, amounts above zero. Triggers created by the migration (not visible here) add what a constraint
cannot say:

* ``created_at`` (and ``created_by`` of call messages) can never be changed once a row exists;
  ``updated_at`` is stamped with ``now()`` on every UPDATE that does not set it itself.
* attention notes, call-message notes and the audit log are append-only: UPDATE and DELETE fail.
* a call message's finalization stamp (``finalized_at``/``finalized_by``) cannot change once set.

All violations surface as ``sqlalchemy.exc.IntegrityError`` (SQLSTATE class 23).

Phone numbers are stored normalised with :func:`cti.domain.phone.normalize_phone` (E.164 where it
can be known) in :class:`Phone` rows (customers, contacts, suspects, prospects) or in a ``phone``
column (leads, call log, do-not-call), each indexed for caller-id lookup.

The Alembic migration in ``cti/db/migrations/versions`` is written out by hand and must match these
models; ``tests/db/test_migrations.py`` compares them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from cti.domain.model import (
    AttentionKind,
    AttentionStatus,
    CallOutcome,
    CampaignKind,
    CampaignMode,
    CampaignStatus,
    CaseStatus,
    Direction,
    LeadStatus,
    PromiseStatus,
    QuoteStatus,
    Role,
    Routine,
)

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


# --- people and organisation -----------------------------------------------------------------


class AttentionGroup(Base):
    """Grupo de Atención: holds the ideal talk time that turns the agent's timer red."""

    __tablename__ = "attention_groups"
    __table_args__ = (sa.CheckConstraint("ideal_talk_seconds > 0", name="ideal_talk_positive"),)

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    ideal_talk_seconds: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[CreatedAt]
    # LGPD/GDPR: members of this group may see personal fields unmasked (as Operator.personal_data).
    personal_data: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))


class Operator(Base):
    """A user of cti: an operator (agent), a supervisor or an admin."""

    __tablename__ = "operators"
    __table_args__ = (
        sa.CheckConstraint(
            "routines <@ ARRAY['telemarketing', 'telesales', 'collection']::text[]",
            name="routines_known",
        ),
        sa.CheckConstraint("username <> ''", name="username_not_empty"),
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
    # LGPD/GDPR: may this user see personal fields unmasked?
    personal_data: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))
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


# --- configuration maintained by admins ---------------------------------------------------------


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

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))


class RequiredField(Base):
    """A field an admin made mandatory on a form (e.g. ``telemarketing``, ``subject``)."""

    __tablename__ = "required_fields"

    form: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    field: Mapped[str] = mapped_column(sa.Text, primary_key=True)


class Script(Base):
    """A dynamic script an agent runs during a campaign call; ``body`` holds its steps."""

    __tablename__ = "scripts"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    body: Mapped[Any] = mapped_column(JSONB, server_default=sa.text("'[]'::jsonb"))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Product(Base):
    """What telesales quotes and orders."""

    __tablename__ = "products"
    __table_args__ = (sa.CheckConstraint("unit_price >= 0", name="price_not_negative"),)

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    unit_price: Mapped[Money]
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))


# --- campaigns and the dialer -----------------------------------------------------------------


class Campaign(Base):
    """An outbound (or inbound-scripted) campaign."""

    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint("ring_seconds >= 15", name="ring_at_least_15"),
        sa.CheckConstraint(
            "abandon_cap IS NULL OR (abandon_cap >= 0 AND abandon_cap <= 1)",
            name="abandon_cap_ratio",
        ),
    )

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    kind: Mapped[CampaignKind] = mapped_column(enum_type(CampaignKind, "kind"))
    mode: Mapped[CampaignMode] = mapped_column(enum_type(CampaignMode, "mode"))
    status: Mapped[CampaignStatus] = mapped_column(
        enum_type(CampaignStatus, "status"), server_default="draft"
    )
    # The PBX (by its configured name) and queue that answered calls are connected to.
    pbx: Mapped[str | None] = mapped_column(sa.Text)
    queue: Mapped[str] = mapped_column(sa.Text)
    caller_id: Mapped[str | None] = mapped_column(sa.Text)
    script_id: Mapped[int | None] = fk("scripts.id", ondelete="SET NULL")
    ring_seconds: Mapped[int] = mapped_column(sa.Integer, server_default="25")
    # Calling windows: [{"days": [0..6], "start": "09:00", "end": "18:00"}], in the lead's time zone.
    windows: Mapped[Any] = mapped_column(JSONB, server_default=sa.text("'[]'::jsonb"))
    # Retry rules: {"max_attempts": 3, "after": {"busy": 600, "no_answer": 3600, ...}}.
    retry_rules: Mapped[Any] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    # Overrides settings dialer.abandon_cap when set.
    abandon_cap: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 4))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]
    # IANA zone for a lead whose own zone is unknown and whose number tells none (NULL: the
    # zone of telephony.default_region).
    timezone: Mapped[str | None] = mapped_column(sa.Text)
    # Run answering-machine detection on answered calls (the dialplan's CTI_AMD).
    amd: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("false"))
    # The pacing knobs a supervisor set live: {"max_dial_ratio": 2.5, "target_abandon": 0.02, ...}.
    pacing: Mapped[Any] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))


class Lead(Base):
    """A number a campaign will call."""

    __tablename__ = "leads"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "phone"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_leads_due", "campaign_id", "status", "next_attempt_at"),
    )

    id: Mapped[IdPk]
    campaign_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    phone: Mapped[str] = mapped_column(sa.Text, index=True)
    name: Mapped[str | None] = mapped_column(sa.Text)
    timezone: Mapped[str | None] = mapped_column(sa.Text)
    customer_id: Mapped[int | None] = fk("customers.id", ondelete="SET NULL")
    status: Mapped[LeadStatus] = mapped_column(
        enum_type(LeadStatus, "status"), server_default="new"
    )
    priority: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    next_attempt_at: Mapped[Timestamp | None]
    last_outcome: Mapped[CallOutcome | None] = mapped_column(enum_type(CallOutcome, "last_outcome"))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Call(Base):
    """One channel's call as the PBX saw it (the call log), linked to the attention it served."""

    __tablename__ = "calls"
    __table_args__ = (sa.UniqueConstraint("pbx", "uniqueid"),)

    id: Mapped[IdPk]
    pbx: Mapped[str] = mapped_column(sa.Text)
    uniqueid: Mapped[str] = mapped_column(sa.Text)
    linkedid: Mapped[str | None] = mapped_column(sa.Text, index=True)
    queue: Mapped[str | None] = mapped_column(sa.Text)
    agent_interface: Mapped[str | None] = mapped_column(sa.Text)
    operator_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    caller_id_num: Mapped[str | None] = mapped_column(sa.Text)
    caller_id_name: Mapped[str | None] = mapped_column(sa.Text)
    # The other party's number, normalised: what screen-pops and history look up.
    phone: Mapped[str | None] = mapped_column(sa.Text, index=True)
    direction: Mapped[Direction] = mapped_column(enum_type(Direction, "direction"))
    ring_at: Mapped[Timestamp | None] = mapped_column(index=True)
    answered_at: Mapped[Timestamp | None]
    ended_at: Mapped[Timestamp | None]
    outcome: Mapped[CallOutcome | None] = mapped_column(enum_type(CallOutcome, "outcome"))
    hangup_cause: Mapped[int | None] = mapped_column(sa.Integer)
    attention_id: Mapped[int | None] = fk("attentions.id", ondelete="SET NULL")
    campaign_id: Mapped[int | None] = fk("campaigns.id", ondelete="SET NULL")
    created_at: Mapped[CreatedAt]


class Attempt(Base):
    """One dial attempt of a lead; ``action_id`` is the Originate's ActionID (never sent twice)."""

    __tablename__ = "attempts"
    __table_args__ = (sa.Index("ix_attempts_campaign_started", "campaign_id", "started_at"),)

    id: Mapped[IdPk]
    lead_id: Mapped[int] = fk("leads.id", ondelete="CASCADE", nullable=False)
    campaign_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    action_id: Mapped[str] = mapped_column(sa.Text, unique=True)
    started_at: Mapped[Timestamp]
    answered_at: Mapped[Timestamp | None]
    connected_at: Mapped[Timestamp | None]
    ended_at: Mapped[Timestamp | None]
    outcome: Mapped[CallOutcome | None] = mapped_column(enum_type(CallOutcome, "outcome"))
    operator_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    call_id: Mapped[int | None] = fk("calls.id", ondelete="SET NULL")
    # The answered call's Linkedid (what desk notices carry): the pop of a dialer call.
    linkedid: Mapped[str | None] = mapped_column(sa.Text, index=True)


class DncEntry(Base):
    """A do-not-call number: global when ``campaign_id`` is NULL, else for one campaign."""

    __tablename__ = "dnc_entries"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "phone"),
        sa.Index(
            "ux_dnc_entries_global_phone",
            "phone",
            unique=True,
            postgresql_where=sa.text("campaign_id IS NULL"),
        ),
    )

    id: Mapped[IdPk]
    phone: Mapped[str] = mapped_column(sa.Text, index=True)
    campaign_id: Mapped[int | None] = fk("campaigns.id", ondelete="CASCADE")
    reason: Mapped[str | None] = mapped_column(sa.Text)
    added_by: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    created_at: Mapped[CreatedAt]


class Callback(Base):
    """A call promised for a later time, to a lead or about an attention."""

    __tablename__ = "callbacks"
    __table_args__ = (
        sa.CheckConstraint("num_nonnulls(lead_id, attention_id) >= 1", name="has_subject"),
        sa.Index("ix_callbacks_due", "due_at", postgresql_where=sa.text("done_at IS NULL")),
    )

    id: Mapped[IdPk]
    phone: Mapped[str] = mapped_column(sa.Text)
    due_at: Mapped[Timestamp]
    lead_id: Mapped[int | None] = fk("leads.id", ondelete="CASCADE")
    attention_id: Mapped[int | None] = fk("attentions.id", ondelete="CASCADE")
    campaign_id: Mapped[int | None] = fk("campaigns.id", ondelete="CASCADE")
    # A personal callback goes to this operator; NULL: any agent of the campaign.
    operator_id: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    done_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]


# --- attentions and cases ---------------------------------------------------------------------


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


class QuoteItem(Base):
    """A line of a quote."""

    __tablename__ = "quote_items"
    __table_args__ = (
        sa.UniqueConstraint("quote_id", "line"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )

    id: Mapped[IdPk]
    quote_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("quotes.id", ondelete="CASCADE")
    )
    line: Mapped[int] = mapped_column(sa.Integer)
    product_id: Mapped[int] = fk("products.id", ondelete="RESTRICT", nullable=False)
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(12, 3))
    unit_price: Mapped[Money]


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


class OrderItem(Base):
    """A line of a sales order."""

    __tablename__ = "order_items"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "line"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )

    id: Mapped[IdPk]
    order_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("sales_orders.id", ondelete="CASCADE")
    )
    line: Mapped[int] = mapped_column(sa.Integer)
    product_id: Mapped[int] = fk("products.id", ondelete="RESTRICT", nullable=False)
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(12, 3))
    unit_price: Mapped[Money]


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


# --- labels maintained by admins ----------------------------------------------------------------


class AttentionStatusLabel(Base):
    """The label an admin gave an attention status (Pendiente, Planificado, ...); else its name."""

    __tablename__ = "attention_status_labels"
    __table_args__ = (sa.CheckConstraint("label <> ''", name="label_not_empty"),)

    status: Mapped[AttentionStatus] = mapped_column(
        enum_type(AttentionStatus, "status"), primary_key=True
    )
    label: Mapped[str] = mapped_column(sa.Text)


class DialerJob(Base):
    """A job of the dialer's scheduler: APScheduler 3's ``SQLAlchemyJobStore`` table, as it makes
    it (``cti.dialer.scheduler``), declared here so migrations create and drop it."""

    __tablename__ = "cti_dialer_jobs"

    id: Mapped[str] = mapped_column(sa.Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(sa.Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(sa.LargeBinary)


__all__ = [
    "Attempt",
    "Attention",
    "AttentionGroup",
    "AttentionNote",
    "AttentionStatusLabel",
    "AuditEvent",
    "Base",
    "Call",
    "CallMessage",
    "CallMessageNote",
    "CallMessageSituation",
    "CallMessageType",
    "Callback",
    "Campaign",
    "Case",
    "ClosingReason",
    "Contact",
    "Customer",
    "DialerJob",
    "DncEntry",
    "Instalment",
    "Lead",
    "OrderItem",
    "PauseReason",
    "PaymentPlan",
    "PaymentPromise",
    "Phone",
    "Product",
    "Prospect",
    "Quote",
    "QuoteItem",
    "SalesOrder",
    "Script",
    "Suspect",
]
