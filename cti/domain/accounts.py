"""The rules for users (operators, supervisors, admins) and attention groups, as pure functions.

The repository (:mod:`cti.db.users`) reads the user and what the database says about the others
(whether a name is taken, how many other admins are active), hands them here and writes what
these functions allow. The password rule itself is :func:`cti.passwords.password_problem`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cti.domain.model import Role, Routine
from cti.domain.texts import _
from cti.errors import Refused, UserInputError

ROLES = ", ".join(r.value for r in Role)
ROUTINES = ", ".join(r.value for r in Routine)
# What an admin may change on a user (passwords and activity have their own calls: they end
# sessions).
CHANGEABLE = (
    "full_name",
    "role",
    "routines",
    "group",
    "extension",
    "interface",
    "softphone",
    "personal_data",
)


def parse_role(role: str | Role) -> Role:
    """The role named by ``role``.

    Raises:
        UserInputError: not one of operator, supervisor, admin.
    """
    try:
        return Role(str(role).strip().lower())
    except ValueError:
        raise UserInputError(
            "role", _("{role!r} is not a role; expected one of {roles}"), role=role, roles=ROLES
        ) from None


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
                "routines",
                _("{item!r} is not a routine; expected one of {routines}"),
                item=item,
                routines=ROUTINES,
            ) from None
    return frozenset(found)


def check_username(username: str) -> str:
    """The user name trimmed: one word of printable characters."""
    username = username.strip()
    if not username or any(ch.isspace() or not ch.isprintable() for ch in username):
        raise UserInputError("username", _("must be one word, not empty"))
    return username


def check_routines(role: Role, routines: frozenset[Routine]) -> None:
    """An operator works at least one routine (supervisors and admins need none)."""
    if role is Role.OPERATOR and not routines:
        raise UserInputError(
            "routines", _("an operator needs at least one routine ({routines})"), routines=ROUTINES
        )


def phone_identity(extension: str | None, interface: str | None) -> tuple[str | None, str | None]:
    """A user's extension and Asterisk interface as given: one implies the other.

    An extension ``1001`` implies the interface ``PJSIP/1001``; an extension written as an
    interface (``PJSIP/agent1``) sets both (``agent1``, ``PJSIP/agent1``).
    """
    extension = (extension or "").strip() or None
    interface = (interface or "").strip() or None
    if extension and "/" in extension:
        interface = interface or extension
        extension = extension.rsplit("/", 1)[1] or None
    if extension and not interface:
        interface = f"PJSIP/{extension}"
    return extension, interface


def check_group(name: str, ideal_talk_seconds: int) -> tuple[str, int]:
    """An attention group's name (trimmed, not empty) and ideal talk time (seconds, above 0)."""
    name = name.strip()
    if not name:
        raise UserInputError("group", _("an attention group needs a name"))
    if isinstance(ideal_talk_seconds, bool) or int(ideal_talk_seconds) <= 0:
        raise UserInputError(
            "ideal_talk_seconds",
            _("must be a positive number of seconds, got {ideal_talk_seconds!r}"),
            ideal_talk_seconds=ideal_talk_seconds,
        )
    return name, int(ideal_talk_seconds)


def check_changeable(changes: Mapping[str, object]) -> None:
    """Only the :data:`CHANGEABLE` fields are changed through a user's record."""
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise UserInputError(unknown[0], _("cannot be changed here"))


def check_admin_kept(
    *,
    role: Role,
    active: bool,
    username: str,
    is_actor: bool,
    other_admins: int,
    field: str,
) -> None:
    """Taking away an active admin's role or account (``field``): never the acting admin's own,
    and never the last active admin's (``other_admins``: how many others are active admins)."""
    if role is not Role.ADMIN or not active:
        return
    if is_actor:
        if field == "role":
            raise Refused(_("you cannot take away your own admin role; ask another admin"), field)
        raise Refused(_("you cannot take away your own admin account; ask another admin"), field)
    if other_admins == 0:
        raise Refused(
            _("{username} is the last active admin; make another admin first"),
            field,
            username=username,
        )


def check_active_user(field: str, user_id: int, *, active: bool) -> None:
    """Work (a message, attentions) goes only to an active user."""
    if not active:
        raise UserInputError(field, _("{user_id} is not an active user"), user_id=user_id)


__all__ = [
    "CHANGEABLE",
    "ROLES",
    "ROUTINES",
    "check_active_user",
    "check_admin_kept",
    "check_changeable",
    "check_group",
    "check_routines",
    "check_username",
    "parse_role",
    "parse_routines",
    "phone_identity",
]
