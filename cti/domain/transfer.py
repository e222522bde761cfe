"""Transfers of a caller from the desk: to whom, how, and the consultation's states (pure).

A transfer goes to an agent picked from those who are free, to a queue, or to a number. It is
*blind* (the caller goes at once) or *attended*: the agent first consults the target while the
caller waits on hold, then completes it (the caller goes to the target) or cancels it (the agent
is back with the caller). The PBX side is Asterisk's own attended transfer (AMI ``Atxfer`` and
``CancelAtxfer``, see ``config/asterisk/features.conf``); both kinds reach the target through the
dialplan context :data:`TRANSFER_CONTEXT`, whose extension is :attr:`Route.exten` with the
inheritable channel variable :data:`TARGET_VARIABLE` holding the agent's interface or the queue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from cti.domain.texts import _
from cti.errors import Refused, UserInputError

TRANSFER_CONTEXT = "cti-transfer"
# Asterisk's own override of the digits an attended transfer collects (bridge_basic.c).
EXTEN_VARIABLE = "TRANSFER_EXTEN"
# Read by the cti-transfer context; "__" makes it reach the channels the transfer creates.
TARGET_VARIABLE = "__CTI_TRANSFER_TO"

_NUMBER = re.compile(r"\+?[0-9]{3,20}")


class TargetKind(StrEnum):
    AGENT = "agent"
    QUEUE = "queue"
    NUMBER = "number"


class ConsultPhase(StrEnum):
    CONSULTING = "consulting"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TransferRefused(Refused):
    """A consultation asked to do what its phase does not allow."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Where the caller goes: ``value`` is the agent's interface, the queue, or the number."""

    kind: TargetKind
    value: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """How the dialplan reaches a target: the extension of :data:`TRANSFER_CONTEXT` and what
    :data:`TARGET_VARIABLE` holds ("" for a number)."""

    exten: str
    to: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FreeAgent:
    """A desk agent as the transfer picker sees them."""

    user_id: int
    name: str
    interface: str
    pbx: str
    state: str
    phone_unavailable: bool
    on_call: bool


def number_target(text: str) -> Target:
    """A number typed by the agent (spaces, dashes, dots and brackets ignored)."""
    number = re.sub(r"[\s\-.()]", "", text)
    if not _NUMBER.fullmatch(number):
        raise UserInputError("number", _("digits only (3 to 20, an optional leading +)"))
    return Target(kind=TargetKind.NUMBER, value=number, label=number)


def route_of(target: Target, *, blind: bool = False) -> Route:
    """The dialplan route of ``target`` (extensions.conf ``[cti-transfer]``). A blind transfer to
    an agent tells cti when they answer (``agent-blind``): nobody at cti saw them pick up."""
    if target.kind is TargetKind.NUMBER:
        return Route(exten=target.value, to="")
    if target.kind is TargetKind.AGENT and blind:
        return Route(exten="agent-blind", to=target.value)
    return Route(exten=target.kind.value, to=target.value)


def is_free(agent: FreeAgent) -> bool:
    """Whether an agent may be given a transfer: ready (not paused, not in wrap-up), their phone
    registered and on no call."""
    return agent.state == "ready" and not agent.phone_unavailable and not agent.on_call


def free_agents(agents: list[FreeAgent], *, me: int, pbx: str) -> list[FreeAgent]:
    """The agents the transfer picker offers: free, on the same PBX, not the transferring one;
    by name."""
    return sorted(
        (a for a in agents if a.user_id != me and a.pbx == pbx and is_free(a)),
        key=lambda a: a.name.lower(),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Consult:
    """An attended transfer in progress: the agent talks to ``target``, the caller on hold."""

    target: Target
    caller_uniqueid: str
    linkedid: str
    agent_channel: str
    attention_id: int | None
    receiver_id: int | None = None
    phase: ConsultPhase = ConsultPhase.CONSULTING

    def complete(self) -> Consult:
        """The caller goes to the target."""
        return self._to(ConsultPhase.COMPLETED)

    def cancel(self) -> Consult:
        """The agent is back with the caller."""
        return self._to(ConsultPhase.CANCELLED)

    def _to(self, phase: ConsultPhase) -> Consult:
        if self.phase is not ConsultPhase.CONSULTING:
            raise TransferRefused(f"the transfer is already {self.phase.value}")
        return replace(self, phase=phase)
