"""Configuration maintained by admins: closing reasons, pause reasons, attention groups (ideal talk
time, personal-data grant, after-call work: what disposes an attention, the longest wrap-up), message situations and types, attention-status labels, required fields, and the
telemarketing tickets' catalogues (subjects, occurrences, actions).

Every change is written to the audit log as ``config.<table>`` with what was set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from cti.db.audit import audit_in
from cti.db.backoffice.personal import Viewer
from cti.db.engine import Database
from cti.db.models import (
    AttentionGroup,
    AttentionStatusLabel,
    Base,
    CallMessageSituation,
    CallMessageType,
    ClosingReason,
    PauseReason,
    RequiredField,
    TicketAction,
    TicketOccurrence,
    TicketSubject,
)
from cti.domain.backoffice import check_new_entry
from cti.domain.forms import FORM_LABELS, FORMS, check_form_fields, field_label
from cti.domain.model import AttentionKind, AttentionStatus
from cti.errors import NotFound, Refused, UserInputError
from cti.i18n import _

# Each maintained table: its model, its key column, and the columns an admin may set.
# What one record of each table is called in a message ("closing reason 7 does not exist").
RECORD_WORDS: dict[str, str] = {
    "closing-reasons": _("closing reason"),
    "pause-reasons": _("pause reason"),
    "attention-groups": _("attention group"),
    "message-situations": _("message situation"),
    "message-types": _("message type"),
    "ticket-subjects": _("ticket subject"),
    "ticket-occurrences": _("ticket occurrence"),
    "ticket-actions": _("ticket action"),
}
TABLES: dict[str, tuple[type[Base], str, tuple[str, ...]]] = {
    "closing-reasons": (ClosingReason, "id", ("name", "kind", "active")),
    "pause-reasons": (PauseReason, "id", ("name", "active")),
    "attention-groups": (
        AttentionGroup,
        "id",
        (
            "name",
            "ideal_talk_seconds",
            "personal_data",
            "wrapup_needs",
            "max_wrapup_seconds",
            "pause_after_missed",
        ),
    ),
    "message-situations": (CallMessageSituation, "code", ("name", "pending", "usual_pending")),
    "message-types": (CallMessageType, "code", ("name", "is_default")),
    # The telemarketing tickets' catalogues (seed 003): subjects, their occurrences, the
    # occurrences' actions with the child-ticket status they set and what they create.
    "ticket-subjects": (TicketSubject, "id", ("name", "active")),
    "ticket-occurrences": (TicketOccurrence, "id", ("subject_id", "name", "active")),
    "ticket-actions": (
        TicketAction,
        "id",
        ("occurrence_id", "name", "sets_status", "service_order", "nonconformity", "active"),
    ),
}
# A reference a row makes to another table of the catalogues: the field an error names.
_REFERENCES = {
    "fk_ticket_occurrences_subject_id": "subject_id",
    "fk_ticket_actions_occurrence_id": "occurrence_id",
}
# At most one row may carry these flags: setting one clears the others.
_ONLY_ONE = {"usual_pending": CallMessageSituation, "is_default": CallMessageType}


def _json(row: Base, key: str, columns: tuple[str, ...]) -> dict[str, Any]:
    out = {key: getattr(row, key)}
    for c in columns:
        value = getattr(row, c)
        out[c] = str(value) if isinstance(value, AttentionKind) else value
    return out


async def list_rows(db: Database, table: str) -> list[dict[str, Any]]:
    """Every row of a maintained table."""
    model, key, columns = TABLES[table]
    async with db.sessions() as s:
        rows = (await s.execute(sa.select(model).order_by(getattr(model, key)))).scalars()
        return [_json(r, key, columns) for r in rows]


def _integrity(exc: IntegrityError) -> UserInputError:
    text = str(exc.orig)
    if "unique" in text.lower() or "duplicate" in text.lower():
        return UserInputError("name", _("is already used"))
    if "usual_pending_is_pending" in text:
        return UserInputError(
            "usual_pending", _("only a pending situation can be the usual pending")
        )
    if "not_wrapup" in text:
        return UserInputError("name", _("'wrap-up' is cti's own pause for after-call work"))
    if "max_wrapup_positive" in text:
        return UserInputError("max_wrapup_seconds", _("must be more than 0"))
    if "pause_after_missed_positive" in text:
        return UserInputError("pause_after_missed", _("must be more than 0"))
    if "ideal_talk_positive" in text:
        return UserInputError("ideal_talk_seconds", _("must be more than 0"))
    for constraint, name in _REFERENCES.items():
        if constraint in text:
            return UserInputError(name, _("is not one of the catalogue's"))
    if "code_two_chars" in text:
        return UserInputError("code", _("must be two characters"))
    return UserInputError("body", _("conflicts with the stored configuration"))


async def save_row(
    db: Database, viewer: Viewer, table: str, values: dict[str, Any], ident: int | str | None = None
) -> dict[str, Any]:
    """Insert a row (``ident`` None, or a code for the code-keyed tables) or change one.

    For situations and types, ``ident`` is the two-character code and the row is created when
    missing (PUT semantics); for the others, ``ident`` None creates and an id changes.
    """
    model, key, columns = TABLES[table]
    values = {k: v for k, v in values.items() if k in columns}
    if "kind" in values and values["kind"] is not None:
        values["kind"] = AttentionKind(values["kind"])
    try:
        async with db.sessions.begin() as s:
            for flag, flagged in _ONLY_ONE.items():
                if model is flagged and values.get(flag):
                    # Clear the flag elsewhere first: a partial unique index allows one row.
                    await s.execute(
                        sa.update(model).where(getattr(model, key) != ident).values({flag: False})
                    )
            row = await s.get(model, ident, with_for_update=True) if ident is not None else None
            if row is None:
                if ident is not None and key == "id":
                    raise NotFound(RECORD_WORDS[table], ident)
                check_new_entry(columns, values)
                row = model(**({key: ident} if ident is not None else {}), **values)
                s.add(row)
            else:
                for name, value in values.items():
                    setattr(row, name, value)
            await s.flush()
            await audit_in(
                s,
                viewer.username,
                f"config.{table}",
                f"{table}:{getattr(row, key)}",
                {k: str(v) for k, v in values.items()},
            )
            return _json(row, key, columns)
    except IntegrityError as exc:
        raise _integrity(exc) from None


async def delete_row(db: Database, viewer: Viewer, table: str, ident: int | str) -> None:
    """Remove a code (situations, types); refused while a message uses it."""
    model, key, _rules = TABLES[table]
    try:
        async with db.sessions.begin() as s:
            row = await s.get(model, ident)
            if row is None:
                raise NotFound(RECORD_WORDS[table], ident)
            await s.delete(row)
            await s.flush()
            await audit_in(s, viewer.username, f"config.{table}.delete", f"{table}:{ident}", {})
    except IntegrityError:
        raise Refused(_("{ident} is in use; it cannot be removed"), key, ident=ident) from None


async def status_labels(db: Database) -> list[dict[str, str]]:
    """Each attention status with its label (the status name when no label was given)."""
    async with db.sessions() as s:
        given = dict(
            (
                await s.execute(sa.select(AttentionStatusLabel.status, AttentionStatusLabel.label))
            ).all()
        )
    return [
        {"status": st.value, "label": given.get(st, st.value.capitalize())}
        for st in AttentionStatus
    ]


async def set_status_label(
    db: Database, viewer: Viewer, status: AttentionStatus, label: str
) -> list[dict[str, str]]:
    """Give an attention status a label (Pendiente, Planificado, ...)."""
    async with db.sessions.begin() as s:
        await s.execute(
            pg_insert(AttentionStatusLabel)
            .values(status=status, label=label)
            .on_conflict_do_update(index_elements=["status"], set_={"label": label})
        )
        await audit_in(
            s,
            viewer.username,
            "config.attention-statuses",
            f"status:{status.value}",
            {"label": label},
        )
    return await status_labels(db)


@dataclass(frozen=True, slots=True)
class FormFields:
    """A form's fields, those an admin made mandatory, and how the pages name them."""

    fields: list[str]
    required: list[str]
    title: str
    labels: dict[str, str]


async def required_by_form(db: Database) -> dict[str, FormFields]:
    """For each form: the fields it has and those an admin made mandatory."""
    async with db.sessions() as s:
        rows = (await s.execute(sa.select(RequiredField.form, RequiredField.field))).all()
    return {
        form: FormFields(
            fields=sorted(fields),
            required=sorted(f for fm, f in rows if fm == form),
            title=FORM_LABELS.get(form, form),
            labels={f: field_label(f) for f in sorted(fields)},
        )
        for form, fields in sorted(FORMS.items())
    }


async def set_required(db: Database, viewer: Viewer, form: str, fields: list[str]) -> list[str]:
    """Make exactly ``fields`` mandatory on ``form``."""
    chosen = check_form_fields(form, fields)
    async with db.sessions.begin() as s:
        await s.execute(sa.delete(RequiredField).where(RequiredField.form == form))
        s.add_all(RequiredField(form=form, field=f) for f in chosen)
        await audit_in(
            s, viewer.username, "config.required-fields", f"form:{form}", {"fields": chosen}
        )
    return chosen


__all__ = [
    "TABLES",
    "delete_row",
    "list_rows",
    "required_by_form",
    "save_row",
    "set_required",
    "set_status_label",
    "status_labels",
]
