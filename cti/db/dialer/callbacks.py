"""What holds a lead back: callbacks promised to it, and the do-not-call lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from cti.db.audit import audit_in
from cti.db.engine import Database
from cti.db.models import Callback, DncEntry, Lead
from cti.domain.campaigns import DIALABLE, check_callback_allowed
from cti.domain.model import LeadStatus
from cti.errors import NotFound
from cti.i18n import _


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
            raise NotFound(_("lead"), lead_id)
        check_callback_allowed(lead.status)
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


__all__ = ["add_callback", "add_dnc", "callbacks_of", "release_callback"]
