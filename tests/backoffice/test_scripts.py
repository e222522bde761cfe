"""Campaign scripts over HTTP against PostgreSQL: an admin writes one with a branch, a campaign
runs it, the agent's answers are checked along the branch taken and kept on the version they were
given on when the script changes, and the campaign's survey counts them (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import Attention, Campaign, Operator
from cti.domain.model import AttentionKind, Direction

from .conftest import Login, body

SURVEY: list[dict[str, Any]] = [
    {"id": "hello", "kind": "guidance", "text": "Introduce yourself and the spring offer."},
    {
        "id": "customer",
        "text": "Do you buy from us already?",
        "type": "yes_no",
        "required": True,
        "branches": {"no": "source"},
    },
    {"id": "score", "text": "How do you rate us (0-10)?", "type": "number", "next": "end"},
    {
        "id": "source",
        "text": "How did you hear of us?",
        "type": "one_of",
        "options": ["radio", "a friend", "the web"],
        "required": True,
    },
]


async def _attention(svc: RunningService, campaign: str, operator: str) -> int:
    async with svc.runtime.db.sessions.begin() as s:
        cid = await s.scalar(sa.select(Campaign.id).where(Campaign.name == campaign))
        oid = await s.scalar(sa.select(Operator.id).where(Operator.username == operator))
        a = Attention(
            kind=AttentionKind.TELESALES,
            direction=Direction.OUTBOUND,
            operator_id=oid,
            campaign_id=cid,
        )
        s.add(a)
        await s.flush()
        return a.id


async def test_a_script_with_a_branch_is_run_versioned_and_counted(
    backoffice: RunningService, login: Login
) -> None:
    admin, bruno, ana, sofia = (
        await login("admin"),
        await login("bruno"),
        await login("ana"),
        await login("sofia"),
    )
    # A branch to a step that does not exist is refused, naming the step.
    bad = [*SURVEY[:1], {**SURVEY[1], "branches": {"no": "nowhere"}}]
    refused = await body(await admin.post("/api/v1/scripts", json={"name": "S", "steps": bad}), 400)
    assert refused["field"] == "steps[1]" and "nowhere" in refused["error"]
    made = await body(
        await admin.post("/api/v1/scripts", json={"name": "Survey", "steps": SURVEY}), 201
    )
    assert made["version"] == 1 and [s["id"] for s in made["steps"]][:2] == ["hello", "customer"]
    campaigns = await body(await sofia.get("/api/v1/campaigns"))
    spring = next(c for c in campaigns["campaigns"] if c["name"] == "Spring sales")
    linked = await admin.patch(f"/api/v1/campaigns/{spring['id']}", json={"script_id": made["id"]})
    assert linked.status == 200, await linked.text()
    nothing = await admin.patch(f"/api/v1/campaigns/{spring['id']}", json={"script_id": 999999})
    assert (await body(nothing, 400))["field"] == "script_id"

    # Bruno runs it during his campaign attention; the "no" branch asks where they heard of us.
    first = await _attention(backoffice, "Spring sales", "bruno")
    path = f"/api/v1/desk/attentions/{first}/script"
    shown = await body(await bruno.get(path))
    assert (shown["name"], shown["version"], shown["answers"]) == ("Survey", 1, {})
    missing = await bruno.put(path, json={"answers": {"customer": "no"}})
    assert (await body(missing, 400))["field"] == "answers.source"
    off_path = await bruno.put(path, json={"answers": {"customer": "no", "score": "7"}})
    assert (await body(off_path, 400))["field"] == "answers.source"
    saved = await body(
        await bruno.put(path, json={"answers": {"customer": "no", "source": "a friend"}})
    )
    assert saved["answers"] == {"customer": "no", "source": "a friend"} and saved["saved_at"]
    # Another operator's attention is not hers to run.
    assert (await ana.get(path)).status == 403

    # The script changes: Bruno's answers keep version 1; a new attention runs version 2.
    v2 = [
        *SURVEY[:2],
        {**SURVEY[2], "text": "How likely are you to recommend us (0-10)?"},
        SURVEY[3],
    ]
    changed = await body(await admin.patch(f"/api/v1/scripts/{made['id']}", json={"steps": v2}))
    assert changed["version"] == 2
    kept = await body(await bruno.get(path))
    assert kept["version"] == 1 and kept["answers"]["source"] == "a friend"
    assert kept["steps"][2]["text"] == "How do you rate us (0-10)?"
    second = await _attention(backoffice, "Spring sales", "bruno")
    newer = f"/api/v1/desk/attentions/{second}/script"
    assert (await body(await bruno.get(newer)))["version"] == 2
    await body(await bruno.put(newer, json={"answers": {"customer": "yes", "score": "9"}}))

    # The campaign's survey: per version and question, how each was answered.
    report = await body(await sofia.get(f"/api/v1/campaigns/{spring['id']}/script-report"))
    counts = {(q["version"], q["step"]): (q["answered"], q["counts"]) for q in report["questions"]}
    assert counts[(1, "customer")] == (1, {"yes": 0, "no": 1})
    assert counts[(1, "source")] == (1, {"radio": 0, "a friend": 1, "the web": 0})
    assert counts[(2, "customer")] == (1, {"yes": 1, "no": 0})
    assert counts[(2, "score")] == (1, {})
    exported = await sofia.get(f"/api/v1/campaigns/{spring['id']}/script-report?format=csv")
    assert exported.status == 200
    lines = list(csv.reader(io.StringIO(await exported.text())))
    assert lines[0][:4] == ["Attention", "Saved at", "Operator", "Version"]
    by_attention = {int(r[0]): dict(zip(lines[0], r, strict=True)) for r in lines[1:]}
    assert by_attention[first]["source"] == "a friend" and by_attention[first]["Version"] == "1"
    assert by_attention[second]["score"] == "9" and by_attention[second]["Version"] == "2"
