"""After-call work (wrap-up): the rules, as pure functions.

When an agent's call ends, cti pauses their queue member with the reason :data:`WRAPUP_REASON`
(Asterisk then offers them no queue call); the reducer shows a member paused for that reason as
:attr:`~cti.domain.notices.AgentState.WRAP_UP`, its own state, not "paused". The agent leaves
wrap-up by disposing the attention of the call as their attention group asks
(:func:`why_not_disposed`), or when the group's maximum wrap-up time is over
(:func:`overrun`): then the attention stays pending and is flagged. Either way they go back to
what they were before the call: ready, or paused with the reason they had.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cti.domain.model import AttentionStatus
from cti.domain.notices import AgentState
from cti.domain.texts import _

# The pause reason of a member in wrap-up (never one an admin may keep as a pause reason).
WRAPUP_REASON = "wrap-up"


class WrapupNeeds(StrEnum):
    """What an attention group asks of an attention before its agent leaves wrap-up."""

    STATUS = "status"  # a status other than pending (closed, planned, cancelled)
    REASON = "reason"  # that, and a closing reason


@dataclass(frozen=True, slots=True)
class WrapupRule:
    """An attention group's wrap-up settings (an operator without a group: the defaults)."""

    needs: WrapupNeeds = WrapupNeeds.STATUS
    # None: no limit (the agent stays in wrap-up until they dispose the attention).
    max_seconds: int | None = None


def why_not_disposed(
    rule: WrapupRule, status: AttentionStatus | str | None, closing_reason_id: int | None
) -> str | None:
    """What the attention still lacks before its agent may leave wrap-up; None: nothing."""
    if status is None:
        return None  # no attention to dispose (none was opened for the call)
    if AttentionStatus(status) is AttentionStatus.PENDING:
        if rule.needs is WrapupNeeds.REASON:
            return _(
                "set the attention's status (closed, planned or cancelled) and its closing "
                "reason, then save it"
            )
        return _("set the attention's status (closed, planned or cancelled), then save it")
    if rule.needs is WrapupNeeds.REASON and closing_reason_id is None:
        return _("pick the attention's closing reason, then save it")
    return None


def deadline(rule: WrapupRule, started: datetime) -> datetime | None:
    """When the group's maximum wrap-up time releases the agent (None: never)."""
    return None if rule.max_seconds is None else started + timedelta(seconds=rule.max_seconds)


def overrun(rule: WrapupRule, started: datetime, now: datetime) -> bool:
    """Whether the maximum wrap-up time is over."""
    until = deadline(rule, started)
    return until is not None and now >= until


def resume_pause(reason_before: str | None) -> str | None:
    """The pause to go back to after wrap-up: the one the agent had (never wrap-up itself)."""
    return None if not reason_before or reason_before == WRAPUP_REASON else reason_before


def pause_of(state: AgentState, reason: str, unavailable: bool) -> tuple[str | None] | None:
    """What an agent's state says of its pause, as pauses are counted: ``(reason,)`` paused for it,
    ``(None,)`` not paused, ``None`` nothing.

    A wrap-up is not a pause. Offline says nothing when the agent's queue members are gone (the PBX
    restarting: cti puts them back, with their pause); a phone that drops mid-pause (the browser
    closed over lunch) ends no pause either: the PBX holds the member paused for its reason.
    """
    if state is AgentState.PAUSED:
        return (reason,)
    if state is AgentState.OFFLINE and not unavailable:
        return None
    if state is AgentState.OFFLINE and reason != WRAPUP_REASON:
        return (reason or None,)
    return (None,)


@dataclass(frozen=True, slots=True, kw_only=True)
class PausedToday:
    """An agent's time paused today, as the pauses report counts it.

    Attributes:
        seconds: the whole seconds within today of the pauses that ended today.
        since: when the pause going on began (None: not paused); it counts from today's start at
            the earliest.
        day_ends: when today ends (from then a new day counts from zero).
    """

    seconds: int
    since: datetime | None
    day_ends: datetime


def seconds_between(started: datetime, ended: datetime) -> int:
    """A wrap-up's length in whole seconds (what the wallboard and the report both count)."""
    return max(0, int((ended - started).total_seconds()))
