"""Case endpoints (seed 002): lists by state, assignment, reassignment, balancing suggestion.

``GET  /api/v1/cases``               ?status=&kind=&assignee_id= (operators: their own cases)
``GET  /api/v1/cases/counts``        how many cases are in each state
``POST /api/v1/cases``               {customer_id, kind, subject?, assignee_id?} (admins)
``GET  /api/v1/cases/suggestion``    ?kind= who should take the next case (admins)
``POST /api/v1/cases/assign``        {case_ids, operator_id} (admins; audited)
``GET  /api/v1/cases/{id}``          one case
``POST /api/v1/cases/{id}/status``   {status}
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, TypeVar

from aiohttp import web
from pydantic import Field, RootModel

from cti.db.backoffice import cases as repo
from cti.domain.model import AttentionKind, CaseStatus
from cti.errors import UserInputError
from cti.i18n import _
from cti.web.api import Api, Body, Route, RouteMaker, body_of
from cti.web.backoffice.common import TAG, ok, oversees, path_id, query_int, viewer
from cti.web.models import Answer, Id
from cti.web.state import web_state

E = TypeVar("E", AttentionKind, CaseStatus)
route = RouteMaker(TAG, "operator")

# --- bodies -------------------------------------------------------------------------------------


class NewCase(Body):
    customer_id: Id
    kind: AttentionKind
    subject: Annotated[str, Field(max_length=500)] | None = None
    assignee_id: Id | None = None


class CaseAssignment(Body):
    case_ids: Annotated[list[Id], Field(max_length=1000)]
    operator_id: Id


class CaseStatusChange(Body):
    status: CaseStatus


# --- answers ------------------------------------------------------------------------------------


class CaseAnswer(Answer):
    """A case as the API shows it (the customer's name masked without personal_data)."""

    id: int
    kind: AttentionKind
    status: CaseStatus
    subject: str | None
    customer_id: int
    customer_code: str
    customer_name: str
    assignee_id: int | None
    assignee: str | None = Field(description="the assignee's username")
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    masked: bool = Field(description="true: the personal fields are masked")


class CaseList(RootModel[list[CaseAnswer]]):
    """Cases, newest first."""


class CaseCounts(Answer):
    """How many cases are in each state (every state named)."""

    active: int
    assigned: int
    suspended: int
    closed: int
    delinquent: int
    withdrawn: int


class AssigneeSuggestion(Answer):
    """An operator who may take the case, with their load of open cases."""

    operator_id: int
    username: str
    open_cases: int
    by_status: dict[str, int] = Field(description="open cases by state")
    weighted_load: str = Field(description="a decimal number as text (lightest first)")


class AssigneeSuggestions(RootModel[list[AssigneeSuggestion]]):
    """Operators, the lightest weighted load first."""


# --- handlers -----------------------------------------------------------------------------------


def _enum_query(request: web.Request, name: str, kind: type[E]) -> E | None:
    text = request.query.get(name)
    if text in (None, ""):
        return None
    values = [e.value for e in kind]
    if text not in values:
        raise UserInputError(name, _("must be one of {choices}"), choices=", ".join(values))
    return kind(text)


async def cases(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.list_cases(
            web_state(request).runtime.db,
            viewer(request),
            everyone=oversees(request),
            status=_enum_query(request, "status", CaseStatus),
            kind=_enum_query(request, "kind", AttentionKind),
            assignee_id=query_int(request, "assignee_id"),
        )
    )


async def case_counts(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.count_cases(
            web_state(request).runtime.db, viewer(request), everyone=oversees(request)
        )
    )


async def new_case(request: web.Request) -> web.StreamResponse:
    b = body_of(request, NewCase)
    made = await repo.create_case(
        web_state(request).runtime.db,
        viewer(request),
        customer_id=b.customer_id,
        kind=b.kind,
        subject=b.subject,
        assignee_id=b.assignee_id,
    )
    return ok(made, 201)


async def suggestion(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.suggest_assignees(
            web_state(request).runtime.db, _enum_query(request, "kind", AttentionKind)
        )
    )


async def assign(request: web.Request) -> web.StreamResponse:
    b = body_of(request, CaseAssignment)
    return ok(
        await repo.assign(web_state(request).runtime.db, viewer(request), b.case_ids, b.operator_id)
    )


async def case(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.get_case(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            everyone=oversees(request),
        )
    )


async def status(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.set_status(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            body_of(request, CaseStatusChange).status,
            everyone=oversees(request),
        )
    )


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/cases",
        cases,
        "Cases by state (?status=active|assigned|suspended|closed|delinquent|withdrawn,"
        " ?kind=, ?assignee_id= for admins): operators see their own, supervisors and admins all",
        response=CaseList,
    ),
    route(
        "GET",
        "/api/v1/cases/counts",
        case_counts,
        "How many cases are in each state (operators: their own; supervisors, admins: all)",
        response=CaseCounts,
    ),
    route(
        "POST",
        "/api/v1/cases",
        new_case,
        "Open a case for a customer, optionally assigned",
        role="admin",
        body=NewCase,
        response=CaseAnswer,
    ),
    route(
        "GET",
        "/api/v1/cases/suggestion",
        suggestion,
        "Who should take the next case (?kind=): operators with the routine, the lightest"
        " weighted load of open cases first (delinquent 1.5, active/assigned 1, suspended 0.25)",
        role="admin",
        response=AssigneeSuggestions,
    ),
    route(
        "POST",
        "/api/v1/cases/assign",
        assign,
        "Assign or reassign cases to an operator (Reasignar casos); audited",
        role="admin",
        body=CaseAssignment,
        response=CaseList,
    ),
    route("GET", "/api/v1/cases/{id}", case, "One case", response=CaseAnswer),
    route(
        "POST",
        "/api/v1/cases/{id}/status",
        status,
        "Move a case to another state (operators: their own cases)",
        body=CaseStatusChange,
        response=CaseAnswer,
    ),
)


def register(api: Api) -> None:
    """Declare the case endpoints."""
    api.add(ROUTES)
