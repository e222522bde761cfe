"""What sign-in and the desk read about a user."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from cti.db.engine import Database
from cti.db.models import AttentionGroup, Operator


@dataclass(frozen=True, slots=True)
class Account:
    """A user as sign-in sees them (the password hash never leaves the server)."""

    id: int
    username: str
    full_name: str
    password_hash: str
    role: str
    routines: tuple[str, ...]
    group: str | None
    ideal_talk_seconds: int | None
    extension: str | None
    interface: str | None
    personal_data: bool
    active: bool
    # Their phone is the desk's softphone (WebRTC).
    softphone: bool = False
    # Their own language (cti.i18n), else None: their browser's.
    language: str | None = None


_ROUTINE_ORDER = ("telemarketing", "telesales", "collection")


async def load_account(db: Database, username: str) -> Account | None:
    """The user with this name (exact), or None."""
    stmt = (
        sa.select(
            Operator,
            AttentionGroup.name,
            AttentionGroup.ideal_talk_seconds,
            AttentionGroup.personal_data,
        )
        .outerjoin(AttentionGroup, AttentionGroup.id == Operator.group_id)
        .where(Operator.username == username)
    )
    async with db.sessions() as session:
        row = (await session.execute(stmt)).first()
    if row is None:
        return None
    op, group, ideal, group_personal = row
    return account_of(op, group, ideal, group_personal)


def account_of(
    op: Operator, group: str | None, ideal: int | None, group_personal: bool | None
) -> Account:
    """An account from its operator row and its attention group's columns."""
    routines = tuple(r for r in _ROUTINE_ORDER if r in {str(x) for x in op.routines})
    return Account(
        id=op.id,
        username=op.username,
        full_name=op.full_name or op.username,
        password_hash=op.password_hash,
        role=str(op.role),
        routines=routines,
        group=group,
        ideal_talk_seconds=ideal,
        extension=op.extension,
        interface=op.interface,
        # The permission is the user's own or granted to their whole attention group.
        personal_data=op.personal_data or bool(group_personal),
        active=op.active,
        softphone=op.softphone,
        language=op.language,
    )
