"""Cases (seed 002): lists by state, assignment and reassignment with a balancing suggestion.

Operators see the cases assigned to them; supervisors and admins see all. Only admins assign; every
assignment writes ``case.assign`` to the audit log with the previous and the new operator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_in
from cti.db.backoffice.common import enforce_required, iso, must_exist
from cti.db.backoffice.personal import Viewer, show_personal
from cti.db.engine import Database
from cti.db.models import Case, Customer, Operator
from cti.domain.backoffice import (
    OPEN_CASE_STATES,
    Candidate,
    PersonalKind,
    assigned_status,
    check_assignable,
    check_assignee,
    check_case_ids,
    check_case_transition,
    rank_assignees,
)
from cti.domain.model import AttentionKind, CaseStatus, Role, Routine
from cti.errors import NotFound, UserInputError
from cti.i18n import _

_SPEC = {"customer_name": PersonalKind.NAME}


# A case, its customer and its assignee's username (outer join: None when unassigned).
_CaseRow = sa.Row[Case, Customer, str | None]


class AssigneeJson(TypedDict):
    """An operator a case may go to, with their open cases and weighted load."""

    operator_id: int
    username: str
    open_cases: int
    by_status: dict[str, int]
    weighted_load: str


async def _cases_json(
    s: AsyncSession, viewer: Viewer, rows: Sequence[_CaseRow], purpose: str
) -> list[dict[str, Any]]:
    records = [
        (
            f"customer:{customer.id}",
            {
                "id": case.id,
                "kind": str(case.kind),
                "status": str(case.status),
                "subject": case.subject,
                "customer_id": customer.id,
                "customer_code": customer.code,
                "customer_name": customer.name,
                "assignee_id": case.assignee_id,
                "assignee": assignee,
                "closed_at": iso(case.closed_at),
                "created_at": iso(case.created_at),
                "updated_at": iso(case.updated_at),
            },
        )
        for case, customer, assignee in rows
    ]
    return await show_personal(s, viewer, records, _SPEC, purpose=purpose)


def _select() -> sa.Select[Case, Customer, str | None]:
    return (
        sa.select(Case, Customer, Operator.username)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(Operator, Operator.id == Case.assignee_id)
    )


async def list_cases(
    db: Database,
    viewer: Viewer,
    *,
    everyone: bool,
    status: CaseStatus | None = None,
    kind: AttentionKind | None = None,
    assignee_id: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Cases by state (newest first): the viewer's own, or everyone's when ``everyone``."""
    stmt = _select().order_by(Case.id.desc()).limit(limit)
    if not everyone:
        stmt = stmt.where(Case.assignee_id == viewer.id)
    elif assignee_id is not None:
        stmt = stmt.where(Case.assignee_id == assignee_id)
    if status is not None:
        stmt = stmt.where(Case.status == status)
    if kind is not None:
        stmt = stmt.where(Case.kind == kind)
    async with db.sessions.begin() as s:
        rows = (await s.execute(stmt)).all()
        return await _cases_json(s, viewer, rows, "case list")


async def count_cases(db: Database, viewer: Viewer, *, everyone: bool) -> dict[str, int]:
    """How many cases are in each state: the viewer's own, or everyone's (every state listed)."""
    stmt = sa.select(Case.status, sa.func.count()).group_by(Case.status)
    if not everyone:
        stmt = stmt.where(Case.assignee_id == viewer.id)
    async with db.sessions() as s:
        found = {str(status): int(n) for status, n in (await s.execute(stmt)).all()}
    return {str(state): found.get(str(state), 0) for state in CaseStatus}


async def get_case(db: Database, viewer: Viewer, case_id: int, *, everyone: bool) -> dict[str, Any]:
    """One case; an operator may only see their own."""
    async with db.sessions.begin() as s:
        row = (await s.execute(_select().where(Case.id == case_id))).first()
        if row is None or (not everyone and row[0].assignee_id != viewer.id):
            raise NotFound(_("case"), case_id)
        [shown] = await _cases_json(s, viewer, [row], "case")
        return shown


async def create_case(
    db: Database,
    viewer: Viewer,
    *,
    customer_id: int,
    kind: AttentionKind,
    subject: str | None,
    assignee_id: int | None,
) -> dict[str, Any]:
    """A new case: active, or assigned when an operator is given."""
    async with db.sessions.begin() as s:
        await enforce_required(s, "case", {"subject": subject, "assignee_id": assignee_id})
        await must_exist(s, Customer, customer_id, "customer_id")
        case = Case(customer_id=customer_id, kind=kind, subject=subject)
        if assignee_id is not None:
            await _assignee(s, assignee_id, kind)
            case.assignee_id = assignee_id
            case.status = assigned_status(CaseStatus.ACTIVE)
        s.add(case)
        await s.flush()
        await audit_in(
            s, viewer.username, "case.create", f"case:{case.id}", {"assignee_id": assignee_id}
        )
        row = (await s.execute(_select().where(Case.id == case.id))).one()
        [shown] = await _cases_json(s, viewer, [row], "case")
        return shown


async def _assignee(s: AsyncSession, operator_id: int, kind: AttentionKind) -> Operator:
    op = await s.get(Operator, operator_id)
    if op is None:
        raise UserInputError(
            "operator_id", _("{operator_id} is not an active user"), operator_id=operator_id
        )
    check_assignee(
        operator_id,
        active=op.active,
        username=op.username,
        role=op.role,
        routines=op.routines,
        kind=kind,
    )
    return op


async def assign(
    db: Database, viewer: Viewer, case_ids: Sequence[int], operator_id: int
) -> list[dict[str, Any]]:
    """Assign (or reassign) cases to an operator, all or none; each change is audited.

    An active case becomes ``assigned``; suspended and delinquent cases keep their state (it says
    something about the customer). Closed and withdrawn cases cannot be assigned.
    """
    check_case_ids(case_ids)
    async with db.sessions.begin() as s:
        cases = list(
            (
                await s.execute(
                    sa.select(Case)
                    .where(Case.id.in_(set(case_ids)))
                    .order_by(Case.id)
                    .with_for_update()
                )
            ).scalars()
        )
        missing = sorted(set(case_ids) - {c.id for c in cases})
        if missing:
            raise UserInputError("case_ids", _("case {ident} does not exist"), ident=missing[0])
        for case in cases:
            check_assignable(case.id, case.status)
            op = await _assignee(s, operator_id, case.kind)
            before = case.assignee_id
            case.assignee_id = op.id
            case.status = assigned_status(case.status)
            await audit_in(
                s,
                viewer.username,
                "case.assign",
                f"case:{case.id}",
                {"from": before, "to": op.id, "to_username": op.username},
            )
        await s.flush()
        rows = (
            await s.execute(_select().where(Case.id.in_([c.id for c in cases])).order_by(Case.id))
        ).all()
        return await _cases_json(s, viewer, rows, "case assignment")


async def set_status(
    db: Database, viewer: Viewer, case_id: int, status: CaseStatus, *, everyone: bool
) -> dict[str, Any]:
    """Move a case to another state, as the state table allows; operators only their own."""
    async with db.sessions.begin() as s:
        case = await s.get(Case, case_id, with_for_update=True)
        if case is None or (not everyone and case.assignee_id != viewer.id):
            raise NotFound(_("case"), case_id)
        old = case.status
        check_case_transition(old, status, has_assignee=case.assignee_id is not None)
        case.status = status
        if status is CaseStatus.CLOSED:
            case.closed_at = sa.func.now()
        elif old is CaseStatus.CLOSED:
            case.closed_at = None
        await audit_in(
            s,
            viewer.username,
            "case.status",
            f"case:{case.id}",
            {"from": str(old), "to": str(status)},
        )
        await s.flush()
        row = (await s.execute(_select().where(Case.id == case.id))).one()
        [shown] = await _cases_json(s, viewer, [row], "case")
        return shown


async def suggest_assignees(db: Database, kind: AttentionKind | None) -> list[AssigneeJson]:
    """Active operators (with the routine of ``kind``), lightest weighted load of open cases first."""
    async with db.sessions() as s:
        ops = list(
            (
                await s.execute(
                    sa.select(Operator)
                    .where(Operator.active, Operator.role == Role.OPERATOR)
                    .order_by(Operator.username)
                )
            ).scalars()
        )
        counts = await s.execute(
            sa.select(Case.assignee_id, Case.status, sa.func.count())
            .where(Case.assignee_id.is_not(None), Case.status.in_(OPEN_CASE_STATES))
            .group_by(Case.assignee_id, Case.status)
        )
        load: dict[int, dict[CaseStatus, int]] = defaultdict(dict)
        for assignee_id, status, n in counts.all():
            if assignee_id is not None:
                load[assignee_id][status] = int(n)
    ranked = rank_assignees(
        (Candidate(o.id, o.username, o.routines, load.get(o.id, {})) for o in ops),
        Routine(kind.value) if kind is not None else None,
    )
    return [
        {
            "operator_id": c.operator_id,
            "username": c.username,
            "open_cases": sum(c.open_cases.values()),
            "by_status": {str(k): v for k, v in sorted(c.open_cases.items())},
            "weighted_load": str(c.load),
        }
        for c in ranked
    ]


__all__ = ["assign", "create_case", "get_case", "list_cases", "set_status", "suggest_assignees"]
