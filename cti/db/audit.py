"""The append-only audit log: who did what to which record, and when (the database sets the time)."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.engine import Database
from cti.db.models import AuditEvent


def audit_row(
    actor: str | None, action: str, subject: str | None, details: Mapping[str, object] | None = None
) -> sa.Insert:
    """The INSERT of one audit line, to run inside the caller's own transaction (``details`` is
    stored as JSONB as given, never read here)."""
    return sa.insert(AuditEvent).values(
        actor=actor, action=action, subject=subject, details=dict(details or {})
    )


async def audit_in(
    session: AsyncSession,
    actor: str | None,
    action: str,
    subject: str | None = None,
    details: Mapping[str, object] | None = None,
) -> None:
    """Write one audit line in an open session (it commits with the change it describes)."""
    await session.execute(audit_row(actor, action, subject, details))


async def audit(
    db: Database,
    actor: str | None,
    action: str,
    subject: str | None = None,
    details: Mapping[str, object] | None = None,
) -> None:
    """Write one audit line in its own transaction."""
    async with db.sessions.begin() as session:
        await session.execute(audit_row(actor, action, subject, details))
