"""Incoming-call message endpoints (seed 004): register, list, notes, finalize, postpone, act.

``GET   /api/v1/messages``                   ?pending=&mine=&due_before=
``POST  /api/v1/messages``                   register a call that could not be handled now
``GET   /api/v1/messages/{id}``              a message with its notes
``PATCH /api/v1/messages/{id}``              situation, type, description, recipient
``POST  /api/v1/messages/{id}/notes``        {text}
``POST  /api/v1/messages/{id}/finalize``     {situation_code?}
``POST  /api/v1/messages/{id}/postpone``     {until, reason, to_user_id | to_group_id}
``POST  /api/v1/messages/{id}/attention``    {kind} the action made from it (finalizes it)

The stamps (date, time, user) are the server's; callers' phones and tax ids are masked without
personal_data, and each reading is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from aiohttp import web
from pydantic import AwareDatetime, Field, RootModel

from cti.clock import local_tz
from cti.db.backoffice import messages as repo
from cti.domain.model import AttentionKind
from cti.web.api import Api, Body, Route, RouteMaker, body_of
from cti.web.backoffice.common import TAG, ok, path_id, query_bool, query_datetime, viewer
from cti.web.models import Answer, Id
from cti.web.state import web_state

route = RouteMaker(TAG, "operator")
Code = Annotated[str, Field(min_length=2, max_length=2)]
Text = Annotated[str, Field(max_length=200)]
Description = Annotated[str, Field(min_length=1, max_length=4000)]

# --- bodies -------------------------------------------------------------------------------------


class MessageRecipient(Body):
    """Whom a message is for: a user or an attention group (one of them)."""

    to_user_id: Id | None = None
    to_group_id: Id | None = None


class NewMessage(MessageRecipient):
    """`from` needs one of customer, contact, phone, tax id, serial, code."""

    situation_code: Code | None = Field(default=None, description="default: the usual pending one")
    type_code: Code | None = Field(default=None, description="default: the default type")
    from_customer_id: Id | None = None
    from_contact_id: Id | None = None
    from_phone: Text | None = None
    from_tax_id: Text | None = None
    from_serial: Text | None = None
    from_code: Text | None = None
    description: Description


class MessageChange(MessageRecipient):
    """What changes: the fields given (a recipient given replaces both)."""

    situation_code: Code | None = None
    type_code: Code | None = None
    description: Description | None = None


class NewMessageNote(Body):
    text: Annotated[str, Field(min_length=1, max_length=4000)]


class MessageFinalizing(Body):
    situation_code: Code | None = Field(
        default=None, description="a non-pending situation (default: the first one)"
    )


class MessagePostponing(MessageRecipient):
    until: AwareDatetime
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class MessageAction(Body):
    kind: AttentionKind


# --- answers ------------------------------------------------------------------------------------


class CallerCustomer(Answer):
    code: str
    name: str


class CallerContact(Answer):
    name: str


class CallMessageNote(Answer):
    at: dt.datetime
    author: str = Field(description="the author's username")
    author_name: str = Field(description="the author's full name, as the page shows it")
    text: str


class CallMessage(Answer):
    """A message with its notes (the caller's phone, tax id and names masked without
    personal_data)."""

    id: int
    created_at: dt.datetime
    created_by: str | None = Field(description="the registering user's username")
    created_by_name: str | None = Field(description="their full name, as the page shows it")
    situation_code: str
    situation: str | None
    pending: bool = Field(description="until finalized, whatever the situation")
    type_code: str | None
    type: str | None = Field(description="the type's name")
    from_customer_id: int | None
    customer: CallerCustomer | None
    from_contact_id: int | None
    contact: CallerContact | None
    from_phone: str | None
    from_tax_id: str | None
    from_serial: str | None
    from_code: str | None
    to_user_id: int | None
    to_user: str | None
    to_user_name: str | None = Field(description="the recipient's full name")
    to_group_id: int | None
    description: str
    postponed_until: dt.datetime | None
    postpone_reason: str | None
    finalized_at: dt.datetime | None
    finalized_by: str | None
    finalized_by_name: str | None = Field(description="their full name")
    attention_id: int | None
    updated_at: dt.datetime
    notes: list[CallMessageNote]
    masked: bool


class CallMessages(RootModel[list[CallMessage]]):
    """CallMessages, newest first."""


class CallMessageActed(Answer):
    attention_id: int = Field(description="the pending attention made")
    message: CallMessage


# --- handlers -----------------------------------------------------------------------------------


async def messages(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.list_messages(
            web_state(request).runtime.db,
            viewer(request),
            pending=query_bool(request, "pending"),
            mine=bool(query_bool(request, "mine")),
            due_before=query_datetime(request, "due_before"),
        )
    )


async def new_message(request: web.Request) -> web.StreamResponse:
    given = body_of(request, NewMessage).model_dump(exclude_none=True)
    values = {k: v for k, v in given.items() if v != ""}
    rt = web_state(request).runtime
    made = await repo.create_message(
        rt.db,
        viewer(request),
        values,
        region=rt.settings.telephony.default_region,
        now=rt.clock.now(),
    )
    return ok(made, 201)


async def message(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.get_message(web_state(request).runtime.db, viewer(request), path_id(request))
    )


async def change(request: web.Request) -> web.StreamResponse:
    b = body_of(request, MessageChange)
    # A null situation, type or description changes nothing; a null recipient clears it.
    changes: dict[str, Any] = {
        name: value
        for name, value in b.model_dump(exclude_unset=True).items()
        if value is not None or name in MessageRecipient.model_fields
    }
    return ok(
        await repo.update_message(
            web_state(request).runtime.db, viewer(request), path_id(request), changes
        )
    )


async def note(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.add_note(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            body_of(request, NewMessageNote).text,
        ),
        201,
    )


async def finalize(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.finalize(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            situation_code=body_of(request, MessageFinalizing).situation_code,
        )
    )


async def postpone(request: web.Request) -> web.StreamResponse:
    b = body_of(request, MessagePostponing)
    rt = web_state(request).runtime
    return ok(
        await repo.postpone(
            rt.db,
            viewer(request),
            path_id(request),
            until=b.until,
            reason=b.reason,
            to_user_id=b.to_user_id,
            to_group_id=b.to_group_id,
            now=rt.clock.now(),
            tz=local_tz(rt.settings.supervisor.timezone),
        )
    )


async def act(request: web.Request) -> web.StreamResponse:
    made = await repo.attention_from(
        web_state(request).runtime.db,
        viewer(request),
        path_id(request),
        kind=body_of(request, MessageAction).kind,
    )
    return ok(made, 201)


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/messages",
        messages,
        "CallMessages, newest first: ?pending=true (not finalized, whatever the situation),"
        " ?mine=true (to me or my group), ?due_before= (hide those postponed past it)",
        response=CallMessages,
    ),
    route(
        "POST",
        "/api/v1/messages",
        new_message,
        "Register a call that could not be handled now; date, time and user are the"
        " server's; `from` needs one of customer, contact, phone, tax id, serial, code;"
        " `to` a user or a group",
        body=NewMessage,
        response=CallMessage,
    ),
    route(
        "GET", "/api/v1/messages/{id}", message, "A message with its notes", response=CallMessage
    ),
    route(
        "PATCH",
        "/api/v1/messages/{id}",
        change,
        "Change a pending message's situation, type, description or recipient; this"
        " never finalizes it, and its stamps cannot be changed",
        body=MessageChange,
        response=CallMessage,
    ),
    route(
        "POST",
        "/api/v1/messages/{id}/notes",
        note,
        "Add a note (date, time and author set by the server)",
        body=NewMessageNote,
        response=CallMessage,
    ),
    route(
        "POST",
        "/api/v1/messages/{id}/finalize",
        finalize,
        "Finalize: stamps date, time and user; sets a non-pending situation (the one"
        " given, else the first non-pending one)",
        body=MessageFinalizing,
        response=CallMessage,
    ),
    route(
        "POST",
        "/api/v1/messages/{id}/postpone",
        postpone,
        "Postpone to a new date and time, with a reason and a (new) user or group",
        body=MessagePostponing,
        response=CallMessage,
    ),
    route(
        "POST",
        "/api/v1/messages/{id}/attention",
        act,
        "Create an action (a pending attention) from the message; this finalizes it",
        body=MessageAction,
        response=CallMessageActed,
    ),
)


def register(api: Api) -> None:
    """Declare the call-message endpoints."""
    api.add(ROUTES)
