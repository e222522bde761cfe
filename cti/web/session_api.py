"""Sign in, sign out, who am I; the one-desk-per-operator rule."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from cti.db.accounts import Account, load_account
from cti.db.audit import audit
from cti.passwords import hash_password, verify_password
from cti.web.api import BODY_KEY, Api, json_error
from cti.web.auth import (
    Session,
    SignedIn,
    clear_session_cookie,
    set_session_cookie,
)
from cti.web.desk import CLOSE_SESSION_ENDED, leave_desk
from cti.web.hub import CLOSE_TAKEN_OVER
from cti.web.state import WEB, WebState, current, web_state

log = logging.getLogger("cti.web.session")

# How often sessions whose time is up are looked for (see ``end_expired_sessions``).
SWEEP_SECONDS = 30.0

# Verified when the user name is unknown, so both cases take the same time.
_DUMMY_HASH = hash_password("not-a-real-password-0")

LOGIN_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 200},
        "password": {"type": "string", "minLength": 1, "maxLength": 1000},
        "takeover": {
            "type": "boolean",
            "description": "Sign in even though this operator's desk is open elsewhere; that desk is closed.",
        },
    },
}

USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "full_name": {"type": "string"},
        "role": {"type": "string", "enum": ["operator", "supervisor", "admin"]},
        "routines": {"type": "array", "items": {"type": "string"}},
        "group": {"type": ["string", "null"]},
        "ideal_talk_seconds": {"type": ["integer", "null"]},
        "extension": {"type": ["string", "null"]},
        "personal_data": {"type": "boolean"},
    },
}


def user_json(user: SignedIn) -> dict[str, Any]:
    """A signed-in user as the API shows them."""
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "routines": list(user.routines),
        "group": user.group,
        "ideal_talk_seconds": user.ideal_talk_seconds,
        "extension": user.extension,
        "personal_data": user.personal_data,
    }


def _signed_in(account: Account) -> SignedIn:
    return SignedIn(
        id=account.id,
        username=account.username,
        full_name=account.full_name,
        role=account.role,
        routines=account.routines,
        group=account.group,
        ideal_talk_seconds=account.ideal_talk_seconds,
        extension=account.interface or account.extension,
        personal_data=account.personal_data,
    )


def register(api: Api) -> None:
    """Declare the session endpoints."""

    @api.route(
        "POST",
        "/api/v1/login",
        role=None,
        summary="Sign in; sets the session cookie and returns the CSRF token",
        body=LOGIN_BODY,
        response={
            "type": "object",
            "properties": {"user": USER_SCHEMA, "csrf": {"type": "string"}},
        },
        tag="session",
    )
    async def login(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        body = request[BODY_KEY]
        username = body["username"].strip()
        keys = (f"user:{username.lower()}", f"ip:{request.remote or '?'}")
        wait = st.throttle.wait_needed(*keys)
        if wait > 0:
            resp = json_error(429, f"too many failed sign-ins; try again in {int(wait) + 1} s")
            resp.headers["Retry-After"] = str(int(wait) + 1)
            return resp
        account = await load_account(st.runtime.db, username)
        stored = account.password_hash if account is not None else _DUMMY_HASH
        ok = await asyncio.to_thread(verify_password, stored, body["password"])
        if account is None or not ok or not account.active:
            st.throttle.failed(*keys)
            await audit(
                st.runtime.db, username, "login.failed", f"user:{username}", {"ip": request.remote}
            )
            return json_error(401, "wrong user name or password")
        st.throttle.succeeded(*keys)
        if account.role == "operator":
            open_desk = st.sessions.open_desk_of(account.id)
            if open_desk is not None and not body.get("takeover"):
                resp = json_error(
                    409,
                    "you are signed in at another desk; take over (that desk will be closed) or stay there",
                )
                return resp
            if open_desk is not None:
                await _close_desk(request, open_desk)
        session = st.sessions.create(_signed_in(account))
        await audit(
            st.runtime.db, account.username, "login", f"user:{account.id}", {"ip": request.remote}
        )
        resp = web.json_response({"user": user_json(session.user), "csrf": session.csrf})
        settings = st.runtime.settings.server
        set_session_cookie(
            resp, session, secure=settings.secure_cookies, hours=settings.session_hours
        )
        return resp

    @api.route(
        "POST",
        "/api/v1/logout",
        role="operator",
        summary="Sign out; the last session of an operator also takes their phone out of the queues",
        tag="session",
    )
    async def logout(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        session = current(request)
        if not st.sessions.others_of(session.id, keep=session):
            await leave_desk(st, session.id)
        st.hub.close_sessions(session.id, {session.token}, 1000, "signed out")
        st.sessions.end(session)
        resp = web.json_response({"ok": True})
        clear_session_cookie(resp)
        return resp

    @api.route(
        "GET",
        "/api/v1/me",
        role="operator",
        summary="The signed-in user and the CSRF token of this session",
        response={
            "type": "object",
            "properties": {"user": USER_SCHEMA, "csrf": {"type": "string"}},
        },
        tag="session",
    )
    async def me(request: web.Request) -> web.StreamResponse:
        session = current(request)
        return web.json_response({"user": user_json(session.user), "csrf": session.csrf})


async def _close_desk(request: web.Request, old: Session) -> None:
    """Tell the old desk it was taken over, close it, end its session, and take the operator's
    phone out of the queues (the new desk signs in to a phone again, maybe another one)."""
    st = web_state(request)
    await leave_desk(st, old.id)
    for client in st.hub.clients_of(old.id):
        if client.session == old.token:
            st.hub.send_to_client(
                client,
                {
                    "type": "taken_over",
                    "message": "you signed in at another desk; this one is closed",
                },
            )
            st.hub.close_client(client, CLOSE_TAKEN_OVER, "taken over by another desk")
    old.desk_open = False
    st.sessions.end(old)
    log.info("operator %s took over their desk from another machine", old.user.username)


async def end_expired_sessions(st: WebState) -> int:
    """End the sessions whose time is up, as signing out would: their pages are told and closed,
    and an operator left with no session has their phone taken out of the queues (else calls
    would go on ringing a desk nobody sits at). Returns how many sessions ended."""
    expired = st.sessions.pop_expired()
    tokens = {s.token for s in expired}
    for user_id in sorted({s.id for s in expired}):
        st.hub.close_sessions(
            user_id, tokens, CLOSE_SESSION_ENDED, "session expired: sign in again"
        )
        log.info("a session of user %d expired", user_id)
        if not st.sessions.others_of(user_id):
            await leave_desk(st, user_id)
    return len(expired)


async def _sweep(st: WebState) -> None:
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            await end_expired_sessions(st)
        except Exception:
            log.exception("ending expired sessions failed; tried again later")


def setup(app: web.Application) -> None:
    """Run the expired-session sweep while the app runs."""

    async def sweeper(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.get_running_loop().create_task(_sweep(app[WEB]), name="sessions")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(sweeper)
