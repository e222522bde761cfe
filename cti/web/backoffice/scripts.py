"""Campaign scripts: admins write them, supervisors read them and their answers, agents run them.

``GET/POST /api/v1/scripts``, ``GET/PATCH /api/v1/scripts/{id}`` (a change to the steps makes a
new version: answers keep the version they were given on); a campaign names its script
(``script_id`` on the campaign). At the desk, ``GET /api/v1/desk/attentions/{id}/script`` gives
the script of the attention's campaign with the answers saved so far and ``PUT`` saves them
(checked along the path they take: required steps on it, each answer's type). The survey of a
campaign: ``GET /api/v1/campaigns/{id}/script-report`` (``lines=N``: only the latest N
attentions' answers; ``format=csv``: one line per attention, audited).

A question is personal data unless the script says ``"personal": false``: its answers are masked
(``***``) for a user without the ``personal_data`` permission wherever they are shown (the desk's
script, the survey and its CSV), and each showing is audited (``personal.read`` or
``personal.masked``). A masked answer sent back untouched keeps the one saved.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict, is_dataclass
from typing import Annotated, Literal

from aiohttp import web
from pydantic import MISSING, BaseModel, Field

from cti.db.audit import audit
from cti.db.backoffice import scripts as repo
from cti.domain.scripts import AnswerType
from cti.errors import Forbidden
from cti.i18n import _
from cti.web.api import Api, Body, Route, RouteMaker, body_of
from cti.web.backoffice.common import path_id, query_int, viewer
from cti.web.models import Answer
from cti.web.state import current, web_state

route = RouteMaker("scripts", "supervisor")

Given = str | list[str]


class StepIn(Body):
    """A step: guidance (text only) or a question; ``next`` or ``branches`` (answer -> step id,
    one-of and yes/no questions) say what follows ("end" ends the script)."""

    id: Annotated[str, Field(min_length=1, max_length=40)]
    kind: Literal["guidance", "question"] = "question"
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    type: AnswerType | None = None
    required: bool = False
    personal: bool = Field(
        default=True,
        description="a question's answers are personal data (masked without the permission)",
    )
    options: Annotated[list[str], Field(default_factory=list, max_length=50)]
    next: str | None = None
    branches: dict[str, str] = Field(default_factory=dict)


class ScriptNew(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=100)]


class ScriptChange(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)] | MISSING = MISSING
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=100)] | MISSING = MISSING


class AnswersIn(Body):
    answers: dict[str, Given] = Field(description="step id -> answer (several_of: a list)")


class StepOut(Answer):
    id: str
    kind: str
    text: str
    type: str | None = None
    required: bool = False
    personal: bool = Field(default=True, description="a question's answers are personal data")
    options: list[str] = Field(default_factory=list)
    next: str | None = None
    branches: dict[str, str] = Field(default_factory=dict)


class ScriptOut(Answer):
    id: int
    name: str
    version: int = Field(description="the current version (each change to the steps adds one)")
    steps: list[StepOut]
    campaigns: list[str] = Field(description="the campaigns that run it")
    updated_at: dt.datetime


class ScriptList(Answer):
    scripts: list[ScriptOut]


class AttentionScriptOut(Answer):
    attention_id: int
    script_id: int
    name: str
    version: int = Field(description="the version these answers are (to be) given on")
    steps: list[StepOut]
    answers: dict[str, Given]
    saved_at: dt.datetime | None
    masked: bool = Field(description="answers to personal questions are masked for this viewer")


class QuestionCountOut(Answer):
    version: int
    step: str
    text: str
    type: str
    personal: bool = Field(description="its answers are personal data")
    answered: int
    counts: dict[str, int] = Field(description="for questions with choices: answer -> times")


class AnswerLineOut(Answer):
    attention_id: int
    saved_at: dt.datetime
    operator: str | None
    version: int
    answers: dict[str, Given]


class ScriptReportOut(Answer):
    campaign_id: int
    campaign: str
    script: str | None
    questions: list[QuestionCountOut]
    attentions: int = Field(description="how many attentions have answers")
    lines: list[AnswerLineOut] = Field(description="each attention's answers (lines=N: the last N)")
    masked: bool = Field(description="answers to personal questions are masked for this viewer")


def ok(model: type[BaseModel], data: object, status: int = 200) -> web.Response:
    """An answer, its dates written as ISO 8601."""
    raw = asdict(data) if is_dataclass(data) and not isinstance(data, type) else data
    found = model.model_validate(raw)
    return web.json_response(found.model_dump(mode="json"), status=status)


def _steps(steps: list[StepIn]) -> list[dict[str, object]]:
    return [s.model_dump(exclude_defaults=True) | {"id": s.id, "text": s.text} for s in steps]


async def list_all(request: web.Request) -> web.StreamResponse:
    found = await repo.list_scripts(web_state(request).runtime.db)
    return ok(ScriptList, {"scripts": [asdict(s) for s in found]})


async def one(request: web.Request) -> web.StreamResponse:
    return ok(ScriptOut, await repo.get_script(web_state(request).runtime.db, path_id(request)))


async def create(request: web.Request) -> web.StreamResponse:
    b = body_of(request, ScriptNew)
    made = await repo.create_script(
        web_state(request).runtime.db, viewer(request), name=b.name, steps=_steps(b.steps)
    )
    return ok(ScriptOut, made, 201)


async def change(request: web.Request) -> web.StreamResponse:
    b = body_of(request, ScriptChange)
    changed = await repo.update_script(
        web_state(request).runtime.db,
        viewer(request),
        path_id(request),
        name=None if b.name is MISSING else b.name,
        steps=None if b.steps is MISSING else _steps(b.steps),
    )
    return ok(ScriptOut, changed)


async def _own(request: web.Request, attention_id: int) -> None:
    """Only the attention's own operator (or someone who oversees) runs its script."""
    me = viewer(request)
    owner = await repo.attention_owner(web_state(request).runtime.db, attention_id)
    if owner != me.id and not me.oversees:
        raise Forbidden(_("this attention is another operator's"))


async def attention_script(request: web.Request) -> web.StreamResponse:
    ident = path_id(request)
    await _own(request, ident)
    found = await repo.script_for_attention(web_state(request).runtime.db, ident, viewer(request))
    return ok(AttentionScriptOut, found)


async def save_answers(request: web.Request) -> web.StreamResponse:
    ident = path_id(request)
    await _own(request, ident)
    saved = await repo.save_answers(
        web_state(request).runtime.db,
        ident,
        viewer(request),
        answers=dict(body_of(request, AnswersIn).answers),
    )
    return ok(AttentionScriptOut, saved)


def _cell(value: object) -> str:
    text = ", ".join(value) if isinstance(value, list) else "" if value is None else str(value)
    # A spreadsheet would run a cell that starts like a formula: make it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_csv(report: repo.ScriptReport) -> str:
    """One line per attention: when, who, the version, then each question's answer."""
    steps = list(dict.fromkeys(q.step for q in report.questions))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Attention", "Saved at", "Operator", "Version", *steps])
    for line in report.lines:
        writer.writerow(
            [
                line.attention_id,
                line.saved_at.isoformat(),
                _cell(line.operator),
                line.version,
                *(_cell(line.answers.get(s)) for s in steps),
            ]
        )
    return out.getvalue()


async def script_report(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    campaign_id = path_id(request)
    export = request.query.get("format") == "csv"
    report = await repo.script_report(
        st.runtime.db,
        campaign_id,
        viewer(request),
        purpose="script report export" if export else "script report",
        last=None if export else query_int(request, "lines"),
    )
    if export:
        await audit(
            st.runtime.db,
            current(request).user.username,
            "report.export",
            f"script-report:{campaign_id}",
            {"lines": len(report.lines), "masked": report.masked},
        )
        return web.Response(
            text=report_csv(report),
            content_type="text/csv",
            charset="utf-8",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="cti-script-report-{campaign_id}.csv"'
                )
            },
        )
    return ok(ScriptReportOut, report)


ROUTES: tuple[Route, ...] = (
    route("GET", "/api/v1/scripts", list_all, "The campaign scripts", ScriptList),
    route(
        "POST",
        "/api/v1/scripts",
        create,
        "Write a campaign script (its version 1)",
        ScriptOut,
        body=ScriptNew,
        role="admin",
    ),
    route("GET", "/api/v1/scripts/{id}", one, "A script and its current steps", ScriptOut),
    route(
        "PATCH",
        "/api/v1/scripts/{id}",
        change,
        "Rename a script or change its steps (a new version; earlier answers keep theirs)",
        ScriptOut,
        body=ScriptChange,
        role="admin",
    ),
    route(
        "GET",
        "/api/v1/desk/attentions/{id}/script",
        attention_script,
        "The script of the attention's campaign, with the answers saved so far",
        AttentionScriptOut,
        role="operator",
    ),
    route(
        "PUT",
        "/api/v1/desk/attentions/{id}/script",
        save_answers,
        "Save the answers of the attention's script (checked along the path they take)",
        AttentionScriptOut,
        body=AnswersIn,
        role="operator",
    ),
    route(
        "GET",
        "/api/v1/campaigns/{id}/script-report",
        script_report,
        "How a campaign's script was answered (lines=N: the latest N attentions' answers;"
        " format=csv: one line per attention); answers to personal questions masked without"
        " the personal_data permission; every read audited",
        ScriptReportOut,
    ),
)


def register(api: Api) -> None:
    """Declare the script endpoints."""
    api.add(ROUTES)
