"""Signed-in browsers, kept in PostgreSQL so that a restart signs nobody out and every instance
sees the same sessions. Rows are keyed by a hash of the token (the caller hashes it); the token
itself never reaches the database. Times are the caller's clock, passed in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cti.db.accounts import Account, account_of
from cti.db.engine import Database
from cti.db.models import AttentionGroup, Operator, WebSession


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A live session and its user as sign-in sees them."""

    key: str
    expires_at: datetime
    desk_open: bool
    account: Account


def _live(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(WebSession.ended_at.is_(None), WebSession.expires_at >= now)


def _select_live(now: datetime) -> Any:
    return (
        sa.select(
            WebSession,
            Operator,
            AttentionGroup.name,
            AttentionGroup.ideal_talk_seconds,
            AttentionGroup.personal_data,
        )
        .join(Operator, Operator.id == WebSession.user_id)
        .outerjoin(AttentionGroup, AttentionGroup.id == Operator.group_id)
        .where(_live(now), Operator.active.is_(True))
    )


def _rows(found: Iterable[Any]) -> list[SessionRow]:
    return [
        SessionRow(
            key=ws.token_hash,
            expires_at=ws.expires_at,
            desk_open=ws.desk_open,
            account=account_of(op, group, ideal, group_personal),
        )
        for ws, op, group, ideal, group_personal in found
    ]


async def create_session(db: Database, key: str, user_id: int, expires_at: datetime) -> None:
    async with db.sessions.begin() as s:
        await s.execute(
            sa.insert(WebSession).values(token_hash=key, user_id=user_id, expires_at=expires_at)
        )


async def live_session(db: Database, key: str, now: datetime) -> SessionRow | None:
    """The session with this key, if it has not ended nor run out and its user is active."""
    async with db.sessions() as s:
        found = (await s.execute(_select_live(now).where(WebSession.token_hash == key))).all()
    rows = _rows(found)
    return rows[0] if rows else None


async def live_sessions_of(db: Database, user_id: int, now: datetime) -> list[SessionRow]:
    """A user's live sessions, oldest first."""
    stmt = _select_live(now).where(WebSession.user_id == user_id).order_by(WebSession.created_at)
    async with db.sessions() as s:
        return _rows((await s.execute(stmt)).all())


async def signed_in_at(db: Database, interfaces: Iterable[str], now: datetime) -> list[Account]:
    """The active operators with a live session whose phone (interface, else extension) is one
    of ``interfaces``."""
    wanted = list(interfaces)
    if not wanted:
        return []
    phone = sa.func.coalesce(Operator.interface, Operator.extension)
    stmt = (
        _select_live(now)
        .where(Operator.role == "operator", phone.in_(wanted))
        .order_by(WebSession.created_at.desc())
    )
    async with db.sessions() as s:
        rows = _rows((await s.execute(stmt)).all())
    seen: dict[int, Account] = {}
    for row in rows:
        seen.setdefault(row.account.id, row.account)
    return list(seen.values())


async def accounts_signed_in(db: Database, user_ids: Iterable[int], now: datetime) -> list[Account]:
    """The accounts of these users that have a live session (an active user's)."""
    ids = list(user_ids)
    if not ids:
        return []
    stmt = _select_live(now).where(WebSession.user_id.in_(ids)).order_by(WebSession.created_at)
    async with db.sessions() as s:
        rows = _rows((await s.execute(stmt)).all())
    return list({row.account.id: row.account for row in rows}.values())


async def users_signed_in(db: Database, user_ids: Iterable[int], now: datetime) -> set[int]:
    """Which of these users have a live session."""
    ids = list(user_ids)
    if not ids:
        return set()
    stmt = sa.select(WebSession.user_id).where(_live(now), WebSession.user_id.in_(ids)).distinct()
    async with db.sessions() as s:
        return set((await s.execute(stmt)).scalars())


async def end_sessions(
    db: Database, keys: Iterable[str], reason: str, now: datetime
) -> list[tuple[str, int]]:
    """End these sessions (those still live); the (key, user id) of each one ended here."""
    wanted = list(keys)
    if not wanted:
        return []
    stmt = (
        sa.update(WebSession)
        .where(WebSession.token_hash.in_(wanted), WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason, desk_open=False)
        .returning(WebSession.token_hash, WebSession.user_id)
    )
    async with db.sessions.begin() as s:
        return [(k, u) for k, u in (await s.execute(stmt)).all()]


async def end_sessions_of(
    db: Database, user_id: int, reason: str, now: datetime, *, keep: str | None = None
) -> list[str]:
    """End a user's sessions (active user or not), all but ``keep``; the keys ended."""
    stmt = (
        sa.update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason, desk_open=False)
        .returning(WebSession.token_hash)
    )
    if keep is not None:
        stmt = stmt.where(WebSession.token_hash != keep)
    async with db.sessions.begin() as s:
        return list((await s.execute(stmt)).scalars())


async def end_expired(db: Database, now: datetime) -> list[tuple[str, int]]:
    """End the sessions whose time is up; the (key, user id) of each. Of several instances
    sweeping at once, each session is returned to one only."""
    stmt = (
        sa.update(WebSession)
        .where(WebSession.ended_at.is_(None), WebSession.expires_at < now)
        .values(ended_at=now, end_reason="expired", desk_open=False)
        .returning(WebSession.token_hash, WebSession.user_id)
    )
    async with db.sessions.begin() as s:
        return [(k, u) for k, u in (await s.execute(stmt)).all()]


async def ended_among(db: Database, keys: Iterable[str], now: datetime) -> dict[str, str]:
    """Of these sessions, those no longer live, with why (``expired`` when only its time is up,
    ``gone`` when there is no such row, ``deactivated`` when its user is no longer active)."""
    wanted = set(keys)
    if not wanted:
        return {}
    stmt = (
        sa.select(
            WebSession.token_hash,
            WebSession.ended_at,
            WebSession.end_reason,
            WebSession.expires_at,
            Operator.active,
        )
        .join(Operator, Operator.id == WebSession.user_id)
        .where(WebSession.token_hash.in_(wanted))
    )
    async with db.sessions() as s:
        found = (await s.execute(stmt)).all()
    ended = dict.fromkeys(wanted, "gone")
    for key, ended_at, reason, expires_at, active in found:
        if ended_at is not None:
            ended[key] = reason or "ended"
        elif expires_at < now:
            ended[key] = "expired"
        elif not active:
            ended[key] = "deactivated"
        else:
            del ended[key]
    return ended


async def set_desk_open(db: Database, key: str, is_open: bool) -> None:
    async with db.sessions.begin() as s:
        await s.execute(
            sa.update(WebSession)
            .where(WebSession.token_hash == key, WebSession.ended_at.is_(None))
            .values(desk_open=is_open)
        )


async def purge_ended(db: Database, before: datetime) -> int:
    """Delete the sessions that ended, or ran out, before ``before``; how many."""
    stmt = sa.delete(WebSession).where(
        sa.or_(WebSession.ended_at < before, WebSession.expires_at < before)
    )
    async with db.sessions.begin() as s:
        result = await s.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)
