"""Telemarketing tickets (seed 003): an attention is the parent ticket ("chamado pai"); each of its
items (subject, product, occurrence, action, owner, action date) is a child ticket ("chamado
filho") with its own status.

Admins keep the catalogues: subjects, the occurrences of a subject, the actions of an occurrence.
An action carries the status it sets on its item's child ticket when the attention is confirmed
("Status Chamado de Ações"), and whether it creates a service order ("Ordem de Serviço") and a
potential non-conformity (only while ``telemarketing.nonconformity_integration``, MV_QLYXCAL, is
on). The parent ticket is never changed by an item's action.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from enum import StrEnum

from cti.domain.texts import _
from cti.errors import UserInputError


class TicketStatus(StrEnum):
    """A child ticket's status: open until its action is applied, then the action's."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class NonConformityStatus(StrEnum):
    """A non-conformity raised from the call center starts as a potential one (an FNC to check)."""

    POTENTIAL = "potential"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogueAction:
    """An action as the catalogue holds it, with the chain it belongs to."""

    id: int
    name: str
    active: bool
    occurrence_id: int
    occurrence_active: bool
    subject_id: int
    subject_active: bool
    sets_status: TicketStatus
    service_order: bool
    nonconformity: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirmation:
    """What confirming an item does: its child ticket's status, and what it creates."""

    status: TicketStatus
    service_order: bool
    nonconformity: bool


def check_items_allowed(kind: str) -> None:
    """Only a telemarketing attention is a ticket with items."""
    if kind != "telemarketing":
        raise UserInputError("items", _("only telemarketing attentions have ticket items"))


def check_owner_known(where: str, owner_id: int | None, users: Set[int]) -> None:
    """An item's owner, when given, is one of the ``users``."""
    if owner_id is not None and owner_id not in users:
        raise UserInputError(f"{where}.owner_id", _("is not a user"))


def check_item(
    where: str,
    *,
    subject_id: int,
    occurrence_id: int,
    action: CatalogueAction | None,
) -> CatalogueAction:
    """An item's action exists, is in use, and belongs to the item's occurrence and subject.

    ``where`` names the item in errors (``items[0]``).
    """
    if action is None or not action.active:
        raise UserInputError(f"{where}.action_id", _("is not an action of the catalogue"))
    if action.occurrence_id != occurrence_id or not action.occurrence_active:
        raise UserInputError(f"{where}.action_id", _("is not an action of that occurrence"))
    if action.subject_id != subject_id or not action.subject_active:
        raise UserInputError(f"{where}.occurrence_id", _("is not an occurrence of that subject"))
    return action


def confirm(action: CatalogueAction, *, nonconformity_integration: bool) -> Confirmation:
    """Confirming the attention applies the action to its item's child ticket only: the status
    it sets, a service order if it makes one, a potential non-conformity if it makes one and the
    integration (MV_QLYXCAL) is on."""
    return Confirmation(
        status=action.sets_status,
        service_order=action.service_order,
        nonconformity=action.nonconformity and nonconformity_integration,
    )


def fields_of_item(item: Mapping[str, object] | None) -> dict[str, object]:
    """The attention form's telemarketing fields as a ticket item fills them (an admin's required
    "subject" is met by an item's subject): ``item`` is an item as given or stored, or None."""
    if item is None:
        return {}
    out: dict[str, object] = {
        "subject": item.get("subject_id"),
        "occurrence": item.get("occurrence_id"),
        "action": item.get("action_id"),
        "product": item.get("product"),
        "owner_id": item.get("owner_id"),
        "action_date": item.get("action_date"),
        # The action sets the child ticket's status when the attention is confirmed.
        "action_status": item.get("action_id"),
    }
    return {k: v for k, v in out.items() if v not in (None, "")}


def child_number(attention_id: int, seq: int) -> str:
    """A child ticket's number: its parent's and its place among the parent's items."""
    return f"{attention_id}-{seq}"


def service_order_number(ident: int) -> str:
    """A service order's number ("Num OS")."""
    return f"OS-{ident:06d}"


def nonconformity_description(
    subject: str, occurrence: str, action: str, product: str | None
) -> str:
    """What the quality team reads of a potential non-conformity raised by a ticket item."""
    about = f" ({product})" if product else ""
    return f"{subject}{about}: {occurrence}. Action: {action}."


__all__ = [
    "CatalogueAction",
    "Confirmation",
    "NonConformityStatus",
    "TicketStatus",
    "check_item",
    "check_items_allowed",
    "check_owner_known",
    "child_number",
    "confirm",
    "fields_of_item",
    "nonconformity_description",
    "service_order_number",
]
