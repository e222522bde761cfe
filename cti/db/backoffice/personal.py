"""Personal data (LGPD / GDPR): who may see it, masking, and the audit of every read and export.

This is the one place that decides whether personal fields (names, phones, tax ids, addresses,
emails) are shown or masked, and that writes the audit line for each read. Every part of cti that
shows a personal record goes through it: the back office, and the agent desk's screen-pop::

    from cti.db.backoffice.personal import Viewer, read_customer

    view = await read_customer(db, Viewer(user.id, user.username), customer_id, purpose="screen-pop")
    # view is None for an unknown customer; else a dict with "masked": True/False

or, for a record the caller built itself (inside its own transaction)::

    async with db.sessions.begin() as s:
        [shown] = await show_personal(s, viewer, [("customer:12", record)], CUSTOMER_SPEC,
                                      purpose="screen-pop")

Permission is read from the database at each call (the user's ``personal_data`` flag, or that of
their attention group), so a grant or a revocation takes effect at once. A hot path that already
runs one query (the screen-pop) folds :data:`PERMISSION_SQL` into it, masks with :func:`present`
and writes the audit lines later with one :func:`write_reads`, so the pop does not wait for them.

Audit actions written here: ``personal.read`` (shown in full), ``personal.masked`` (the viewer lacks
the permission: a refusal, shown masked), ``personal.export`` and ``personal.export.refused``.
Subjects are ``<kind>:<id>`` (``customer:12``, ``contact:3``, ``suspect:5``, ``prospect:2``,
``call_message:7``). The details name the fields, never their values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.engine import Database
from cti.db.models import (
    Attention,
    AuditEvent,
    Campaign,
    Contact,
    Customer,
    Phone,
    ScriptAnswers,
    ScriptVersion,
)
from cti.domain.backoffice import CUSTOMER_SPEC, FieldSpec, mask_record, personal_keys

READ = "personal.read"
MASKED = "personal.masked"
EXPORT = "personal.export"
EXPORT_REFUSED = "personal.export.refused"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: the signed-in user's id and name (the name goes into the audit log), and
    whether they oversee everyone's records (supervisors and admins)."""

    id: int
    username: str
    oversees: bool = False


# The permission rule as SQL: a boolean for the user bound as ``:viewer`` (the user's own flag or
# their attention group's; an inactive or unknown user has none). The one definition of the rule.
PERMISSION_SQL = """COALESCE((
    SELECT o.personal_data OR COALESCE(g.personal_data, FALSE)
    FROM operators o LEFT JOIN attention_groups g ON g.id = o.group_id
    WHERE o.id = :viewer AND o.active), FALSE)"""
_PERMISSION = sa.text(f"SELECT {PERMISSION_SQL}")


async def may_see_personal(session: AsyncSession, user_id: int) -> bool:
    """True when the user, or the attention group they belong to, is granted personal data."""
    return bool((await session.execute(_PERMISSION, {"viewer": user_id})).scalar_one())


# Role, activity and personal-data permission of users (what a live view re-reads every tick).
_STANDING = sa.text(
    "SELECT w.id, w.role::text, w.active, "
    + PERMISSION_SQL.replace(":viewer", "w.id")
    + " FROM operators w WHERE w.id = ANY(:ids)"
)


async def standing_of(db: Database, user_ids: Sequence[int]) -> dict[int, tuple[str, bool, bool]]:
    """Each user's (role, active, may see personal data), by id; unknown users are missing."""
    async with db.sessions() as session:
        rows = (await session.execute(_STANDING, {"ids": list(user_ids)})).all()
    return {int(r[0]): (str(r[1]), bool(r[2]), bool(r[3])) for r in rows}


def read_rows(
    viewer: Viewer,
    parts: Sequence[tuple[str, Mapping[str, Any], FieldSpec]],
    *,
    allowed: bool,
    purpose: str,
) -> list[dict[str, Any]]:
    """The audit lines of showing ``parts`` (``(subject, record, spec)``) to ``viewer``: one per
    part that holds a personal value, naming its fields (never their values)."""
    action = READ if allowed else MASKED
    rows = []
    for subject, record, spec in parts:
        fields = personal_keys(record, spec)
        if fields:
            rows.append(
                {
                    "actor": viewer.username,
                    "action": action,
                    "subject": subject,
                    "details": {"purpose": purpose, "fields": fields},
                }
            )
    return rows


def present(
    viewer: Viewer,
    records: Sequence[tuple[str, Mapping[str, Any]]],
    spec: FieldSpec,
    *,
    allowed: bool,
    purpose: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The records as shown (each with ``"masked"``) and the audit lines their reading writes.

    Pure: the caller decided ``allowed`` (with :func:`may_see_personal` or :data:`PERMISSION_SQL`)
    and must write the lines (:func:`write_reads`, or :func:`show_personal` does both).
    """
    action = READ if allowed else MASKED
    rows = [
        {
            "actor": viewer.username,
            "action": action,
            "subject": subject,
            "details": {"purpose": purpose, "fields": personal_keys(record, spec)},
        }
        for subject, record in records
    ]
    if allowed:
        return [{**record, "masked": False} for _, record in records], rows
    return [{**mask_record(record, spec), "masked": True} for _, record in records], rows


async def write_reads(target: Database | AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write audit lines made by :func:`present`: one INSERT (in its own transaction for a db).

    A Core insert on the table: the ORM's bulk insert of the mapped class read each new line's id
    back, which nothing uses, on every screen-pop and attention shown."""
    if not rows:
        return
    if isinstance(target, AsyncSession):
        await target.execute(_AUDIT_INSERT, list(rows))
        return
    await target.direct.execute(audit_lines_sql(1), *audit_args(rows))


_AUDIT_INSERT = sa.insert(cast(sa.Table, AuditEvent.__table__))


def audit_lines_sql(first: int) -> str:
    """Audit lines as plain SQL (:mod:`cti.db.direct`): the ``INSERT`` of :func:`audit_args`'s four
    arrays, parameters ``$first`` to ``$first + 3``."""
    a, b, c, d = range(first, first + 4)
    return (
        "INSERT INTO audit_log (actor, action, subject, details)"
        f" SELECT * FROM unnest(${a}::text[], ${b}::text[], ${c}::text[], ${d}::jsonb[])"
    )


def audit_args(rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """The four arrays (actors, actions, subjects, details as JSON) of :func:`audit_lines_sql`."""
    return [
        [row.get("actor") for row in rows],
        [row["action"] for row in rows],
        [row.get("subject") for row in rows],
        [json.dumps(row.get("details") or {}) for row in rows],
    ]


async def show_personal(
    session: AsyncSession,
    viewer: Viewer,
    records: Sequence[tuple[str, Mapping[str, Any]]],
    spec: FieldSpec,
    *,
    purpose: str,
) -> list[dict[str, Any]]:
    """The records as ``viewer`` may see them, each with ``"masked"``; one audit line per record.

    Args:
        session: an open session in a transaction (the audit lines commit with it).
        viewer: who reads.
        records: ``(subject, record)`` pairs; the subject is written to the audit log.
        spec: which keys are personal (see :data:`cti.domain.backoffice.CUSTOMER_SPEC` etc.).
        purpose: why it was read (``screen-pop``, ``case list``, ...), kept in the audit details.

    Returns:
        Copies of the records, personal fields masked unless the viewer may see them.
    """
    if not records:
        return []
    allowed = await may_see_personal(session, viewer.id)
    shown, rows = present(viewer, records, spec, allowed=allowed, purpose=purpose)
    await write_reads(session, rows)
    return shown


async def record_export(
    session: AsyncSession, viewer: Viewer, subject: str, *, allowed: bool, fields: Sequence[str]
) -> None:
    """Write the audit line of an export of personal data (or of its refusal)."""
    await session.execute(
        sa.insert(AuditEvent).values(
            actor=viewer.username,
            action=EXPORT if allowed else EXPORT_REFUSED,
            subject=subject,
            details={"fields": list(fields)},
        )
    )


def _phone_json(p: Phone) -> dict[str, Any]:
    return {"id": p.id, "phone": p.phone, "raw": p.raw, "label": p.label}


async def customer_record(session: AsyncSession, customer_id: int) -> dict[str, Any] | None:
    """A customer with its phones and contacts (and theirs), unmasked: show it with show_personal."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return None
    contacts = (
        (
            await session.execute(
                sa.select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.id)
            )
        )
        .scalars()
        .all()
    )
    ids = [c.id for c in contacts]
    phones = (
        (
            await session.execute(
                sa.select(Phone)
                .where(
                    sa.or_(
                        Phone.customer_id == customer_id,
                        Phone.contact_id.in_(ids) if ids else sa.false(),
                    )
                )
                .order_by(Phone.id)
            )
        )
        .scalars()
        .all()
    )
    return {
        "id": customer.id,
        "code": customer.code,
        "name": customer.name,
        "tax_id": customer.tax_id,
        "email": customer.email,
        "address": customer.address,
        "region": customer.region,
        "timezone": customer.timezone,
        "phones": [_phone_json(p) for p in phones if p.customer_id == customer_id],
        "contacts": [
            {
                "id": c.id,
                "name": c.name,
                "email": c.email,
                "position": c.position,
                "phones": [_phone_json(p) for p in phones if p.contact_id == c.id],
            }
            for c in contacts
        ],
    }


async def read_customer(
    db: Database, viewer: Viewer, customer_id: int, *, purpose: str
) -> dict[str, Any] | None:
    """A customer record as ``viewer`` may see it (masked or not), the read audited; None if unknown.

    This is what a screen-pop calls to show who is on the line.
    """
    async with db.sessions.begin() as session:
        record = await customer_record(session, customer_id)
        if record is None:
            return None
        [shown] = await show_personal(
            session, viewer, [(f"customer:{customer_id}", record)], CUSTOMER_SPEC, purpose=purpose
        )
        return shown


async def export_customer(
    db: Database, viewer: Viewer, customer_id: int
) -> tuple[bool, dict[str, Any] | None]:
    """The customer's personal data for a data-subject export: ``(allowed, record)``: the
    customer, its phones and contacts, and the answers given to campaign scripts in the
    attentions of the customer or of its contacts (each question with its text as it was asked).

    Only a viewer with the permission gets the record; a refusal is audited too.
    """
    async with db.sessions.begin() as session:
        record = await customer_record(session, customer_id)
        if record is None:
            return True, None
        allowed = await may_see_personal(session, viewer.id)
        answers = await _script_answers(session, customer_id) if allowed else []
        fields = personal_keys(record, CUSTOMER_SPEC) + (["script_answers"] if answers else [])
        await record_export(
            session, viewer, f"customer:{customer_id}", allowed=allowed, fields=fields
        )
        return allowed, record | {"script_answers": answers} if allowed else None


async def _script_answers(session: AsyncSession, customer_id: int) -> list[dict[str, Any]]:
    """Every script answer set of the customer's attentions (and its contacts'), oldest first."""
    contacts = sa.select(Contact.id).where(Contact.customer_id == customer_id)
    rows = await session.execute(
        sa.select(
            ScriptAnswers.attention_id,
            ScriptAnswers.answers,
            ScriptAnswers.saved_at,
            ScriptVersion.body,
            Campaign.name,
        )
        .join(Attention, Attention.id == ScriptAnswers.attention_id)
        .join(ScriptVersion, ScriptVersion.id == ScriptAnswers.script_version_id)
        .outerjoin(Campaign, Campaign.id == ScriptAnswers.campaign_id)
        .where(sa.or_(Attention.customer_id == customer_id, Attention.contact_id.in_(contacts)))
        .order_by(ScriptAnswers.saved_at, ScriptAnswers.id)
    )
    out: list[dict[str, Any]] = []
    for attention_id, answers, saved_at, body, campaign in rows:
        asked = {
            str(step.get("id")): str(step.get("text", ""))
            for step in (body if isinstance(body, list) else [])
            if isinstance(step, dict)
        }
        out.append(
            {
                "attention_id": attention_id,
                "campaign": campaign,
                "saved_at": saved_at.isoformat(),
                "answers": [
                    {"question": key, "text": asked.get(key, ""), "answer": value}
                    for key, value in (answers or {}).items()
                ],
            }
        )
    return out


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """A search of the audit log; every criterion is optional."""

    actor: str | None = None
    action: str | None = None  # exact, or a prefix ending in '.' or '*' (``personal.*``)
    subject: str | None = None  # exact, or a prefix ending in ':' or '*' (``customer:*``)
    since: Any = None  # datetime
    until: Any = None  # datetime
    limit: int = 100
    before_id: int | None = None  # paging: lines older than this id


def _match(column: Any, value: str) -> Any:
    if value.endswith("*"):
        prefix = value[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(prefix + "%", escape="\\")
    return column == value


async def search_audit(db: Database, query: AuditQuery) -> list[dict[str, Any]]:
    """Audit lines matching ``query``, newest first."""
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(query.limit)
    if query.actor:
        stmt = stmt.where(AuditEvent.actor == query.actor)
    if query.action:
        stmt = stmt.where(_match(AuditEvent.action, query.action))
    if query.subject:
        stmt = stmt.where(_match(AuditEvent.subject, query.subject))
    if query.since is not None:
        stmt = stmt.where(AuditEvent.at >= query.since)
    if query.until is not None:
        stmt = stmt.where(AuditEvent.at < query.until)
    if query.before_id is not None:
        stmt = stmt.where(AuditEvent.id < query.before_id)
    async with db.sessions() as session:
        rows = (await session.execute(stmt)).scalars().all()
    return [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "action": r.action,
            "subject": r.subject,
            "details": r.details,
        }
        for r in rows
    ]


__all__ = [
    "EXPORT",
    "EXPORT_REFUSED",
    "MASKED",
    "PERMISSION_SQL",
    "READ",
    "AuditQuery",
    "Viewer",
    "customer_record",
    "export_customer",
    "may_see_personal",
    "present",
    "read_customer",
    "read_rows",
    "record_export",
    "search_audit",
    "show_personal",
    "write_reads",
]
