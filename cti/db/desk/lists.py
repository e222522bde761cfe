"""Registering an unknown caller (a suspect, or a contact of a customer), and the lists the
desk's forms offer."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cti.db.engine import Database
from cti.db.models import ClosingReason, Contact, Customer, Operator, PauseReason, Phone, Suspect
from cti.errors import UserInputError
from cti.i18n import _


async def register_suspect(
    db: Database, *, name: str, company: str | None, phone: str, raw_phone: str
) -> int:
    """A new suspect with the caller's number."""
    async with db.sessions.begin() as s:
        suspect = Suspect(name=name, company=company or None)
        s.add(suspect)
        await s.flush()
        s.add(Phone(phone=phone, raw=raw_phone, suspect_id=suspect.id))
        return int(suspect.id)


async def register_contact(
    db: Database,
    *,
    customer_id: int,
    name: str,
    position: str | None,
    phone: str,
    raw_phone: str,
) -> int:
    """A new contact at an existing customer, with the caller's number."""
    async with db.sessions.begin() as s:
        found = (
            await s.execute(sa.select(Customer.id).where(Customer.id == customer_id))
        ).scalar_one_or_none()
        if found is None:
            raise UserInputError(
                "customer_id", _("there is no customer {customer_id}"), customer_id=customer_id
            )
        contact = Contact(customer_id=customer_id, name=name, position=position or None)
        s.add(contact)
        try:
            await s.flush()
        except IntegrityError:
            raise UserInputError(
                "name", _("this customer already has a contact {name!r}"), name=name
            ) from None
        s.add(Phone(phone=phone, raw=raw_phone, contact_id=contact.id))
        return int(contact.id)


# --- the desk's lists -------------------------------------------------------------------------


async def desk_lists(db: Database) -> dict[str, Any]:
    """Pause reasons, closing reasons and operators (for the owner field), for the desk's forms."""
    async with db.sessions() as s:
        pauses = (
            await s.execute(
                sa.select(PauseReason.name).where(PauseReason.active).order_by(PauseReason.name)
            )
        ).scalars()
        pause_list = list(pauses)
        closing = (
            await s.execute(
                sa.select(ClosingReason.id, ClosingReason.name, ClosingReason.kind)
                .where(ClosingReason.active)
                .order_by(ClosingReason.name)
            )
        ).all()
        operators = (
            await s.execute(
                sa.select(Operator.id, sa.func.coalesce(Operator.full_name, Operator.username))
                .where(Operator.active)
                .order_by(Operator.username)
            )
        ).all()
    return {
        "pause_reasons": pause_list,
        "closing_reasons": [
            {"id": i, "name": n, "kind": str(k) if k is not None else None} for i, n, k in closing
        ],
        "operators": [{"id": i, "name": n} for i, n in operators],
    }


async def pause_reason_exists(db: Database, name: str) -> bool:
    """Whether ``name`` is an active pause reason."""
    async with db.sessions() as s:
        found = (
            await s.execute(
                sa.select(PauseReason.id).where(PauseReason.name == name, PauseReason.active)
            )
        ).scalar_one_or_none()
    return found is not None


__all__ = ["desk_lists", "pause_reason_exists", "register_contact", "register_suspect"]
