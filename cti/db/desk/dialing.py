"""What dialling out from the desk reads: the number behind a click (a customer's or contact's
phone, a past attention, a callback), the do-not-call entries of a number, and the agent's
pending calls (their pending and planned attentions, the callbacks promised to them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from cti.db.engine import Database
from cti.db.models import (
    Attention,
    Callback,
    Campaign,
    Contact,
    Customer,
    DncEntry,
    Lead,
    Phone,
)
from cti.domain.compliance import DoNotCall
from cti.domain.desk_dial import NO_CAMPAIGN, PendingCall, PendingKind, continues
from cti.domain.model import AttentionStatus, LeadStatus
from cti.errors import NotFound, UserInputError
from cti.i18n import _

# The most lines the pending calls show (the soonest due).
PENDING_LIMIT = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class DialTarget:
    """The number a click calls, and whose it is (for the audit line and the call's pop)."""

    phone: str
    subject: str = ""  # whose number: "customer:12", "contact:3", "lead:7"
    campaign_id: int | None = None
    # The operator's own open attention the call continues; the callback it keeps.
    attention_id: int | None = None
    callback_id: int | None = None
    lead_id: int | None = None  # the campaign lead a callback is about


async def target_of(db: Database, operator_id: int, *, source: str, record_id: int) -> DialTarget:
    """The number behind a click-to-call.

    ``source`` is ``customer`` or ``contact`` (their first number), ``attention`` (the number it
    talked to) or ``callback`` (one promised to this operator, not done yet).

    Raises:
        NotFound: no such record, or the callback is not the operator's.
        UserInputError: the record has no number to call (named by its field).
    """
    async with db.sessions() as s:
        if source in ("customer", "contact"):
            column = Phone.customer_id if source == "customer" else Phone.contact_id
            phone = (
                await s.execute(
                    sa.select(Phone.phone).where(column == record_id).order_by(Phone.id).limit(1)
                )
            ).scalar_one_or_none()
            if phone is None:
                raise UserInputError(
                    f"{source}_id",
                    _("{source} {record_id} has no number to call"),
                    source=source,
                    record_id=record_id,
                )
            return DialTarget(phone=phone, subject=f"{source}:{record_id}")
        if source == "attention":
            row = (
                await s.execute(
                    sa.select(
                        Attention.phone,
                        Attention.customer_id,
                        Attention.contact_id,
                        Attention.lead_id,
                        Attention.status,
                        Attention.operator_id,
                    ).where(Attention.id == record_id)
                )
            ).one_or_none()
            if row is None:
                raise NotFound(_("attention"), record_id)
            if not row.phone:
                raise UserInputError(
                    "attention_id",
                    _("attention {record_id} has no number to call"),
                    record_id=record_id,
                )
            subject = (
                f"contact:{row.contact_id}"
                if row.contact_id
                else f"customer:{row.customer_id}"
                if row.customer_id
                else f"lead:{row.lead_id}"
                if row.lead_id
                else f"attention:{record_id}"
            )
            own = continues(str(row.status), row.operator_id, operator_id)
            return DialTarget(
                phone=row.phone, subject=subject, attention_id=record_id if own else None
            )
        if source == "callback":
            cb = (
                await s.execute(
                    sa.select(Callback.phone, Callback.lead_id, Callback.campaign_id).where(
                        Callback.id == record_id,
                        Callback.operator_id == operator_id,
                        Callback.done_at.is_(None),
                    )
                )
            ).one_or_none()
            if cb is None:
                raise NotFound(_("a callback of yours"), record_id)
            return DialTarget(
                phone=cb.phone,
                subject=f"lead:{cb.lead_id}" if cb.lead_id else f"callback:{record_id}",
                campaign_id=cb.campaign_id,
                callback_id=record_id,
                lead_id=cb.lead_id,
            )
    raise NotFound(_("a callable record"), source)


async def callback_done(db: Database, callback_id: int, at: datetime) -> None:
    """The callback was kept: the customer answered the agent's call from the desk. Its
    campaign's lead, waiting for that callback, is done (the dialer would never call it again,
    nor count it finished)."""
    async with db.sessions.begin() as s:
        lead_id = await s.scalar(
            sa.update(Callback)
            .where(Callback.id == callback_id, Callback.done_at.is_(None))
            .values(done_at=at)
            .returning(Callback.lead_id)
        )
        if lead_id is not None:
            await s.execute(
                sa.update(Lead)
                .where(Lead.id == lead_id, Lead.status == LeadStatus.CALLBACK)
                .values(status=LeadStatus.DONE)
            )


async def dnc_of(db: Database, phone: str, campaign_id: int | None) -> DoNotCall:
    """The do-not-call entries that may forbid ``phone``: the global list's, and the campaign's."""
    async with db.sessions() as s:
        rows = (
            await s.execute(
                sa.select(DncEntry.campaign_id).where(
                    DncEntry.phone == phone,
                    sa.or_(
                        DncEntry.campaign_id.is_(None),
                        DncEntry.campaign_id == campaign_id
                        if campaign_id is not None
                        else sa.false(),
                    ),
                )
            )
        ).all()
    glob = frozenset({phone}) if any(r.campaign_id is None for r in rows) else frozenset()
    mine = frozenset({phone}) if any(r.campaign_id is not None for r in rows) else frozenset()
    key = str(campaign_id) if campaign_id is not None else NO_CAMPAIGN
    return DoNotCall(glob, {key: mine})


async def pending_calls(db: Database, operator_id: int) -> list[PendingCall]:
    """The operator's pending and planned attentions and the callbacks promised to them (not
    done), unmasked (the web layer masks them), at most :data:`PENDING_LIMIT` of each."""
    party = sa.func.coalesce(Contact.name, Customer.name)
    async with db.sessions() as s:
        attentions = (
            await s.execute(
                sa.select(
                    Attention.id,
                    Attention.status,
                    Attention.next_call_at,
                    Attention.phone,
                    Attention.kind,
                    Attention.subject,
                    party.label("name"),
                )
                .outerjoin(Customer, Customer.id == Attention.customer_id)
                .outerjoin(Contact, Contact.id == Attention.contact_id)
                .where(
                    Attention.operator_id == operator_id,
                    Attention.status.in_([AttentionStatus.PENDING, AttentionStatus.PLANNED]),
                )
                .order_by(Attention.next_call_at.asc().nulls_first(), Attention.id)
                .limit(PENDING_LIMIT)
            )
        ).all()
        callbacks = (
            await s.execute(
                sa.select(
                    Callback.id,
                    Callback.due_at,
                    Callback.phone,
                    Lead.name,
                    Campaign.name.label("campaign"),
                )
                .outerjoin(Lead, Lead.id == Callback.lead_id)
                .outerjoin(Campaign, Campaign.id == Callback.campaign_id)
                .where(Callback.operator_id == operator_id, Callback.done_at.is_(None))
                .order_by(Callback.due_at, Callback.id)
                .limit(PENDING_LIMIT)
            )
        ).all()
    out = [
        PendingCall(
            kind=PendingKind.ATTENTION,
            id=a.id,
            due_at=a.next_call_at,
            status=str(a.status),
            name=a.name,
            phone=a.phone,
            about=a.subject or str(a.kind),
        )
        for a in attentions
    ]
    out += [
        PendingCall(
            kind=PendingKind.CALLBACK,
            id=c.id,
            due_at=c.due_at,
            status="callback",
            name=c.name,
            phone=c.phone,
            about=c.campaign or "callback",
        )
        for c in callbacks
    ]
    return out


__all__ = [
    "PENDING_LIMIT",
    "DialTarget",
    "callback_done",
    "dnc_of",
    "pending_calls",
    "target_of",
]
