"""The rules for a campaign's life and its leads' moves, as pure functions.

The dialer's repositories (:mod:`cti.db.dialer`) read the campaign or the lead under a row lock,
hand them here and write what these functions allow, in the same transaction. Whether a number
may be dialled now (do-not-call lists, calling windows) is :mod:`cti.domain.compliance`'s
:class:`~cti.domain.compliance.DialCheck`; this module says what a refusal does to the lead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from cti.domain.compliance import DialCheck, Refusal
from cti.domain.model import CampaignKind, CampaignStatus, LeadStatus
from cti.domain.texts import _
from cti.errors import Refused, UserInputError

# Leads still to dial.
DIALABLE = (LeadStatus.NEW, LeadStatus.RETRY, LeadStatus.CALLBACK)
# Leads the dialer is done with.
FINISHED = (LeadStatus.DONE, LeadStatus.DNC, LeadStatus.EXHAUSTED)
# What a supervisor may set on a campaign (its status and pacing have their own calls).
CAMPAIGN_FIELDS = (
    "name",
    "kind",
    "mode",
    "pbx",
    "queue",
    "caller_id",
    "ring_seconds",
    "windows",
    "retry_rules",
    "abandon_cap",
    "timezone",
    "amd",
    "record",
    "script_id",
)
# A lead refused by its calling window is tried again at the window's next opening, or after
# this long when the window never opens again (a lead in a zone with no window left today).
PUT_OFF = timedelta(days=1)


def check_campaign_fields(values: Mapping[str, object]) -> None:
    """Only the :data:`CAMPAIGN_FIELDS` are set through a campaign's form."""
    unknown = set(values) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise UserInputError(sorted(unknown)[0], _("is not a campaign field"))


def check_status_move(old: CampaignStatus, new: CampaignStatus) -> None:
    """A campaign runs, pauses and is stopped (finished); once stopped it never runs again."""
    if old is CampaignStatus.FINISHED and new is not CampaignStatus.FINISHED:
        raise Refused(_("the campaign was stopped; it cannot run again"), "status")


def check_collection(kind: CampaignKind) -> None:
    """Only a collection campaign gets its leads from the overdue receivables."""
    if kind is not CampaignKind.COLLECTION:
        raise Refused(_("only a collection campaign is built from receivables"), "kind")


def is_dnc(check: DialCheck) -> bool:
    """Whether a do-not-call list refused the number (the lead is then never dialled again)."""
    return check.refusal in (Refusal.DNC_GLOBAL, Refusal.DNC_CAMPAIGN)


def put_off_until(check: DialCheck, now: datetime) -> datetime:
    """When a lead its calling window refused may be tried again."""
    return check.retry_at or now + PUT_OFF


def check_reserved(status: LeadStatus, reserver: str | None, username: str | None) -> None:
    """A preview lead is dialled (or skipped) only while reserved for dialling, and (``username``
    given) only by the agent it is reserved for (``reserver``)."""
    if status is not LeadStatus.DIALING:
        raise Refused(_("the lead is not reserved for dialling"), "lead")
    if username is not None and reserver != username:
        raise Refused(_("the lead is reserved for another agent"), "lead")


def refuse_call(check: DialCheck) -> Refused:
    """The refusal to tell the agent who pressed dial on a lead ``check`` refused."""
    why = check.refusal.value if check.refusal is not None else "refused"
    return Refused(_("the lead may not be called now ({why})"), "phone", why=why)


def check_releasable(status: LeadStatus) -> None:
    """A finished lead (done, on a do-not-call list, out of attempts) is not put back."""
    if status in FINISHED:
        raise Refused(_("the lead is {value}"), "lead", value=status.value)


def released_status(attempts: int) -> LeadStatus:
    """A lead put back (skipped, postponed) waits as new, or as a retry once it was dialled."""
    return LeadStatus.RETRY if attempts else LeadStatus.NEW


def check_callback_allowed(status: LeadStatus) -> None:
    """No callback is promised to a number on a do-not-call list."""
    if status is LeadStatus.DNC:
        raise Refused(_("the lead is on a do-not-call list"), "lead")


__all__ = [
    "CAMPAIGN_FIELDS",
    "DIALABLE",
    "FINISHED",
    "PUT_OFF",
    "check_callback_allowed",
    "check_campaign_fields",
    "check_collection",
    "check_releasable",
    "check_reserved",
    "check_status_move",
    "is_dnc",
    "put_off_until",
    "refuse_call",
    "released_status",
]
