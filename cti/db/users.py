"""Users (operators, supervisors, admins) and attention groups."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased

from cti.db.audit import audit_in
from cti.db.engine import Database
from cti.db.models import AttentionGroup, AuditEvent, Case, Operator
from cti.domain.accounts import (
    CHANGEABLE,
    check_admin_kept,
    check_changeable,
    check_group,
    check_routines,
    check_username,
    parse_role,
    parse_routines,
    phone_identity,
)
from cti.domain.backoffice import OPEN_CASE_STATES
from cti.domain.model import Role, Routine
from cti.errors import NotFound, UserInputError
from cti.i18n import _
from cti.passwords import MIN_LENGTH, hash_password, password_problem

MIN_PASSWORD_LENGTH = MIN_LENGTH
# Audit action flagging a user whose password (set before the rule) breaks it; found at sign-in.
WEAK_PASSWORD = "user.weak_password"  # noqa: S105 (an audit action, not a password)


def check_password(password: str, username: str) -> None:
    """Raise UserInputError naming ``password`` when it breaks the rule (cti.passwords)."""
    problem = password_problem(password, username)
    if problem is not None:
        raise UserInputError("password", problem)


async def ensure_group(db: Database, name: str, ideal_talk_seconds: int) -> int:
    """Create the attention group, or set its ideal talk time if it exists; return its id.

    Raises:
        UserInputError: an empty name or an ideal talk time that is not a positive number of seconds.
    """
    name, seconds = check_group(name, ideal_talk_seconds)
    stmt = (
        pg_insert(AttentionGroup)
        .values(name=name, ideal_talk_seconds=seconds)
        .on_conflict_do_update(
            index_elements=[AttentionGroup.name], set_={"ideal_talk_seconds": seconds}
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
    softphone: bool = False,
) -> int:
    """Add a user and return their id.

    ``extension`` is the number that reaches the agent's phone; ``interface`` is the Asterisk queue
    member interface. Give either: an extension ``1001`` implies the interface ``PJSIP/1001``, and an
    extension written as an interface (``PJSIP/agent1``) sets both (``agent1``, ``PJSIP/agent1``).

    Raises:
        UserInputError: a username that is empty or taken, a password that breaks the rule
            (:func:`cti.passwords.password_problem`), an unknown role,
            routine or attention group, an operator without any routine, or an extension or
            interface already given to someone else.
    """
    username = check_username(username)
    check_password(password, username)
    the_role = parse_role(role)
    the_routines = parse_routines(routines)
    check_routines(the_role, the_routines)
    extension, interface = phone_identity(extension, interface)
    # Argon2 is deliberately slow: keep it off the event loop.
    password_hash = await asyncio.to_thread(hash_password, password)

    async with db.sessions.begin() as session:
        if (
            await session.execute(sa.select(Operator.id).where(Operator.username == username))
        ).first() is not None:
            raise UserInputError("username", _("{username!r} already exists"), username=username)
        group_id = await _group_id(session, group)
        await _phone_free(session, extension, interface, None)
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
            softphone=softphone,
        )
        session.add(user)
        try:
            await session.flush()
        except IntegrityError as exc:
            # Someone added the same user between our checks and our insert.
            field = _violated_column(exc)
            value = {"username": username, "extension": extension, "interface": interface}[field]
            raise UserInputError(field, _("{value!r} is already used"), value=value) from exc
        return user.id


async def _group_id(session: AsyncSession, name: str | None) -> int | None:
    """The id of the attention group named ``name`` (None for no name); the group must exist."""
    name = (name or "").strip()
    if not name:
        return None
    group_id = (
        await session.execute(sa.select(AttentionGroup.id).where(AttentionGroup.name == name))
    ).scalar_one_or_none()
    if group_id is None:
        raise UserInputError("group", _("there is no attention group {name!r}"), name=name)
    return int(group_id)


async def _phone_free(
    session: AsyncSession, extension: str | None, interface: str | None, user_id: int | None
) -> None:
    """An extension and an interface are one user's each (the unique keys, asked first so the
    answer names the holder); ``user_id`` is the user they are for, when it exists."""
    for field, value, column in (
        ("extension", extension, Operator.extension),
        ("interface", interface, Operator.interface),
    ):
        if value is None:
            continue
        stmt = sa.select(Operator.username).where(column == value)
        if user_id is not None:
            stmt = stmt.where(Operator.id != user_id)
        holder = (await session.execute(stmt)).scalar_one_or_none()
        if holder is not None:
            raise UserInputError(
                field, _("{value!r} is already used by {holder!r}"), value=value, holder=holder
            )


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


class UserJson(TypedDict):
    """A user as the API shows it (:meth:`UserRecord.json`)."""

    id: int
    username: str
    full_name: str | None
    role: str
    routines: list[str]
    group_id: int | None
    group: str | None
    extension: str | None
    interface: str | None
    softphone: bool
    personal_data: bool
    group_personal_data: bool
    active: bool
    open_cases: int
    weak_password: bool
    created_at: str
    updated_at: str


class DirectoryEntry(TypedDict):
    """An active user whom a message or a case can go to."""

    id: int
    username: str
    full_name: str
    role: str
    group_id: int | None
    group: str | None


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
    # Their phone is the desk's softphone (WebRTC; cti issues its account).
    softphone: bool
    personal_data: bool
    # The permission granted to the user's whole attention group (it adds to the user's own).
    group_personal_data: bool
    active: bool
    open_cases: int
    created_at: datetime
    updated_at: datetime
    # Their password breaks the password rule (found at their last sign-in; cleared by a reset).
    weak_password: bool = False

    def json(self) -> UserJson:
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
            "softphone": self.softphone,
            "personal_data": self.personal_data,
            "group_personal_data": self.group_personal_data,
            "active": self.active,
            "open_cases": self.open_cases,
            "weak_password": self.weak_password,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _records_stmt() -> sa.Select[Operator, str | None, bool | None, int, bool]:
    # An operator, their group's name and personal-data permission (outer join: None when they
    # have no group), their open cases, whether their password was flagged weak.
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
            _weak(Operator.id),
        )
        .outerjoin(AttentionGroup, AttentionGroup.id == Operator.group_id)
        .outerjoin(open_cases, open_cases.c.assignee_id == Operator.id)
    )


def _weak(user_id: QueryableAttribute[int] | sa.ColumnElement[int]) -> sa.Exists:
    """Whether the user's password was flagged weak since it was last set (from the audit log)."""
    subject = sa.func.concat("user:", sa.cast(user_id, sa.Text))
    flagged, reset = aliased(AuditEvent), aliased(AuditEvent)
    last_set = (
        sa.select(sa.func.coalesce(sa.func.max(reset.id), 0))
        .where(reset.subject == subject, reset.action == "user.password")
        .scalar_subquery()
    )
    return (
        sa.select(flagged.id)
        .where(flagged.subject == subject, flagged.action == WEAK_PASSWORD, flagged.id > last_set)
        .exists()
    )


async def flag_weak_password(db: Database, user_id: int, username: str, problem: str) -> None:
    """Flag to admins that the user's password breaks the rule (once, until it is reset)."""
    async with db.sessions.begin() as session:
        if await session.scalar(sa.select(_weak(sa.literal(user_id)))):
            return
        await audit_in(session, username, WEAK_PASSWORD, f"user:{user_id}", {"problem": problem})


def _record(row: sa.Row[Operator, str | None, bool | None, int, bool]) -> UserRecord:
    op, group, group_personal, open_cases, weak = row
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
        softphone=op.softphone,
        personal_data=op.personal_data,
        group_personal_data=bool(group_personal),
        active=op.active,
        open_cases=int(open_cases),
        weak_password=bool(weak),
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
        raise NotFound(_("user"), user_id)
    return _record(row)


async def _locked_user(session: AsyncSession, user_id: int) -> Operator:
    op = await session.get(Operator, user_id, with_for_update=True)
    if op is None:
        raise NotFound(_("user"), user_id)
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
    check_admin_kept(
        role=op.role,
        active=op.active,
        username=op.username,
        is_actor=op.id == actor_id,
        other_admins=await _other_active_admins(session, op.id),
        field=field,
    )


def _changeable_fields(op: Operator) -> dict[str, object]:
    """What :func:`change_user` may change, as compared and audited before and after."""
    return {
        "full_name": op.full_name,
        "role": op.role,
        "routines": op.routines,
        "group_id": op.group_id,
        "extension": op.extension,
        "interface": op.interface,
        "softphone": op.softphone,
        "personal_data": op.personal_data,
    }


def _shown(value: object) -> object:
    if isinstance(value, frozenset):
        return sorted(str(v) for v in value)
    return str(value) if isinstance(value, Role) else value


async def change_user(
    db: Database, user_id: int, changes: Mapping[str, Any], *, actor: str, actor_id: int
) -> UserRecord:
    """Change a user's full name, role, routines, attention group (by name; None: none),
    extension/interface (read as :func:`add_user` reads them), phone kind (``softphone``) or
    personal-data permission.

    Every change is audited as ``user.change`` with each field's value before and after.

    Raises:
        NotFound: no user has this id.
        UserInputError: an unknown role, routine or group, an operator left without routines,
            an extension or interface already someone else's (each names its field).
        Refused: the change would take away the acting admin's own role, or the last admin.
    """
    check_changeable(changes)
    async with db.sessions.begin() as session:
        op = await _locked_user(session, user_id)
        before = _changeable_fields(op)
        if "full_name" in changes:
            op.full_name = (changes["full_name"] or "").strip() or None
        if "role" in changes:
            role = parse_role(changes["role"])
            if role is not op.role:
                await _keep_an_admin(session, op, actor_id, "role")
            op.role = role
        if "routines" in changes:
            op.routines = parse_routines(changes["routines"])
        check_routines(op.role, op.routines)
        if "group" in changes:
            op.group_id = await _group_id(session, changes["group"])
        if "extension" in changes or "interface" in changes:
            extension = changes.get("extension", op.extension)
            # A new extension alone brings its own interface (PJSIP/<extension>).
            interface = changes.get("interface", None if "extension" in changes else op.interface)
            extension, interface = phone_identity(extension, interface)
            await _phone_free(session, extension, interface, op.id)
            op.extension, op.interface = extension, interface
        if "softphone" in changes:
            op.softphone = bool(changes["softphone"])
        if "personal_data" in changes:
            op.personal_data = bool(changes["personal_data"])
        after = _changeable_fields(op)
        changed = {
            k: [_shown(before[k]), _shown(after[k])] for k in before if before[k] != after[k]
        }
        try:
            await session.flush()
        except IntegrityError as exc:
            field = _violated_column(exc)
            raise UserInputError(field, _("is already used by someone else")) from exc
        if changed:
            await audit_in(
                session, actor, "user.change", f"user:{op.id}", {"username": op.username, **changed}
            )
    return await get_user(db, user_id)


async def reset_password(db: Database, user_id: int, password: str, *, actor: str) -> UserRecord:
    """Give a user a new password (audited as ``user.password``; the password is never written).

    Raises:
        NotFound: no user has this id.
        UserInputError: a password that breaks the rule (:func:`check_password`).
    """
    async with db.sessions() as session:
        username = await session.scalar(sa.select(Operator.username).where(Operator.id == user_id))
    check_password(password, username or "")
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


async def directory(db: Database) -> list[DirectoryEntry]:
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
    "check_password",
    "directory",
    "ensure_group",
    "flag_weak_password",
    "get_user",
    "list_users",
    "parse_role",
    "parse_routines",
    "reset_password",
    "set_active",
]


async def set_language(db: Database, user_id: int, language: str | None) -> None:
    """A user's own language (None: their browser's). The caller checks it is one we have."""
    async with db.sessions.begin() as s:
        await s.execute(sa.update(Operator).where(Operator.id == user_id).values(language=language))
