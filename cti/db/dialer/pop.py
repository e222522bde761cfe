"""The desk's pop for a dialer call (:func:`lead_for_call`), and what the dialer asks about calls
and users."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cti.db.engine import Database
from cti.db.models import Attempt, Call, Campaign, Lead, Operator, Receivable
from cti.domain.model import CampaignKind


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


async def call_given_to(db: Database, linkedid: str, operator_id: int) -> bool:
    """Whether a call (by its Linkedid) rang or reached this operator, by the call log."""
    async with db.sessions() as s:
        found = await s.scalar(
            sa.select(Call.id)
            .where(Call.linkedid == linkedid, Call.operator_id == operator_id)
            .limit(1)
        )
        return found is not None


async def operator_interface(db: Database, username: str) -> str | None:
    """The Asterisk interface (queue member) stored for a user, if any."""
    async with db.sessions() as s:
        found = await s.scalar(sa.select(Operator.interface).where(Operator.username == username))
        return str(found) if found else None


async def operator_id_of(db: Database, username: str) -> int | None:
    """The operator id of a username."""
    async with db.sessions() as s:
        found = await s.scalar(sa.select(Operator.id).where(Operator.username == username))
        return int(found) if found is not None else None


__all__ = [
    "call_given_to",
    "lead_for_call",
    "lead_of_linkedid",
    "operator_id_of",
    "operator_interface",
]
