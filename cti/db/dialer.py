"""The dialer's repositories: campaigns, lead selection, attempts and outcomes, callbacks, the ledger.

Lead selection (:func:`claim_leads`) locks candidate rows with ``FOR UPDATE SKIP LOCKED`` and moves
the chosen ones to ``dialing`` in the same transaction, so a lead is never dialled twice at once, also
by two cti instances on one database: the other instance skips the locked rows and, once committed,
no longer sees them as dialable. Every rule that must hold at dial time (do-not-call lists, calling
windows in the lead's own zone) is checked inside that transaction.

The abandon ledger is kept in ``attempts`` itself (``answered_at`` and the ``answered``/``abandoned``
outcome of every live answer): :func:`ledger_rows` replays it, so a restarted or a second instance
sees every instance's answers.

The desk's pop for a dialer call: :func:`lead_for_call` (see its docstring).

APScheduler's jobs live in the table :data:`JOB_TABLE` (``cti.db.models.DialerJob``, made by the
migrations), reached through a synchronous psycopg engine (APScheduler 3's job stores are
synchronous): :func:`job_store`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from cti.db.audit import audit_in
from cti.db.backoffice.common import NotFound, Refused
from cti.db.engine import Database, to_async_url
from cti.db.models import (
    Attempt,
    Callback,
    Campaign,
    Customer,
    DialerJob,
    DncEntry,
    Lead,
    PaymentPlan,
    PaymentPromise,
    Phone,
    Receivable,
)
from cti.dialer.compliance import DialCheck, DoNotCall, Refusal
from cti.domain.model import (
    CallOutcome,
    CampaignKind,
    CampaignMode,
    CampaignStatus,
    LeadStatus,
    PromiseStatus,
)
from cti.errors import UserInputError

JOB_TABLE = DialerJob.__tablename__
# Session advisory lock held by the one instance that runs the scheduled jobs ("cti" "dlr").
LEADER_LOCK = 0x637469_646C72

DIALABLE = (LeadStatus.NEW, LeadStatus.RETRY, LeadStatus.CALLBACK)


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignRow:
    """A campaign as the dialer reads it."""

    id: int
    name: str
    kind: CampaignKind
    mode: CampaignMode
    status: CampaignStatus
    pbx: str | None
    queue: str
    caller_id: str | None
    script_id: int | None
    ring_seconds: int
    windows: Any
    retry_rules: Any
    abandon_cap: float | None
    timezone: str | None = None
    amd: bool = False
    pacing: Mapping[str, float] | None = None


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


def _campaign_row(c: Campaign) -> CampaignRow:
    return CampaignRow(
        id=c.id,
        name=c.name,
        kind=c.kind,
        mode=c.mode,
        status=c.status,
        pbx=c.pbx,
        queue=c.queue,
        caller_id=c.caller_id,
        script_id=c.script_id,
        ring_seconds=c.ring_seconds,
        windows=c.windows,
        retry_rules=c.retry_rules,
        abandon_cap=float(c.abandon_cap) if c.abandon_cap is not None else None,
        timezone=c.timezone,
        amd=c.amd,
        pacing={str(k): float(v) for k, v in (c.pacing or {}).items()},
    )


# --- campaigns --------------------------------------------------------------------------------


async def campaigns(
    db: Database, *, statuses: Sequence[CampaignStatus] | None = None
) -> list[CampaignRow]:
    """Campaigns by id, optionally only those in ``statuses``."""
    stmt = sa.select(Campaign).order_by(Campaign.id)
    if statuses is not None:
        stmt = stmt.where(Campaign.status.in_(list(statuses)))
    async with db.sessions() as s:
        return [_campaign_row(c) for c in (await s.scalars(stmt)).all()]


async def campaign(db: Database, campaign_id: int) -> CampaignRow:
    """One campaign.

    Raises:
        NotFound: there is no such campaign.
    """
    async with db.sessions() as s:
        c = await s.get(Campaign, campaign_id)
        if c is None:
            raise NotFound("campaign", campaign_id)
        return _campaign_row(c)


async def set_status(
    db: Database, campaign_id: int, status: CampaignStatus, *, actor: str
) -> CampaignRow:
    """Start (``running``), pause or stop (``finished``) a campaign; audited as ``campaign.<status>``.

    Raises:
        NotFound: no such campaign.
        Refused: a finished campaign cannot run again.
    """
    async with db.sessions.begin() as s:
        c = await s.get(Campaign, campaign_id, with_for_update=True)
        if c is None:
            raise NotFound("campaign", campaign_id)
        if c.status is CampaignStatus.FINISHED and status is not CampaignStatus.FINISHED:
            raise Refused("the campaign was stopped; it cannot run again", "status")
        before = c.status
        c.status = status
        await audit_in(
            s,
            actor,
            f"campaign.{status.value}",
            f"campaign:{campaign_id}",
            {"from": before.value, "to": status.value},
        )
        await s.flush()
        return _campaign_row(c)


# What a supervisor may set on a campaign (its status and pacing have their own calls).
CAMPAIGN_FIELDS = (
    "name",
    "kind",
    "mode",
    "pbx",
    "queue",
    "caller_id",
    "ring_seconds",
    "windows",
    "retry_rules",
    "abandon_cap",
    "timezone",
    "amd",
)


async def save_campaign(
    db: Database, campaign_id: int | None, values: Mapping[str, Any], *, actor: str
) -> CampaignRow:
    """Create (``campaign_id`` None, as a draft) or change a campaign; audited.

    ``values`` were checked by the caller (windows, retry rules, zone); the database checks the
    rest (a unique name, a ring time of at least 15 s, a cap between 0 and 1).

    Raises:
        NotFound: no such campaign.
        UserInputError: the name is taken, or the database refused a value (named).
    """
    unknown = set(values) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise UserInputError(sorted(unknown)[0], "is not a campaign field")
    async with db.sessions.begin() as s:
        if "name" in values:
            clash = await s.scalar(
                sa.select(Campaign.id).where(
                    Campaign.name == values["name"], Campaign.id != (campaign_id or 0)
                )
            )
            if clash is not None:
                raise UserInputError("name", f"a campaign is already called {values['name']!r}")
        if campaign_id is None:
            c = Campaign(status=CampaignStatus.DRAFT, **values)
            s.add(c)
            action = "campaign.created"
        else:
            found = await s.get(Campaign, campaign_id, with_for_update=True)
            if found is None:
                raise NotFound("campaign", campaign_id)
            c = found
            for name, value in values.items():
                setattr(c, name, value)
            action = "campaign.changed"
        try:
            await s.flush()
        except IntegrityError as exc:
            text = str(exc.orig)
            field = next(
                (f for f in ("ring_seconds", "abandon_cap", "name") if f in text), "campaign"
            )
            raise UserInputError(field, "refused by the database: not a valid value") from exc
        await audit_in(
            s,
            actor,
            action,
            f"campaign:{c.id}",
            {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()},
        )
        return _campaign_row(c)


async def set_pacing(
    db: Database,
    campaign_id: int,
    *,
    actor: str,
    mode: CampaignMode | None,
    abandon_cap: float | None,
    knobs: dict[str, float],
) -> CampaignRow:
    """Change a campaign's pacing: the mode, the cap and the knobs (``campaigns.pacing``) are stored
    on the campaign; every change is audited as ``campaign.pacing``.
    """
    async with db.sessions.begin() as s:
        c = await s.get(Campaign, campaign_id, with_for_update=True)
        if c is None:
            raise NotFound("campaign", campaign_id)
        if mode is not None:
            c.mode = mode
        if abandon_cap is not None:
            c.abandon_cap = Decimal(str(round(abandon_cap, 4)))
        c.pacing = dict(knobs)
        details: dict[str, Any] = {"knobs": knobs}
        if mode is not None:
            details["mode"] = mode.value
        if abandon_cap is not None:
            details["abandon_cap"] = abandon_cap
        await audit_in(s, actor, "campaign.pacing", f"campaign:{campaign_id}", details)
        await s.flush()
        return _campaign_row(c)


# --- lead selection -------------------------------------------------------------------------


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
) -> Claim:
    """Take up to ``limit`` leads that may be dialled now and mark them ``dialing``.

    Candidates: status new, retry or callback, due (``next_attempt_at`` unset or past), by released
    callbacks first, then priority, then the longest waiting. Leads with an open callback owned by an
    agent are only given to that agent (``operator_id``, preview). Each candidate passes ``verdict``
    (do-not-call and calling window) at this instant: one on a do-not-call list becomes ``dnc``, one
    outside its window is put off to its next opening. With ``create_attempts`` each taken lead gets
    its ``attempts`` row (``action_id`` provisional until the Originate is sent).
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
                if check.refusal in (Refusal.DNC_GLOBAL, Refusal.DNC_CAMPAIGN):
                    lead.status = LeadStatus.DNC
                    refused += 1
                    continue
                if not check.allowed:
                    when = check.retry_at or now + timedelta(days=1)
                    lead.next_attempt_at = when
                    opening = when if opening is None else min(opening, when)
                    continue
                lead.status = LeadStatus.DIALING
                attempt_id: int | None = None
                if create_attempts:
                    lead.attempts += 1
                    attempt = Attempt(
                        lead_id=lead.id,
                        campaign_id=campaign_id,
                        action_id=f"pending-{uuid.uuid4().hex}",
                        started_at=now,
                    )
                    s.add(attempt)
                    await s.flush()
                    attempt_id = attempt.id
                    await _close_callbacks(s, lead.id, now)
                taken.append(
                    Claimed(
                        lead_id=lead.id,
                        attempt_id=attempt_id,
                        phone=lead.phone,
                        name=lead.name,
                        customer_id=lead.customer_id,
                        attempts=lead.attempts,
                    )
                )
    return Claim(leads=taken, refused_dnc=refused, next_opening=opening)


async def _close_callbacks(s: AsyncSession, lead_id: int, now: datetime) -> None:
    await s.execute(
        sa.update(Callback)
        .where(Callback.lead_id == lead_id, Callback.done_at.is_(None), Callback.due_at <= now)
        .values(done_at=now)
    )


async def start_attempt(
    db: Database, campaign_id: int, lead_id: int, *, now: datetime, verdict: Verdict
) -> Claimed:
    """Preview: the agent pressed dial on a lead reserved for them; checks DNC and window again.

    Raises:
        NotFound: no such lead in the campaign.
        Refused: the lead is not reserved, or a rule forbids calling it now (``phone``).
    """
    refused: str | None = None
    async with db.sessions.begin() as s:
        lead = await s.get(Lead, lead_id, with_for_update=True)
        if lead is None or lead.campaign_id != campaign_id:
            raise NotFound("lead", lead_id)
        if lead.status is not LeadStatus.DIALING:
            raise Refused("the lead is not reserved for dialling", "lead")
        dnc = await _dnc_for(s, campaign_id, [lead.phone])
        check = verdict(lead.phone, lead.timezone, dnc)
        if check.refusal is not None:
            refused = check.refusal.value
            if check.refusal is not Refusal.OUTSIDE_WINDOW:
                lead.status = LeadStatus.DNC
            else:
                lead.status = LeadStatus.RETRY
                lead.next_attempt_at = check.retry_at or now + timedelta(days=1)
        else:
            lead.attempts += 1
            attempt = Attempt(
                lead_id=lead.id,
                campaign_id=campaign_id,
                action_id=f"pending-{uuid.uuid4().hex}",
                started_at=now,
            )
            s.add(attempt)
            await s.flush()
            await _close_callbacks(s, lead.id, now)
            claimed = Claimed(
                lead_id=lead.id,
                attempt_id=attempt.id,
                phone=lead.phone,
                name=lead.name,
                customer_id=lead.customer_id,
                attempts=lead.attempts,
            )
    if refused is not None:
        raise Refused(f"the lead may not be called now ({refused})", "phone")
    return claimed


async def release_lead(
    db: Database, campaign_id: int, lead_id: int, *, until: datetime | None, actor: str
) -> None:
    """Preview skip, or a postponed call: the lead waits until ``until`` (None: dialable now).

    Raises:
        NotFound: no such lead in the campaign.
        Refused: the lead is finished or on a do-not-call list.
    """
    async with db.sessions.begin() as s:
        lead = await s.get(Lead, lead_id, with_for_update=True)
        if lead is None or lead.campaign_id != campaign_id:
            raise NotFound("lead", lead_id)
        if lead.status in (LeadStatus.DONE, LeadStatus.DNC, LeadStatus.EXHAUSTED):
            raise Refused(f"the lead is {lead.status.value}", "lead")
        lead.status = LeadStatus.RETRY if lead.attempts else LeadStatus.NEW
        lead.next_attempt_at = until
        await audit_in(
            s,
            actor,
            "lead.postpone" if until is not None else "lead.skip",
            f"lead:{lead_id}",
            {"campaign": campaign_id, "until": until.isoformat() if until else None},
        )


NextStep = Callable[[Mapping[CallOutcome, int]], tuple[LeadStatus, datetime | None]]


# Advisory-lock class of the dialer's pacing turns (the campaign id is the second key).
_PACING_LOCK = 0x637469  # "cti"


@asynccontextmanager
async def pacing_turn(db: Database, campaign_id: int) -> AsyncIterator[None]:
    """Hold a campaign's pacing turn: one cti instance at a time decides how many calls to place
    and claims their leads, so two instances never both dial for the same free agents."""
    async with db.engine.connect() as conn:
        await conn.execute(
            sa.text("SELECT pg_advisory_lock(:cls, :cid)"),
            {"cls": _PACING_LOCK, "cid": campaign_id},
        )
        try:
            yield
        finally:
            await conn.execute(
                sa.text("SELECT pg_advisory_unlock(:cls, :cid)"),
                {"cls": _PACING_LOCK, "cid": campaign_id},
            )
            await conn.commit()


async def ringing_elsewhere(
    db: Database, campaign_id: int, *, mine: Collection[int], since: datetime
) -> list[datetime]:
    """When this campaign's calls still ringing were placed, by any instance but the ``mine``
    attempts (attempts older than ``since`` are taken as lost with their instance)."""
    stmt = sa.select(Attempt.started_at).where(
        Attempt.campaign_id == campaign_id,
        Attempt.answered_at.is_(None),
        Attempt.ended_at.is_(None),
        Attempt.started_at >= since,
    )
    if mine:
        stmt = stmt.where(Attempt.id.not_in(list(mine)))
    async with db.sessions() as s:
        return list((await s.execute(stmt)).scalars())


async def mark_answered(
    db: Database, attempt_id: int, *, action_id: str, answered_at: datetime, linkedid: str | None
) -> None:
    """A person (or a machine) answered: the attempt keeps its ActionID, time and Linkedid, so the
    desk can find the lead of the call while it runs (:func:`lead_of_linkedid`)."""
    async with db.sessions.begin() as s:
        await s.execute(
            sa.update(Attempt)
            .where(Attempt.id == attempt_id)
            .values(action_id=action_id, answered_at=answered_at, linkedid=linkedid)
        )


async def finish_attempt(
    db: Database,
    attempt_id: int,
    *,
    action_id: str | None,
    outcome: CallOutcome,
    answered_at: datetime | None,
    connected_at: datetime | None,
    ended_at: datetime,
    linkedid: str | None = None,
    next_step: NextStep,
) -> datetime | None:
    """Store an attempt's outcome and move its lead on by ``next_step(the lead's attempts per
    outcome, this one included)`` (unless the lead went on a do-not-call list meanwhile). Returns
    the lead's next attempt time, if any."""
    async with db.sessions.begin() as s:
        attempt = await s.get(Attempt, attempt_id, with_for_update=True)
        if attempt is None:
            return None
        if action_id:
            attempt.action_id = action_id
        attempt.outcome = outcome
        attempt.answered_at = answered_at
        attempt.connected_at = connected_at
        attempt.ended_at = ended_at
        if linkedid is not None:
            attempt.linkedid = linkedid
        lead = await s.get(Lead, attempt.lead_id, with_for_update=True)
        if lead is None:
            return None
        lead.last_outcome = outcome
        if lead.status is not LeadStatus.DIALING:
            return None
        await s.flush()
        rows = await s.execute(
            sa.select(Attempt.outcome, sa.func.count())
            .where(Attempt.lead_id == lead.id, Attempt.outcome.is_not(None))
            .group_by(Attempt.outcome)
        )
        counts = {CallOutcome(o): int(n) for o, n in rows.all() if o is not None}
        status, when = next_step(counts)
        lead.status = status
        lead.next_attempt_at = when
        return when


async def recover_stale(db: Database, *, now: datetime, older_than: timedelta) -> int:
    """Leads left ``dialing`` by a stopped instance (or a preview never acted on) become dialable."""
    cutoff = now - older_than
    async with db.sessions.begin() as s:
        open_attempt = sa.exists().where(
            Attempt.lead_id == Lead.id, Attempt.ended_at.is_(None), Attempt.started_at > cutoff
        )
        result = await s.execute(
            sa.update(Lead)
            .where(Lead.status == LeadStatus.DIALING, Lead.updated_at < cutoff, ~open_attempt)
            .values(status=LeadStatus.RETRY, next_attempt_at=now)
        )
        await s.execute(
            sa.update(Attempt)
            .where(Attempt.ended_at.is_(None), Attempt.started_at <= cutoff)
            .values(ended_at=now, outcome=CallOutcome.FAILED)
        )
        return int(getattr(result, "rowcount", 0) or 0)


# --- figures --------------------------------------------------------------------------------


async def ledger_rows(
    db: Database, campaign_id: int, since: datetime
) -> list[tuple[datetime, float | None]]:
    """Every live answer since ``since``: (answered at, 0.0 when an agent took it in time, else
    None). The outcome stored is the truth (the dialplan decides abandonment, after AMD)."""
    async with db.sessions() as s:
        rows = await s.execute(
            sa.select(Attempt.answered_at, Attempt.connected_at, Attempt.outcome)
            .where(
                Attempt.campaign_id == campaign_id,
                Attempt.answered_at >= since,
                Attempt.outcome.in_([CallOutcome.ANSWERED, CallOutcome.ABANDONED]),
            )
            .order_by(Attempt.answered_at)
        )
        out: list[tuple[datetime, float | None]] = []
        for answered, _connected, outcome in rows.all():
            if answered is not None:
                out.append((answered, 0.0 if outcome is CallOutcome.ANSWERED else None))
        return out


async def leads_left(db: Database, campaign_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """Per campaign: leads still to dial (new, retry, callback), and how many are due now."""
    if not campaign_ids:
        return {}
    async with db.sessions() as s:
        rows = await s.execute(
            sa.select(Lead.campaign_id, sa.func.count())
            .where(Lead.campaign_id.in_(list(campaign_ids)), Lead.status.in_(DIALABLE))
            .group_by(Lead.campaign_id)
        )
        return {int(cid): int(n) for cid, n in rows.all()}


async def attempts_of(db: Database, campaign_id: int) -> list[dict[str, Any]]:
    """A campaign's attempts, oldest first (for reports and tests)."""
    async with db.sessions() as s:
        rows = await s.execute(
            sa.select(Attempt, Lead.phone)
            .join(Lead, Lead.id == Attempt.lead_id)
            .where(Attempt.campaign_id == campaign_id)
            .order_by(Attempt.id)
        )
        return [
            {
                "id": a.id,
                "lead_id": a.lead_id,
                "phone": phone,
                "action_id": a.action_id,
                "started_at": a.started_at,
                "answered_at": a.answered_at,
                "connected_at": a.connected_at,
                "ended_at": a.ended_at,
                "outcome": a.outcome.value if a.outcome else None,
            }
            for a, phone in rows.all()
        ]


# --- callbacks ----------------------------------------------------------------------------------


async def add_callback(
    db: Database,
    campaign_id: int,
    lead_id: int,
    *,
    due_at: datetime,
    operator_id: int | None,
    actor: str,
) -> int:
    """Promise a call to a lead at ``due_at``, owned by an agent or (``operator_id`` None) the
    campaign. The lead is held (status ``callback``) until the scheduler releases it at ``due_at``.

    Raises:
        NotFound: no such lead in the campaign.
        Refused: the lead is on a do-not-call list.
    """
    async with db.sessions.begin() as s:
        lead = await s.get(Lead, lead_id, with_for_update=True)
        if lead is None or lead.campaign_id != campaign_id:
            raise NotFound("lead", lead_id)
        if lead.status is LeadStatus.DNC:
            raise Refused("the lead is on a do-not-call list", "lead")
        lead.status = LeadStatus.CALLBACK
        lead.next_attempt_at = None
        cb = Callback(
            phone=lead.phone,
            due_at=due_at,
            lead_id=lead_id,
            campaign_id=campaign_id,
            operator_id=operator_id,
        )
        s.add(cb)
        await s.flush()
        await audit_in(
            s,
            actor,
            "callback.add",
            f"lead:{lead_id}",
            {"callback": cb.id, "due_at": due_at.isoformat(), "operator": operator_id},
        )
        return int(cb.id)


async def release_callback(db: Database, callback_id: int) -> int | None:
    """The callback fell due: its lead becomes dialable (first in line). Returns its campaign."""
    async with db.sessions.begin() as s:
        cb = await s.get(Callback, callback_id)
        if cb is None or cb.done_at is not None or cb.lead_id is None:
            return None
        lead = await s.get(Lead, cb.lead_id, with_for_update=True)
        if lead is None or lead.status is not LeadStatus.CALLBACK:
            return None
        lead.next_attempt_at = cb.due_at
        return lead.campaign_id


async def callbacks_of(db: Database, campaign_id: int) -> list[dict[str, Any]]:
    """A campaign's callbacks, oldest first."""
    async with db.sessions() as s:
        rows = await s.scalars(
            sa.select(Callback).where(Callback.campaign_id == campaign_id).order_by(Callback.id)
        )
        return [
            {
                "id": c.id,
                "lead_id": c.lead_id,
                "due_at": c.due_at,
                "operator_id": c.operator_id,
                "done_at": c.done_at,
            }
            for c in rows.all()
        ]


# --- do not call --------------------------------------------------------------------------------


async def add_dnc(
    db: Database, phone: str, *, campaign_id: int | None, reason: str | None, actor: str
) -> None:
    """Put a (normalised) number on the global list or a campaign's; its waiting leads stop."""
    async with db.sessions.begin() as s:
        stmt = pg_insert(DncEntry).values(phone=phone, campaign_id=campaign_id, reason=reason)
        if campaign_id is None:
            stmt = stmt.on_conflict_do_nothing(
                index_elements=["phone"], index_where=sa.text("campaign_id IS NULL")
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=["campaign_id", "phone"])
        await s.execute(stmt)
        where = [Lead.phone == phone, Lead.status.in_(DIALABLE)]
        if campaign_id is not None:
            where.append(Lead.campaign_id == campaign_id)
        await s.execute(sa.update(Lead).where(*where).values(status=LeadStatus.DNC))
        await audit_in(
            s, actor, "dnc.add", f"phone:{phone}", {"campaign": campaign_id, "reason": reason}
        )


# --- collection campaigns -----------------------------------------------------------------------


async def build_collection_leads(
    db: Database,
    campaign_id: int,
    *,
    today: date,
    min_overdue_days: int,
    min_amount: Decimal,
    actor: str,
) -> int:
    """Add a lead per customer owing at least ``min_amount`` on invoices overdue by at least
    ``min_overdue_days``, with no open promise to pay and no open plan, reached at the customer's
    first phone number. Customers already in the campaign are left as they are. Returns how many
    leads were added.

    Raises:
        NotFound: no such campaign.
        Refused: the campaign is not a collection campaign.
    """
    cutoff = today - timedelta(days=min_overdue_days)
    async with db.sessions.begin() as s:
        c = await s.get(Campaign, campaign_id)
        if c is None:
            raise NotFound("campaign", campaign_id)
        if c.kind is not CampaignKind.COLLECTION:
            raise Refused("only a collection campaign is built from receivables", "kind")
        owed = (
            sa.select(Receivable.customer_id, sa.func.sum(Receivable.amount).label("owed"))
            .where(Receivable.paid.is_(False), Receivable.due_on <= cutoff)
            .group_by(Receivable.customer_id)
            .having(sa.func.sum(Receivable.amount) >= min_amount)
            .subquery()
        )
        first_phone = (
            sa.select(Phone.phone)
            .where(Phone.customer_id == Customer.id)
            .order_by(Phone.id)
            .limit(1)
            .scalar_subquery()
        )
        open_promise = sa.exists().where(
            PaymentPromise.customer_id == Customer.id, PaymentPromise.status == PromiseStatus.OPEN
        )
        open_plan = sa.exists().where(
            PaymentPlan.customer_id == Customer.id, PaymentPlan.status == PromiseStatus.OPEN
        )
        rows = await s.execute(
            sa.select(Customer.id, Customer.name, Customer.timezone, first_phone.label("phone"))
            .join(owed, owed.c.customer_id == Customer.id)
            .where(~open_promise, ~open_plan)
            .order_by(owed.c.owed.desc(), Customer.id)
        )
        values = [
            {
                "campaign_id": campaign_id,
                "phone": r.phone,
                "name": r.name,
                "timezone": r.timezone,
                "customer_id": r.id,
            }
            for r in rows.all()
            if r.phone
        ]
        added = 0
        if values:
            result = await s.execute(
                pg_insert(Lead)
                .values(values)
                .on_conflict_do_nothing(index_elements=["campaign_id", "phone"])
                .returning(Lead.id)
            )
            added = len(result.all())
        await audit_in(
            s,
            actor,
            "campaign.build_collection",
            f"campaign:{campaign_id}",
            {
                "min_overdue_days": min_overdue_days,
                "min_amount": str(min_amount),
                "today": today.isoformat(),
                "added": added,
            },
        )
        return added


async def lead_for_call(
    db: Database, *, lead_id: int | None = None, phone: str | None = None
) -> dict[str, Any] | None:
    """The lead a dialer call is about, with its campaign and (collection) its debts: the pop.

    Give ``lead_id`` when known: the ``CTI_LEAD`` channel variable of the call, or
    :func:`lead_of_linkedid` (``DialerService.pop_for_call(linkedid)`` does both). Else ``phone``
    (the normalised number dialled): the lead of that number dialled most recently.

    Returns ``None`` when nothing matches, else::

        {"lead": {"id", "phone", "name", "timezone", "status", "attempts", "customer_id"},
         "campaign": {"id", "name", "kind", "mode", "queue", "script_id"},
         "debts": [{"receivable_id", "invoice_number", "due_on", "amount", "days_overdue"}]}

    ``debts`` lists the customer's unpaid invoices past due (empty for other kinds or no customer).
    """
    async with db.sessions() as s:
        if lead_id is not None:
            lead = await s.get(Lead, lead_id)
        elif phone is not None:
            lead = await s.scalar(
                sa.select(Lead)
                .where(Lead.phone == phone)
                .order_by(Lead.updated_at.desc(), Lead.id.desc())
                .limit(1)
            )
        else:
            return None
        if lead is None:
            return None
        c = await s.get(Campaign, lead.campaign_id)
        assert c is not None
        debts: list[dict[str, Any]] = []
        if lead.customer_id is not None and c.kind is CampaignKind.COLLECTION:
            today = await s.scalar(sa.select(sa.func.current_date()))
            rows = await s.scalars(
                sa.select(Receivable)
                .where(
                    Receivable.customer_id == lead.customer_id,
                    Receivable.paid.is_(False),
                    Receivable.due_on < sa.func.current_date(),
                )
                .order_by(Receivable.due_on)
            )
            for r in rows.all():
                debts.append(
                    {
                        "receivable_id": r.id,
                        "invoice_number": r.invoice_number,
                        "due_on": r.due_on.isoformat(),
                        "amount": str(r.amount),
                        "days_overdue": (today - r.due_on).days if today else None,
                    }
                )
        return {
            "lead": {
                "id": lead.id,
                "phone": lead.phone,
                "name": lead.name,
                "timezone": lead.timezone,
                "status": lead.status.value,
                "attempts": lead.attempts,
                "customer_id": lead.customer_id,
            },
            "campaign": {
                "id": c.id,
                "name": c.name,
                "kind": c.kind.value,
                "mode": c.mode.value,
                "queue": c.queue,
                "script_id": c.script_id,
            },
            "debts": debts,
        }


async def lead_of_linkedid(db: Database, linkedid: str) -> int | None:
    """The lead of the dialer call with this Linkedid (answered by any instance), if any."""
    async with db.sessions() as s:
        found = await s.scalar(
            sa.select(Attempt.lead_id)
            .where(Attempt.linkedid == linkedid)
            .order_by(Attempt.id.desc())
            .limit(1)
        )
        return int(found) if found is not None else None


async def operator_interface(db: Database, username: str) -> str | None:
    """The Asterisk interface (queue member) stored for a user, if any."""
    from cti.db.models import Operator

    async with db.sessions() as s:
        found = await s.scalar(sa.select(Operator.interface).where(Operator.username == username))
        return str(found) if found else None


async def operator_id_of(db: Database, username: str) -> int | None:
    """The operator id of a username."""
    from cti.db.models import Operator

    async with db.sessions() as s:
        found = await s.scalar(sa.select(Operator.id).where(Operator.username == username))
        return int(found) if found is not None else None


# --- scheduling support ---------------------------------------------------------------------------


class Leadership:
    """A session advisory lock on its own connection: held by the one instance running the jobs."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    async def try_acquire(self) -> bool:
        """Take the lock if free; True while this instance holds it."""
        if self._conn is not None:
            return True
        conn = await self._db.engine.connect()
        try:
            got = bool(
                (
                    await conn.execute(
                        sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK}
                    )
                ).scalar()
            )
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def release(self) -> None:
        """Give the lock up (closing the connection would too)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK})
            await conn.commit()
        finally:
            await conn.close()


def job_store(database_url: str) -> Any:
    """APScheduler's SQLAlchemy job store on :data:`JOB_TABLE`, through a small psycopg pool."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    rest = to_async_url(database_url).partition("://")[2]
    engine = sa.create_engine(
        f"postgresql+psycopg://{rest}", pool_size=1, max_overflow=1, pool_pre_ping=True
    )
    return SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)


def dispose_job_store(store: Any) -> None:
    """Close the job store's connections."""
    store.engine.dispose()


__all__ = [
    "JOB_TABLE",
    "CampaignRow",
    "Claim",
    "Claimed",
    "Leadership",
    "add_callback",
    "add_dnc",
    "attempts_of",
    "build_collection_leads",
    "callbacks_of",
    "campaign",
    "campaigns",
    "claim_leads",
    "finish_attempt",
    "job_store",
    "lead_for_call",
    "lead_of_linkedid",
    "leads_left",
    "ledger_rows",
    "mark_answered",
    "operator_interface",
    "recover_stale",
    "release_callback",
    "release_lead",
    "set_pacing",
    "set_status",
    "start_attempt",
]
