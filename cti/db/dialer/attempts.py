"""Attempts: one instance's pacing turn, the calls ringing, each attempt's answer and outcome, and
the figures read back from them.

The abandon ledger is kept in ``attempts`` itself (``answered_at`` and the ``answered``/``abandoned``
outcome of every live answer): :func:`ledger_rows` replays it, so a restarted or a second instance
sees every instance's answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from cti.db import outbox
from cti.db.engine import Database
from cti.db.instances import alive
from cti.db.models import Attempt, Lead
from cti.domain.campaigns import DIALABLE
from cti.domain.model import CallOutcome, LeadStatus

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
    attempts: those of an instance that is gone (:func:`cti.instances.alive`) do not count, nor
    those older than ``since`` (taken as lost with their instance)."""
    stmt = sa.select(Attempt.started_at).where(
        Attempt.campaign_id == campaign_id,
        Attempt.answered_at.is_(None),
        Attempt.ended_at.is_(None),
        Attempt.started_at >= since,
        sa.or_(Attempt.placed_by.is_(None), alive(Attempt.placed_by)),
    )
    if mine:
        stmt = stmt.where(Attempt.id.not_in(list(mine)))
    async with db.sessions() as s:
        return list((await s.execute(stmt)).scalars())


async def mark_answered(
    db: Database,
    attempt_id: int,
    *,
    action_id: str,
    answered_at: datetime | None,
    linkedid: str | None,
) -> None:
    """A person (or a machine) answered, or a preview agent picked up to call (``answered_at``
    None): the attempt keeps its ActionID, time and Linkedid, so the desk can find the lead of
    the call while it runs (:func:`lead_of_linkedid`)."""
    async with db.sessions.begin() as s:
        await s.execute(
            sa.update(Attempt)
            .where(Attempt.id == attempt_id)
            .values(
                action_id=action_id,
                answered_at=sa.func.coalesce(answered_at, Attempt.answered_at),
                linkedid=linkedid,
            )
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
        when = None
        if lead.status is LeadStatus.DIALING:
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
        # The integrations hear it in the same transaction (cti.db.outbox).
        await outbox.emit(
            s,
            [
                outbox.lead_outcome_event(
                    lead.id,
                    campaign_id=lead.campaign_id,
                    attempt_id=attempt.id,
                    outcome=outcome.value,
                    status=lead.status.value,
                    next_attempt_at=when,
                    at=ended_at,
                )
            ],
        )
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


__all__ = [
    "NextStep",
    "attempts_of",
    "finish_attempt",
    "leads_left",
    "ledger_rows",
    "mark_answered",
    "pacing_turn",
    "recover_stale",
    "ringing_elsewhere",
]
