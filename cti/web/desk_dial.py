"""Dialling out from the desk, and the agent's pending calls (the seeds' "Ligações Pendentes").

Click-to-call (a customer's or contact's number, a history entry, a callback, a pending attention)
and the dial pad: cti rings the agent's own phone first and dials the number once they answered,
as the dialer's preview does (``[cti-dialer]`` exten ``preview``, with no campaign), so the call
reaches the desk like a preview call: pop, timer, an outbound attention, after-call work. The
do-not-call lists and the calling hours of ``[desk]`` apply (:mod:`cti.domain.desk_dial`); a
refusal says why. The number is read on the server from the record clicked, never taken from the
page, so an operator without personal_data calls a number they only see masked; each call's
number shown, and each pending call's name and number, is audited.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import replace
from typing import Annotated

from aiohttp import web
from pydantic import Field, model_validator

from cti.db.audit import audit
from cti.db.desk import dialing as repo
from cti.dialer.placing import PREVIEW_AGENT_RING_SECONDS
from cti.dialer.service import default_zone
from cti.domain.backoffice import PersonalKind
from cti.domain.commands import Originate
from cti.domain.desk_dial import (
    DeskDialRules,
    DialledCall,
    PendingCall,
    PendingKind,
    by_due_time,
    check_desk_dial,
    desk_windows,
    dial_number,
    due,
    refusal_text,
)
from cti.domain.readiness import why_cannot_dial
from cti.errors import AmiError, Refused
from cti.i18n import _
from cti.runtime import Runtime
from cti.web.api import Body, HTTPProblem, Route, RouteMaker, body_of
from cti.web.backoffice.common import viewer
from cti.web.desk_phone import desk_of, seated
from cti.web.desk_service import DeskAgent, DeskService
from cti.web.models import Answer, Id
from cti.web.personal import Part, respond
from cti.web.state import current, web_state

log = logging.getLogger("cti.web.desk")

route = RouteMaker("desk", "operator")

# Audit purposes.
DESK_DIAL = "desk dial"
PENDING_CALLS = "pending calls"
NUMBER_SPEC = {"number": PersonalKind.PHONE}
PENDING_SPEC = {"calls": {"name": PersonalKind.NAME, "phone": PersonalKind.PHONE}}


# --- bodies and answers -------------------------------------------------------------------------


class DialBody(Body):
    """What to call: exactly one of a typed number or a record whose number is called."""

    number: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        None, description="a number typed on the dial pad (checked and normalised)"
    )
    customer_id: Id | None = Field(None, description="the customer's first number")
    contact_id: Id | None = Field(None, description="the contact's first number")
    attention_id: Id | None = Field(None, description="the number a past attention talked to")
    callback_id: Id | None = Field(None, description="a callback promised to me")

    @model_validator(mode="after")
    def _one(self) -> DialBody:
        given = [
            v
            for v in (
                self.number,
                self.customer_id,
                self.contact_id,
                self.attention_id,
                self.callback_id,
            )
            if v is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of number, customer_id, contact_id, attention_id, callback_id"
            )
        return self


class Dialled(Answer):
    """The agent's phone is being rung; the number follows once they answer."""

    number: str = Field(description="the number dialled (masked without personal_data)")
    masked: bool


class PendingCallOut(Answer):
    kind: PendingKind
    id: int
    due_at: str | None = Field(description="ISO 8601; null: a pending attention, due now")
    due: bool = Field(description="its time has come")
    status: str = Field(description="pending, planned (attentions) or callback")
    name: str | None = Field(description="the customer, contact or lead (masked)")
    phone: str | None = Field(description="the number (masked)")
    about: str = Field(description="the attention's subject or routine, or the campaign")


class PendingCalls(Answer):
    """My pending calls, sorted by due time."""

    calls: list[PendingCallOut]
    due: int = Field(description="how many are due now (the badge)")
    masked: bool


# --- the service --------------------------------------------------------------------------------


class DeskDialer:
    """Places the desk's calls and lists an agent's pending calls."""

    def __init__(self, runtime: Runtime, desk: DeskService) -> None:
        self.rt = runtime
        self.desk = desk
        s = runtime.settings
        region = s.telephony.default_region
        self.rules = DeskDialRules(
            windows=desk_windows(s.desk.calling_days, s.desk.calling_from, s.desk.calling_until),
            zone=default_zone(region),
            region=region,
        )
        self._contexts = {p.name: p.dialer_context for p in s.ami}

    async def number_of(self, operator_id: int, body: DialBody) -> repo.DialTarget:
        """The number to call, normalised (a record's as stored, read again)."""
        region = self.rules.region
        if body.number is not None:
            number = dial_number(body.number, region)
            return repo.DialTarget(phone=number, subject=f"phone:{number}")
        source, record = next(
            (name, value)
            for name, value in (
                ("customer", body.customer_id),
                ("contact", body.contact_id),
                ("attention", body.attention_id),
                ("callback", body.callback_id),
            )
            if value is not None
        )
        found = await repo.target_of(self.rt.db, operator_id, source=source, record_id=record)
        return dataclasses.replace(found, phone=dial_number(found.phone, region))

    async def dial(self, agent: DeskAgent, target: repo.DialTarget) -> None:
        """Ring the agent's phone, then the number: if they may take a call and the number may be
        called now.

        Raises:
            Refused: the agent cannot take a call now, or the number may not be called (why).
        """
        why = why_cannot_dial(self.rt.ami.state(agent.pbx).agents.get(agent.interface))
        if why is not None:
            raise Refused(why, "agent")
        dnc = await repo.dnc_of(self.rt.db, target.phone, target.campaign_id)
        check = check_desk_dial(
            target.phone, self.rt.clock.now(), self.rules, dnc, campaign_id=target.campaign_id
        )
        if not check.allowed:
            # A refused call is on record too (who tried to call whom, and why not): the
            # do-not-call list and the calling hours are the law's, and are shown to be kept.
            why = refusal_text(check)
            await audit(
                self.rt.db,
                agent.user.username,
                "desk.dial.refused",
                target.subject or None,
                {"reason": why, "campaign": target.campaign_id},
            )
            raise Refused(why, "number")
        number = target.phone
        self.desk.dialled[agent.user.id] = DialledCall(
            number=number,
            attention_id=target.attention_id,
            callback_id=target.callback_id,
            lead_id=target.lead_id,
        )
        caller_id = self.rt.settings.desk.caller_id
        try:
            response = await self.rt.ami.send(
                agent.pbx,
                Originate(
                    channel=agent.interface,
                    context=self._contexts.get(agent.pbx, "cti-dialer"),
                    exten="preview",
                    priority=1,
                    # What the agent's phone shows while it rings.
                    caller_id=f'"Call" <{number}>',
                    timeout=float(PREVIEW_AGENT_RING_SECONDS),
                    variables={
                        "CTI_NUMBER": number,
                        "CTI_CALLER_ID": caller_id,
                        "CTI_RING_SECONDS": str(PREVIEW_AGENT_RING_SECONDS),
                        "CTI_AGENT": agent.interface,
                    },
                ),
            )
        except AmiError as exc:
            self.desk.dialled.pop(agent.user.id, None)
            raise HTTPProblem(502, _("the PBX refused: {exc}"), exc=exc) from None
        placed = self.desk.dialled.get(agent.user.id)
        if placed is not None:
            self.desk.dialled[agent.user.id] = replace(placed, action_id=str(response.action_id))
        log.info("desk: %s dials %s from %s", agent.user.username, target.subject, agent.interface)

    async def pending(self, operator_id: int) -> list[PendingCall]:
        """The operator's pending calls by due time, but the attention on their screen (of the
        call they are on, or have just ended and wrap up): it is not a call still to make."""
        agent = self.desk.agent_of(operator_id)
        on_screen: set[int] = set()
        if agent is not None and agent.call is not None:
            on_screen.add((agent.attention or {}).get("id") or 0)
        if agent is not None and agent.wrapup is not None and agent.wrapup.attention_id:
            on_screen.add(agent.wrapup.attention_id)
        calls = await repo.pending_calls(self.rt.db, operator_id)
        return by_due_time(
            c for c in calls if not (c.kind is PendingKind.ATTENTION and c.id in on_screen)
        )


def dialer_of(request: web.Request) -> DeskDialer:
    return DeskDialer(web_state(request).runtime, desk_of(request))


# --- handlers -----------------------------------------------------------------------------------


async def dial(request: web.Request) -> web.StreamResponse:
    body = body_of(request, DialBody)
    dialer = dialer_of(request)
    # What is typed is checked first: a mistake is told before anything else.
    target = await dialer.number_of(current(request).user.id, body)
    await dialer.dial(seated(request), target)
    part: Part = (target.subject, {"number": target.phone}, NUMBER_SPEC)
    return await respond(
        dialer.rt.db,
        viewer(request),
        {"number": target.phone},
        NUMBER_SPEC,
        [part],
        purpose=DESK_DIAL,
    )


async def pending(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    calls = await dialer.pending(current(request).user.id)
    now = dialer.rt.clock.now()
    rows = [
        PendingCallOut(
            kind=c.kind,
            id=c.id,
            due_at=c.due_at.isoformat() if c.due_at is not None else None,
            due=due(c, now),
            status=c.status,
            name=c.name,
            phone=c.phone,
            about=c.about,
        ).model_dump(mode="json")
        for c in calls
    ]
    parts: list[Part] = [(f"{row['kind']}:{row['id']}", row, PENDING_SPEC["calls"]) for row in rows]
    return await respond(
        dialer.rt.db,
        viewer(request),
        {"calls": rows, "due": sum(1 for r in rows if r["due"])},
        PENDING_SPEC,
        parts,
        purpose=PENDING_CALLS,
    )


ROUTES: tuple[Route, ...] = (
    route(
        "POST",
        "/api/v1/desk/dial",
        dial,
        "Call a number from the desk (click-to-call or the dial pad): my phone rings first, then"
        " the number, with the desk's caller id; refused (409, saying why) when I cannot take a"
        " call, or the number is on a do-not-call list or outside the calling hours. The number"
        " is masked without personal_data, and the reading audited",
        Dialled,
        body=DialBody,
    ),
    route(
        "GET",
        "/api/v1/desk/pending",
        pending,
        "My pending calls: my pending and planned attentions and the callbacks promised to me,"
        " sorted by due time, with how many are due; names and numbers masked without"
        " personal_data, and the reading audited",
        PendingCalls,
    ),
)

__all__ = ["ROUTES", "DeskDialer", "DialBody"]
