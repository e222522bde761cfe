"""The supervisor part: live wallboard, interventions and reports.

REST (role supervisor or admin; CSRF on every POST):

``GET  /api/v1/supervisor/wallboard``       the board now (the stream's frame, once)
``GET  /api/v1/supervisor/lists``           operators (with open attentions), pause reasons
``POST /api/v1/supervisor/spy``             {interface, mode listen|whisper|barge, pbx?, phone?}
                                            ring the supervisor's phone into ChanSpy on the agent
``POST /api/v1/supervisor/spy/stop``        {id} hang up a listening session (the wallboard's)
``PUT  /api/v1/supervisor/phone``           {phone} the phone a supervisor listens from
``POST /api/v1/supervisor/pause``           {interface, reason, pbx?} pause an agent everywhere
``POST /api/v1/supervisor/resume``          {interface, pbx?} end an agent's pause
``POST /api/v1/supervisor/attentions/reassign``
                                            {to_operator_id, attention_ids | from_operator_id}
``GET  /api/v1/reports``                    the reports there are
``GET  /api/v1/reports/{name}``             ?from=YYYY-MM-DD&to=YYYY-MM-DD&tz=Area/City
                                            [&format=csv][&pending_days=3]

Every intervention (spy, pause, resume, reassign) and every CSV export is written to the audit log;
a listening session is audited when asked for, when it starts and when it ends (it ends with the
spied call: ``ChanSpy`` runs with option ``E``).

WebSocket ``/ws/wallboard`` (see :mod:`cti.web.supervisor_stream`). Pages: ``/static/wallboard/``
and ``/static/reports/``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta, tzinfo
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from pydantic import Field

from cti.clock import local_tz
from cti.db import reports as repo
from cti.db import users as users_repo
from cti.db.audit import audit
from cti.domain.backoffice import WALLBOARD_SPEC, mask_record
from cti.domain.commands import Command, Originate, QueuePause
from cti.domain.notices import AgentState
from cti.domain.state import Agent
from cti.errors import AmiError, UserInputError
from cti.i18n import Formats, _
from cti.web.api import Api, Body, HTTPProblem, Route, RouteMaker, body_of
from cti.web.backoffice.common import viewer
from cti.web.desk_remote import ask_holder, hear_pauses
from cti.web.desk_service import DESK_SERVICE
from cti.web.i18n import language_of
from cti.web.models import Answer, Done
from cti.web.personal import disclose, respond
from cti.web.reports_i18n import localized, to_csv
from cti.web.state import WEB, current, web_state
from cti.web.supervisor_spy import SPY_SESSIONS, Requested, SpySessions
from cti.web.supervisor_stream import WALLBOARD_SERVICE, setup_stream, wallboard_parts

SPY_MODES = ("listen", "whisper", "barge")
route = RouteMaker("supervisor", "supervisor")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def _pbx(request: web.Request, name: str | None) -> str:
    names = [p.name for p in web_state(request).runtime.settings.ami]
    if name is None:
        return names[0]
    if name not in names:
        raise UserInputError("pbx", _("must be one of {choices}"), choices=", ".join(names))
    return name


def _live_agent(request: web.Request, pbx: str, interface: str) -> Agent:
    agent = web_state(request).runtime.ami.state(pbx).agents.get(interface)
    if agent is None:
        raise HTTPProblem(
            404,
            _("{interface} is not a queue member on {pbx}"),
            "interface",
            interface=interface,
            pbx=pbx,
        )
    return agent


def spy_target(interface: str) -> str:
    """The ChanSpy channel-name prefix of an agent's interface (ends in "-": agent1 ≠ agent10)."""
    return interface.removesuffix("/n") + "-"


async def _send(request: web.Request, pbx: str, command: Command) -> str:
    try:
        response = await web_state(request).runtime.ami.send(pbx, command)
    except AmiError as exc:
        raise HTTPProblem(502, _("the PBX refused: {exc}"), exc=exc) from None
    return str(response.action_id)


# --- bodies -------------------------------------------------------------------------------------

Interface = Annotated[str, Field(min_length=3, max_length=200, description="e.g. PJSIP/agent3")]
PbxName = Annotated[str, Field(max_length=100, description="a configured PBX (default: the first)")]


class SpyBody(Body):
    interface: Interface
    mode: Literal["listen", "whisper", "barge"]
    pbx: PbxName | None = None
    phone: Annotated[str, Field(min_length=3, max_length=200)] | None = None


class SpyStopBody(Body):
    id: Annotated[str, Field(min_length=3, max_length=200)]


class PhoneBody(Body):
    phone: Annotated[str, Field(min_length=3, max_length=100)]


class PauseBody(Body):
    interface: Interface
    reason: Annotated[str, Field(min_length=1, max_length=100)]
    pbx: PbxName | None = None


class ResumeBody(Body):
    interface: Interface
    pbx: PbxName | None = None


class ReassignBody(Body):
    to_operator_id: int
    attention_ids: Annotated[list[int], Field(max_length=1000)] | None = None
    from_operator_id: int | None = None


# --- answers ------------------------------------------------------------------------------------


class WallboardFrame(Answer):
    """The whole board (what ``/ws/wallboard`` streams, once): see cti/domain/stats.py."""

    type: Literal["wallboard"]
    seq: int
    tick_ms: float
    snapshot: bool
    now: int
    day: str
    service_level_seconds: int
    service_level_target: float
    pbx: dict[str, str]
    totals: dict[str, Any]
    queues: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    hourly: dict[str, list[int]]
    trend: list[dict[str, Any]]
    campaigns: list[dict[str, Any]] | None
    campaign_day: list[dict[str, Any]] = Field(
        description="per campaign, today's dial attempts, answered, connected and abandoned"
        " (what the campaigns report counts for the day)"
    )
    spies: list[dict[str, Any]]
    masked: bool = Field(description="customers' names and numbers are masked for this viewer")


class Intervened(Answer):
    """A pause or resume carried out, now or once the agent's call and wrap-up are over."""

    ok: bool
    deferred: bool = Field(
        description="the agent is ringing, on a call or in wrap-up: it takes effect after it"
    )
    wrapup_released: bool = Field(
        default=False,
        description="the agent was in wrap-up: made available now, its attention flagged",
    )


def reply(answer: Answer) -> web.Response:
    return web.json_response(answer.model_dump(mode="json"))


class OperatorLoad(Answer):
    id: int
    username: str
    name: str | None
    role: str
    open_attentions: int


class MyPhone(Answer):
    extension: str | None


class SupervisorLists(Answer):
    operators: list[OperatorLoad]
    pause_reasons: list[str]
    me: MyPhone


class SpyStarted(Done):
    action_id: str
    target: str


class PhoneSet(Done):
    phone: str


class Reassigned(Done):
    moved: list[int]


class ReportNames(Answer):
    reports: list[str]


class ReportColumn(Answer):
    key: str
    label: str


class ReportAnswer(Answer):
    """A report as JSON (``format=csv`` answers the same rows as a CSV file)."""

    name: str
    title: str
    columns: list[ReportColumn]
    rows: list[dict[str, Any]]
    chart: dict[str, Any] | None
    from_: str = Field(alias="from")
    to: str
    tz: str
    masked: bool = Field(description="customers' names and numbers are masked for this viewer")


# --- handlers -----------------------------------------------------------------------------------


async def wallboard(request: web.Request) -> web.StreamResponse:
    service = request.app[WALLBOARD_SERVICE]
    await service.fresh_or_log()
    frame = service.frame(snapshot=True)
    return await respond(
        web_state(request).runtime.db,
        viewer(request),
        frame,
        WALLBOARD_SPEC,
        wallboard_parts(frame),
        purpose="wallboard",
    )


async def lists(request: web.Request) -> web.StreamResponse:
    body = await repo.supervisor_lists(web_state(request).runtime.db)
    body["me"] = {"extension": current(request).user.extension}
    return web.json_response(body, dumps=_dumps)


async def spy(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    session = current(request)
    body = body_of(request, SpyBody)
    pbx = _pbx(request, body.pbx)
    interface, mode = body.interface, body.mode
    agent = _live_agent(request, pbx, interface)
    if agent.state is not AgentState.IN_CALL:
        raise HTTPProblem(
            409, _("{agent} is not on a call"), "interface", agent=agent.name or interface
        )
    phone = (body.phone or session.user.extension or "").strip()
    if "/" not in phone:
        raise UserInputError(
            "phone", _("state your phone as an interface like PJSIP/2001 (you have none set)")
        )
    if phone == interface:
        raise UserInputError("phone", _("is the agent's own phone"))
    pbx_settings = next(p for p in st.runtime.settings.ami if p.name == pbx)
    target = spy_target(interface)
    action_id = await _send(
        request,
        pbx,
        Originate(
            channel=phone,
            context=pbx_settings.spy_context,
            exten=mode,
            caller_id=f'"{mode.capitalize()} {agent.name or interface}" <{mode}>',
            timeout=30,
            variables={"CTI_SPY_TARGET": target},
        ),
    )
    request.app[SPY_SESSIONS].requested(
        action_id,
        Requested(
            pbx=pbx,
            username=session.user.username,
            full_name=session.user.full_name or session.user.username,
            mode=mode,
            interface=interface,
            phone=phone,
        ),
    )
    await audit(
        st.runtime.db,
        session.user.username,
        f"supervisor.{mode}",
        f"agent:{interface}",
        {"pbx": pbx, "phone": phone, "target": target, "action_id": action_id},
    )
    return web.json_response({"ok": True, "action_id": action_id, "target": target})


async def spy_stop(request: web.Request) -> web.StreamResponse:
    sessions = request.app[SPY_SESSIONS]
    found = sessions.session(body_of(request, SpyStopBody).id)
    if found is None:
        raise HTTPProblem(404, _("no such listening session (it may have ended)"), "id")
    try:
        await sessions.end(found, current(request).user.username)
    except AmiError as exc:
        raise HTTPProblem(502, _("the PBX refused: {exc}"), exc=exc) from None
    return web.json_response({"ok": True})


async def set_phone(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    user = current(request).user
    phone = body_of(request, PhoneBody).phone.strip()
    tech, _slash, resource = phone.partition("/")
    if not tech or not resource or not all(c.isalnum() or c in "-_.@/" for c in resource):
        raise UserInputError("phone", _("an interface like PJSIP/2001"))
    await users_repo.change_user(
        st.runtime.db,
        user.id,
        {"interface": phone, "extension": resource.split("@")[0]},
        actor=user.username,
        actor_id=user.id,
    )
    return web.json_response({"ok": True, "phone": phone})


async def pause(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    body = body_of(request, PauseBody)
    pbx = _pbx(request, body.pbx)
    _live_agent(request, pbx, body.interface)
    if not await repo.pause_reason_active(st.runtime.db, body.reason):
        raise UserInputError("reason", _("{reason!r} is not a pause reason"), reason=body.reason)
    desk = request.app.get(DESK_SERVICE)
    agent = desk.holder_of(pbx, body.interface) if desk is not None else None
    by = current(request).user.username
    # An agent ringing, on a call or in after-call work is paused once that is over (as their own
    # Pause is): the wrap-up is not cut short and its attention is still disposed. A desk held by
    # another instance is paused there.
    asked = await ask_holder(request.app, pbx, body.interface, body.reason, by)
    later = (
        asked.deferred
        if asked is not None
        else (desk is not None and agent is not None and desk.defer_pause(agent, body.reason))
    )
    if not later and asked is None:
        await _send(
            request, pbx, QueuePause(interface=body.interface, paused=True, reason=body.reason)
        )
    await audit(
        st.runtime.db,
        current(request).user.username,
        "supervisor.pause",
        f"agent:{body.interface}",
        {"pbx": pbx, "reason": body.reason} | ({"deferred": True} if later else {}),
    )
    return reply(Intervened(ok=True, deferred=later))


async def resume(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    body = body_of(request, ResumeBody)
    pbx = _pbx(request, body.pbx)
    _live_agent(request, pbx, body.interface)
    desk = request.app.get(DESK_SERVICE)
    agent = desk.holder_of(pbx, body.interface) if desk is not None else None
    released = later = False
    asked = await ask_holder(request.app, pbx, body.interface, None, current(request).user.username)
    if asked is not None:  # the instance holding the desk resumes it
        released, later = asked.released, asked.deferred
    elif desk is not None and agent is not None and agent.wrapup is not None:
        # Made available by the supervisor before the attention was disposed: as when the
        # group's maximum wrap-up time is over, the attention stays pending and is flagged.
        released = await desk.finish_wrapup(agent, released=True, by="supervisor")
    elif desk is not None and agent is not None:
        later = desk.defer_pause(agent, None)
    if not released and not later and asked is None:
        await _send(request, pbx, QueuePause(interface=body.interface, paused=False))
    await audit(
        st.runtime.db,
        current(request).user.username,
        "supervisor.resume",
        f"agent:{body.interface}",
        {"pbx": pbx}
        | ({"wrapup_released": True} if released else {})
        | ({"deferred": True} if later else {}),
    )
    return reply(Intervened(ok=True, deferred=later, wrapup_released=released))


async def reassign(request: web.Request) -> web.StreamResponse:
    body = body_of(request, ReassignBody)
    if body.attention_ids == []:
        raise UserInputError("attention_ids", _("pick at least one attention"))
    moved = await repo.reassign_attentions(
        web_state(request).runtime.db,
        actor=current(request).user.username,
        to_operator_id=body.to_operator_id,
        attention_ids=body.attention_ids,
        from_operator_id=body.from_operator_id,
    )
    return web.json_response({"ok": True, "moved": moved})


async def report_list(request: web.Request) -> web.StreamResponse:
    return web.json_response({"reports": list(repo.REPORTS)})


async def report(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    name = request.match_info["name"]
    if name not in repo.REPORTS:
        raise HTTPProblem(
            404, _("no such report; one of {choices}"), "name", choices=", ".join(repo.REPORTS)
        )
    query = request.query
    now = st.runtime.clock.now()
    tz = _tz(query.get("tz") or st.runtime.settings.supervisor.timezone or None)
    today = now.astimezone(tz).date()
    last = _date(query.get("to"), "to") or today
    first = _date(query.get("from"), "from") or (last - timedelta(days=6))
    pending_days = _int(query.get("pending_days"), "pending_days", 3, 1, 365)
    period = repo.Period.of(first, last, tz)
    result = await repo.run_report(st.runtime.db, name, period, now, pending_days=pending_days)
    # In the reader's language: labels, words, money (the CSV as Excel reads it there).
    language = language_of(request, current(request).user)
    formats = Formats(language, st.runtime.settings.server.currency)
    result = localized(result, formats, pending_days=pending_days)
    fmt = query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise UserInputError("format", _("must be json or csv"))
    spec = {"rows": result.personal}
    parts = [(f"report:{name}", {"rows": result.rows}, spec)]
    if fmt == "csv":
        allowed = await disclose(st.runtime.db, viewer(request), parts, purpose="report export")
        if not allowed:
            result.rows = [dict(mask_record(r, result.personal)) for r in result.rows]
        await audit(
            st.runtime.db,
            current(request).user.username,
            "report.export",
            f"report:{name}",
            {
                "from": first.isoformat(),
                "to": last.isoformat(),
                "tz": str(tz),
                "rows": len(result.rows),
            },
        )
        return web.Response(
            text=to_csv(result, formats, tz),
            content_type="text/csv",
            charset="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="cti-{name}-{first}-{last}.csv"',
                "Content-Language": language,
            },
        )
    body = result.json()
    body.update(from_=first.isoformat(), to=last.isoformat(), tz=str(tz))
    body["from"] = body.pop("from_")
    resp = await respond(st.runtime.db, viewer(request), body, spec, parts, purpose="report")
    resp.headers["Content-Language"] = language
    resp.headers["Vary"] = "Accept-Language, Cookie"
    return resp


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/supervisor/wallboard",
        wallboard,
        "The wallboard now: queues, agents, campaigns (what /ws/wallboard streams)",
        WallboardFrame,
    ),
    route(
        "GET",
        "/api/v1/supervisor/lists",
        lists,
        "Operators with their open attentions, and the pause reasons",
        SupervisorLists,
    ),
    route(
        "POST",
        "/api/v1/supervisor/spy",
        spy,
        "Listen, whisper (to the agent) or barge (to both) on an agent's call: "
        "your phone rings and joins it through ChanSpy",
        SpyStarted,
        body=SpyBody,
    ),
    route(
        "POST",
        "/api/v1/supervisor/spy/stop",
        spy_stop,
        "End a listen / whisper / barge session (hangs up the listening phone)",
        Done,
        body=SpyStopBody,
    ),
    route(
        "PUT",
        "/api/v1/supervisor/phone",
        set_phone,
        "The phone you listen from (an interface like PJSIP/2001)",
        PhoneSet,
        body=PhoneBody,
    ),
    route(
        "POST",
        "/api/v1/supervisor/pause",
        pause,
        "Pause an agent in all their queues, with a pause reason (once their call and its "
        "wrap-up are over, if they are on one)",
        Intervened,
        body=PauseBody,
    ),
    route(
        "POST",
        "/api/v1/supervisor/resume",
        resume,
        "End an agent's pause in all their queues; an agent in after-call work is made "
        "available at once, the attention left pending and flagged",
        Intervened,
        body=ResumeBody,
    ),
    route(
        "POST",
        "/api/v1/supervisor/attentions/reassign",
        reassign,
        "Move open (pending or planned) attentions to another operator",
        Reassigned,
        body=ReassignBody,
    ),
    route(
        "GET", "/api/v1/reports", report_list, "The reports there are", ReportNames, tag="reports"
    ),
    route(
        "GET",
        "/api/v1/reports/{name}",
        report,
        "A report for a date range (from, to: YYYY-MM-DD; tz: IANA zone); "
        "format=csv downloads it (audited); customers' names and numbers are masked without "
        "personal_data, and each reading that shows them audited",
        ReportAnswer,
        tag="reports",
    ),
)


def register(api: Api) -> None:
    """Declare the supervisor endpoints."""
    api.add(ROUTES)


def _tz(name: str | None) -> tzinfo:
    if not name:
        return local_tz()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserInputError("tz", _("expected a time zone like America/Sao_Paulo")) from None


def _date(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserInputError(field, _("expected a date like 2026-05-04")) from None


def _int(text: str | None, field: str, default: int, lo: int, hi: int) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise UserInputError(field, _("expected a whole number")) from None
    if not lo <= value <= hi:
        raise UserInputError(field, _("must be between {lo} and {hi}"), lo=lo, hi=hi)
    return value


def setup(app: web.Application) -> None:
    """The wallboard stream and its service; the listening sessions."""

    async def spies(app: web.Application) -> AsyncIterator[None]:
        sessions = SpySessions(app[WEB].runtime)
        app[SPY_SESSIONS] = sessions
        sessions.start()
        yield
        await sessions.stop()

    app.cleanup_ctx.append(spies)
    setup_stream(app)
    hear_pauses(app)
