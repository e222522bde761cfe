"""Telemarketing tickets: an attention's items (child tickets) written and confirmed with the
attention's save, read back with their service order; the potential non-conformities listed.

Which action may be chosen, and what confirming it does, is :mod:`cti.domain.tickets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.backoffice.common import iso
from cti.db.engine import Database
from cti.db.models import (
    Attention,
    NonConformity,
    Operator,
    ServiceOrder,
    TicketAction,
    TicketItem,
    TicketOccurrence,
    TicketSubject,
)
from cti.domain.tickets import (
    CatalogueAction,
    check_item,
    check_items_allowed,
    check_owner_known,
    child_number,
    confirm,
    nonconformity_description,
    service_order_number,
)

_NAMES = sa.func.coalesce(Operator.full_name, Operator.username)

# In SQL over ``attentions a``: what an attention is about, for the lists that name it (a party's
# history, the pop): its first ticket item's subject, else the free text of earlier attentions.
ATTENTION_SUBJECT_SQL = """COALESCE(a.subject, (
    SELECT ts.name FROM ticket_items ti JOIN ticket_subjects ts ON ts.id = ti.subject_id
    WHERE ti.attention_id = a.id ORDER BY ti.seq LIMIT 1))"""


class NewItem(TypedDict):
    """A ticket item as the form gives it (the catalogue's ids; ``product`` as typed)."""

    subject_id: int
    occurrence_id: int
    action_id: int
    product: str | None
    owner_id: int | None
    action_date: date | None


async def _actions(s: AsyncSession, ids: set[int]) -> dict[int, CatalogueAction]:
    rows = await s.execute(
        sa.select(TicketAction, TicketOccurrence, TicketSubject)
        .join(TicketOccurrence, TicketOccurrence.id == TicketAction.occurrence_id)
        .join(TicketSubject, TicketSubject.id == TicketOccurrence.subject_id)
        .where(TicketAction.id.in_(ids))
    )
    return {
        action.id: CatalogueAction(
            id=action.id,
            name=action.name,
            active=action.active,
            occurrence_id=occurrence.id,
            occurrence_active=occurrence.active,
            subject_id=subject.id,
            subject_active=subject.active,
            sets_status=action.sets_status,
            service_order=action.service_order,
            nonconformity=action.nonconformity,
        )
        for action, occurrence, subject in rows
    }


async def add_and_confirm_items(
    s: AsyncSession,
    attention: Attention,
    items: Sequence[NewItem],
    *,
    now: datetime,
    nonconformity_integration: bool,
) -> None:
    """Add ``items`` to ``attention`` (in the caller's transaction) and confirm them: each child
    ticket takes its action's status, and gets the service order and the potential
    non-conformity its action makes. The attention itself (the parent ticket) is not touched.

    Raises:
        UserInputError: from the rules of :mod:`cti.domain.tickets`: an item of a routine other
            than telemarketing, an action not of the item's occurrence and subject (or retired),
            an unknown owner (the field named).
    """
    if not items:
        return
    check_items_allowed(str(attention.kind))
    actions = await _actions(s, {i["action_id"] for i in items})
    owners = {i["owner_id"] for i in items if i["owner_id"] is not None}
    known = set((await s.scalars(sa.select(Operator.id).where(Operator.id.in_(owners)))).all())
    seq = (
        await s.execute(
            sa.select(sa.func.coalesce(sa.func.max(TicketItem.seq), 0)).where(
                TicketItem.attention_id == attention.id
            )
        )
    ).scalar_one()
    for n, given in enumerate(items):
        where = f"items[{n}]"
        action = check_item(
            where,
            subject_id=given["subject_id"],
            occurrence_id=given["occurrence_id"],
            action=actions.get(given["action_id"]),
        )
        check_owner_known(where, given["owner_id"], known)
        done = confirm(action, nonconformity_integration=nonconformity_integration)
        item = TicketItem(
            attention_id=attention.id,
            seq=seq + n + 1,
            subject_id=given["subject_id"],
            product=(given["product"] or "").strip() or None,
            occurrence_id=given["occurrence_id"],
            action_id=action.id,
            owner_id=given["owner_id"],
            action_date=given["action_date"],
            status=done.status,
            confirmed_at=now,
        )
        s.add(item)
        await s.flush()
        if done.service_order:
            # The number is made from the id: take the id first, then write both at once.
            sequence = sa.func.pg_get_serial_sequence("service_orders", "id")
            ident = (await s.execute(sa.select(sa.func.nextval(sequence)))).scalar_one()
            s.add(
                ServiceOrder(id=ident, number=service_order_number(ident), ticket_item_id=item.id)
            )
        if done.nonconformity:
            s.add(
                NonConformity(
                    attention_id=attention.id,
                    ticket_item_id=item.id,
                    description=await _description(s, item, action),
                    occurred_on=item.action_date or now.date(),
                )
            )
    await s.flush()


async def first_item(s: AsyncSession, attention_id: int) -> dict[str, object] | None:
    """The first item of an attention as stored (its columns), or None."""
    # Read before the form's own flush (which names a wrong field): no flush from here.
    with s.no_autoflush:
        item = (
            await s.execute(
                sa.select(TicketItem)
                .where(TicketItem.attention_id == attention_id)
                .order_by(TicketItem.seq)
                .limit(1)
            )
        ).scalar_one_or_none()
    if item is None:
        return None
    return {c.key: getattr(item, c.key) for c in sa.inspect(TicketItem).column_attrs}


async def _description(s: AsyncSession, item: TicketItem, action: CatalogueAction) -> str:
    subject, occurrence = (
        await s.execute(
            sa.select(TicketSubject.name, TicketOccurrence.name)
            .join(TicketOccurrence, TicketOccurrence.subject_id == TicketSubject.id)
            .where(TicketOccurrence.id == item.occurrence_id)
        )
    ).one()
    return nonconformity_description(subject, occurrence, action.name, item.product)


class ItemShown(TypedDict):
    """One item of a ticket as the attention shows it: a child ticket."""

    id: int
    number: str
    subject_id: int
    subject: str
    product: str | None
    occurrence_id: int
    occurrence: str
    action_id: int
    action: str
    owner_id: int | None
    owner: str | None
    action_date: str | None
    status: str
    confirmed_at: str | None
    service_order: str | None
    nonconformity_id: int | None


def _named_items() -> sa.Join:
    """Ticket items with the catalogue rows that name them (subject, occurrence, action)."""
    return (
        sa.join(TicketItem, TicketSubject, TicketSubject.id == TicketItem.subject_id)
        .join(TicketOccurrence, TicketOccurrence.id == TicketItem.occurrence_id)
        .join(TicketAction, TicketAction.id == TicketItem.action_id)
    )


async def items_of(s: AsyncSession, attention_id: int) -> list[ItemShown]:
    """The items of an attention, in order: each child ticket's number, catalogue names, status
    and service-order number."""
    rows = await s.execute(
        sa.select(
            TicketItem,
            TicketSubject.name,
            TicketOccurrence.name,
            TicketAction.name,
            _NAMES,
            ServiceOrder.number,
            NonConformity.id,
        )
        .select_from(_named_items())
        .outerjoin(Operator, Operator.id == TicketItem.owner_id)
        .outerjoin(ServiceOrder, ServiceOrder.ticket_item_id == TicketItem.id)
        .outerjoin(NonConformity, NonConformity.ticket_item_id == TicketItem.id)
        .where(TicketItem.attention_id == attention_id)
        .order_by(TicketItem.seq)
    )
    return [
        {
            "id": item.id,
            "number": child_number(item.attention_id, item.seq),
            "subject_id": item.subject_id,
            "subject": subject,
            "product": item.product,
            "occurrence_id": item.occurrence_id,
            "occurrence": occurrence,
            "action_id": item.action_id,
            "action": action,
            "owner_id": item.owner_id,
            "owner": owner,
            "action_date": iso(item.action_date),
            "status": str(item.status),
            "confirmed_at": iso(item.confirmed_at),
            "service_order": order,
            "nonconformity_id": nonconformity,
        }
        for item, subject, occurrence, action, owner, order, nonconformity in rows
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class NonConformityRow:
    """A potential non-conformity with its source: the ticket (attention) and its child item."""

    id: int
    attention_id: int
    ticket_item_id: int
    child_number: str
    customer_id: int | None
    operator: str | None
    subject: str
    occurrence: str
    action: str
    description: str
    occurred_on: date
    status: str
    created_at: datetime


async def list_nonconformities(db: Database) -> list[NonConformityRow]:
    """The potential non-conformities raised from the call center, newest first."""
    async with db.sessions() as s:
        rows = await s.execute(
            sa.select(
                NonConformity,
                TicketItem.seq,
                Attention.customer_id,
                _NAMES,
                TicketSubject.name,
                TicketOccurrence.name,
                TicketAction.name,
            )
            .select_from(
                sa.join(
                    NonConformity, _named_items(), TicketItem.id == NonConformity.ticket_item_id
                )
            )
            .join(Attention, Attention.id == NonConformity.attention_id)
            .outerjoin(Operator, Operator.id == Attention.operator_id)
            .order_by(NonConformity.created_at.desc(), NonConformity.id.desc())
        )
        return [
            NonConformityRow(
                id=nc.id,
                attention_id=nc.attention_id,
                ticket_item_id=nc.ticket_item_id,
                child_number=child_number(nc.attention_id, seq),
                customer_id=customer_id,
                operator=operator,
                subject=subject,
                occurrence=occurrence,
                action=action,
                description=nc.description,
                occurred_on=nc.occurred_on,
                status=str(nc.status),
                created_at=nc.created_at,
            )
            for nc, seq, customer_id, operator, subject, occurrence, action in rows
        ]


__all__ = [
    "ATTENTION_SUBJECT_SQL",
    "NewItem",
    "NonConformityRow",
    "add_and_confirm_items",
    "first_item",
    "items_of",
    "list_nonconformities",
]
