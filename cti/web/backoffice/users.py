"""User administration (admins): list, add, change, reset a password, deactivate, reactivate.

Every change is audited (``user.add``, ``user.change``, ``user.password``, ``user.deactivate``,
``user.reactivate``). A change reaches the user's open sessions at once (their role, routines and
group are re-read); a deactivated user's sessions end (their desk is closed and their phone leaves
the queues), and so do a user's other sessions when an admin resets their password.
``GET /api/v1/users/directory`` lists the active users for everyone (message recipients).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cti.db import users as repo
from cti.db.accounts import load_account
from cti.db.audit import audit
from cti.web.api import Api
from cti.web.auth import Session, SignedIn
from cti.web.backoffice.common import LIST, OBJECT, body, ok, path_id, query_bool, route
from cti.web.state import WebState, current, web_state

TAG = "users"
ROUTINES = {
    "type": "array",
    "items": {"type": "string", "enum": ["telemarketing", "telesales", "collection"]},
    "maxItems": 3,
}
ROLE = {"type": "string", "enum": ["operator", "supervisor", "admin"]}
TEXT = {"type": "string", "maxLength": 200, "nullable": True}
PASSWORD = {"type": "string", "minLength": 1, "maxLength": 1000}
CHANGES: dict[str, Any] = {
    "full_name": TEXT,
    "role": ROLE,
    "routines": ROUTINES,
    "group": TEXT,
    "extension": TEXT,
    "interface": TEXT,
    "personal_data": {"type": "boolean"},
}


def _signed_in(record: repo.UserRecord, ideal_talk_seconds: int | None) -> SignedIn:
    return SignedIn(
        id=record.id,
        username=record.username,
        full_name=record.full_name or record.username,
        role=record.role,
        routines=record.routines,
        group=record.group,
        ideal_talk_seconds=ideal_talk_seconds,
        extension=record.interface or record.extension,
        personal_data=record.personal_data or record.group_personal_data,
    )


async def _refresh_sessions(st: WebState, record: repo.UserRecord) -> None:
    """The user's open sessions see their new role, routines, group and permission at once."""
    sessions = st.sessions.others_of(record.id)
    if not sessions:
        return
    account = await load_account(st.runtime.db, record.username)
    ideal = account.ideal_talk_seconds if account is not None else None
    for session in sessions:
        session.user = _signed_in(record, ideal)


async def end_sessions(
    st: WebState, user_id: int, reason: str, *, keep: Session | None = None
) -> int:
    """End a user's sessions (all but ``keep``): their pages are told and closed, and when no
    session is left their phone leaves the queues. Returns how many sessions ended."""
    # The desk imports the back office's helpers: import it when first needed.
    from cti.web.desk import CLOSE_SESSION_ENDED, leave_desk

    ended = st.sessions.others_of(user_id, keep=keep)
    tokens = {s.token for s in ended}
    st.hub.close_sessions(user_id, tokens, CLOSE_SESSION_ENDED, reason)
    for session in ended:
        session.desk_open = False
        st.sessions.end(session)
    if keep is None or keep.user.id != user_id:
        await leave_desk(st, user_id)
    return len(ended)


def register(api: Api) -> None:
    """Declare the user-administration endpoints."""

    @route(
        api,
        "GET",
        "/api/v1/users/directory",
        summary="Active users (id, user name, name, role, group): whom a message can go to",
        response=LIST,
        tag=TAG,
    )
    async def user_directory(request: web.Request) -> web.StreamResponse:
        return ok(await repo.directory(web_state(request).runtime.db))

    @route(
        api,
        "GET",
        "/api/v1/users",
        role="admin",
        summary="Every user with role, routines, group, extension/interface, personal_data,"
        " active, open cases and whether they are signed in (?active=true|false)",
        response=LIST,
        tag=TAG,
    )
    async def users(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        found = await repo.list_users(st.runtime.db, active=query_bool(request, "active"))
        return ok([_json(st, r) for r in found])

    @route(
        api,
        "POST",
        "/api/v1/users",
        role="admin",
        summary="Add a user (the same rules as `cti user add`); audited",
        body={
            "type": "object",
            "required": ["username", "password", "role"],
            "properties": {
                "username": {"type": "string", "minLength": 1, "maxLength": 100},
                "password": PASSWORD,
                **CHANGES,
            },
        },
        response=OBJECT,
        tag=TAG,
    )
    async def add(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        b = body(request)
        actor = current(request).user.username
        user_id = await repo.add_user(
            st.runtime.db,
            username=b["username"],
            password=b["password"],
            role=b["role"],
            routines=b.get("routines") or (),
            group=b.get("group") or None,
            extension=b.get("extension"),
            interface=b.get("interface"),
            full_name=b.get("full_name"),
            personal_data=bool(b.get("personal_data", False)),
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
        return ok(_json(st, made), 201)

    @route(
        api, "GET", "/api/v1/users/{id}", role="admin", summary="One user", response=OBJECT, tag=TAG
    )
    async def user(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        return ok(_json(st, await repo.get_user(st.runtime.db, path_id(request))))

    @route(
        api,
        "PATCH",
        "/api/v1/users/{id}",
        role="admin",
        summary="Change a user's name, role, routines, group (by name; null: none),"
        " extension/interface or personal_data; takes effect in their open sessions; audited",
        body={"type": "object", "properties": CHANGES},
        response=OBJECT,
        tag=TAG,
    )
    async def change(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        me = current(request).user
        changed = await repo.change_user(
            st.runtime.db, path_id(request), body(request), actor=me.username, actor_id=me.id
        )
        await _refresh_sessions(st, changed)
        return ok(_json(st, changed))

    @route(
        api,
        "POST",
        "/api/v1/users/{id}/password",
        role="admin",
        summary="Reset a user's password; their other sessions end; audited (never the password)",
        body={"type": "object", "required": ["password"], "properties": {"password": PASSWORD}},
        response=OBJECT,
        tag=TAG,
    )
    async def password(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        me = current(request)
        changed = await repo.reset_password(
            st.runtime.db, path_id(request), body(request)["password"], actor=me.user.username
        )
        ended = await end_sessions(
            st, changed.id, "your password was reset; sign in again", keep=me
        )
        return ok({**_json(st, changed), "sessions_ended": ended})

    @route(
        api,
        "POST",
        "/api/v1/users/{id}/deactivate",
        role="admin",
        summary="Deactivate a user: they can no longer sign in and their open sessions end"
        " (their cases stay theirs until reassigned); audited",
        response=OBJECT,
        tag=TAG,
    )
    async def deactivate(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        me = current(request).user
        changed = await repo.set_active(
            st.runtime.db, path_id(request), False, actor=me.username, actor_id=me.id
        )
        ended = await end_sessions(st, changed.id, "your account was deactivated")
        return ok({**_json(st, changed), "sessions_ended": ended})

    @route(
        api,
        "POST",
        "/api/v1/users/{id}/reactivate",
        role="admin",
        summary="Reactivate a user: they may sign in again; audited",
        response=OBJECT,
        tag=TAG,
    )
    async def reactivate(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        me = current(request).user
        changed = await repo.set_active(
            st.runtime.db, path_id(request), True, actor=me.username, actor_id=me.id
        )
        return ok(_json(st, changed))


def _json(st: WebState, record: repo.UserRecord) -> dict[str, Any]:
    return {**record.json(), "signed_in": bool(st.sessions.others_of(record.id))}
