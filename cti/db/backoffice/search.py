"""Customer search: find a customer by code, name, tax id or phone, for pickers and look-ups.

::

    from cti.db.backoffice.search import search_customers

    found = await search_customers(db, "padaria", viewer=viewer, region="BR")
    # [{"id": 2, "code": "C002", "name": "Padaria São Jorge", "region": "BR",
    #   "tax_id": "12.345.678/0001-90", "masked": False, "match": "name"}]

A customer matches when the text is

* a prefix of its code (case-insensitive),
* a part of its name (case-insensitive),
* a prefix of its tax id, punctuation ignored on both sides (``12345678`` finds
  ``12.345.678/0001-90``),
* one of its phone numbers or of its contacts' numbers, both read in one normal form
  (:func:`cti.domain.phone.normalize_phone` in the service's ``telephony.default_region``).

Exact matches (the whole code, the whole tax id, a phone) come first, then names that start with
the text, then the rest; alphabetical within each.

Personal data: the name and the tax id are personal fields (:data:`CUSTOMER_FIELDS`); a viewer
without the ``personal_data`` permission gets them masked exactly as
:mod:`cti.db.backoffice.personal` masks them, and is matched on a tax id only when they typed it
whole, so a prefix search cannot uncover a masked tax id a digit at a time. Every customer shown
is audited as any other read (``personal.read`` or ``personal.masked``, purpose
``customer search``), but a customer already shown to a viewer *with* the permission by a search in
the last :data:`AUDIT_WINDOW` is not written again: a picker searching as one types shows the same
customers many times over a few seconds, and one line says that the viewer saw them.

A viewer without the permission must not confirm a hidden name a letter at a time ("Pad" matches,
"Padb" does not...): for them a name matches only on whole words ("padaria", "são jorge"), as the
tax id only whole, and every search they make is audited, without the 10-minute grouping: one
``customer.search`` line (how long the text was and how many customers it found, never the text)
and one ``personal.masked`` line per customer shown. Whole words leave nothing to confirm letter by
letter; the full trail shows an admin anyone trying words one after another.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_in
from cti.db.backoffice.personal import Viewer, may_see_personal, present, write_reads
from cti.db.engine import Database
from cti.db.models import AuditEvent, Contact, Customer, Phone
from cti.domain.backoffice import (
    CUSTOMER_FIELDS,
    MAX_LIMIT,
    MAX_QUERY,
    MIN_QUERY,
    check_query,
    check_search_limit,
)
from cti.domain.phone import normalize_phone
from cti.errors import UserInputError

PURPOSE = "customer search"
# The audit line of each search by a viewer without the personal_data permission.
SEARCHED = "customer.search"
# A customer shown again to the same viewer by a search within this window is not audited again.
AUDIT_WINDOW = timedelta(minutes=10)

# What a phone number may be written with; text with anything else is not looked up as one.
_PHONE_CHARS = frozenset("0123456789+-(). /")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _alnum(text: str) -> str:
    """The letters and digits of ``text``, upper-cased: a tax id without its punctuation."""
    return "".join(ch for ch in text if ch.isalnum()).upper()


def _phone(text: str, region: str) -> str | None:
    """``text`` as a stored phone number, or None when it is not written like one."""
    if not set(text) <= _PHONE_CHARS or sum(ch.isdigit() for ch in text) < 3:
        return None
    try:
        return normalize_phone(text, region)
    except UserInputError:
        return None


def _statement(text: str, *, region: str, allowed: bool, limit: int) -> sa.Select[Any]:
    pattern = _like_escape(text)
    code_exact = sa.func.lower(Customer.code) == text.lower()
    code_prefix = Customer.code.ilike(pattern + "%", escape="\\")
    name_prefix: sa.ColumnElement[bool] = Customer.name.ilike(pattern + "%", escape="\\")
    name_part: sa.ColumnElement[bool] = Customer.name.ilike("%" + pattern + "%", escape="\\")
    if not allowed:
        # Without the permission only whole words find a name (see the module's doc).
        name_part = Customer.name.regexp_match(r"\m" + re.escape(text) + r"\M", flags="i")
        name_prefix = sa.and_(
            name_part, Customer.name.regexp_match("^" + re.escape(text) + r"\M", flags="i")
        )

    tax = _alnum(text)
    bare_tax_id = sa.func.upper(sa.func.regexp_replace(Customer.tax_id, "[^[:alnum:]]", "", "g"))
    tax_exact: sa.ColumnElement[bool] = sa.false()
    tax_match: sa.ColumnElement[bool] = sa.false()
    if len(tax) >= MIN_QUERY:
        tax_exact = bare_tax_id == tax
        # Without the permission, only the whole tax id finds a customer (see the module's doc).
        tax_match = bare_tax_id.like(_like_escape(tax) + "%", escape="\\") if allowed else tax_exact

    phone_match: sa.ColumnElement[bool] = sa.false()
    phone = _phone(text, region)
    if phone is not None:
        owners: sa.CompoundSelect[tuple[int | None]] = sa.union(
            sa.select(Phone.customer_id).where(
                Phone.phone == phone, Phone.customer_id.is_not(None)
            ),
            sa.select(Contact.customer_id)
            .join(Phone, Phone.contact_id == Contact.id)
            .where(Phone.phone == phone),
        )
        phone_match = Customer.id.in_(owners)

    rank = sa.case((code_exact | tax_exact | phone_match, 0), (name_prefix, 1), else_=2)
    match = sa.case(
        (phone_match, "phone"),
        (code_prefix, "code"),
        (tax_match, "tax_id"),
        else_="name",
    )
    return (
        sa.select(
            Customer.id,
            Customer.code,
            Customer.name,
            Customer.region,
            Customer.tax_id,
            match.label("match"),
        )
        .where(code_prefix | name_part | tax_match | phone_match)
        .order_by(rank, sa.func.lower(Customer.name), Customer.code)
        .limit(limit)
    )


async def _already_audited(
    session: AsyncSession, viewer: Viewer, action: str, subjects: list[str]
) -> set[str]:
    """Subjects a search already showed this viewer (as ``action``) within the audit window."""
    found = await session.execute(
        sa.select(AuditEvent.subject).where(
            AuditEvent.subject.in_(subjects),
            AuditEvent.actor == viewer.username,
            AuditEvent.action == action,
            AuditEvent.details["purpose"].astext == PURPOSE,
            AuditEvent.at > sa.func.now() - sa.literal(AUDIT_WINDOW, sa.Interval()),
        )
    )
    return {s for s in found.scalars() if s is not None}


async def search_customers(
    db: Database, query: str, *, viewer: Viewer, region: str, limit: int = 20
) -> list[dict[str, Any]]:
    """Customers matching ``query``, best first, as ``viewer`` may see them.

    Args:
        db: the database.
        query: what the user typed: part of a name, a code, a tax id or a phone number
            (2 to 100 characters once trimmed).
        viewer: who searches; decides masking and is written to the audit log.
        region: the country phone numbers without a country code are read in
            (``settings.telephony.default_region``).
        limit: at most this many customers (1 to :data:`MAX_LIMIT`).

    Returns:
        ``{"id", "code", "name", "region", "tax_id", "masked", "match"}`` per customer; ``match``
        says what matched (``code``, ``name``, ``tax_id`` or ``phone``).

    Raises:
        UserInputError: ``q`` is too short or too long, or ``limit`` is out of range.
    """
    text = check_query(query)
    check_search_limit(limit)
    async with db.sessions.begin() as session:
        allowed = await may_see_personal(session, viewer.id)
        rows = (
            await session.execute(_statement(text, region=region, allowed=allowed, limit=limit))
        ).all()
        if not allowed:
            await audit_in(
                session,
                viewer.username,
                SEARCHED,
                None,
                {"length": len(text), "found": len(rows)},
            )
        if not rows:
            return []
        records = [
            (
                f"customer:{r.id}",
                {
                    "id": r.id,
                    "code": r.code,
                    "name": r.name,
                    "region": r.region,
                    "tax_id": r.tax_id,
                    "match": r.match,
                },
            )
            for r in rows
        ]
        shown, lines = present(viewer, records, CUSTOMER_FIELDS, allowed=allowed, purpose=PURPOSE)
        if lines and allowed:
            seen = await _already_audited(
                session, viewer, lines[0]["action"], [line["subject"] for line in lines]
            )
            lines = [line for line in lines if line["subject"] not in seen]
        await write_reads(session, lines)
        return shown


__all__ = [
    "AUDIT_WINDOW",
    "MAX_LIMIT",
    "MAX_QUERY",
    "MIN_QUERY",
    "PURPOSE",
    "SEARCHED",
    "check_query",
    "search_customers",
]
