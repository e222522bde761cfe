"""A desk agent: one operator signed in at a desk to a phone, what their desk shows, and how each
frame sent to a desk is masked.

Personal data: the agent's pop, call and footer are kept unmasked (registering the caller needs
their number); every frame goes out through :func:`desk_frame`, which masks the fields
:data:`DESK_FRAMES` declares for its type unless the agent may see personal data (read from the
database with each pop's lookup). :func:`pop_parts` names whose personal data a pop shows, the
subjects of the audit lines of its reading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cti.domain.backoffice import (
    CALLER_FIELDS,
    CUSTOMER_FIELDS,
    FOOTER_SPEC,
    LEAD_POP_SPEC,
    POP_SPEC,
    FieldSpec,
)
from cti.domain.no_answer import MissedCalls
from cti.domain.notices import AgentState, AnyNotice
from cti.domain.wrapup import PausedToday, WrapupRule, deadline, why_not_disposed
from cti.i18n import _
from cti.web.auth import SignedIn
from cti.web.personal import Part, render

DESK_TOPIC = "desk"
SCREEN_POP = "screen-pop"

# The personal fields of each frame a desk is sent, by type (the attention comes masked from
# :func:`cti.db.desk.attention_detail`). A frame of a type not listed here is never sent.
DESK_FRAMES: dict[str, FieldSpec] = {
    "snapshot": {"desk": {"pop": POP_SPEC, "call": CALLER_FIELDS, "footer": FOOTER_SPEC}},
    "state": {},
    "pop": {"pop": POP_SPEC},
    "pop_update": {"pop": POP_SPEC},
    "connected": {"call": CALLER_FIELDS, "pop": POP_SPEC},
    "attention": {"footer": FOOTER_SPEC},
    "call_ended": {"call": CALLER_FIELDS, "footer": FOOTER_SPEC},
    "cleared": {"footer": FOOTER_SPEC},
    "dial_failed": {},
    "wrapup": {},
    "after_ring": {},
    "paused_today": {},
    "missed_pause": {},
    "taken_over": {},
    "pong": {},
    "error": {},
}


def desk_frame(message: dict[str, Any], *, allowed: bool) -> dict[str, Any]:
    """A desk message as an agent with (``allowed``) or without the permission may see it.

    Raises:
        KeyError: a message type :data:`DESK_FRAMES` does not declare.
    """
    out = render(message, DESK_FRAMES[message["type"]], allowed=allowed)
    desk = out.get("desk")
    for holder in (out, desk if isinstance(desk, dict) else None):
        if holder is not None and isinstance(holder.get("pop"), dict):
            holder["pop"] = {**holder["pop"], "masked": not allowed}
    return out


def pop_parts(pop: dict[str, Any]) -> list[Part]:
    """Whose personal data a pop shows: the caller id's call, the customer, the contact or lead
    matched and, for a dialer call, its lead (the audit subjects of its reading)."""
    parts: list[Part] = [
        (f"call:{pop['linkedid']}", pop, {**CALLER_FIELDS, "phone": POP_SPEC["phone"]})
    ]
    customer, match = pop.get("customer"), pop.get("match")
    if customer:
        parts.append((f"customer:{customer['id']}", customer, CUSTOMER_FIELDS))
    if match and match.get("kind") != "customer":
        parts.append((f"{match['kind']}:{match['id']}", match, CUSTOMER_FIELDS))
    campaign = pop.get("campaign")
    if campaign:
        parts.append((f"lead:{campaign['lead']['id']}", campaign, LEAD_POP_SPEC))
    return parts


def epoch_ms(at: datetime) -> int:
    """An instant as epoch milliseconds (what the browser's clock counts in)."""
    return int(at.timestamp() * 1000)


@dataclass(eq=False)
class Wrapping:
    """An agent's after-call work, from the end of a call until the PBX says it is over."""

    started: datetime
    rule: WrapupRule
    attention_id: int | None
    # The pause to go back to afterwards (None: ready), the one the agent had before the call.
    resume: str | None
    # When the agent entered the PBX's wrap-up state (what the report and the wallboard count).
    entered: datetime | None = None
    # Finished (disposed, or released by the maximum time: ``released``): the unpause is sent.
    finished: bool = False
    released: bool = False
    # Who released it: "time" (the group's maximum) or "supervisor" (made available by one).
    released_by: str = "time"

    def view(self, todo: str | None) -> dict[str, Any]:
        """What the desk shows: since when, until when at most, what is left to do."""
        until = deadline(self.rule, self.started)
        return {
            "started_ms": epoch_ms(self.started),
            "until_ms": None if until is None else epoch_ms(until),
            "max_seconds": self.rule.max_seconds,
            "needs": self.rule.needs.value,
            "attention_id": self.attention_id,
            "todo": todo,
            "then": f"paused ({self.resume})" if self.resume else "ready",
        }


@dataclass(eq=False)
class DeskAgent:
    """One operator signed in at a desk to a phone (an Asterisk interface)."""

    user: SignedIn
    pbx: str
    interface: str
    queues: tuple[str, ...]
    state: str = AgentState.OFFLINE.value
    reason: str = ""
    since: datetime | None = None
    # The phone is not registered (or does not answer): no call can reach this desk.
    phone_unavailable: bool = False
    # The pause the PBX last reported for this phone (None: not paused), kept so that queues the
    # PBX lost (a restart, a crash) are given back as they were.
    pause_reason: str | None = None
    pop: dict[str, Any] | None = None
    call: dict[str, Any] | None = None  # uniqueid, linkedid, queue, caller, answered_ms, ended_ms
    attention: dict[str, Any] | None = None
    last_call: dict[str, Any] | None = None
    next_call: str | None = None
    # May this agent see personal data: read with each pop's lookup (at first, the sign-in's).
    personal_data: bool = False
    # After-call work (None: not in wrap-up).
    wrapup: Wrapping | None = None
    # The member is paused for wrap-up since its call connected (so no queue call slips in
    # between the call's end and the wrap-up), and the pause to go back to afterwards.
    holding: bool = False
    resume_after: str | None = None
    # A Pause (its reason) or a Resume (None) pressed while a call rang the agent: it takes
    # effect when the ring ends (missed), or after the call's wrap-up (answered).
    after_ring: tuple[str | None] | None = None
    # Queue calls that rang out unanswered in a row (cti.domain.no_answer).
    missed: MissedCalls = field(default_factory=MissedCalls)
    # The pause last written to the pauses report (its reason; None: not paused), in a tuple;
    # None before the first.
    noted_pause: tuple[str | None] | None = None
    # The agent's time paused today as the pauses report counts it (None until read): see
    # :meth:`paused_today_view`.
    paused_today: PausedToday | None = None
    # The linkedid of a call being taken back after the desk's browser phone lost its leg (a
    # reload): see cti.web.desk_recovery.
    recovering: str | None = None
    # ... and once it is back: its end comes as the whole call's end (CallEnded), so the queue's
    # late AgentComplete for the first leg ends nothing.
    recovered: str | None = None
    inbox: asyncio.Queue[AnyNotice | None] = field(default_factory=asyncio.Queue)
    worker: asyncio.Task[None] | None = None

    @property
    def ideal_seconds(self) -> int | None:
        return self.user.ideal_talk_seconds

    def talked_until(self, at: datetime) -> int:
        """Seconds of talk on the call on screen from its answer until ``at`` (0: no call)."""
        if self.call is None:
            return 0
        return max(0, round((epoch_ms(at) - int(self.call["answered_ms"])) / 1000))

    def timer(self) -> dict[str, Any] | None:
        """The running talk timer, or None when no call is up."""
        if self.call is None or self.call.get("ended_ms") is not None:
            return None
        return {
            "started_ms": self.call["answered_ms"],
            "ideal_seconds": self.ideal_seconds,
            "uniqueid": self.call["uniqueid"],
        }

    def footer(self) -> dict[str, Any]:
        """The seeds' footer: last call, operator, attention status, operation, next call."""
        operation = None
        if "telesales" in self.user.routines:
            # The quote or order made in this attention (the seeds' "operation", telesales only).
            made = (self.attention or {}).get("operation")
            operation = made["label"] if made else None
        next_call = (self.attention or {}).get("next_call_at") or self.next_call
        return {
            "last_call": self.last_call,
            "operator": self.user.full_name,
            "attention_status": (self.attention or {}).get("status"),
            "operation": operation,
            "next_call": next_call,
        }

    def ringing(self) -> bool:
        """A call rings the agent (popped, neither answered nor ended yet)."""
        return self.pop is not None and self.pop.get("status") == "ringing" and self.timer() is None

    def pause_after_ring(self) -> str | None:
        """What the agent will be once the ring ends, as the desk says it (None: nothing asked)."""
        if self.after_ring is None:
            return None
        reason = self.after_ring[0]
        return "ready" if reason is None else f"paused ({reason})"

    def snapshot(self) -> dict[str, Any]:
        return {
            "signed_in": True,
            "pbx": self.pbx,
            "interface": self.interface,
            "queues": list(self.queues),
            "state": self.state,
            "reason": self.reason,
            "since": self.since.isoformat() if self.since else None,
            "phone_unavailable": self.phone_unavailable,
            "pop": self.pop,
            "call": self.call,
            "timer": self.timer(),
            "attention": self.attention,
            "footer": self.footer(),
            "wrapup": self.wrapup_view(),
            "after_ring": self.pause_after_ring(),
            "paused_today": self.paused_today_view(),
        }

    def paused_today_view(self) -> dict[str, Any] | None:
        """Today's time paused: ``seconds`` in the pauses that ended, ``since_ms`` when the one
        going on began (None: not paused), ``day_ends_ms`` when today ends (a new day counts
        from zero). None until read."""
        p = self.paused_today
        if p is None:
            return None
        return {
            "seconds": p.seconds,
            "since_ms": None if p.since is None else epoch_ms(p.since),
            "day_ends_ms": epoch_ms(p.day_ends),
        }

    def wrapup_todo(self, attention: dict[str, Any] | None = None) -> str | None:
        """What the attention still lacks before the agent may leave wrap-up (``attention``: the
        wrap-up's attention as just read, else the one on the agent's screen if it is that)."""
        w = self.wrapup
        if w is None:
            return None
        a = next(
            (
                x
                for x in (attention, self.attention)
                if x is not None and x.get("id") == w.attention_id
            ),
            None,
        )
        if w.attention_id is not None and a is None:
            return _("open and save the attention of your last call")
        return why_not_disposed(
            w.rule, None if a is None else a.get("status"), (a or {}).get("closing_reason_id")
        )

    def wrapup_view(self) -> dict[str, Any] | None:
        """The wrap-up as the desk shows it (None: not in wrap-up)."""
        return None if self.wrapup is None else self.wrapup.view(self.wrapup_todo())


def taken_over_frame() -> dict[str, Any]:
    """What a desk is told when its operator took over from another machine."""
    return {
        "type": "taken_over",
        "message": _("you signed in at another desk; this one is closed"),
    }


def signed_out_desk(user: SignedIn, queues: list[str]) -> dict[str, Any]:
    """The desk of an operator not signed in at one (``queues``: those of their routines)."""
    return {
        "signed_in": False,
        "interface": user.extension,
        "queues": queues,
        "state": AgentState.OFFLINE.value,
        "reason": "",
        "pop": None,
        "call": None,
        "timer": None,
        "attention": None,
        "wrapup": None,
        "footer": {
            "last_call": None,
            "operator": user.full_name,
            "attention_status": None,
            "operation": None,
            "next_call": None,
        },
    }


# The dialer's screen-pop of a call it placed, by linkedid (DialerService.pop_for_call).
CampaignPop = Callable[[str], Awaitable[dict[str, Any] | None]]
