"""A ring's log and the audit lines of the pop it showed are written together; a ring that cannot
be written does not take its audit lines with it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from asyncpg.exceptions import ForeignKeyViolationError

from cti.db import desk as repo
from cti.db.engine import Database
from cti.db.users import add_user

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _reads(subject: str) -> list[dict[str, object]]:
    return [
        {
            "actor": "ana",
            "action": "personal.read",
            "subject": subject,
            "details": {"purpose": "screen-pop", "fields": ["name", "phone"]},
        }
    ]


async def _ring(db: Database, uniqueid: str, operator_id: int, subject: str) -> None:
    await repo.log_ring(
        db,
        repo.CallKey("pbx1", uniqueid),
        linkedid=uniqueid,
        queue="support",
        interface="PJSIP/agent1",
        operator_id=operator_id,
        caller_num="+12025550101",
        caller_name="ACME",
        phone="+12025550101",
        at=AT,
        reads=_reads(subject),
    )


async def _stored(db: Database) -> tuple[list[str], list[str]]:
    async with db.engine.connect() as conn:
        calls = (await conn.execute(sa.text("SELECT uniqueid FROM calls ORDER BY id"))).scalars()
        audit = (await conn.execute(sa.text("SELECT subject FROM audit_log ORDER BY id"))).scalars()
        return list(calls), list(audit)


async def test_a_ring_and_its_pops_audit_lines_are_written_and_a_failed_ring_keeps_them(
    db: Database,
) -> None:
    operator = await add_user(
        db,
        username="ana",
        password="ana-secret-1",
        role="operator",
        routines=["telemarketing"],
        full_name="Ana Lima",
    )
    await _ring(db, "17.1", operator, "customer:1")
    assert await _stored(db) == (["17.1"], ["customer:1"])

    # An operator who no longer exists (removed while the call rang): the ring is refused,
    # the audit line of what the pop showed is written all the same.
    with pytest.raises(ForeignKeyViolationError):
        await _ring(db, "17.2", operator + 1000, "customer:2")
    assert await _stored(db) == (["17.1"], ["customer:1", "customer:2"])
