"""The desk's pops and attentions: a pop read back, the unknown caller registered, the attention
form saved, notes appended, a party's history."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import MISSING, AwareDatetime, BaseModel, Field

from cti.db import desk as repo
from cti.domain.backoffice import MASK
from cti.domain.model import AttentionKind, AttentionStatus, Direction
from cti.domain.phone import normalize_phone
from cti.domain.tickets import TicketStatus
from cti.errors import Forbidden, NotFound, Refused, UserInputError
from cti.i18n import _
from cti.web.api import ROLE_LEVEL, Body, HTTPProblem, Route, RouteMaker, body_of
from cti.web.backoffice.common import path_id, viewer
from cti.web.desk_phone import desk_of, dumps, frame_response, reply, seated
from cti.web.models import Done, Id
from cti.web.state import current, web_state

route = RouteMaker("desk", "operator")

# --- bodies -------------------------------------------------------------------------------------


class RegisterCallerBody(Body):
    kind: Literal["suspect", "contact"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    company: Annotated[str, Field(max_length=200)] | None = None
    position: Annotated[str, Field(max_length=200)] | None = None
    customer_id: int | None = Field(None, description="a contact's customer (required for one)")
    phone: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="default: the pop's caller number"
    )


class TicketItemIn(Body):
    """A ticket item (a child ticket): its action, from the catalogue, must be of its occurrence,
    and that of its subject."""

    subject_id: Id
    product: Annotated[str, Field(max_length=500)] | None = None
    occurrence_id: Id
    action_id: Id
    owner_id: Id | None = Field(None, description="who the action is for (default: nobody)")
    action_date: dt.date | None = None


class AttentionFormBody(Body):
    """The attention form: only the fields sent are changed (``null`` empties one)."""

    # May be left out, never null (an attention always has a routine and a status).
    kind: AttentionKind | MISSING = MISSING
    status: AttentionStatus | MISSING = MISSING
    closing_reason_id: int | None = None
    next_call_at: AwareDatetime | None = None
    # The free text of telemarketing attentions before tickets (kept, still readable and
    # writable); the desk now records telemarketing work as ``items``.
    subject: Annotated[str, Field(max_length=500)] | None = None
    product: Annotated[str, Field(max_length=500)] | None = None
    occurrence: Annotated[str, Field(max_length=2000)] | None = None
    action: Annotated[str, Field(max_length=2000)] | None = None
    owner_id: int | None = None
    action_date: dt.date | None = None
    action_status: Annotated[str, Field(max_length=200)] | None = None
    customer_id: int | None = None
    contact_id: int | None = None
    message_id: Annotated[int, Field(ge=1)] | None = Field(
        None, description="the pending incoming-call message this attention acts on: finalized"
    )
    items: Annotated[list[TicketItemIn], Field(max_length=50)] = Field(
        default_factory=list,
        description="telemarketing: ticket items to add; saving confirms them (each child"
        " ticket takes its action's status, never the attention itself)",
    )


class AttentionNoteBody(Body):
    text: Annotated[str, Field(min_length=1, max_length=10000)]


# --- answers (what the pages read) --------------------------------------------------------------


class DeskPop(BaseModel):
    type: Literal["pop"]
    pop: dict[str, Any] = Field(description="the screen-pop: personal fields masked")
    masked: bool


class CallerRegistered(BaseModel):
    ok: Literal[True]
    id: int = Field(description="the suspect's or the contact's id")
    kind: Literal["suspect", "contact"]


class AttentionNoteReply(BaseModel):
    id: int
    at: dt.datetime | None
    author: str
    text: str


class DeskAttentionCall(BaseModel):
    id: int
    queue: str | None
    caller: str | None
    caller_name: str | None
    ring_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    talk_seconds: int | None
    outcome: str | None


class TicketItemOut(BaseModel):
    """An item of the attention: a child ticket with its own status."""

    id: int
    number: str = Field(description="the child ticket's number: <attention>-<item>")
    subject_id: int
    subject: str
    product: str | None
    occurrence_id: int
    occurrence: str
    action_id: int
    action: str
    owner_id: int | None
    owner: str | None
    action_date: dt.date | None
    status: TicketStatus = Field(description="the child ticket's status (set by its action)")
    confirmed_at: dt.datetime | None
    service_order: str | None = Field(description="the service order's number (Num OS)")
    nonconformity_id: int | None = Field(description="the potential non-conformity raised")


class DeskAttention(BaseModel):
    """An attention with its party's names, notes (oldest first), call and operation."""

    id: int
    kind: AttentionKind
    direction: Direction
    status: AttentionStatus
    operator_id: int | None
    operator: str | None
    customer_id: int | None
    contact_id: int | None
    suspect_id: int | None
    prospect_id: int | None
    customer: str | None = Field(description="the customer's name: masked")
    contact: str | None = Field(description="the contact's or suspect's name: masked")
    phone: str | None = Field(description="masked")
    closing_reason_id: int | None
    next_call_at: dt.datetime | None
    closed_at: dt.datetime | None
    wrapup_overrun: bool = Field(
        description="the group's maximum wrap-up time released its agent before they disposed it"
    )
    subject: str | None
    product: str | None
    occurrence: str | None
    action: str | None
    owner_id: int | None
    action_date: dt.date | None
    action_status: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    operation: dict[str, Any] | None = Field(description="the telesales quote or order made")
    items: list[TicketItemOut] = Field(description="telemarketing: the child tickets, in order")
    notes: list[AttentionNoteReply]
    call: DeskAttentionCall | None
    masked: bool


class DeskHistoryNote(BaseModel):
    at: dt.datetime
    author: str
    text: str


class DeskHistoryAttention(BaseModel):
    id: int
    kind: AttentionKind
    status: AttentionStatus
    direction: Direction
    subject: str | None
    product: str | None
    created_at: dt.datetime | None
    closed_at: dt.datetime | None
    next_call_at: dt.datetime | None
    operator: str | None
    closing_reason: str | None
    contact: str | None = Field(description="masked")
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    queue: str | None
    recording_id: int | None = Field(
        description="the call's recording (GET /api/v1/recordings/{id}; personal data)"
    )
    notes: list[DeskHistoryNote]


class DeskHistory(BaseModel):
    attentions: list[DeskHistoryAttention] = Field(description="newest first")
    masked: bool


# --- handlers -----------------------------------------------------------------------------------


async def read_pop(request: web.Request) -> web.StreamResponse:
    found = desk_of(request).pop_for(request.match_info["pop"])
    if found is None:
        raise HTTPProblem(404, _("no such pop"))
    owner, pop = found
    if owner != current(request).id:
        raise HTTPProblem(403, _("this pop belongs to another operator"))
    return await frame_response(request, {"type": "pop", "pop": pop})


async def refresh_pop(request: web.Request) -> web.StreamResponse:
    """Look the current call's caller up again (after the agent's own quote, order or promise):
    the pop's open quotes, orders and debts as they are now."""
    service = desk_of(request)
    agent = seated(request)
    pop = agent.pop
    phone = (pop or {}).get("phone")
    if pop is None or not phone:
        raise HTTPProblem(409, _("there is no caller on your screen to look up again"))
    pop.update(await service.lookup(agent, phone))
    pop["known"] = pop["match"] is not None
    service.push(agent.user.id, {"type": "pop_update", "pop": pop})
    service.audit_pop(agent, pop)
    return reply(Done(ok=True))


async def register_caller(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    service = desk_of(request)
    agent = seated(request)
    body = body_of(request, RegisterCallerBody)
    pop = agent.pop
    raw = body.phone or (pop or {}).get("caller_num") or ""
    if not raw:
        raise UserInputError("phone", _("there is no caller number to register"))
    phone = normalize_phone(raw, st.runtime.settings.telephony.default_region)
    name = body.name.strip()
    if MASK in name:
        # A desk without the personal-data permission shows the caller's name masked; that is no
        # one's name, and storing it would lose the one the caller gives.
        raise UserInputError("name", _("is masked on your screen: type the name the caller gives"))
    if body.kind == "suspect":
        ident = await repo.register_suspect(
            st.runtime.db, name=name, company=body.company, phone=phone, raw_phone=raw
        )
        party = repo.Party(suspect_id=ident)
    else:
        if body.customer_id is None:
            raise UserInputError("customer_id", _("a contact belongs to a customer"))
        ident = await repo.register_contact(
            st.runtime.db,
            customer_id=body.customer_id,
            name=name,
            position=body.position,
            phone=phone,
            raw_phone=raw,
        )
        party = repo.Party(customer_id=body.customer_id, contact_id=ident)
    if pop is not None and pop.get("phone") == phone:
        pop.update(await service.lookup(agent, phone))
        pop["known"] = pop["match"] is not None
        service.push(agent.user.id, {"type": "pop_update", "pop": pop})
        service.audit_pop(agent, pop)
        attention_id = (agent.attention or {}).get("id")
        if attention_id is not None:
            await repo.link_attention_party(st.runtime.db, attention_id, party)
            await service.refresh_attention(agent, attention_id)
    return reply(CallerRegistered(ok=True, id=ident, kind=body.kind))


async def get_attention(request: web.Request) -> web.StreamResponse:
    ident = path_id(request)
    found = await repo.attention_detail(web_state(request).runtime.db, ident, viewer(request))
    if found is None:
        raise HTTPProblem(404, _("there is no attention {ident}"), ident=ident)
    agent = desk_of(request).agent_of(current(request).id)
    if agent is not None and (agent.attention or {}).get("id") == ident:
        agent.attention = found  # its telesales operation may have changed (the footer's)
    return web.json_response(found, dumps=dumps)


async def save_attention(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    session = current(request)
    ident = path_id(request)
    # Only the fields sent: one left out keeps its value.
    form = body_of(request, AttentionFormBody)
    changes = form.model_dump(exclude_unset=True)
    message_id = changes.pop("message_id", None)
    changes.pop("items", None)
    items = [
        repo.NewItem(
            subject_id=i.subject_id,
            occurrence_id=i.occurrence_id,
            action_id=i.action_id,
            product=i.product,
            owner_id=i.owner_id,
            action_date=i.action_date,
        )
        for i in form.items
    ]
    try:
        await repo.save_attention(
            st.runtime.db,
            ident,
            changes,
            now=st.runtime.clock.now(),
            viewer=viewer(request),
            may_edit_others=ROLE_LEVEL[session.role] >= ROLE_LEVEL["supervisor"],
            message_id=message_id,
            items=items,
            nonconformity_integration=st.runtime.settings.telemarketing.nonconformity_integration,
        )
    except NotFound as exc:
        raise HTTPProblem(404, exc.said, "message_id") from None
    except Refused as exc:
        raise HTTPProblem(409, exc.message, "message_id") from None
    service = desk_of(request)
    agent = service.agent_of(session.id)
    if agent is not None and (agent.attention or {}).get("id") == ident:
        await service.refresh_attention(agent, ident)
    found = await repo.attention_detail(st.runtime.db, ident, viewer(request))
    if agent is not None and agent.wrapup is not None and agent.wrapup.attention_id == ident:
        # Disposed as the group asks: the wrap-up is over; otherwise the desk says what is left.
        if agent.wrapup_todo(found) is None:
            await service.finish_wrapup(agent)
        else:
            service.wrapup_changed(agent)
    return web.json_response(found, dumps=dumps)


async def add_note(request: web.Request) -> web.StreamResponse:
    ident = path_id(request)
    session = current(request)
    try:
        added = await repo.add_note(
            web_state(request).runtime.db,
            ident,
            author_id=session.id,
            text=body_of(request, AttentionNoteBody).text,
            may_note_others=ROLE_LEVEL[session.role] >= ROLE_LEVEL["supervisor"],
        )
    except Forbidden as exc:
        raise HTTPProblem(403, exc.message, exc.field) from None
    return web.json_response(added, dumps=dumps)


async def party_history(request: web.Request) -> web.StreamResponse:
    found = await repo.history(
        web_state(request).runtime.db,
        viewer(request),
        request.match_info["party"],
        path_id(request),
    )
    return web.json_response(found, dumps=dumps)


ROUTES: tuple[Route, ...] = (
    route(
        "POST",
        "/api/v1/desk/pop/refresh",
        refresh_pop,
        "Look the caller on screen up again (their open quotes, orders and debts as they are now)",
        Done,
    ),
    route(
        "GET",
        "/api/v1/desk/pops/{pop}",
        read_pop,
        "A screen-pop (only the operator it was pushed to may read it)",
        DeskPop,
    ),
    route(
        "POST",
        "/api/v1/desk/register",
        register_caller,
        "Register the unknown caller of your pop as a suspect or a contact of a customer",
        CallerRegistered,
        body=RegisterCallerBody,
    ),
    route(
        "GET",
        "/api/v1/desk/attentions/{id}",
        get_attention,
        "An attention with its notes and its call's times",
        DeskAttention,
    ),
    route(
        "PATCH",
        "/api/v1/desk/attentions/{id}",
        save_attention,
        "Save the attention form",
        DeskAttention,
        body=AttentionFormBody,
    ),
    route(
        "POST",
        "/api/v1/desk/attentions/{id}/notes",
        add_note,
        "Append a note (notes are never edited) to my own attention; supervisors and"
        " admins to anyone's",
        AttentionNoteReply,
        body=AttentionNoteBody,
    ),
    route(
        "GET",
        "/api/v1/desk/history/{party}/{id}",
        party_history,
        "The attentions of a customer, contact, suspect or prospect, newest first",
        DeskHistory,
    ),
)
