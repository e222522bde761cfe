"""The rules for attentions (the desk's form, its notes, history and reassignment), as pure
functions.

The repositories (:mod:`cti.db.desk`, :mod:`cti.db.reports`, the back office's) read the
attention and what it refers to, hand them here, and write what these functions allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cti.domain.forms import FORMS
from cti.domain.model import AttentionKind, AttentionStatus
from cti.domain.texts import _
from cti.errors import Forbidden, UserInputError

# The form's fields: the admin's attention form (whose fields they may make mandatory) less the
# caller's phone (it comes from the call), plus the routine (kind) and the status.
EDITABLE = (FORMS["attention"] - {"phone"}) | {"kind", "status"}
# Who an attention (and so a history) can be about.
PARTIES = ("customer", "contact", "suspect", "prospect")
# Attentions still to be worked: the ones a supervisor may move to another operator.
OPEN_STATUSES = (AttentionStatus.PENDING, AttentionStatus.PLANNED)
DONE_STATUSES = (AttentionStatus.CLOSED, AttentionStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class Reason:
    """A closing reason as an attention's form needs it (``kind`` None: every routine)."""

    name: str
    kind: AttentionKind | None
    active: bool


def check_editable(changes: Mapping[str, object]) -> None:
    """The form changes only the fields of an attention (:data:`EDITABLE`)."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise UserInputError(sorted(unknown)[0], _("is not a field of an attention"))


def check_owner(operator_id: int | None, viewer_id: int, *, may_edit_others: bool) -> None:
    """An operator changes their own attentions; supervisors and admins anyone's."""
    if operator_id != viewer_id and not may_edit_others:
        raise UserInputError("attention", _("this attention belongs to another operator"))


def check_form(
    status: AttentionStatus,
    *,
    kind: AttentionKind,
    next_call_at: datetime | None,
    reason: Reason | None,
    reason_given: bool,
) -> None:
    """An attention's form as it would be saved.

    A planned attention says when the next call is; a closing reason (``reason_given``: one is
    set; ``reason``: the one found, None when there is no such reason) is active and of the
    attention's routine (or of every routine).
    """
    if status is AttentionStatus.PLANNED and next_call_at is None:
        raise UserInputError("next_call_at", _("a planned attention needs the next call's time"))
    if not reason_given:
        return
    if reason is None or not reason.active:
        raise UserInputError("closing_reason_id", _("is not a closing reason"))
    if reason.kind is not None and reason.kind != kind:
        raise UserInputError(
            "closing_reason_id",
            _("{name!r} is only for {kind} attentions"),
            name=reason.name,
            kind=reason.kind,
        )


def closing_time(status: AttentionStatus, was: datetime | None, now: datetime) -> datetime | None:
    """When the attention was closed: kept from the first close (or cancel), cleared on reopen."""
    if status in DONE_STATUSES:
        return was if was is not None else now
    return None


def note_text(text: str) -> str:
    """A note's text, trimmed; it may not be empty."""
    text = text.strip()
    if not text:
        raise UserInputError("text", _("a note needs some text"))
    return text


def check_note_author(operator_id: int | None, author_id: int, *, may_note_others: bool) -> None:
    """An operator notes their own attentions; supervisors and admins anyone's."""
    if operator_id != author_id and not may_note_others:
        raise Forbidden(_("this attention belongs to another operator"), "attention")


def check_party(party: str) -> None:
    """A history is of a customer, a contact, a suspect or a prospect."""
    if party not in PARTIES:
        raise UserInputError("party", _("must be one of {choices}"), choices=", ".join(PARTIES))


def check_customer(attention_customer_id: int | None, customer_id: int) -> None:
    """What is made from an attention (a quote, an order, a promise) is about its customer."""
    if attention_customer_id is not None and attention_customer_id != customer_id:
        raise UserInputError("attention_id", _("that attention is about another customer"))


# --- reassignment ------------------------------------------------------------------------------


def check_reassignment(
    attention_ids: object | None, from_operator_id: int | None, to_operator_id: int
) -> None:
    """Move either the attentions named or all of one operator's, to someone else."""
    if (attention_ids is None) == (from_operator_id is None):
        raise UserInputError("attention_ids", _("give either attention_ids or from_operator_id"))
    if from_operator_id == to_operator_id:
        raise UserInputError("to_operator_id", _("is the same operator"))


def check_movable(attention_id: int, status: AttentionStatus | str) -> None:
    """Only an open (pending or planned) attention moves to another operator."""
    if status not in OPEN_STATUSES:
        raise UserInputError(
            "attention_ids",
            _("attention {attention_id} is {status}; only pending or planned ones move"),
            attention_id=attention_id,
            status=status,
        )


__all__ = [
    "DONE_STATUSES",
    "EDITABLE",
    "OPEN_STATUSES",
    "PARTIES",
    "Reason",
    "check_customer",
    "check_editable",
    "check_form",
    "check_movable",
    "check_note_author",
    "check_owner",
    "check_party",
    "check_reassignment",
    "closing_time",
    "note_text",
]
