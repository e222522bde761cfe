"""The supervisor part: live wallboard, interventions and reports.

REST (role supervisor or admin; CSRF on every POST):

``GET  /api/v1/supervisor/wallboard``       the board now (the stream's frame, once)
``GET  /api/v1/supervisor/lists``           operators (with open attentions), pause reasons
``POST /api/v1/supervisor/spy``             {interface, mode listen|whisper|barge, pbx?, phone?}
                                            ring the supervisor's phone into ChanSpy on the agent
``POST /api/v1/supervisor/pause``           {interface, reason, pbx?} pause an agent everywhere
``POST /api/v1/supervisor/resume``          {interface, pbx?} end an agent's pause
``POST /api/v1/supervisor/attentions/reassign``
                                            {to_operator_id, attention_ids | from_operator_id}
``GET  /api/v1/reports``                    the reports there are
``GET  /api/v1/reports/{name}``             ?from=YYYY-MM-DD&to=YYYY-MM-DD&tz=Area/City
                                            [&format=csv][&pending_days=3]

Every intervention (spy, pause, resume, reassign) and every CSV export is written to the audit log.

WebSocket ``/ws/wallboard`` (see :mod:`cti.web.supervisor_stream`). Pages: ``/static/wallboard/``
and ``/static/reports/``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from cti.db import reports as repo
from cti.db.audit import audit
from cti.domain.commands import Command, Originate, QueuePause
from cti.domain.notices import AgentState
from cti.domain.state import Agent
from cti.errors import AmiError, UserInputError
from cti.web.api import BODY_KEY, Api, HTTPProblem
from cti.web.state import current, web_state
from cti.web.supervisor_stream import WALLBOARD, WallboardService, local_tz, setup_stream

SPY_MODES = ("listen", "whisper", "barge")
TAG = "supervisor"


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def _pbx(request: web.Request, name: str | None) -> str:
    names = [p.name for p in web_state(request).runtime.settings.ami]
    if name is None:
        return names[0]
    if name not in names:
        raise UserInputError("pbx", "must be one of " + ", ".join(names))
    return name


def _live_agent(request: web.Request, pbx: str, interface: str) -> Agent:
    agent = web_state(request).runtime.ami.state(pbx).agents.get(interface)
    if agent is None:
        raise HTTPProblem(404, f"{interface} is not a queue member on {pbx}", "interface")
    return agent


def spy_target(interface: str) -> str:
    """The ChanSpy channel-name prefix of an agent's interface (ends in "-": agent1 ≠ agent10)."""
    return interface.removesuffix("/n") + "-"


async def _send(request: web.Request, pbx: str, command: Command) -> str:
    try:
        response = await web_state(request).runtime.ami.send(pbx, command)
    except AmiError as exc:
        raise HTTPProblem(502, f"the PBX refused: {exc}") from None
    return str(response.action_id)


AGENT_PROPS: dict[str, Any] = {
    "interface": {"type": "string", "minLength": 3, "maxLength": 200},
    "pbx": {"type": "string", "maxLength": 100},
}


def register(api: Api) -> None:
    """Declare the supervisor endpoints."""

    @api.route(
        "GET",
        "/api/v1/supervisor/wallboard",
        role="supervisor",
        summary="The wallboard now: queues, agents, campaigns (what /ws/wallboard streams)",
        tag=TAG,
    )
    async def wallboard(request: web.Request) -> web.StreamResponse:
        service: WallboardService = web_state(request).parts[WALLBOARD]
        return web.json_response(service.frame(snapshot=True), dumps=_dumps)

    @api.route(
        "GET",
        "/api/v1/supervisor/lists",
        role="supervisor",
        summary="Operators with their open attentions, and the pause reasons",
        tag=TAG,
    )
    async def lists(request: web.Request) -> web.StreamResponse:
        body = await repo.supervisor_lists(web_state(request).runtime.db)
        body["me"] = {"extension": current(request).user.extension}
        return web.json_response(body, dumps=_dumps)

    @api.route(
        "POST",
        "/api/v1/supervisor/spy",
        role="supervisor",
        summary="Listen, whisper (to the agent) or barge (to both) on an agent's call: "
        "your phone rings and joins it through ChanSpy",
        body={
            "type": "object",
            "required": ["interface", "mode"],
            "properties": {
                **AGENT_PROPS,
                "mode": {"type": "string", "enum": list(SPY_MODES)},
                "phone": {"type": "string", "minLength": 3, "maxLength": 200},
            },
        },
        tag=TAG,
    )
    async def spy(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        session = current(request)
        body = request[BODY_KEY]
        pbx = _pbx(request, body.get("pbx"))
        interface = body["interface"]
        mode = body["mode"]
        agent = _live_agent(request, pbx, interface)
        if agent.state is not AgentState.IN_CALL:
            raise HTTPProblem(409, f"{agent.name or interface} is not on a call", "interface")
        phone = (body.get("phone") or session.user.extension or "").strip()
        if "/" not in phone:
            raise UserInputError(
                "phone", "state your phone as an interface like PJSIP/2001 (you have none set)"
            )
        if phone == interface:
            raise UserInputError("phone", "is the agent's own phone")
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
        await audit(
            st.runtime.db,
            session.user.username,
            f"supervisor.{mode}",
            f"agent:{interface}",
            {"pbx": pbx, "phone": phone, "target": target, "action_id": action_id},
        )
        return web.json_response({"ok": True, "action_id": action_id, "target": target})

    @api.route(
        "POST",
        "/api/v1/supervisor/pause",
        role="supervisor",
        summary="Pause an agent in all their queues, with a pause reason",
        body={
            "type": "object",
            "required": ["interface", "reason"],
            "properties": {
                **AGENT_PROPS,
                "reason": {"type": "string", "minLength": 1, "maxLength": 100},
            },
        },
        tag=TAG,
    )
    async def pause(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        body = request[BODY_KEY]
        pbx = _pbx(request, body.get("pbx"))
        interface, reason = body["interface"], body["reason"]
        _live_agent(request, pbx, interface)
        if not await repo.pause_reason_active(st.runtime.db, reason):
            raise UserInputError("reason", f"{reason!r} is not a pause reason")
        await _send(request, pbx, QueuePause(interface=interface, paused=True, reason=reason))
        await audit(
            st.runtime.db,
            current(request).user.username,
            "supervisor.pause",
            f"agent:{interface}",
            {"pbx": pbx, "reason": reason},
        )
        return web.json_response({"ok": True})

    @api.route(
        "POST",
        "/api/v1/supervisor/resume",
        role="supervisor",
        summary="End an agent's pause in all their queues",
        body={"type": "object", "required": ["interface"], "properties": AGENT_PROPS},
        tag=TAG,
    )
    async def resume(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        body = request[BODY_KEY]
        pbx = _pbx(request, body.get("pbx"))
        interface = body["interface"]
        _live_agent(request, pbx, interface)
        await _send(request, pbx, QueuePause(interface=interface, paused=False))
        await audit(
            st.runtime.db,
            current(request).user.username,
            "supervisor.resume",
            f"agent:{interface}",
            {"pbx": pbx},
        )
        return web.json_response({"ok": True})

    @api.route(
        "POST",
        "/api/v1/supervisor/attentions/reassign",
        role="supervisor",
        summary="Move open (pending or planned) attentions to another operator",
        body={
            "type": "object",
            "required": ["to_operator_id"],
            "properties": {
                "to_operator_id": {"type": "integer"},
                "attention_ids": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "maxItems": 1000,
                },
                "from_operator_id": {"type": "integer"},
            },
        },
        tag=TAG,
    )
    async def reassign(request: web.Request) -> web.StreamResponse:
        body = request[BODY_KEY]
        ids = body.get("attention_ids")
        if ids == []:
            raise UserInputError("attention_ids", "pick at least one attention")
        moved = await repo.reassign_attentions(
            web_state(request).runtime.db,
            actor=current(request).user.username,
            to_operator_id=body["to_operator_id"],
            attention_ids=ids,
            from_operator_id=body.get("from_operator_id"),
        )
        return web.json_response({"ok": True, "moved": moved})

    @api.route(
        "GET",
        "/api/v1/reports",
        role="supervisor",
        summary="The reports there are",
        tag="reports",
    )
    async def report_list(request: web.Request) -> web.StreamResponse:
        return web.json_response({"reports": list(repo.REPORTS)})

    @api.route(
        "GET",
        "/api/v1/reports/{name}",
        role="supervisor",
        summary="A report for a date range (from, to: YYYY-MM-DD; tz: IANA zone); "
        "format=csv downloads it (audited)",
        tag="reports",
    )
    async def report(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        name = request.match_info["name"]
        if name not in repo.REPORTS:
            raise HTTPProblem(404, "no such report; one of " + ", ".join(repo.REPORTS), "name")
        query = request.query
        now = st.runtime.clock.now()
        tz = _tz(query.get("tz") or st.runtime.settings.supervisor.timezone or None)
        today = now.astimezone(tz).date()
        last = _date(query.get("to"), "to") or today
        first = _date(query.get("from"), "from") or (last - timedelta(days=6))
        pending_days = _int(query.get("pending_days"), "pending_days", 3, 1, 365)
        period = repo.Period.of(first, last, tz)
        result = await repo.run_report(st.runtime.db, name, period, now, pending_days=pending_days)
        fmt = query.get("format", "json")
        if fmt == "csv":
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
                text=to_csv(result),
                content_type="text/csv",
                charset="utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="cti-{name}-{first}-{last}.csv"'
                },
            )
        if fmt != "json":
            raise UserInputError("format", "must be json or csv")
        body = result.json()
        body.update(from_=first.isoformat(), to=last.isoformat(), tz=str(tz))
        body["from"] = body.pop("from_")
        return web.json_response(body, dumps=_dumps)


def _tz(name: str | None) -> tzinfo:
    if not name:
        return local_tz()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserInputError("tz", "expected a time zone like America/Sao_Paulo") from None


def _date(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserInputError(field, "expected a date like 2026-05-04") from None


def _int(text: str | None, field: str, default: int, lo: int, hi: int) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise UserInputError(field, "expected a whole number") from None
    if not lo <= value <= hi:
        raise UserInputError(field, f"must be between {lo} and {hi}")
    return value


def _cell(value: Any) -> Any:
    # A spreadsheet would run a cell that starts like a formula: make it text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value


def to_csv(result: repo.Report) -> str:
    """A report as CSV: a header of column labels, then one line per row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in result.columns])
    for row in result.rows:
        writer.writerow([_cell(row.get(key)) for key, _ in result.columns])
    return out.getvalue()


def setup(app: web.Application) -> None:
    """The wallboard stream and its service."""
    setup_stream(app)
