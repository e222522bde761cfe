"""Redirection on no answer: an agent who lets queue calls ring out is paused.

A queue call that rings an agent until the queue's timeout (Asterisk's ``AgentRingNoAnswer``) is a
missed call. After their attention group's number of missed calls in a row (``pause_after_missed``;
None: never), cti pauses the agent's queue member with :data:`MISSED_REASON`: the queue's callers
then go to the colleagues who are there instead of ringing an empty desk every few seconds until
they give up. Asterisk's own ``autopause`` stays off (config/asterisk/queues.conf): the rule is each
group's, and the agent's desk says why they were paused.

A call the agent takes, or a pause of any reason, starts the count again. A Pause or Resume the
agent pressed while the call rang says they are there: it does what they asked, and counts no miss.
"""

from __future__ import annotations

from dataclasses import dataclass

# The pause reason of a member cti paused for missed calls (the wallboard and the desk show it).
MISSED_REASON = "missed calls"
# The groups' default (the database's too): pause after the first missed call, as contact-centre
# platforms do ("redirection on no answer").
DEFAULT_PAUSE_AFTER_MISSED = 1


@dataclass(frozen=True, slots=True)
class MissedCalls:
    """An agent's missed queue calls in a row."""

    in_row: int = 0

    def missed(self) -> MissedCalls:
        return MissedCalls(self.in_row + 1)

    def pauses(self, limit: int | None) -> bool:
        """Whether this many misses in a row pause the agent (``limit`` None: never)."""
        return limit is not None and self.in_row >= limit
