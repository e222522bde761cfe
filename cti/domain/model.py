"""The words of the model (GUIDE §2) as string enums, shared by the database, the web and the dialer.

Values are the lower-case strings stored in PostgreSQL and sent over JSON; the database refuses any
other value with a CHECK constraint.
"""

from __future__ import annotations

from enum import StrEnum


class AttentionKind(StrEnum):
    """The routine an attention belongs to (the seeds' three folders)."""

    TELEMARKETING = "telemarketing"
    TELESALES = "telesales"
    COLLECTION = "collection"


class Routine(StrEnum):
    """A skill an operator may be given; one, two or all three."""

    TELEMARKETING = "telemarketing"
    TELESALES = "telesales"
    COLLECTION = "collection"


class Direction(StrEnum):
    """Activo / Receptivo."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class AttentionStatus(StrEnum):
    """Pendiente, Planificado, Cerrado, Cancelado."""

    PENDING = "pending"
    PLANNED = "planned"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Role(StrEnum):
    """What a user may do in cti."""

    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class CaseStatus(StrEnum):
    """The state of a case (seed 002)."""

    ACTIVE = "active"
    ASSIGNED = "assigned"
    SUSPENDED = "suspended"
    CLOSED = "closed"
    DELINQUENT = "delinquent"
    WITHDRAWN = "withdrawn"


class CampaignKind(StrEnum):
    """Which routine the calls of a campaign open on the agent desk."""

    TELEMARKETING = "telemarketing"
    TELESALES = "telesales"
    COLLECTION = "collection"


class CampaignMode(StrEnum):
    """How the dialer paces a campaign."""

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class CampaignStatus(StrEnum):
    """Whether the dialer works a campaign."""

    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class LeadStatus(StrEnum):
    """Where a campaign lead stands.

    ``new`` has never been dialled; ``retry`` waits for ``next_attempt_at``; ``callback`` was asked
    for by the person; ``dialing`` has a call in progress; ``done`` reached a final outcome;
    ``exhausted`` ran out of attempts; ``dnc`` is on a do-not-call list.
    """

    NEW = "new"
    DIALING = "dialing"
    RETRY = "retry"
    CALLBACK = "callback"
    DONE = "done"
    EXHAUSTED = "exhausted"
    DNC = "dnc"


class CallOutcome(StrEnum):
    """How a call (or a dial attempt) ended."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CONGESTION = "congestion"
    FAILED = "failed"
    ABANDONED = "abandoned"
    MACHINE = "machine"
    CANCELLED = "cancelled"
    # The PBX no longer had the call when cti resynchronised (restarted or crashed mid-call).
    LOST = "lost"


class SuspectPolicy(StrEnum):
    """What happens to a suspect once converted to a prospect (the seeds' MV_TMKDACH)."""

    DELETE = "delete"
    KEEP = "keep"
    ASK = "ask"


class PromiseStatus(StrEnum):
    """A promise to pay: still open, kept (paid in time) or broken."""

    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


class QuoteStatus(StrEnum):
    """A telesales quote."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"


__all__ = [
    "AttentionKind",
    "AttentionStatus",
    "CallOutcome",
    "CampaignKind",
    "CampaignMode",
    "CampaignStatus",
    "CaseStatus",
    "Direction",
    "LeadStatus",
    "PromiseStatus",
    "QuoteStatus",
    "Role",
    "Routine",
    "SuspectPolicy",
]
