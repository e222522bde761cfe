"""Lead selection: claiming leads to dial under row locks, a preview's reservation and dial,
putting a lead back.

:func:`claim_leads` locks candidate rows with ``FOR UPDATE SKIP LOCKED`` and moves the chosen ones
to ``dialing`` in the same transaction, so a lead is never dialled twice at once, also by two cti
instances on one database: the other instance skips the locked rows and, once committed, no longer
sees them as dialable. Every rule that must hold at dial time (do-not-call lists, calling windows
in the lead's own zone) is checked inside that transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_in
from cti.db.engine import Database
from cti.db.models import Attempt, AuditEvent, Callback, DncEntry, Lead
from cti.domain.campaigns import (
    DIALABLE,
    check_releasable,
    check_reserved,
    is_dnc,
    put_off_until,
    refuse_call,
    released_status,
)
from cti.domain.compliance import DialCheck, DoNotCall
from cti.domain.model import LeadStatus
from cti.errors import NotFound
from cti.i18n import _


@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed:
    """A lead taken for dialling (status ``dialing``) and its new attempt."""

    lead_id: int
    attempt_id: int | None
    phone: str
    name: str | None
    customer_id: int | None
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """What :func:`claim_leads` took, and what it learnt about the others."""

    leads: list[Claimed]
    refused_dnc: int = 0
    # The earliest instant a lead found outside its calling window may be called.
    next_opening: datetime | None = None


Verdict = Callable[[str, str | None, DoNotCall], DialCheck]


async def _dnc_for(s: AsyncSession, campaign_id: int, phones: list[str]) -> DoNotCall:
    rows = await s.execute(
        sa.select(DncEntry.phone, DncEntry.campaign_id).where(
            DncEntry.phone.in_(phones),
            sa.or_(DncEntry.campaign_id.is_(None), DncEntry.campaign_id == campaign_id),
        )
    )
    glob: set[str] = set()
    mine: set[str] = set()
    for phone, cid in rows.all():
        (glob if cid is None else mine).add(phone)
    return DoNotCall(frozenset(glob), {str(campaign_id): frozenset(mine)})


def _owned_callback(operator_id: int | None) -> sa.ColumnElement[bool]:
    """Leads with an open callback owned by an agent (any agent when ``operator_id`` is None)."""
    cond = [
        Callback.lead_id == Lead.id,
        Callback.done_at.is_(None),
        Callback.operator_id.is_not(None),
    ]
    if operator_id is not None:
        cond.append(Callback.operator_id == operator_id)
    return sa.exists().where(*cond)


async def claim_leads(
    db: Database,
    campaign_id: int,
    *,
    now: datetime,
    limit: int,
    verdict: Verdict,
    operator_id: int | None = None,
    create_attempts: bool = True,
    reserved_by: str | None = None,
    placed_by: str | None = None,
) -> Claim:
    """Take up to ``limit`` leads that may be dialled now and mark them ``dialing``.

    Candidates: status new, retry or callback, due (``next_attempt_at`` unset or past), by released
    callbacks first, then priority, then the longest waiting. Leads with an open callback owned by an
    agent are only given to that agent (``operator_id``, preview). Each candidate passes ``verdict``
    (do-not-call and calling window) at this instant: one on a do-not-call list becomes ``dnc``, one
    outside its window is put off to its next opening. With ``create_attempts`` each taken lead gets
    its ``attempts`` row (``action_id`` provisional until the Originate is sent). A preview gives
    ``reserved_by`` (the agent's user name): each lead taken is reserved for that agent, written
    as a ``lead.reserve`` audit line (:func:`reserver_of` reads it back). ``placed_by``: the
    cti instance placing the calls (while it is alive, the others count its calls as ringing).
    """
    taken: list[Claimed] = []
    refused = 0
    opening: datetime | None = None
    if limit <= 0:
        return Claim(leads=[])
    async with db.sessions.begin() as s:
        scanned: set[int] = set()
        while len(taken) < limit:
            want = max(8, 3 * (limit - len(taken)))
            owned = _owned_callback(operator_id)
            stmt = (
                sa.select(Lead)
                .where(
                    Lead.campaign_id == campaign_id,
                    Lead.status.in_(DIALABLE),
                    sa.or_(
                        sa.and_(Lead.status != LeadStatus.CALLBACK, Lead.next_attempt_at.is_(None)),
                        Lead.next_attempt_at <= now,
                    ),
                    Lead.id.not_in(scanned) if scanned else sa.true(),
                )
                .order_by(
                    (Lead.status == LeadStatus.CALLBACK).desc(),
                    owned.desc() if operator_id is not None else Lead.priority.desc(),
                    Lead.priority.desc(),
                    Lead.next_attempt_at.asc().nulls_first(),
                    Lead.id,
                )
                .limit(want)
                .with_for_update(skip_locked=True)
            )
            if operator_id is None:
                stmt = stmt.where(~_owned_callback(None))
            else:
                stmt = stmt.where(sa.or_(~_owned_callback(None), owned))
            leads = (await s.scalars(stmt)).all()
            if not leads:
                break
            scanned.update(lead.id for lead in leads)
            dnc = await _dnc_for(s, campaign_id, [lead.phone for lead in leads])
            for lead in leads:
                if len(taken) >= limit:
                    break
                check = verdict(lead.phone, lead.timezone, dnc)
                if is_dnc(check):
                    lead.status = LeadStatus.DNC
                    refused += 1
                    continue
                if not check.allowed:
                    when = put_off_until(check, now)
                    lead.next_attempt_at = when
                    opening = when if opening is None else min(opening, when)
                    continue
                lead.status = LeadStatus.DIALING
                if reserved_by is not None:
                    await audit_in(
                        s, reserved_by, RESERVE, f"lead:{lead.id}", {"campaign": campaign_id}
                    )
                taken.append(
                    await _start(s, lead, campaign_id, now, placed_by)
                    if create_attempts
                    else _claimed(lead, None)
                )
    return Claim(leads=taken, refused_dnc=refused, next_opening=opening)


async def _close_callbacks(s: AsyncSession, lead_id: int, now: datetime) -> None:
    await s.execute(
        sa.update(Callback)
        .where(Callback.lead_id == lead_id, Callback.done_at.is_(None), Callback.due_at <= now)
        .values(done_at=now)
    )


# The audit action that reserves a preview lead for an agent (the actor).
RESERVE = "lead.reserve"


async def reserver_of(s: AsyncSession, lead_id: int) -> str | None:
    """The user name of the agent the lead was last reserved for by a preview, if any."""
    found = await s.scalar(
        sa.select(AuditEvent.actor)
        .where(AuditEvent.subject == f"lead:{lead_id}", AuditEvent.action == RESERVE)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return str(found) if found is not None else None


async def _start(
    s: AsyncSession, lead: Lead, campaign_id: int, now: datetime, placed_by: str | None = None
) -> Claimed:
    """Dial a lead now: it counts one more attempt, gets its ``attempts`` row (``action_id``
    provisional until the Originate is sent) and its callbacks due are done."""
    lead.attempts += 1
    attempt = Attempt(
        lead_id=lead.id,
        campaign_id=campaign_id,
        action_id=f"pending-{uuid.uuid4().hex}",
        started_at=now,
        placed_by=placed_by,
    )
    s.add(attempt)
    await s.flush()
    await _close_callbacks(s, lead.id, now)
    return _claimed(lead, attempt.id)


def _claimed(lead: Lead, attempt_id: int | None) -> Claimed:
    return Claimed(
        lead_id=lead.id,
        attempt_id=attempt_id,
        phone=lead.phone,
        name=lead.name,
        customer_id=lead.customer_id,
        attempts=lead.attempts,
    )


async def start_attempt(
    db: Database,
    campaign_id: int,
    lead_id: int,
    *,
    now: datetime,
    verdict: Verdict,
    reserved_by: str | None = None,
) -> Claimed:
    """Preview: the agent pressed dial on a lead reserved for them; checks DNC and window again.

    Raises:
        NotFound: no such lead in the campaign.
        Refused: the lead is not reserved (for ``reserved_by``, when given), or a rule forbids
            calling it now (``phone``).
    """
    async with db.sessions.begin() as s:
        lead = await s.get(Lead, lead_id, with_for_update=True)
        if lead is None or lead.campaign_id != campaign_id:
            raise NotFound(_("lead"), lead_id)
        reserver = await reserver_of(s, lead.id) if reserved_by is not None else None
        check_reserved(lead.status, reserver, reserved_by)
        dnc = await _dnc_for(s, campaign_id, [lead.phone])
        check = verdict(lead.phone, lead.timezone, dnc)
        if check.allowed:
            return await _start(s, lead, campaign_id, now)
        if is_dnc(check):
            lead.status = LeadStatus.DNC
        else:
            lead.status = LeadStatus.RETRY
            lead.next_attempt_at = put_off_until(check, now)
    # Told once the lead's new state is stored.
    raise refuse_call(check)


async def release_lead(
    db: Database,
    campaign_id: int,
    lead_id: int,
    *,
    until: datetime | None,
    actor: str,
    reserved_only: bool = False,
) -> None:
    """Preview skip, or a postponed call: the lead waits until ``until`` (None: dialable now).

    With ``reserved_only`` (a preview skip) the lead must be reserved for ``actor``.

    Raises:
        NotFound: no such lead in the campaign.
        Refused: the lead is finished or on a do-not-call list, or (``reserved_only``) not
            reserved for ``actor``.
    """
    async with db.sessions.begin() as s:
        lead = await s.get(Lead, lead_id, with_for_update=True)
        if lead is None or lead.campaign_id != campaign_id:
            raise NotFound(_("lead"), lead_id)
        check_releasable(lead.status)
        if reserved_only:
            check_reserved(lead.status, await reserver_of(s, lead.id), actor)
        lead.status = released_status(lead.attempts)
        lead.next_attempt_at = until
        await audit_in(
            s,
            actor,
            "lead.postpone" if until is not None else "lead.skip",
            f"lead:{lead_id}",
            {"campaign": campaign_id, "until": until.isoformat() if until else None},
        )


__all__ = [
    "DIALABLE",
    "RESERVE",
    "Claim",
    "Claimed",
    "Verdict",
    "claim_leads",
    "release_lead",
    "reserver_of",
    "start_attempt",
]
