"""Users (operators, supervisors, admins) and attention groups."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from cti.db.engine import Database
from cti.db.models import AttentionGroup, Operator
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


__all__ = ["MIN_PASSWORD_LENGTH", "add_user", "ensure_group", "parse_role", "parse_routines"]
