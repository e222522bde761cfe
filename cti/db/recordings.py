"""Call recordings: the file Asterisk's MixMonitor wrote for a queue call (named by the caller
channel's Uniqueid, the call log's key), tied to its call-log row and so to the attention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from cti.db.audit import audit_in
from cti.db.engine import Database
from cti.db.models import Call, Recording
from cti.errors import NotFound
from cti.i18n import _


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingRow:
    """A recording with what its playback is audited against."""

    id: int
    file: str
    bytes: int
    call_id: int
    linkedid: str | None
    attention_id: int | None
    operator_id: int | None


async def attach(
    db: Database, *, pbx: str, uniqueid: str, file: str, size: int, stopped_by: str | None
) -> int | None:
    """Tie a recording file to its call's row; its id, or None while the call log has no row for
    the call yet (try again later). Attaching twice changes nothing."""
    async with db.sessions.begin() as session:
        call_id = await session.scalar(
            sa.select(Call.id).where(Call.pbx == pbx, Call.uniqueid == uniqueid)
        )
        if call_id is None:
            return None
        stmt = (
            pg_insert(Recording)
            .values(
                call_id=call_id,
                file=file,
                bytes=size,
                stopped_by=stopped_by,
                stopped_at=sa.func.now() if stopped_by else None,
            )
            .on_conflict_do_nothing(index_elements=[Recording.call_id])
            .returning(Recording.id)
        )
        made = await session.scalar(stmt)
        if made is None:
            made = await session.scalar(sa.select(Recording.id).where(Recording.call_id == call_id))
        return int(made) if made is not None else None


async def recording(db: Database, recording_id: int) -> RecordingRow:
    """One recording. Raises NotFound."""
    stmt = (
        sa.select(Recording, Call.linkedid, Call.attention_id, Call.operator_id)
        .join(Call, Call.id == Recording.call_id)
        .where(Recording.id == recording_id)
    )
    async with db.sessions() as session:
        row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound(_("recording"), recording_id)
    rec, linkedid, attention_id, operator_id = row
    return RecordingRow(
        id=rec.id,
        file=rec.file,
        bytes=rec.bytes,
        call_id=rec.call_id,
        linkedid=linkedid,
        attention_id=attention_id,
        operator_id=operator_id,
    )


async def expired(db: Database, before: datetime) -> list[tuple[int, str]]:
    """Recordings made before ``before``: (id, file), oldest first."""
    stmt = (
        sa.select(Recording.id, Recording.file)
        .where(Recording.created_at < before)
        .order_by(Recording.id)
    )
    async with db.sessions() as session:
        return [(int(i), str(f)) for i, f in (await session.execute(stmt)).all()]


async def forget(db: Database, ids: list[int], *, actor: str, reason: str) -> int:
    """Delete recording rows (their files are gone); each deletion audited. How many."""
    if not ids:
        return 0
    async with db.sessions.begin() as session:
        gone = (
            await session.execute(
                sa.delete(Recording).where(Recording.id.in_(ids)).returning(Recording.id)
            )
        ).scalars()
        count = 0
        for rid in gone:
            count += 1
            await audit_in(session, actor, "recording.deleted", f"recording:{rid}", {"why": reason})
        return count
