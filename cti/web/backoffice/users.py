"""User administration (admins): list, add, change, reset a password, deactivate, reactivate.

Every change is audited (``user.add``, ``user.change``, ``user.password``, ``user.deactivate``,
``user.reactivate``). A change reaches the user's open sessions at once (their role, routines and
group are re-read); a deactivated user's sessions end (their desk is closed and their phone leaves
the queues), and so do a user's other sessions when an admin resets their password.
``GET /api/v1/users/directory`` lists the active users for everyone (message recipients).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import MISSING, Field, RootModel

from cti.db import users as repo
from cti.db.audit import audit
from cti.web.api import Api, Body, Route, RouteMaker, body_of
from cti.web.auth import Session
from cti.web.backoffice.common import ok, path_id, query_bool
from cti.web.hub import CLOSE_SESSION_ENDED
from cti.web.models import Answer
from cti.web.state import WEB, WebState, current, web_state

route = RouteMaker("users", "admin")
RoleName = Literal["operator", "supervisor", "admin"]
RoutineName = Literal["telemarketing", "telesales", "collection"]
Routines = Annotated[list[RoutineName], Field(max_length=3)]
Text = Annotated[str, Field(max_length=200)]
Password = Annotated[str, Field(min_length=1, max_length=1000)]


async def end_sessions(
    app: web.Application, user_id: int, reason: str, *, keep: Session | None = None
) -> int:
    """End a user's sessions (all but ``keep``): their pages are told and closed, and when no
    session is left their phone leaves the queues. Returns how many sessions ended."""
    # The desk imports the back office's helpers: import it when first needed.
    from cti.web.desk import leave_desk

    st = app[WEB]
    ended = await st.sessions.end_user(user_id, reason, keep=keep)
    st.hub.close_sessions(user_id, set(ended), CLOSE_SESSION_ENDED, reason)
    if keep is None or keep.user.id != user_id:
        await leave_desk(app, user_id)
    return len(ended)


async def _refresh_desks(app: web.Application, user_ids: set[int] | None) -> None:
    # The desk imports the back office's helpers: import it when first needed.
    from cti.web.desk_phone import refresh_permissions

    await refresh_permissions(app, user_ids)


# --- bodies -------------------------------------------------------------------------------------


class _UserFields(Body):
    full_name: Text | None = None
    routines: Routines | MISSING = MISSING
    group: Text | None = Field(default=None, description="an attention group, by name")
    extension: Text | None = None
    interface: Text | None = None
    softphone: bool | MISSING = Field(
        default=MISSING, description="their phone is the desk's softphone (WebRTC)"
    )
    personal_data: bool | MISSING = MISSING


class UserChange(_UserFields):
    """What an admin changes on a user: only the fields sent change; ``full_name``, ``group``,
    ``extension`` and ``interface`` take null (none)."""

    role: RoleName | MISSING = MISSING


class UserNew(_UserFields):
    """A new user (the same rules as ``cti user add``)."""

    username: Annotated[str, Field(min_length=1, max_length=100)]
    password: Password
    role: RoleName


class PasswordReset(Body):
    password: Password


# --- answers ------------------------------------------------------------------------------------


class DirectoryUser(Answer):
    id: int
    username: str
    full_name: str
    role: RoleName
    group_id: int | None
    group: str | None


class UserDirectory(RootModel[list[DirectoryUser]]):
    """Active users, by user name."""


class UserShown(Answer):
    """A user as the administration sees them (never the password)."""

    id: int
    username: str
    full_name: str | None
    role: RoleName
    routines: list[RoutineName]
    group_id: int | None
    group: str | None
    extension: str | None
    interface: str | None
    softphone: bool = Field(description="their phone is the desk's softphone (WebRTC)")
    personal_data: bool
    group_personal_data: bool = Field(description="the permission granted to the user's group")
    active: bool
    open_cases: int
    weak_password: bool = Field(description="their password breaks the rule (last sign-in)")
    created_at: datetime
    updated_at: datetime
    signed_in: bool


class UserList(RootModel[list[UserShown]]):
    """Users, by user name."""


class UserSessionsEnded(UserShown):
    sessions_ended: int


# --- handlers -----------------------------------------------------------------------------------


async def user_directory(request: web.Request) -> web.StreamResponse:
    return ok(await repo.directory(web_state(request).runtime.db))


async def users(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    found = await repo.list_users(st.runtime.db, active=query_bool(request, "active"))
    signed_in = await st.sessions.signed_in(r.id for r in found)
    return ok([_json(r, r.id in signed_in) for r in found])


async def add(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    b = body_of(request, UserNew)
    given = b.model_dump(exclude_unset=True)
    actor = current(request).user.username
    user_id = await repo.add_user(
        st.runtime.db,
        username=b.username,
        password=b.password,
        role=b.role,
        routines=given.get("routines") or (),
        group=b.group or None,
        extension=b.extension,
        interface=b.interface,
        full_name=b.full_name,
        personal_data=bool(given.get("personal_data", False)),
        softphone=bool(given.get("softphone", False)),
    )
    made = await repo.get_user(st.runtime.db, user_id)
    details = {k: v for k, v in made.json().items() if k in repo.CHANGEABLE}
    await audit(
        st.runtime.db,
        actor,
        "user.add",
        f"user:{user_id}",
        {"username": made.username, **details},
    )
    return ok(_json(made, False), 201)


async def user(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    return ok(await _json_of(st, await repo.get_user(st.runtime.db, path_id(request))))


async def change(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    me = current(request).user
    changed = await repo.change_user(
        st.runtime.db,
        path_id(request),
        body_of(request, UserChange).model_dump(exclude_unset=True),
        actor=me.username,
        actor_id=me.id,
    )
    # Sessions read their user at every request: the change reaches them at once; an open desk
    # is shown what it may see now.
    await _refresh_desks(request.app, {changed.id})
    return ok(await _json_of(st, changed))


async def password(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    me = current(request)
    changed = await repo.reset_password(
        st.runtime.db,
        path_id(request),
        body_of(request, PasswordReset).password,
        actor=me.user.username,
    )
    ended = await end_sessions(
        request.app, changed.id, "your password was reset; sign in again", keep=me
    )
    return ok({**(await _json_of(st, changed)), "sessions_ended": ended})


async def _set_active(request: web.Request, active: bool) -> repo.UserRecord:
    me = current(request).user
    return await repo.set_active(
        web_state(request).runtime.db, path_id(request), active, actor=me.username, actor_id=me.id
    )


async def deactivate(request: web.Request) -> web.StreamResponse:
    changed = await _set_active(request, False)
    ended = await end_sessions(request.app, changed.id, "your account was deactivated")
    return ok({**(await _json_of(web_state(request), changed)), "sessions_ended": ended})


async def reactivate(request: web.Request) -> web.StreamResponse:
    return ok(await _json_of(web_state(request), await _set_active(request, True)))


def _json(record: repo.UserRecord, signed_in: bool) -> dict[str, Any]:
    return {**record.json(), "signed_in": signed_in}


async def _json_of(st: WebState, record: repo.UserRecord) -> dict[str, Any]:
    return _json(record, bool(await st.sessions.signed_in([record.id])))


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/users/directory",
        user_directory,
        "Active users (id, user name, name, role, group): whom a message can go to",
        UserDirectory,
        role="operator",
    ),
    route(
        "GET",
        "/api/v1/users",
        users,
        "Every user with role, routines, group, extension/interface, personal_data,"
        " active, open cases and whether they are signed in (?active=true|false)",
        UserList,
    ),
    route(
        "POST",
        "/api/v1/users",
        add,
        "Add a user (the same rules as `cti user add`); audited",
        UserShown,
        body=UserNew,
    ),
    route("GET", "/api/v1/users/{id}", user, "One user", UserShown),
    route(
        "PATCH",
        "/api/v1/users/{id}",
        change,
        "Change a user's name, role, routines, group (by name; null: none),"
        " extension/interface or personal_data; takes effect in their open sessions; audited",
        UserShown,
        body=UserChange,
    ),
    route(
        "POST",
        "/api/v1/users/{id}/password",
        password,
        "Reset a user's password; their other sessions end; audited (never the password)",
        UserSessionsEnded,
        body=PasswordReset,
    ),
    route(
        "POST",
        "/api/v1/users/{id}/deactivate",
        deactivate,
        "Deactivate a user: they can no longer sign in and their open sessions end"
        " (their cases stay theirs until reassigned); audited",
        UserSessionsEnded,
    ),
    route(
        "POST",
        "/api/v1/users/{id}/reactivate",
        reactivate,
        "Reactivate a user: they may sign in again; audited",
        UserShown,
    ),
)


def register(api: Api) -> None:
    """Declare the user-administration endpoints."""
    api.add(ROUTES)
