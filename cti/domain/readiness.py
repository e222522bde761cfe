"""Whether an agent can take a call now: the one rule the desk and the dialer share.

An agent can take a call only when their phone is a queue member that can be reached (registered,
not unavailable) and they are ready: not paused, not ringing, not on a call, not in after-call work.
Pure: it reads the live :class:`~cti.domain.state.Agent` and answers in words an agent reads.
"""

from __future__ import annotations

from cti.domain.notices import AgentState
from cti.domain.state import Agent
from cti.domain.texts import Words, _

_BUSY = {
    AgentState.PAUSED: Words(_("you are paused: resume before you dial")),
    AgentState.RINGING: Words(_("your phone is ringing: answer or let it go before you dial")),
    AgentState.IN_CALL: Words(_("you are on a call: finish it before you dial")),
    AgentState.WRAP_UP: Words(_("you are in after-call work: finish it before you dial")),
}


def why_cannot_dial(agent: Agent | None) -> Words | None:
    """Why an agent cannot place (and so take) a call now; ``None`` when they can."""
    if agent is None or not agent.queues:
        return Words(_("your phone is not signed in to your queues: sign in to your phone first"))
    if agent.unavailable:
        return Words(_("your phone is not registered: start your softphone, then dial"))
    if agent.state is AgentState.READY:
        return None
    busy = _BUSY.get(agent.state)
    if busy is not None:
        return busy
    return Words(_("you cannot take a call now ({state})"), state=agent.state.value)


def about_to_be_free(agent: Agent | None) -> bool:
    """Whether an agent is in after-call work: not ready, but free once they dispose the call (or
    the group's maximum wrap-up time releases them). What pacing counts as "about to be free";
    ``agent.since`` is when the wrap-up began, ``agent.wrapup_until`` its end when Asterisk's own
    queue wrap-up time set one (None for cti's, which ends on the agent's disposition)."""
    return (
        agent is not None
        and agent.state is AgentState.WRAP_UP
        and bool(agent.queues)
        and not agent.unavailable
    )
