"""Configuration endpoints: lists for every signed-in user (the forms need them), changes by admins.

``/api/v1/config/{table}`` for closing-reasons, pause-reasons, attention-groups (keyed by id:
POST creates, PATCH /{id} changes) and message-situations, message-types (keyed by their two-letter
code: PUT /{code} creates or changes, DELETE /{code} removes an unused one), and the telemarketing
tickets' ticket-subjects, ticket-occurrences (of a subject), ticket-actions (of an occurrence);
``/api/v1/config/attention-statuses`` (labels) and ``/api/v1/config/required-fields``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated

from aiohttp import web
from pydantic import MISSING, BaseModel, Field, RootModel

from cti.db.backoffice import settings as repo
from cti.domain.model import AttentionKind, AttentionStatus
from cti.domain.tickets import TicketStatus
from cti.domain.wrapup import WrapupNeeds
from cti.i18n import _
from cti.web.api import Api, Body, HTTPProblem, Route, RouteMaker, body_of
from cti.web.backoffice.common import TAG, ok, path_id, viewer
from cti.web.models import Answer, Id
from cti.web.state import web_state

# Admins change the configuration; the lists the forms need are for every role.
route = RouteMaker(TAG, "admin")
Name = Annotated[str, Field(min_length=1, max_length=100)]
IdealTalkSeconds = Annotated[int, Field(ge=1, le=86400)]
MaxWrapupSeconds = Annotated[
    int,
    Field(
        ge=1,
        le=86400,
        description="the longest after-call work: then the agent is made available again and"
        " the attention stays pending, flagged (null: no limit)",
    ),
]
PauseAfterMissed = Annotated[
    int,
    Field(
        ge=1,
        le=20,
        description="after this many queue calls in a row rang out unanswered the agent is paused"
        " (reason 'missed calls'), so that callers go to their colleagues (null: never)",
    ),
]
WrapupNeedsField = Annotated[
    WrapupNeeds,
    Field(
        description="what an attention needs before its agent leaves after-call work: 'status'"
        " (closed, planned or cancelled) or 'reason' (that and a closing reason)"
    ),
]


# --- bodies -------------------------------------------------------------------------------------


class ClosingReasonNew(Body):
    name: Name
    kind: AttentionKind | None = Field(default=None, description="null: any routine")
    active: bool | MISSING = MISSING


class ClosingReasonChange(Body):
    """Only the fields sent change; ``kind`` null means any routine."""

    name: Name | MISSING = MISSING
    kind: AttentionKind | None = Field(default=None, description="null: any routine")
    active: bool | MISSING = MISSING


class PauseReasonNew(Body):
    name: Name
    active: bool | MISSING = MISSING


class PauseReasonChange(Body):
    """Only the fields sent change."""

    name: Name | MISSING = MISSING
    active: bool | MISSING = MISSING


class AttentionGroupNew(Body):
    name: Name
    ideal_talk_seconds: IdealTalkSeconds
    personal_data: bool | MISSING = MISSING
    wrapup_needs: WrapupNeedsField | MISSING = MISSING
    max_wrapup_seconds: MaxWrapupSeconds | None = None
    pause_after_missed: PauseAfterMissed | MISSING | None = MISSING


class AttentionGroupChange(Body):
    """Only the fields sent change."""

    name: Name | MISSING = MISSING
    ideal_talk_seconds: IdealTalkSeconds | MISSING = MISSING
    personal_data: bool | MISSING = MISSING
    wrapup_needs: WrapupNeedsField | MISSING = MISSING
    max_wrapup_seconds: MaxWrapupSeconds | MISSING | None = MISSING
    pause_after_missed: PauseAfterMissed | MISSING | None = MISSING


class MessageSituationSet(Body):
    """Only the fields sent change (a new code needs a name and pending)."""

    name: Name | MISSING = MISSING
    pending: bool | MISSING = MISSING
    usual_pending: bool | MISSING = MISSING


class MessageTypeSet(Body):
    """Only the fields sent change (a new code needs a name)."""

    name: Name | MISSING = MISSING
    is_default: bool | MISSING = MISSING


class TicketSubjectNew(PauseReasonNew):
    """A subject of the telemarketing tickets (a name, in use unless said)."""


class TicketSubjectChange(PauseReasonChange):
    """Only the fields sent change."""


class TicketOccurrenceNew(Body):
    subject_id: Id
    name: Name
    active: bool | MISSING = MISSING


class TicketOccurrenceChange(Body):
    """Only the fields sent change."""

    subject_id: Id | MISSING = MISSING
    name: Name | MISSING = MISSING
    active: bool | MISSING = MISSING


SetsStatus = Annotated[
    TicketStatus,
    Field(description="the status confirming the attention sets on the item's child ticket"),
]


class TicketActionNew(Body):
    occurrence_id: Id
    name: Name
    sets_status: SetsStatus
    service_order: bool | MISSING = MISSING
    nonconformity: bool | MISSING = MISSING
    active: bool | MISSING = MISSING


class TicketActionChange(Body):
    """Only the fields sent change."""

    occurrence_id: Id | MISSING = MISSING
    name: Name | MISSING = MISSING
    sets_status: SetsStatus | MISSING = MISSING
    service_order: bool | MISSING = MISSING
    nonconformity: bool | MISSING = MISSING
    active: bool | MISSING = MISSING


class StatusLabelSet(Body):
    label: Name


class RequiredFieldsSet(Body):
    fields: Annotated[list[Name], Field(max_length=50)]


# --- answers ------------------------------------------------------------------------------------


class ClosingReasonRow(Answer):
    id: int
    name: str
    kind: AttentionKind | None
    active: bool


class ClosingReasonRows(RootModel[list[ClosingReasonRow]]):
    pass


class PauseReasonRow(Answer):
    id: int
    name: str
    active: bool


class PauseReasonRows(RootModel[list[PauseReasonRow]]):
    pass


class AttentionGroupRow(Answer):
    id: int
    name: str
    ideal_talk_seconds: int
    personal_data: bool
    wrapup_needs: WrapupNeeds
    max_wrapup_seconds: int | None
    pause_after_missed: int | None


class AttentionGroupRows(RootModel[list[AttentionGroupRow]]):
    pass


class MessageSituationRow(Answer):
    code: str
    name: str
    pending: bool
    usual_pending: bool


class MessageSituationRows(RootModel[list[MessageSituationRow]]):
    pass


class MessageTypeRow(Answer):
    code: str
    name: str
    is_default: bool


class MessageTypeRows(RootModel[list[MessageTypeRow]]):
    pass


class TicketSubjectRow(PauseReasonRow):
    """A subject of the telemarketing tickets."""


class TicketSubjectRows(RootModel[list[TicketSubjectRow]]):
    pass


class TicketOccurrenceRow(Answer):
    id: int
    subject_id: int
    name: str
    active: bool


class TicketOccurrenceRows(RootModel[list[TicketOccurrenceRow]]):
    pass


class TicketActionRow(Answer):
    id: int
    occurrence_id: int
    name: str
    sets_status: TicketStatus
    service_order: bool = Field(description="confirming creates a service order")
    nonconformity: bool = Field(
        description="confirming raises a potential non-conformity (with"
        " telemarketing.nonconformity_integration on)"
    )
    active: bool


class TicketActionRows(RootModel[list[TicketActionRow]]):
    pass


class ConfigCodeDeleted(Answer):
    deleted: str


class AttentionStatusLabel(Answer):
    status: AttentionStatus
    label: str


class AttentionStatusLabels(RootModel[list[AttentionStatusLabel]]):
    pass


class RequiredFormFields(Answer):
    fields: list[str] = Field(description="the fields the form has")
    required: list[str] = Field(description="those an admin made mandatory")
    title: str = Field(description="the form as the pages name it")
    labels: dict[str, str] = Field(description="each field as the form labels it")


class RequiredFieldsByForm(RootModel[dict[str, RequiredFormFields]]):
    pass


class FormRequired(Answer):
    form: str
    required: list[str]


# --- the maintained tables ----------------------------------------------------------------------


def _code(request: web.Request) -> str:
    code = request.match_info["code"]
    if len(code) != 2:
        raise HTTPProblem(400, _("a code has exactly two characters"), "code")
    return code


@dataclass(frozen=True, slots=True)
class Table:
    """One maintained table: its models, and its endpoints as methods.

    ``new`` is the body that creates a row of a table keyed by id (POST); a table keyed by its
    two-character code (``new`` None) is written with PUT /{code} and DELETE /{code}.
    """

    name: str
    row: type[BaseModel]
    rows: type[BaseModel]
    change: type[Body]
    new: type[Body] | None = None

    @property
    def path(self) -> str:
        return f"/api/v1/config/{self.name}"

    async def listing(self, request: web.Request) -> web.StreamResponse:
        return ok(await repo.list_rows(web_state(request).runtime.db, self.name))

    async def create(self, request: web.Request) -> web.StreamResponse:
        assert self.new is not None
        values = body_of(request, self.new).model_dump(exclude_unset=True)
        made = await repo.save_row(
            web_state(request).runtime.db, viewer(request), self.name, values
        )
        return ok(made, 201)

    async def update(self, request: web.Request) -> web.StreamResponse:
        values = body_of(request, self.change).model_dump(exclude_unset=True)
        saved = await repo.save_row(
            web_state(request).runtime.db, viewer(request), self.name, values, path_id(request)
        )
        if "personal_data" in values:  # an attention group's permission: its members' desks
            from cti.web.desk_phone import refresh_permissions  # the desk imports this module

            await refresh_permissions(request.app, None)
        return ok(saved)

    async def put(self, request: web.Request) -> web.StreamResponse:
        values = body_of(request, self.change).model_dump(exclude_unset=True)
        return ok(
            await repo.save_row(
                web_state(request).runtime.db, viewer(request), self.name, values, _code(request)
            )
        )

    async def remove(self, request: web.Request) -> web.StreamResponse:
        code = _code(request)
        await repo.delete_row(web_state(request).runtime.db, viewer(request), self.name, code)
        return ok({"deleted": code})

    def routes(self) -> tuple[Route, ...]:
        label = self.name.replace("-", " ")
        listing = route("GET", self.path, self.listing, f"The {label}", self.rows, role="operator")
        if self.new is not None:
            return (
                listing,
                route(
                    "POST", self.path, self.create, f"Add to the {label}", self.row, body=self.new
                ),
                route(
                    "PATCH",
                    self.path + "/{id}",
                    self.update,
                    f"Change one of the {label} (set active false to retire it)",
                    self.row,
                    body=self.change,
                ),
            )
        return (
            listing,
            route(
                "PUT",
                self.path + "/{code}",
                self.put,
                f"Create or change one of the {label} by its two-character code",
                self.row,
                body=self.change,
            ),
            route(
                "DELETE",
                self.path + "/{code}",
                self.remove,
                f"Remove one of the {label} (refused while in use)",
                ConfigCodeDeleted,
            ),
        )


TABLES = (
    Table(
        "closing-reasons",
        ClosingReasonRow,
        ClosingReasonRows,
        ClosingReasonChange,
        ClosingReasonNew,
    ),
    Table("pause-reasons", PauseReasonRow, PauseReasonRows, PauseReasonChange, PauseReasonNew),
    Table(
        "attention-groups",
        AttentionGroupRow,
        AttentionGroupRows,
        AttentionGroupChange,
        AttentionGroupNew,
    ),
    Table("message-situations", MessageSituationRow, MessageSituationRows, MessageSituationSet),
    Table("message-types", MessageTypeRow, MessageTypeRows, MessageTypeSet),
    Table(
        "ticket-subjects",
        TicketSubjectRow,
        TicketSubjectRows,
        TicketSubjectChange,
        TicketSubjectNew,
    ),
    Table(
        "ticket-occurrences",
        TicketOccurrenceRow,
        TicketOccurrenceRows,
        TicketOccurrenceChange,
        TicketOccurrenceNew,
    ),
    Table("ticket-actions", TicketActionRow, TicketActionRows, TicketActionChange, TicketActionNew),
)


# --- attention statuses and required fields ----------------------------------------------------


async def statuses(request: web.Request) -> web.StreamResponse:
    return ok(await repo.status_labels(web_state(request).runtime.db))


async def label(request: web.Request) -> web.StreamResponse:
    text = request.match_info["status"]
    if text not in {s.value for s in AttentionStatus}:
        raise HTTPProblem(404, _("{text!r} is not an attention status"), text=text)
    return ok(
        await repo.set_status_label(
            web_state(request).runtime.db,
            viewer(request),
            AttentionStatus(text),
            body_of(request, StatusLabelSet).label,
        )
    )


async def required(request: web.Request) -> web.StreamResponse:
    forms = await repo.required_by_form(web_state(request).runtime.db)
    return ok({form: asdict(fields) for form, fields in forms.items()})


async def set_required(request: web.Request) -> web.StreamResponse:
    form = request.match_info["form"]
    fields = await repo.set_required(
        web_state(request).runtime.db,
        viewer(request),
        form,
        list(body_of(request, RequiredFieldsSet).fields),
    )
    return ok({"form": form, "required": fields})


ROUTES: tuple[Route, ...] = (
    *(route for table in TABLES for route in table.routes()),
    route(
        "GET",
        "/api/v1/config/attention-statuses",
        statuses,
        "Attention statuses with their labels",
        AttentionStatusLabels,
        role="operator",
    ),
    route(
        "PUT",
        "/api/v1/config/attention-statuses/{status}",
        label,
        "Label an attention status",
        AttentionStatusLabels,
        body=StatusLabelSet,
    ),
    route(
        "GET",
        "/api/v1/config/required-fields",
        required,
        "Each form's fields and which of them an admin made mandatory",
        RequiredFieldsByForm,
        role="operator",
    ),
    route(
        "PUT",
        "/api/v1/config/required-fields/{form}",
        set_required,
        "Make exactly these fields mandatory on a form (enforced when it is saved)",
        FormRequired,
        body=RequiredFieldsSet,
    ),
)


def register(api: Api) -> None:
    """Declare the configuration endpoints."""
    api.add(ROUTES)
