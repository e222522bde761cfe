"""Incoming-call messages (seed 004): calls that could not be handled at once.

The registration stamp (date, time, user) and the finalization stamp are set by the server and
never change (the database's triggers refuse it too). A message is pending until it is finalized,
by :func:`finalize` or by creating an action (an attention) from it (:func:`attention_from`);
changing its situation alone does not finalize it. Postponing moves it to a new date and time with
a reason and a new recipient, and leaves a note saying so.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db import outbox
from cti.db.audit import audit_in
from cti.db.backoffice.common import enforce_required, iso, must_exist
from cti.db.backoffice.personal import Viewer, show_personal
from cti.db.engine import Database
from cti.db.models import (
    Attention,
    AttentionGroup,
    CallMessage,
    CallMessageNote,
    CallMessageSituation,
    CallMessageType,
    Contact,
    Customer,
    Operator,
)
from cti.domain.accounts import check_active_user
from cti.domain.backoffice import (
    MESSAGE_SPEC,
    check_contact_of,
    check_from,
    check_message_open,
    check_postpone,
    check_recipient,
    finalizing_situation,
    initial_situation,
    message_access,
    postpone_note,
)
from cti.domain.model import AttentionKind, Direction
from cti.domain.phone import normalize_phone
from cti.errors import Forbidden, NotFound, UserInputError
from cti.i18n import _


async def _situations(s: AsyncSession) -> dict[str, bool]:
    rows = await s.execute(sa.select(CallMessageSituation.code, CallMessageSituation.pending))
    return {code: pending for code, pending in rows.all()}


async def _check_recipient(s: AsyncSession, user_id: int | None, group_id: int | None) -> None:
    check_recipient(user_id, group_id)
    if user_id is not None:
        op = await s.get(Operator, user_id)
        if op is None:
            raise UserInputError(
                "to_user_id", _("{user_id} is not an active user"), user_id=user_id
            )
        check_active_user("to_user_id", user_id, active=op.active)
    if group_id is not None:
        await must_exist(s, AttentionGroup, group_id, "to_group_id")


async def _message_json(s: AsyncSession, m: CallMessage) -> dict[str, Any]:
    situation = await s.get(CallMessageSituation, m.situation_code)
    kind = await s.get(CallMessageType, m.type_code) if m.type_code else None
    customer = await s.get(Customer, m.from_customer_id) if m.from_customer_id else None
    contact = await s.get(Contact, m.from_contact_id) if m.from_contact_id else None
    people = {
        i: (username, full_name or username)
        for i, username, full_name in (
            await s.execute(
                sa.select(Operator.id, Operator.username, Operator.full_name).where(
                    Operator.id.in_(
                        {i for i in (m.created_by, m.finalized_by, m.to_user_id) if i is not None}
                    )
                )
            )
        ).all()
    }
    names = {i: p[0] for i, p in people.items()}
    # As people write them: the full name, not the user name.
    shown = {i: p[1] for i, p in people.items()}
    notes = await s.execute(
        sa.select(CallMessageNote, Operator.username, Operator.full_name)
        .join(Operator, Operator.id == CallMessageNote.author_id)
        .where(CallMessageNote.message_id == m.id)
        .order_by(CallMessageNote.id)
    )
    return {
        "id": m.id,
        "created_at": iso(m.created_at),
        "created_by": names.get(m.created_by),
        "created_by_name": shown.get(m.created_by),
        "situation_code": m.situation_code,
        "situation": situation.name if situation else None,
        # Pending until finalized: the situation alone does not decide it.
        "pending": m.finalized_at is None,
        "type_code": m.type_code,
        "type": kind.name if kind else None,
        "from_customer_id": m.from_customer_id,
        "customer": {"code": customer.code, "name": customer.name} if customer else None,
        "from_contact_id": m.from_contact_id,
        "contact": {"name": contact.name} if contact else None,
        "from_phone": m.from_phone,
        "from_tax_id": m.from_tax_id,
        "from_serial": m.from_serial,
        "from_code": m.from_code,
        "to_user_id": m.to_user_id,
        "to_user": names.get(m.to_user_id) if m.to_user_id else None,
        "to_user_name": shown.get(m.to_user_id) if m.to_user_id else None,
        "to_group_id": m.to_group_id,
        "description": m.description,
        "postponed_until": iso(m.postponed_until),
        "postpone_reason": m.postpone_reason,
        "finalized_at": iso(m.finalized_at),
        "finalized_by": names.get(m.finalized_by) if m.finalized_by else None,
        "finalized_by_name": shown.get(m.finalized_by) if m.finalized_by else None,
        "attention_id": m.attention_id,
        "updated_at": iso(m.updated_at),
        "notes": [
            {"at": iso(n.at), "author": author, "author_name": full or author, "text": n.text}
            for n, author, full in notes.all()
        ],
    }


async def _shown(s: AsyncSession, viewer: Viewer, m: CallMessage, purpose: str) -> dict[str, Any]:
    [out] = await show_personal(
        s,
        viewer,
        [(f"call_message:{m.id}", await _message_json(s, m))],
        MESSAGE_SPEC,
        purpose=purpose,
    )
    return out


async def create_message(
    db: Database,
    viewer: Viewer,
    values: dict[str, Any],
    *,
    region: str = "US",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Register a message; date, time and user come from the server.

    ``values`` holds the form's fields: ``situation_code`` (default: the usual pending one),
    ``type_code`` (default: the default type), the *from* fields (at least one), ``to_user_id`` or
    ``to_group_id``, ``description``.
    """
    async with db.sessions.begin() as s:
        check_from(values)
        await _check_recipient(s, values.get("to_user_id"), values.get("to_group_id"))
        await enforce_required(s, "call_message", values)
        usual = (
            await s.execute(
                sa.select(CallMessageSituation.code).where(CallMessageSituation.usual_pending)
            )
        ).scalar_one_or_none()
        situation = initial_situation(values.get("situation_code"), usual)
        await must_exist(s, CallMessageSituation, situation, "situation_code")
        type_code = values.get("type_code")
        if type_code is None:
            type_code = (
                await s.execute(sa.select(CallMessageType.code).where(CallMessageType.is_default))
            ).scalar_one_or_none()
        else:
            await must_exist(s, CallMessageType, type_code, "type_code")
        if values.get("from_customer_id") is not None:
            await must_exist(s, Customer, values["from_customer_id"], "from_customer_id")
        if values.get("from_contact_id") is not None:
            contact = await must_exist(s, Contact, values["from_contact_id"], "from_contact_id")
            check_contact_of(values.get("from_customer_id"), contact.customer_id)
        phone = values.get("from_phone")
        if phone:
            phone = normalize_phone(phone, region) or phone
        message = CallMessage(
            created_by=viewer.id,
            situation_code=situation,
            type_code=type_code,
            from_customer_id=values.get("from_customer_id"),
            from_contact_id=values.get("from_contact_id"),
            from_phone=phone or None,
            from_tax_id=values.get("from_tax_id") or None,
            from_serial=values.get("from_serial") or None,
            from_code=values.get("from_code") or None,
            to_user_id=values.get("to_user_id"),
            to_group_id=values.get("to_group_id"),
            description=values["description"],
        )
        s.add(message)
        await s.flush()
        await outbox.emit(s, outbox.message_events(message, now or message.created_at))
        return await _shown(s, viewer, message, "call message")


async def _locked(s: AsyncSession, message_id: int) -> CallMessage:
    m = await s.get(CallMessage, message_id, with_for_update=True)
    if m is None:
        raise NotFound(_("message"), message_id)
    return m


async def _check_access(s: AsyncSession, viewer: Viewer, m: CallMessage, *, act: bool) -> None:
    """The rule of :func:`cti.domain.backoffice.message_access`: a message the viewer may not
    read is "not found" (its content is not shown), one they may only read is refused."""
    group = None
    if not viewer.oversees:
        group = await s.scalar(sa.select(Operator.group_id).where(Operator.id == viewer.id))
    access = message_access(
        user_id=viewer.id,
        group_id=group,
        oversees=viewer.oversees,
        to_user_id=m.to_user_id,
        to_group_id=m.to_group_id,
        created_by=m.created_by,
    )
    if access is None:
        raise NotFound(_("message"), m.id)
    if act and access != "act":
        raise Forbidden(
            _(
                "this message is addressed to another user or group; only they, supervisors and"
                " admins act on it"
            ),
            "message",
        )


def _open(m: CallMessage) -> None:
    check_message_open(m.id, finalized=m.finalized_at is not None)


async def get_message(db: Database, viewer: Viewer, message_id: int) -> dict[str, Any]:
    """One message with its notes (personal fields as the viewer may see them)."""
    async with db.sessions.begin() as s:
        m = await s.get(CallMessage, message_id)
        if m is None:
            raise NotFound(_("message"), message_id)
        await _check_access(s, viewer, m, act=False)
        return await _shown(s, viewer, m, "call message")


async def list_messages(
    db: Database,
    viewer: Viewer,
    *,
    pending: bool | None = None,
    mine: bool = False,
    due_before: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Messages, newest first; ``pending`` filters on finalization (not on the situation);
    ``mine`` keeps those to the viewer or to the viewer's group; ``due_before`` drops those
    postponed past that time. An operator sees only the messages they may read (to them, to
    their group, or registered by them); supervisors and admins see all."""
    stmt = sa.select(CallMessage).order_by(CallMessage.id.desc()).limit(limit)
    group = sa.select(Operator.group_id).where(Operator.id == viewer.id).scalar_subquery()
    if not viewer.oversees:
        stmt = stmt.where(
            sa.or_(
                CallMessage.to_user_id == viewer.id,
                CallMessage.to_group_id == group,
                CallMessage.created_by == viewer.id,
            )
        )
    if pending is not None:
        stmt = stmt.where(
            CallMessage.finalized_at.is_(None) if pending else CallMessage.finalized_at.is_not(None)
        )
    if mine:
        stmt = stmt.where(
            sa.or_(CallMessage.to_user_id == viewer.id, CallMessage.to_group_id == group)
        )
    if due_before is not None:
        stmt = stmt.where(
            sa.or_(CallMessage.postponed_until.is_(None), CallMessage.postponed_until <= due_before)
        )
    async with db.sessions.begin() as s:
        messages = list((await s.execute(stmt)).scalars())
        records = [(f"call_message:{m.id}", await _message_json(s, m)) for m in messages]
        return await show_personal(s, viewer, records, MESSAGE_SPEC, purpose="call message list")


async def update_message(
    db: Database, viewer: Viewer, message_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change a pending message's situation, type, description or recipient (never its stamps).

    Setting a non-pending situation here does not finalize the message: it stays pending.
    """
    async with db.sessions.begin() as s:
        m = await _locked(s, message_id)
        await _check_access(s, viewer, m, act=True)
        _open(m)
        if "situation_code" in changes:
            m.situation_code = (
                await must_exist(
                    s, CallMessageSituation, changes["situation_code"], "situation_code"
                )
            ).code
        if "type_code" in changes:
            m.type_code = (
                await must_exist(s, CallMessageType, changes["type_code"], "type_code")
            ).code
        if "description" in changes:
            m.description = changes["description"]
        if "to_user_id" in changes or "to_group_id" in changes:
            await _check_recipient(s, changes.get("to_user_id"), changes.get("to_group_id"))
            m.to_user_id = changes.get("to_user_id")
            m.to_group_id = changes.get("to_group_id")
        await s.flush()
        await s.refresh(m)
        return await _shown(s, viewer, m, "call message")


async def add_note(db: Database, viewer: Viewer, message_id: int, text: str) -> dict[str, Any]:
    """Append a note (date, time and author set by the server)."""
    async with db.sessions.begin() as s:
        m = await s.get(CallMessage, message_id)
        if m is None:
            raise NotFound(_("message"), message_id)
        await _check_access(s, viewer, m, act=True)
        s.add(CallMessageNote(message_id=m.id, author_id=viewer.id, text=text))
        await s.flush()
        return await _shown(s, viewer, m, "call message")


async def _finalize(
    s: AsyncSession, viewer: Viewer, m: CallMessage, situation_code: str | None, how: str
) -> None:
    _open(m)
    m.situation_code = finalizing_situation(situation_code, await _situations(s))
    m.finalized_at = sa.func.now()
    m.finalized_by = viewer.id
    await audit_in(s, viewer.username, "message.finalized", f"call_message:{m.id}", {"by": how})


async def finalize(
    db: Database, viewer: Viewer, message_id: int, *, situation_code: str | None = None
) -> dict[str, Any]:
    """The Finalize action: stamp date, time and user, and set a non-pending situation."""
    async with db.sessions.begin() as s:
        m = await _locked(s, message_id)
        await _check_access(s, viewer, m, act=True)
        await _finalize(s, viewer, m, situation_code, "finalize")
        await s.flush()
        await s.refresh(m)
        return await _shown(s, viewer, m, "call message")


async def finalize_by_action(
    session: AsyncSession, viewer: Viewer, message_id: int, attention_id: int
) -> None:
    """Finalize a message because an action (attention) was created from it, in the caller's
    transaction; the agent desk calls this when it saves an attention opened from a message."""
    m = await _locked(session, message_id)
    await _check_access(session, viewer, m, act=True)
    await _finalize(session, viewer, m, None, f"attention:{attention_id}")
    m.attention_id = attention_id


async def attention_from(
    db: Database, viewer: Viewer, message_id: int, *, kind: AttentionKind
) -> dict[str, Any]:
    """Create an attention (the action) from a pending message, which finalizes the message.

    The attention is pending, owned by the viewer, about the message's customer, contact and phone;
    the desk opens it to carry on.
    """
    async with db.sessions.begin() as s:
        m = await _locked(s, message_id)
        await _check_access(s, viewer, m, act=True)
        _open(m)
        op = await s.get(Operator, viewer.id)
        attention = Attention(
            kind=kind,
            direction=Direction.OUTBOUND,
            operator_id=viewer.id,
            group_id=op.group_id if op else None,
            customer_id=m.from_customer_id,
            contact_id=m.from_contact_id,
            phone=m.from_phone,
            subject=m.description[:200],
        )
        s.add(attention)
        await s.flush()
        await finalize_by_action(s, viewer, m.id, attention.id)
        await s.flush()
        await s.refresh(m)
        return {"attention_id": attention.id, "message": await _shown(s, viewer, m, "call message")}


async def postpone(
    db: Database,
    viewer: Viewer,
    message_id: int,
    *,
    until: datetime,
    reason: str,
    to_user_id: int | None,
    to_group_id: int | None,
    now: datetime,
    tz: tzinfo = UTC,
) -> dict[str, Any]:
    """Postpone a pending message to ``until`` with a reason, for a (new) user or group; its note
    says when in the call center's time zone ``tz``, and for whom by name."""
    async with db.sessions.begin() as s:
        m = await _locked(s, message_id)
        await _check_access(s, viewer, m, act=True)
        _open(m)
        check_postpone(until, now)
        await _check_recipient(s, to_user_id, to_group_id)
        m.postponed_until = until
        m.postpone_reason = reason
        m.to_user_id = to_user_id
        m.to_group_id = to_group_id
        if to_user_id is not None:
            op = await s.get(Operator, to_user_id)
            whom = (op.full_name or op.username) if op else f"user {to_user_id}"
        else:
            group = await s.get(AttentionGroup, to_group_id)
            whom = f"the group {group.name}" if group else f"group {to_group_id}"
        s.add(
            CallMessageNote(
                message_id=m.id,
                author_id=viewer.id,
                text=postpone_note(until.astimezone(tz), whom, reason),
            )
        )
        await audit_in(
            s,
            viewer.username,
            "message.postponed",
            f"call_message:{m.id}",
            {"until": until.isoformat(), "to_user_id": to_user_id, "to_group_id": to_group_id},
        )
        await s.flush()
        await s.refresh(m)
        return await _shown(s, viewer, m, "call message")


__all__ = [
    "add_note",
    "attention_from",
    "create_message",
    "finalize",
    "finalize_by_action",
    "get_message",
    "list_messages",
    "postpone",
    "update_message",
]
