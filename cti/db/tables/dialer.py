"""Campaigns and the dialer: campaigns, leads, the call log, dial attempts, do-not-call lists,
callbacks, and the scheduler's job table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
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
    CallOutcome,
    CampaignKind,
    CampaignMode,
    CampaignStatus,
    Direction,
    LeadStatus,
)


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
    # Record its calls (the dialplan's [cti-record]); False sends CTI_RECORD=no with each call.
    record: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))
    # The pacing knobs a supervisor set live: {"max_dial_ratio": 2.5, "target_abandon": 0.02, ...}.
    pacing: Mapped[Any] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    # What the dialer measured (cti.domain.pacing.snapshot), so that a restart resumes it.
    pacing_estimates: Mapped[Any] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))


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
    # The cti instance that placed it (:class:`CtiInstance`): the other instances count its
    # calls still ringing while it is alive, and not once it is gone.
    placed_by: Mapped[str | None] = mapped_column(sa.Text)


class CtiInstance(Base):
    """A running cti process among those serving one call center: it notes itself alive every
    second (:mod:`cti.instances`); one not seen for a few seconds is gone."""

    __tablename__ = "cti_instances"

    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    started_at: Mapped[Timestamp] = mapped_column(server_default=sa.text("now()"))
    seen_at: Mapped[Timestamp]


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


class DialerJob(Base):
    """A job of the dialer's scheduler: APScheduler 3's ``SQLAlchemyJobStore`` table, as it makes
    it (``cti.dialer.scheduler``), declared here so migrations create and drop it."""

    __tablename__ = "cti_dialer_jobs"

    id: Mapped[str] = mapped_column(sa.Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(sa.Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(sa.LargeBinary)


__all__ = [
    "Attempt",
    "Call",
    "Callback",
    "Campaign",
    "CtiInstance",
    "DialerJob",
    "DncEntry",
    "Lead",
]


class Recording(Base):
    """A call's recording (Asterisk's MixMonitor file), tied to its call-log row and through it to
    the attention; deleted with its file after the retention period."""

    __tablename__ = "recordings"

    id: Mapped[IdPk]
    call_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("calls.id", ondelete="CASCADE"), unique=True
    )
    # The file's name in the recordings folder (settings: recordings.dir).
    file: Mapped[str] = mapped_column(sa.Text, unique=True)
    bytes: Mapped[int] = mapped_column(sa.BigInteger)
    # The recording was stopped during the call (the caller refused it), by whom.
    stopped_at: Mapped[Timestamp | None]
    stopped_by: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[CreatedAt]
