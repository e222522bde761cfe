"""A supervisor's pause or resume of an agent whose desk another cti instance holds: that
instance does it as its own desk would (a pause asked for during a call or after-call work takes
effect when it is over; a resume in after-call work releases it), told by the bus
(:mod:`cti.web.bus`)."""

from __future__ import annotations

import logging

from aiohttp import web

from cti.domain.commands import QueuePause
from cti.domain.notices import AgentState
from cti.domain.wrapup import WRAPUP_REASON
from cti.web.bus import INSTANCE_BUS
from cti.web.desk_holding import DESK_HOLDING
from cti.web.desk_service import DESK_SERVICE
from cti.web.state import WEB

log = logging.getLogger("cti.web.supervisor")

KIND = "supervisor.pause"


class Asked:
    """What the PBX shows of the agent the other instance was asked about."""

    def __init__(self, *, deferred: bool, released: bool) -> None:
        self.deferred = deferred
        self.released = released


async def ask_holder(
    app: web.Application, pbx: str, interface: str, reason: str | None, by: str
) -> Asked | None:
    """Ask the instance holding the desk at ``interface`` to pause its agent (``reason``; None:
    resume). None when no other instance holds a desk there (then act here)."""
    holding = app.get(DESK_HOLDING)
    seat = holding.seats().get((pbx, interface)) if holding is not None else None
    desk = app.get(DESK_SERVICE)
    if seat is None or (desk is not None and desk.agent_of(seat[0]) is not None):
        return None
    # What the PBX shows now, before asking: the other instance may have done it (a wrap-up
    # released: the agent is ready) by the time the message is sent.
    live = app[WEB].runtime.ami.state(pbx).agents.get(interface)
    state = live.state if live is not None else AgentState.OFFLINE
    busy = state in (AgentState.RINGING, AgentState.IN_CALL)
    wrapping = state is AgentState.WRAP_UP or (
        live is not None and live.paused and live.reason == WRAPUP_REASON and not busy
    )
    await app[INSTANCE_BUS].send(
        KIND, user=seat[0], pbx=pbx, interface=interface, reason=reason, by=by
    )
    return Asked(
        deferred=busy or (wrapping and reason is not None),
        released=wrapping and reason is None,
    )


def hear_pauses(app: web.Application) -> None:
    """Pause or resume, as asked by another instance, the agents whose desk is held here."""

    async def heard(message: dict[str, object]) -> None:
        desk = app.get(DESK_SERVICE)
        user = message.get("user")
        agent = desk.agent_of(user) if desk is not None and isinstance(user, int) else None
        reason = message.get("reason")
        reason = str(reason) if reason is not None else None
        if desk is None or agent is None:
            # Moved on meanwhile (no desk here any more): the PBX is told as it is.
            pbx, interface = str(message.get("pbx")), str(message.get("interface"))
            await app[WEB].runtime.ami.send(
                pbx, QueuePause(interface=interface, paused=reason is not None, reason=reason or "")
            )
            return
        if reason is None and agent.wrapup is not None:
            await desk.finish_wrapup(agent, released=True, by="supervisor")
        elif not desk.defer_pause(agent, reason):
            await app[WEB].runtime.ami.send(
                agent.pbx,
                QueuePause(
                    interface=agent.interface, paused=reason is not None, reason=reason or ""
                ),
            )
        log.info(
            "desk of %s: %s by %s (asked from another instance)",
            agent.user.username,
            f"paused ({reason})" if reason else "resumed",
            message.get("by"),
        )

    app[INSTANCE_BUS].on(KIND, heard)
