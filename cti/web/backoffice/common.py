"""What the back-office endpoint modules share: declaring a route, reading parameters, routines."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from aiohttp import web

from cti.db.backoffice.common import NotFound, Refused
from cti.db.backoffice.personal import Viewer
from cti.errors import UserInputError
from cti.web.api import BODY_KEY, Api, Handler, HTTPProblem
from cti.web.state import current

TAG = "backoffice"
ID = {"type": "integer", "minimum": 1}
NULLABLE_ID = {"type": "integer", "minimum": 1, "nullable": True}
MONEY = {
    "type": ["string", "number"],
    "description": "an amount as text with up to two decimals (a JSON number is accepted too)",
}
OBJECT = {"type": "object", "additionalProperties": True}
LIST = {"type": "array", "items": OBJECT}


def route(
    api: Api,
    method: str,
    path: str,
    *,
    role: str = "operator",
    summary: str,
    body: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    tag: str = TAG,
) -> Callable[[Handler], Handler]:
    """Declare a back-office endpoint; NotFound answers 404 and Refused 409, naming the field."""

    def register(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def translated(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except NotFound as exc:
                raise HTTPProblem(404, str(exc)) from None
            except Refused as exc:
                raise HTTPProblem(409, exc.message, exc.field) from None

        api.route(method, path, role=role, summary=summary, body=body, response=response, tag=tag)(
            translated
        )
        return handler

    return register


def body(request: web.Request) -> dict[str, Any]:
    """The validated JSON body."""
    value: dict[str, Any] = request[BODY_KEY]
    return value


def viewer(request: web.Request) -> Viewer:
    """The signed-in user as the personal-data and audit code knows them."""
    user = current(request).user
    return Viewer(user.id, user.username)


def path_id(request: web.Request, name: str = "id") -> int:
    """An integer path parameter; 404 when it is not one (no such record can exist)."""
    text = request.match_info[name]
    if not text.isdigit() or int(text) < 1:
        raise HTTPProblem(404, f"{text!r} is not a record id")
    return int(text)


def query_int(request: web.Request, name: str) -> int | None:
    """An optional integer query parameter."""
    text = request.query.get(name)
    if text in (None, ""):
        return None
    if not text.isdigit():
        raise UserInputError(name, "expected a whole number")
    return int(text)


def query_datetime(request: web.Request, name: str) -> dt.datetime | None:
    """An optional ISO date (midnight UTC) or date-time query parameter."""
    text = request.query.get(name)
    if text in (None, ""):
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise UserInputError(name, "expected a date (2026-05-04) or a date and time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def query_bool(request: web.Request, name: str) -> bool | None:
    """An optional true/false query parameter."""
    text = request.query.get(name)
    if text in (None, ""):
        return None
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise UserInputError(name, "expected true or false")


def is_admin(request: web.Request) -> bool:
    return current(request).user.role == "admin"


def oversees(request: web.Request) -> bool:
    """Supervisors and admins see everyone's records; operators their own."""
    return current(request).user.role in ("supervisor", "admin")


def require_routine(request: web.Request, routine: str) -> None:
    """An operator needs the routine (skill) of the folder; supervisors and admins have them all."""
    user = current(request).user
    if user.role == "operator" and routine not in user.routines:
        raise HTTPProblem(403, f"this needs the {routine} routine")


def today(request: web.Request) -> dt.date:
    """Today's date on the service's clock."""
    from cti.web.state import web_state

    return web_state(request).runtime.clock.now().date()


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


__all__ = [
    "ID",
    "LIST",
    "MONEY",
    "NULLABLE_ID",
    "OBJECT",
    "TAG",
    "body",
    "is_admin",
    "ok",
    "oversees",
    "path_id",
    "query_bool",
    "query_datetime",
    "query_int",
    "require_routine",
    "route",
    "today",
    "viewer",
]
