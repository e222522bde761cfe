"""Transfers between desks held by different cti instances (:mod:`cti.web.bus`).

The transferring agent's instance does the telephony (:mod:`cti.web.desk_transfer`); the
instance holding the receiving desk hears, by the bus:

* ``transfer.handoff`` (every instance): a call was transferred; its pop, when it reaches a desk
  held here (through a queue), shows who transferred it and their attention;
* ``transfer.offer``: show the receiving operator the caller's pop (looked up here, for them);
* ``transfer.hand_over``: the consultation was completed, the caller is theirs (timer, attention);
* ``transfer.drop``: the consultation was cancelled.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from cti.web.bus import INSTANCE_BUS
from cti.web.desk_service import DESK_SERVICE, DeskAgent
from cti.web.desk_transfer import (
    TRANSFERS,
    Handoff,
    cancel_offer,
    hand_over_to,
    install_transfer_pop,
    offer_to,
)
from cti.web.state import WEB


def _handoff(message: dict[str, object]) -> Handoff:
    sent = message.get("handoff")
    fields = sent if isinstance(sent, dict) else {}
    pop = fields.get("pop")
    kind: Literal["attended", "blind"] = "blind" if fields.get("kind") == "blind" else "attended"
    attention = fields.get("attention_id")
    return Handoff(
        kind=kind,
        from_name=str(fields.get("from_name") or ""),
        attention_id=int(attention) if isinstance(attention, int) else None,
        pop=dict(pop) if isinstance(pop, dict) else {},
    )


def hear_transfers(app: web.Application) -> None:
    """Handle the transfer messages of the other instances for the desks held here."""
    bus = app[INSTANCE_BUS]

    def receiver_of(message: dict[str, object]) -> DeskAgent | None:
        user = message.get("user")
        service = app.get(DESK_SERVICE)
        return service.agent_of(user) if service is not None and isinstance(user, int) else None

    def remember(message: dict[str, object]) -> Handoff:
        handoff = _handoff(message)
        app[TRANSFERS].remember(str(message.get("pbx")), str(message.get("linkedid")), handoff)
        install_transfer_pop(app)
        return handoff

    async def heard_handoff(message: dict[str, object]) -> None:
        if app.get(DESK_SERVICE) is not None:
            remember(message)

    async def heard_offer(message: dict[str, object]) -> None:
        receiver = receiver_of(message)
        if receiver is None:
            return
        handoff = remember(message)
        service = app[DESK_SERVICE]
        # The caller as this operator may see them, looked up here (the bus carries no more
        # than who is calling).
        found = await service.lookup(receiver, handoff.pop.get("phone"))
        handoff.pop.update(found)
        await offer_to(service, app[WEB].runtime.db, receiver, handoff)

    async def heard_hand_over(message: dict[str, object]) -> None:
        receiver = receiver_of(message)
        if receiver is not None:
            hand_over_to(app[DESK_SERVICE], receiver, str(message.get("linkedid")))

    async def heard_drop(message: dict[str, object]) -> None:
        receiver = receiver_of(message)
        if receiver is not None:
            cancel_offer(app[DESK_SERVICE], receiver)

    bus.on("transfer.handoff", heard_handoff)
    bus.on("transfer.offer", heard_offer)
    bus.on("transfer.hand_over", heard_hand_over)
    bus.on("transfer.drop", heard_drop)
