"""What the back-office endpoint modules share: reading parameters, routines, the viewer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from cti.db.backoffice.personal import Viewer
from cti.errors import UserInputError
from cti.i18n import _
from cti.web.api import INT64, HTTPProblem
from cti.web.state import current

TAG = "backoffice"


def viewer(request: web.Request) -> Viewer:
    """The signed-in user as the personal-data and audit code knows them."""
    user = current(request).user
    return Viewer(user.id, user.username, oversees=user.role in ("supervisor", "admin"))


def path_id(request: web.Request, name: str = "id") -> int:
    """An integer path parameter; 404 when it is not one (no such record can exist)."""
    text = request.match_info[name]
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise HTTPProblem(404, _("{text!r} is not a record id"), text=text[:40])
    if int(text) > INT64[1]:
        raise UserInputError(name, _("is out of range (a 64-bit integer)"))
    return int(text)


def query_int(request: web.Request, name: str) -> int | None:
    """An optional integer query parameter."""
    text = request.query.get(name)
    if text in (None, ""):
        return None
    if not (text.isascii() and text.isdigit()):
        raise UserInputError(name, _("expected a whole number"))
    if int(text) > INT64[1]:
        raise UserInputError(name, _("is out of range (a 64-bit integer)"))
    return int(text)


def query_datetime(request: web.Request, name: str) -> dt.datetime | None:
    """An optional ISO date (midnight UTC) or date-time query parameter."""
    text = request.query.get(name)
    if text in (None, ""):
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise UserInputError(name, _("expected a date (2026-05-04) or a date and time")) from None
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
    raise UserInputError(name, _("expected true or false"))


def is_admin(request: web.Request) -> bool:
    return current(request).user.role == "admin"


def oversees(request: web.Request) -> bool:
    """Supervisors and admins see everyone's records; operators their own."""
    return current(request).user.role in ("supervisor", "admin")


def require_routine(request: web.Request, routine: str) -> None:
    """An operator needs the routine (skill) of the folder; supervisors and admins have them all."""
    user = current(request).user
    if user.role == "operator" and routine not in user.routines:
        raise HTTPProblem(403, _("this needs the {routine} routine"), routine=routine)


def today(request: web.Request) -> dt.date:
    """Today's date on the service's clock."""
    from cti.web.state import web_state

    return web_state(request).runtime.clock.now().date()


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


__all__ = [
    "TAG",
    "is_admin",
    "ok",
    "oversees",
    "path_id",
    "query_bool",
    "query_datetime",
    "query_int",
    "require_routine",
    "today",
    "viewer",
]
