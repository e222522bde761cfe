"""Transfers from the desk: blind, or attended (consult, then complete or cancel), to an agent
picked from those who are free, to a queue, or to a number.

The PBX does the telephony (see :mod:`cti.domain.transfer` and ``config/asterisk/features.conf``):
a consultation is Asterisk's attended transfer, started with AMI ``Atxfer`` on the agent's channel
(``TRANSFER_EXTEN`` and ``CTI_TRANSFER_TO`` set on it first), completed by hanging the agent's
channel up (Asterisk hands the caller to the target) and cancelled with ``CancelAtxfer``. A blind
transfer is an AMI ``Redirect`` of the caller to the same dialplan context.

The receiving agent, when they sit at a desk, gets the caller's pop as the transferring agent had
it, with a ``transfer`` part: who transferred the call, and that agent's attention so far with its
notes (read as the receiver may see them). When the transfer completes, the call is theirs: timer,
their own attention, and after-call work when it ends, as for any call.
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from cti.db import desk as repo
from cti.db.backoffice.personal import Viewer
from cti.db.engine import Database
from cti.domain.commands import Atxfer, CancelAtxfer, Hangup, Redirect, Setvar
from cti.domain.events import LinkedId, UniqueId
from cti.domain.notices import AgentConnected
from cti.domain.transfer import (
    EXTEN_VARIABLE,
    TARGET_VARIABLE,
    TRANSFER_CONTEXT,
    Consult,
    FreeAgent,
    Target,
    TargetKind,
    free_agents,
    number_target,
    route_of,
)
from cti.errors import UserInputError
from cti.i18n import _
from cti.web.api import Body, HTTPProblem, Route, RouteMaker, body_of
from cti.web.bus import INSTANCE_BUS
from cti.web.desk_channels import call_channels
from cti.web.desk_holding import DESK_HOLDING
from cti.web.desk_phone import desk_of, reply, seated, send_command
from cti.web.desk_recovery import RECOVER_EXTEN, RECOVER_QUEUE_VARIABLE
from cti.web.desk_service import DESK_SERVICE, DeskAgent, DeskService
from cti.web.models import Done
from cti.web.personal import permission
from cti.web.state import WEB, web_state

log = logging.getLogger("cti.web.desk")

route = RouteMaker("desk", "operator")


# Transferred calls remembered for the pops of whoever gets them (by a queue, or later).
HANDOFFS_KEPT = 500
# What a receiving agent's pop keeps of its own; the rest comes from the transferring agent's.
_POP_OWN = frozenset({"id", "linkedid", "queue", "status", "rang_at", "masked", "transfer"})


@dataclass(frozen=True, slots=True)
class Handoff:
    """A call an agent transferred: how, who, their attention and their pop of the caller."""

    kind: Literal["attended", "blind"]
    from_name: str
    attention_id: int | None
    pop: dict[str, Any]


@dataclass(slots=True)
class Transfers:
    """The consultations in progress, by the transferring operator's id; the calls transferred,
    by (pbx, linkedid)."""

    consults: dict[int, Consult] = field(default_factory=dict)
    handoffs: OrderedDict[tuple[str, str], Handoff] = field(default_factory=OrderedDict)

    def remember(self, pbx: str, linkedid: str, handoff: Handoff) -> None:
        self.handoffs[(pbx, linkedid)] = handoff
        self.handoffs.move_to_end((pbx, linkedid))
        while len(self.handoffs) > HANDOFFS_KEPT:
            self.handoffs.popitem(last=False)


TRANSFERS = web.AppKey("cti.desk.transfers", Transfers)


def setup(app: web.Application) -> None:
    """Keep the consultations of the app's desks; hear the transfers other instances make to
    the desks held here (:mod:`cti.web.desk_transfer_bus`)."""
    app[TRANSFERS] = Transfers()
    from cti.web.desk_transfer_bus import hear_transfers

    hear_transfers(app)


# --- bodies and answers -------------------------------------------------------------------------


class TransferTo(Body):
    kind: TargetKind = Field(description="agent (a free agent), queue, or number")
    agent_id: int | None = Field(None, description="kind agent: the user id of a free agent")
    queue: Annotated[str, Field(max_length=80)] | None = Field(
        None, description="kind queue: one of the desk queues"
    )
    number: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="kind number: the number to call"
    )


class TransferAgent(BaseModel):
    user_id: int
    name: str


class TransferTargets(BaseModel):
    """Who and where a call may be transferred to now."""

    agents: list[TransferAgent] = Field(description="agents at a desk who are free, by name")
    queues: list[str]


class TransferTargetView(BaseModel):
    kind: TargetKind
    label: str


class TransferState(BaseModel):
    """The agent's attended transfer: ``none``, or ``consulting`` (the caller on hold)."""

    phase: Literal["none", "consulting"]
    target: TransferTargetView | None
    target_up: bool = Field(description="the consulted party's call is still there")


# --- what the handlers share --------------------------------------------------------------------


def _consults(request: web.Request) -> dict[int, Consult]:
    return request.app[TRANSFERS].consults


@dataclass(frozen=True, slots=True)
class OnCall:
    """The agent's call as the live state has it."""

    channel: str
    caller: str
    caller_uniqueid: str
    linkedid: str


def on_call(request: web.Request, agent: DeskAgent) -> OnCall:
    """The agent's channel and the caller's; 409 when they are on no call."""
    state = web_state(request).runtime.ami.state(agent.pbx)
    call = agent.call
    if call is None or call.get("ended_ms") is not None:
        raise HTTPProblem(409, _("you have no call to transfer"))
    mine, caller = call_channels(state, agent.interface, call)
    if caller is None or mine is None:
        raise HTTPProblem(409, _("you have no call to transfer"))
    return OnCall(
        channel=mine.name,
        caller=caller.name,
        caller_uniqueid=str(caller.uniqueid),
        linkedid=call["linkedid"],
    )


def _pickable(request: web.Request) -> list[FreeAgent]:
    """The agents at a desk, here and at the other instances (theirs as the PBX has them)."""
    service = desk_of(request)
    found = [
        FreeAgent(
            user_id=a.user.id,
            name=a.user.full_name,
            interface=a.interface,
            pbx=a.pbx,
            state=a.state,
            phone_unavailable=a.phone_unavailable,
            # On a call, or offered one (a transfer rings them outside any queue).
            on_call=a.timer() is not None or (a.pop or {}).get("status") == "transfer",
        )
        for a in service.agents()
    ]
    holding = request.app.get(DESK_HOLDING)
    if holding is None:
        return found
    here = {a.user_id for a in found}
    ami = web_state(request).runtime.ami
    for (pbx, interface), (user_id, name) in holding.seats().items():
        live = ami.state(pbx).agents.get(interface)
        if user_id in here or live is None:
            continue
        found.append(
            FreeAgent(
                user_id=user_id,
                name=name,
                interface=interface,
                pbx=pbx,
                state=live.state.value,
                phone_unavailable=live.unavailable,
                on_call=live.call is not None or live.ringing_for is not None,
            )
        )
    return found


def _receiver(
    request: web.Request, pbx: str, interface: str
) -> tuple[DeskAgent | None, int | None]:
    """The desk agent at ``interface`` when held here, else the user id of the operator whose
    desk another instance holds there (None, None: nobody's desk)."""
    local = desk_of(request).holder_of(pbx, interface)
    if local is not None:
        return local, local.user.id
    holding = request.app.get(DESK_HOLDING)
    seat = holding.seats().get((pbx, interface)) if holding is not None else None
    return None, seat[0] if seat is not None else None


def _target(request: web.Request, agent: DeskAgent, body: TransferTo) -> Target:
    """The target the body names, checked: a free agent, a desk queue, or a number."""
    if body.kind is TargetKind.AGENT:
        if body.agent_id is None:
            raise UserInputError("agent_id", _("pick an agent"))
        free = free_agents(_pickable(request), me=agent.user.id, pbx=agent.pbx)
        picked = next((a for a in free if a.user_id == body.agent_id), None)
        if picked is None:
            raise HTTPProblem(409, _("that agent is not free now"), "agent_id")
        return Target(kind=TargetKind.AGENT, value=picked.interface, label=picked.name)
    if body.kind is TargetKind.QUEUE:
        queues = _desk_queues(request)
        if body.queue not in queues:
            raise UserInputError("queue", _("must be one of {choices}"), choices=", ".join(queues))
        return Target(kind=TargetKind.QUEUE, value=body.queue, label=body.queue)
    if not body.number:
        raise UserInputError("number", _("type the number to call"))
    return number_target(body.number)


def _desk_queues(request: web.Request) -> list[str]:
    desk = web_state(request).runtime.settings.desk
    return list(desk.queues_for(("telemarketing", "telesales", "collection")))


def _target_up(request: web.Request, agent: DeskAgent, consult: Consult) -> bool:
    """Whether the consulted leg (Asterisk's ``Local/<exten>@cti-transfer``) is still there."""
    prefix = f"Local/{route_of(consult.target).exten}@{TRANSFER_CONTEXT}"
    state = web_state(request).runtime.ami.state(agent.pbx)
    return any(
        ch.linkedid == consult.linkedid and ch.name.startswith(prefix)
        for ch in state.channels.values()
    )


def _state_of(request: web.Request, agent: DeskAgent) -> TransferState:
    consult = _consults(request).get(agent.user.id)
    if consult is not None and (agent.call is None or agent.call.get("ended_ms") is not None):
        # The call ended during the consultation (the caller hung up on hold...).
        _drop(request, agent, consult)
        consult = None
    if consult is None:
        return TransferState(phase="none", target=None, target_up=False)
    return TransferState(
        phase="consulting",
        target=TransferTargetView(kind=consult.target.kind, label=consult.target.label),
        target_up=_target_up(request, agent, consult),
    )


def _drop(request: web.Request, agent: DeskAgent, consult: Consult) -> None:
    """Forget a consultation; the receiving desk's pop says the transfer did not come."""
    _consults(request).pop(agent.user.id, None)
    if consult.receiver_id is None:
        return
    service = desk_of(request)
    receiver = service.agent_of(consult.receiver_id)
    if receiver is None:
        request.app[INSTANCE_BUS].post(
            "transfer.drop", user=consult.receiver_id, pbx=agent.pbx, linkedid=consult.linkedid
        )
    cancel_offer(service, receiver)


def cancel_offer(service: DeskService, receiver: DeskAgent | None) -> None:
    """The receiving desk's pop of a transfer offered says it did not come."""
    pop = receiver.pop if receiver is not None else None
    if (
        receiver is not None
        and pop is not None
        and pop.get("transfer")
        and pop["status"] == "transfer"
    ):
        pop["status"] = "transfer_cancelled"
        service.push(receiver.user.id, {"type": "pop_update", "pop": pop})


async def _transfer_part(db: Database, handoff: Handoff, receiver: DeskAgent) -> dict[str, Any]:
    """What the receiving agent's pop shows of a transferred call: the caller as the
    transferring agent's pop had them, and that agent's attention with its notes (read as the
    receiver may see it)."""
    attention = None
    if handoff.attention_id is not None:
        attention = await repo.attention_detail(
            db, handoff.attention_id, Viewer(receiver.user.id, receiver.user.username)
        )
    return {
        **{k: v for k, v in copy.deepcopy(handoff.pop).items() if k not in _POP_OWN},
        "transfer": {"kind": handoff.kind, "from": handoff.from_name, "attention": attention},
    }


def _hand_off(
    request: web.Request, agent: DeskAgent, linkedid: str, kind: Literal["attended", "blind"]
) -> Handoff:
    """Remember the call the agent transfers, for the pop of whoever gets it."""
    transfers = request.app[TRANSFERS]
    handoff = Handoff(
        kind=kind,
        from_name=agent.user.full_name,
        attention_id=(agent.attention or {}).get("id"),
        pop=copy.deepcopy(agent.pop) if agent.pop is not None else {},
    )
    transfers.remember(agent.pbx, linkedid, handoff)
    install_transfer_pop(request.app)
    # The caller may reach a desk another instance holds (through a queue): it keeps it too.
    request.app[INSTANCE_BUS].post(
        "transfer.handoff", pbx=agent.pbx, linkedid=linkedid, handoff=handoff_message(handoff)
    )
    return handoff


def install_transfer_pop(app: web.Application) -> None:
    """The desk's pops of a transferred caller add what the transferring agent had."""
    service = app[DESK_SERVICE]
    if service.transfer_pop is not None:
        return
    transfers = app[TRANSFERS]
    db = app[WEB].runtime.db

    async def transfer_pop(receiver: DeskAgent, pbx: str, linked: str) -> dict[str, Any] | None:
        found = transfers.handoffs.get((pbx, linked))
        if found is None:
            return None
        # The pop's own lookup may have had no number to read the permission with (a call
        # put straight through shows none): read it here, the pop shows the caller.
        receiver.personal_data = await permission(db, receiver.user.id)
        return await _transfer_part(db, found, receiver)

    service.transfer_pop = transfer_pop


# What of a pop another instance is sent (the rest it looks up itself, for its own agent).
_POP_SENT = ("id", "linkedid", "queue", "caller_num", "caller_name", "phone", "rang_at", "campaign")


def handoff_message(handoff: Handoff) -> dict[str, object]:
    """A handoff as a bus message carries it (small: the caller's lookup is not sent)."""
    return {
        "kind": handoff.kind,
        "from_name": handoff.from_name,
        "attention_id": handoff.attention_id,
        "pop": {k: handoff.pop[k] for k in _POP_SENT if k in handoff.pop},
    }


async def _offer(request: web.Request, receiver: DeskAgent, handoff: Handoff) -> None:
    await offer_to(desk_of(request), web_state(request).runtime.db, receiver, handoff)


async def offer_to(
    service: DeskService, db: Database, receiver: DeskAgent, handoff: Handoff
) -> None:
    """Show the receiving agent the caller's pop with the transferring agent's attention."""
    part = await _transfer_part(db, handoff, receiver)
    pop = {**copy.deepcopy(handoff.pop), **part, "status": "transfer"}
    receiver.pop = pop
    receiver.attention = None
    service.push(receiver.user.id, {"type": "pop", "pop": pop})
    service.audit_pop(receiver, pop)


def _hand_over(request: web.Request, receiver: DeskAgent, linkedid: str) -> None:
    hand_over_to(desk_of(request), receiver, linkedid)


def hand_over_to(service: DeskService, receiver: DeskAgent, linkedid: str) -> None:
    """The caller is the receiver's now: their desk connects the call (timer, own attention)."""
    state = service.rt.ami.state(receiver.pbx)
    theirs = next(
        (
            ch
            for ch in state.channels.values()
            if ch.linkedid == linkedid and ch.name.startswith(receiver.interface + "-")
        ),
        None,
    )
    pop = receiver.pop or {}
    uniqueid = str(theirs.uniqueid) if theirs is not None else f"{pop.get('id', linkedid)}-t"
    pop["id"] = uniqueid
    service.follow_direct(receiver, linkedid)
    service.on_notice(
        AgentConnected(
            pbx=receiver.pbx,
            at=service.rt.clock.now(),
            queue=str(pop.get("queue") or ""),
            interface=receiver.interface,
            member_name=receiver.user.full_name,
            caller_num=str(pop.get("caller_num") or ""),
            caller_name=str(pop.get("caller_name") or ""),
            uniqueid=UniqueId(uniqueid),
            linkedid=LinkedId(linkedid),
            hold_seconds=0,
            ring_seconds=0,
        )
    )


# --- handlers -----------------------------------------------------------------------------------


async def targets(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    free = free_agents(_pickable(request), me=agent.user.id, pbx=agent.pbx)
    return reply(
        TransferTargets(
            agents=[TransferAgent(user_id=a.user_id, name=a.name) for a in free],
            queues=_desk_queues(request),
        )
    )


async def transfer_state(request: web.Request) -> web.StreamResponse:
    return reply(_state_of(request, seated(request)))


async def consult(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    body = body_of(request, TransferTo)
    if _state_of(request, agent).phase != "none":
        raise HTTPProblem(409, _("you are already consulting: complete or cancel that transfer"))
    on = on_call(request, agent)
    target = _target(request, agent, body)
    route_to = route_of(target)
    await send_command(
        request,
        agent.pbx,
        Setvar(channel=on.channel, variable=EXTEN_VARIABLE, value=route_to.exten),
    )
    await send_command(
        request, agent.pbx, Setvar(channel=on.channel, variable=TARGET_VARIABLE, value=route_to.to)
    )
    # The digits Atxfer keys after the feature code are ignored (TRANSFER_EXTEN overrides them);
    # "#" starts no feature on the consulting channel.
    await send_command(
        request, agent.pbx, Atxfer(channel=on.channel, exten="#", context=TRANSFER_CONTEXT)
    )
    receiver, receiver_id = None, None
    if target.kind is TargetKind.AGENT:
        receiver, receiver_id = _receiver(request, agent.pbx, target.value)
    _consults(request)[agent.user.id] = Consult(
        target=target,
        caller_uniqueid=on.caller_uniqueid,
        linkedid=on.linkedid,
        agent_channel=on.channel,
        attention_id=(agent.attention or {}).get("id"),
        receiver_id=receiver_id,
    )
    handoff = _hand_off(request, agent, on.linkedid, "attended")
    await _offer_any(
        request,
        agent,
        receiver=receiver,
        receiver_id=receiver_id,
        linkedid=on.linkedid,
        handoff=handoff,
    )
    log.info("desk of %s: consulting %s", agent.user.username, target.label)
    return reply(_state_of(request, agent))


async def _offer_any(
    request: web.Request,
    agent: DeskAgent,
    *,
    receiver: DeskAgent | None,
    receiver_id: int | None,
    linkedid: str,
    handoff: Handoff,
) -> None:
    """Offer the call to the receiving desk, here or at the instance that holds it."""
    if receiver is not None:
        await _offer(request, receiver, handoff)
    elif receiver_id is not None:
        await request.app[INSTANCE_BUS].send(
            "transfer.offer",
            user=receiver_id,
            pbx=agent.pbx,
            linkedid=linkedid,
            handoff=handoff_message(handoff),
        )


def _consulting(request: web.Request, agent: DeskAgent) -> Consult:
    if _state_of(request, agent).phase != "consulting":
        raise HTTPProblem(409, _("you are not consulting anyone"))
    return _consults(request)[agent.user.id]


async def complete(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    consult = _consulting(request, agent)
    if not _target_up(request, agent, consult):
        _drop(request, agent, consult)
        raise HTTPProblem(
            409,
            _("{label} is no longer on the line: you are back with the caller"),
            label=consult.target.label,
        )
    done = consult.complete()
    await send_command(request, agent.pbx, Hangup(channel=consult.agent_channel))
    _consults(request).pop(agent.user.id, None)
    if done.receiver_id is not None:
        receiver = desk_of(request).agent_of(done.receiver_id)
        if receiver is not None:
            _hand_over(request, receiver, done.linkedid)
        else:  # their desk is held by another instance
            await request.app[INSTANCE_BUS].send(
                "transfer.hand_over", user=done.receiver_id, pbx=agent.pbx, linkedid=done.linkedid
            )
    log.info("desk of %s: transferred to %s", agent.user.username, done.target.label)
    return reply(Done(ok=True))


async def cancel(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    consult = _consulting(request, agent)
    consult.cancel()
    if _target_up(request, agent, consult):
        await send_command(request, agent.pbx, CancelAtxfer(channel=consult.agent_channel))
    _drop(request, agent, consult)
    return reply(Done(ok=True))


async def blind(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    body = body_of(request, TransferTo)
    if _state_of(request, agent).phase != "none":
        raise HTTPProblem(409, _("you are consulting: complete or cancel that transfer first"))
    on = on_call(request, agent)
    target = _target(request, agent, body)
    route_to = route_of(target, blind=True)
    handoff = _hand_off(request, agent, on.linkedid, "blind")
    if target.kind is TargetKind.AGENT:
        receiver, receiver_id = _receiver(request, agent.pbx, target.value)
        await _offer_any(
            request,
            agent,
            receiver=receiver,
            receiver_id=receiver_id,
            linkedid=on.linkedid,
            handoff=handoff,
        )
    if route_to.to:
        await send_command(
            request,
            agent.pbx,
            Setvar(channel=on.caller, variable=TARGET_VARIABLE, value=route_to.to),
        )
    await send_command(
        request,
        agent.pbx,
        Redirect(channel=on.caller, context=TRANSFER_CONTEXT, exten=route_to.exten),
    )
    return reply(Done(ok=True))


async def recover(request: web.Request) -> web.StreamResponse:
    """Ring my desk's phone again with the caller it lost (a reload mid-call)."""
    agent = seated(request)
    if not agent.user.softphone:
        raise HTTPProblem(409, _("your phone is not the desk's: a reload does not lose its call"))
    on = on_call(request, agent)
    if agent.recovering == on.linkedid:
        return reply(Done(ok=True))  # asked twice: the caller already rings this phone
    queue = str((agent.call or {}).get("queue") or "")
    service = desk_of(request)
    service.begin_recovery(agent, on.linkedid)
    service.follow_direct(agent, on.linkedid)
    try:
        for variable, value in (
            (TARGET_VARIABLE, agent.interface),
            (RECOVER_QUEUE_VARIABLE, queue),
        ):
            await send_command(
                request, agent.pbx, Setvar(channel=on.caller, variable=variable, value=value)
            )
        await send_command(
            request,
            agent.pbx,
            Redirect(channel=on.caller, context=TRANSFER_CONTEXT, exten=RECOVER_EXTEN),
        )
    except HTTPProblem:
        service.end_recovery(agent)
        raise
    log.info(
        "desk of %s: taking the call %s back after the phone's loss",
        agent.user.username,
        on.linkedid,
    )
    return reply(Done(ok=True))


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/desk/transfer/targets",
        targets,
        "Where a call may be transferred now: the free agents and the queues",
        TransferTargets,
    ),
    route(
        "GET",
        "/api/v1/desk/transfer",
        transfer_state,
        "My attended transfer in progress (consulting whom), if any",
        TransferState,
    ),
    route(
        "POST",
        "/api/v1/desk/transfer/consult",
        consult,
        "Attended transfer: put the caller on hold and call a free agent, a queue or a number",
        TransferState,
        body=TransferTo,
    ),
    route(
        "POST",
        "/api/v1/desk/transfer/complete",
        complete,
        "Complete the attended transfer: the caller goes to whom I consulted",
        Done,
    ),
    route(
        "POST",
        "/api/v1/desk/transfer/cancel",
        cancel,
        "Cancel the attended transfer: back to the caller",
        Done,
    ),
    route(
        "POST",
        "/api/v1/desk/transfer/blind",
        blind,
        "Blind transfer of the caller to a free agent, a queue or a number",
        Done,
        body=TransferTo,
    ),
    route(
        "POST",
        "/api/v1/desk/call/recover",
        recover,
        "Ring my desk's phone again with the caller it lost (the page was reloaded mid-call)",
        Done,
    ),
)
