"""Users (operators, supervisors, admins) and attention groups."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_in
from cti.db.backoffice.common import NotFound, Refused
from cti.db.engine import Database
from cti.db.models import AttentionGroup, Case, Operator
from cti.domain.backoffice import OPEN_CASE_STATES
from cti.domain.model import Role, Routine
from cti.errors import UserInputError
from cti.passwords import hash_password

MIN_PASSWORD_LENGTH = 6
_ROLES = ", ".join(r.value for r in Role)
_ROUTINES = ", ".join(r.value for r in Routine)


def parse_role(role: str | Role) -> Role:
    """The role named by ``role``.

    Raises:
        UserInputError: not one of operator, supervisor, admin.
    """
    try:
        return Role(str(role).strip().lower())
    except ValueError:
        raise UserInputError("role", f"{role!r} is not a role; expected one of {_ROLES}") from None


def parse_routines(routines: Iterable[str | Routine] | str | None) -> frozenset[Routine]:
    """The routines named (a list, or one comma-separated string).

    Raises:
        UserInputError: a name that is not telemarketing, telesales or collection.
    """
    if routines is None:
        return frozenset()
    items = routines.split(",") if isinstance(routines, str) else list(routines)
    found: set[Routine] = set()
    for item in items:
        name = str(item).strip().lower()
        if not name:
            continue
        try:
            found.add(Routine(name))
        except ValueError:
            raise UserInputError(
                "routines", f"{item!r} is not a routine; expected one of {_ROUTINES}"
            ) from None
    return frozenset(found)


async def ensure_group(db: Database, name: str, ideal_talk_seconds: int) -> int:
    """Create the attention group, or set its ideal talk time if it exists; return its id.

    Raises:
        UserInputError: an empty name or an ideal talk time that is not a positive number of seconds.
    """
    name = name.strip()
    if not name:
        raise UserInputError("group", "an attention group needs a name")
    if isinstance(ideal_talk_seconds, bool) or int(ideal_talk_seconds) <= 0:
        raise UserInputError(
            "ideal_talk_seconds",
            f"must be a positive number of seconds, got {ideal_talk_seconds!r}",
        )
    stmt = (
        pg_insert(AttentionGroup)
        .values(name=name, ideal_talk_seconds=int(ideal_talk_seconds))
        .on_conflict_do_update(
            index_elements=[AttentionGroup.name],
            set_={"ideal_talk_seconds": int(ideal_talk_seconds)},
        )
        .returning(AttentionGroup.id)
    )
    async with db.sessions.begin() as session:
        return int((await session.execute(stmt)).scalar_one())


async def add_user(
    db: Database,
    *,
    username: str,
    password: str,
    role: str | Role,
    routines: Iterable[str | Routine] | str | None = (),
    group: str | None = None,
    extension: str | None = None,
    full_name: str | None = None,
    personal_data: bool = False,
    interface: str | None = None,
) -> int:
    """Add a user and return their id.

    ``extension`` is the number that reaches the agent's phone; ``interface`` is the Asterisk queue
    member interface. Give either: an extension ``1001`` implies the interface ``PJSIP/1001``, and an
    extension written as an interface (``PJSIP/agent1``) sets both (``agent1``, ``PJSIP/agent1``).

    Raises:
        UserInputError: a username that is empty or taken, a short password, an unknown role,
            routine or attention group, an operator without any routine, or an extension or
            interface already given to someone else.
    """
    username = username.strip()
    if not username or any(ch.isspace() for ch in username):
        raise UserInputError("username", "must be one word, not empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserInputError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    the_role = parse_role(role)
    the_routines = parse_routines(routines)
    if the_role is Role.OPERATOR and not the_routines:
        raise UserInputError("routines", f"an operator needs at least one routine ({_ROUTINES})")
    extension = (extension or "").strip() or None
    interface = (interface or "").strip() or None
    if extension and "/" in extension:
        interface = interface or extension
        extension = extension.rsplit("/", 1)[1] or None
    if extension and not interface:
        interface = f"PJSIP/{extension}"
    # Argon2 is deliberately slow: keep it off the event loop.
    password_hash = await asyncio.to_thread(hash_password, password)

    async with db.sessions.begin() as session:
        if (
            await session.execute(sa.select(Operator.id).where(Operator.username == username))
        ).first() is not None:
            raise UserInputError("username", f"{username!r} already exists")
        group_id: int | None = None
        if group:
            group_id = (
                await session.execute(
                    sa.select(AttentionGroup.id).where(AttentionGroup.name == group.strip())
                )
            ).scalar_one_or_none()
            if group_id is None:
                raise UserInputError("group", f"there is no attention group {group!r}")
        for field, value, column in (
            ("extension", extension, Operator.extension),
            ("interface", interface, Operator.interface),
        ):
            if value is None:
                continue
            holder = (
                await session.execute(sa.select(Operator.username).where(column == value))
            ).scalar_one_or_none()
            if holder is not None:
                raise UserInputError(field, f"{value!r} is already used by {holder!r}")
        user = Operator(
            username=username,
            full_name=(full_name or "").strip() or None,
            password_hash=password_hash,
            role=the_role,
            routines=the_routines,
            group_id=group_id,
            extension=extension,
            interface=interface,
            personal_data=personal_data,
        )
        session.add(user)
        try:
            await session.flush()
        except IntegrityError as exc:
            # Someone added the same user between our checks and our insert.
            field = _violated_column(exc)
            value = {"username": username, "extension": extension, "interface": interface}[field]
            raise UserInputError(field, f"{value!r} is already used") from exc
        return user.id


def _violated_column(exc: IntegrityError) -> str:
    """Which of username, extension, interface a unique violation is about."""
    name = str(
        getattr(exc.orig, "constraint_name", "")
        or getattr(getattr(exc.orig, "__cause__", None), "constraint_name", "")
        or ""
    )
    for field in ("extension", "interface"):
        if name.endswith(f"_{field}"):
            return field
    return "username"


# --- administration (the back office's Users section) ------------------------------------------

_ROUTINE_ORDER = tuple(r.value for r in Routine)
# What an admin may change on a user with :func:`change_user` (passwords and activity have their
# own functions: they end sessions).
CHANGEABLE = ("full_name", "role", "routines", "group", "extension", "interface", "personal_data")


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as the administration sees them (never the password hash)."""

    id: int
    username: str
    full_name: str | None
    role: str
    routines: tuple[str, ...]
    group_id: int | None
    group: str | None
    extension: str | None
    interface: str | None
    personal_data: bool
    # The permission granted to the user's whole attention group (it adds to the user's own).
    group_personal_data: bool
    active: bool
    open_cases: int
    created_at: datetime
    updated_at: datetime

    def json(self) -> dict[str, Any]:
        """The record as the API shows it."""
        return {
            "id": self.id,
            "username": self.username,
            "full_name": self.full_name,
            "role": self.role,
            "routines": list(self.routines),
            "group_id": self.group_id,
            "group": self.group,
            "extension": self.extension,
            "interface": self.interface,
            "personal_data": self.personal_data,
            "group_personal_data": self.group_personal_data,
            "active": self.active,
            "open_cases": self.open_cases,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _records_stmt() -> Any:
    open_cases = (
        sa.select(Case.assignee_id, sa.func.count().label("n"))
        .where(Case.status.in_(OPEN_CASE_STATES))
        .group_by(Case.assignee_id)
        .subquery()
    )
    return (
        sa.select(
            Operator,
            AttentionGroup.name,
            AttentionGroup.personal_data,
            sa.func.coalesce(open_cases.c.n, 0),
        )
        .outerjoin(AttentionGroup, AttentionGroup.id == Operator.group_id)
        .outerjoin(open_cases, open_cases.c.assignee_id == Operator.id)
    )


def _record(row: Any) -> UserRecord:
    op, group, group_personal, open_cases = row
    names = {str(r) for r in op.routines}
    return UserRecord(
        id=op.id,
        username=op.username,
        full_name=op.full_name,
        role=str(op.role),
        routines=tuple(r for r in _ROUTINE_ORDER if r in names),
        group_id=op.group_id,
        group=group,
        extension=op.extension,
        interface=op.interface,
        personal_data=op.personal_data,
        group_personal_data=bool(group_personal),
        active=op.active,
        open_cases=int(open_cases),
        created_at=op.created_at,
        updated_at=op.updated_at,
    )


async def list_users(db: Database, *, active: bool | None = None) -> list[UserRecord]:
    """Every user (or only the active or inactive ones), by user name."""
    stmt = _records_stmt().order_by(Operator.username)
    if active is not None:
        stmt = stmt.where(Operator.active.is_(active))
    async with db.sessions() as session:
        return [_record(row) for row in (await session.execute(stmt)).all()]


async def get_user(db: Database, user_id: int) -> UserRecord:
    """One user.

    Raises:
        NotFound: no user has this id.
    """
    async with db.sessions() as session:
        row = (await session.execute(_records_stmt().where(Operator.id == user_id))).first()
    if row is None:
        raise NotFound("user", user_id)
    return _record(row)


def _phone(extension: str | None, interface: str | None) -> tuple[str | None, str | None]:
    """The extension and interface as :func:`add_user` reads them (one implies the other)."""
    extension = (extension or "").strip() or None
    interface = (interface or "").strip() or None
    if extension and "/" in extension:
        interface = interface or extension
        extension = extension.rsplit("/", 1)[1] or None
    if extension and not interface:
        interface = f"PJSIP/{extension}"
    return extension, interface


async def _locked_user(session: AsyncSession, user_id: int) -> Operator:
    op = await session.get(Operator, user_id, with_for_update=True)
    if op is None:
        raise NotFound("user", user_id)
    return op


async def _other_active_admins(session: AsyncSession, user_id: int) -> int:
    return int(
        (
            await session.execute(
                sa.select(sa.func.count()).where(
                    Operator.role == Role.ADMIN, Operator.active, Operator.id != user_id
                )
            )
        ).scalar_one()
    )


async def _keep_an_admin(session: AsyncSession, op: Operator, actor_id: int, field: str) -> None:
    """Refuse to take away the last active admin, or the acting admin's own administration."""
    if op.role is not Role.ADMIN or not op.active:
        return
    if op.id == actor_id:
        what = "role" if field == "role" else "account"
        raise Refused(f"you cannot take away your own admin {what}; ask another admin", field)
    if await _other_active_admins(session, op.id) == 0:
        raise Refused(f"{op.username} is the last active admin; make another admin first", field)


def _shown(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(str(v) for v in value)
    return str(value) if isinstance(value, Role) else value


async def change_user(
    db: Database, user_id: int, changes: Mapping[str, Any], *, actor: str, actor_id: int
) -> UserRecord:
    """Change a user's full name, role, routines, attention group (by name; None: none),
    extension/interface (read as :func:`add_user` reads them) or personal-data permission.

    Every change is audited as ``user.change`` with each field's value before and after.

    Raises:
        NotFound: no user has this id.
        UserInputError: an unknown role, routine or group, an operator left without routines,
            an extension or interface already someone else's (each names its field).
        Refused: the change would take away the acting admin's own role, or the last admin.
    """
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise UserInputError(unknown[0], "cannot be changed here")
    async with db.sessions.begin() as session:
        op = await _locked_user(session, user_id)
        before = {
            "full_name": op.full_name,
            "role": op.role,
            "routines": op.routines,
            "group_id": op.group_id,
            "extension": op.extension,
            "interface": op.interface,
            "personal_data": op.personal_data,
        }
        if "full_name" in changes:
            op.full_name = (changes["full_name"] or "").strip() or None
        if "role" in changes:
            role = parse_role(changes["role"])
            if role is not op.role:
                await _keep_an_admin(session, op, actor_id, "role")
            op.role = role
        if "routines" in changes:
            op.routines = parse_routines(changes["routines"])
        if op.role is Role.OPERATOR and not op.routines:
            raise UserInputError(
                "routines", f"an operator needs at least one routine ({_ROUTINES})"
            )
        if "group" in changes:
            name = (changes["group"] or "").strip()
            group_id: int | None = None
            if name:
                group_id = (
                    await session.execute(
                        sa.select(AttentionGroup.id).where(AttentionGroup.name == name)
                    )
                ).scalar_one_or_none()
                if group_id is None:
                    raise UserInputError("group", f"there is no attention group {name!r}")
            op.group_id = group_id
        if "extension" in changes or "interface" in changes:
            extension = changes.get("extension", op.extension)
            # A new extension alone brings its own interface (PJSIP/<extension>).
            interface = changes.get("interface", None if "extension" in changes else op.interface)
            extension, interface = _phone(extension, interface)
            for field, value, column in (
                ("extension", extension, Operator.extension),
                ("interface", interface, Operator.interface),
            ):
                if value is None:
                    continue
                holder = (
                    await session.execute(
                        sa.select(Operator.username).where(column == value, Operator.id != op.id)
                    )
                ).scalar_one_or_none()
                if holder is not None:
                    raise UserInputError(field, f"{value!r} is already used by {holder!r}")
            op.extension, op.interface = extension, interface
        if "personal_data" in changes:
            op.personal_data = bool(changes["personal_data"])
        after = {
            "full_name": op.full_name,
            "role": op.role,
            "routines": op.routines,
            "group_id": op.group_id,
            "extension": op.extension,
            "interface": op.interface,
            "personal_data": op.personal_data,
        }
        changed = {
            k: [_shown(before[k]), _shown(after[k])] for k in before if before[k] != after[k]
        }
        try:
            await session.flush()
        except IntegrityError as exc:
            field = _violated_column(exc)
            raise UserInputError(field, "is already used by someone else") from exc
        if changed:
            await audit_in(
                session, actor, "user.change", f"user:{op.id}", {"username": op.username, **changed}
            )
    return await get_user(db, user_id)


async def reset_password(db: Database, user_id: int, password: str, *, actor: str) -> UserRecord:
    """Give a user a new password (audited as ``user.password``; the password is never written).

    Raises:
        NotFound: no user has this id.
        UserInputError: a password shorter than :data:`MIN_PASSWORD_LENGTH`.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserInputError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    password_hash = await asyncio.to_thread(hash_password, password)
    async with db.sessions.begin() as session:
        op = await _locked_user(session, user_id)
        op.password_hash = password_hash
        await audit_in(session, actor, "user.password", f"user:{op.id}", {"username": op.username})
    return await get_user(db, user_id)


async def set_active(
    db: Database, user_id: int, active: bool, *, actor: str, actor_id: int
) -> UserRecord:
    """Deactivate (they can no longer sign in) or reactivate a user; audited as
    ``user.deactivate`` / ``user.reactivate``. Their cases stay theirs: reassign them.

    Raises:
        NotFound: no user has this id.
        Refused: deactivating oneself, or the last active admin.
    """
    async with db.sessions.begin() as session:
        op = await _locked_user(session, user_id)
        if op.active != active:
            if not active:
                await _keep_an_admin(session, op, actor_id, "active")
            op.active = active
            await audit_in(
                session,
                actor,
                "user.reactivate" if active else "user.deactivate",
                f"user:{op.id}",
                {"username": op.username},
            )
    return await get_user(db, user_id)


async def directory(db: Database) -> list[dict[str, Any]]:
    """Active users with their role and group: whom a message or a case can go to."""
    stmt = (
        sa.select(
            Operator.id,
            Operator.username,
            Operator.full_name,
            Operator.role,
            Operator.group_id,
            AttentionGroup.name,
        )
        .outerjoin(AttentionGroup, AttentionGroup.id == Operator.group_id)
        .where(Operator.active)
        .order_by(Operator.username)
    )
    async with db.sessions() as session:
        rows = (await session.execute(stmt)).all()
    return [
        {
            "id": i,
            "username": u,
            "full_name": n or u,
            "role": str(r),
            "group_id": g,
            "group": gn,
        }
        for i, u, n, r, g, gn in rows
    ]


__all__ = [
    "CHANGEABLE",
    "MIN_PASSWORD_LENGTH",
    "UserRecord",
    "add_user",
    "change_user",
    "directory",
    "ensure_group",
    "get_user",
    "list_users",
    "parse_role",
    "parse_routines",
    "reset_password",
    "set_active",
]
