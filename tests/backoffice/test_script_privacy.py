"""Campaign script answers are personal data: a question is personal unless the script unmarks
it; its answers are masked for a user without the personal_data permission at the desk, in the
campaign's survey and in its CSV, shown to a user with it, and every such read is audited (never
with the values); a masked answer sent back untouched keeps the one saved; no answer reaches the
logs."""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

import pytest
import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import Attention, Campaign, Customer, Operator, ScriptAnswers
from cti.domain.model import AttentionKind, Direction

from .conftest import Login, body

BIRTH, EMAIL, INCOME = "1980-05-12", "maria.silva@example.org", "4321.50"

HEALTH: list[dict[str, Any]] = [
    {"id": "hello", "kind": "guidance", "text": "Introduce the health plan."},
    {"id": "born", "text": "Date of birth?", "type": "date", "required": True},
    {"id": "email", "text": "E-mail for the proposal?", "type": "text"},
    {"id": "income", "text": "Monthly income?", "type": "number"},
    {
        "id": "chronic",
        "text": "Any chronic illness?",
        "type": "yes_no",
        "branches": {"no": "interest"},
    },
    {"id": "which", "text": "Which?", "type": "several_of", "options": ["diabetes", "asthma"]},
    {
        "id": "interest",
        "text": "How interested are they?",
        "type": "one_of",
        "options": ["buys now", "wants a quote", "not interested"],
        "personal": False,
    },
]
GIVEN = {
    "born": BIRTH,
    "email": EMAIL,
    "income": INCOME,
    "chronic": "yes",
    "which": ["diabetes"],
    "interest": "wants a quote",
}
PERSONAL = ["answers.born", "answers.chronic", "answers.email", "answers.income", "answers.which"]


async def _attention(svc: RunningService, campaign: str, operator: str) -> int:
    async with svc.runtime.db.sessions.begin() as s:
        cid = await s.scalar(sa.select(Campaign.id).where(Campaign.name == campaign))
        oid = await s.scalar(sa.select(Operator.id).where(Operator.username == operator))
        customer = await s.scalar(sa.select(Customer.id).where(Customer.code == "C003"))
        a = Attention(
            kind=AttentionKind.TELESALES,
            direction=Direction.OUTBOUND,
            operator_id=oid,
            campaign_id=cid,
            customer_id=customer,
        )
        s.add(a)
        await s.flush()
        return a.id


async def _personal_data(svc: RunningService, username: str, *, allowed: bool) -> None:
    async with svc.runtime.db.sessions.begin() as s:
        await s.execute(
            sa.update(Operator).where(Operator.username == username).values(personal_data=allowed)
        )


async def _stored(svc: RunningService, attention_id: int) -> dict[str, Any]:
    async with svc.runtime.db.sessions() as s:
        found = await s.scalar(
            sa.select(ScriptAnswers.answers).where(ScriptAnswers.attention_id == attention_id)
        )
    assert isinstance(found, dict)
    return found


async def test_answers_are_masked_without_the_permission_shown_with_it_and_audited(
    backoffice: RunningService, login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin, bruno, diego, sofia = (
        await login("admin"),
        await login("bruno"),
        await login("diego"),
        await login("sofia"),
    )
    made = await body(
        await admin.post("/api/v1/scripts", json={"name": "Health", "steps": HEALTH}), 201
    )
    flags = {s["id"]: s.get("personal") for s in made["steps"] if s["kind"] == "question"}
    assert flags == {
        "born": True,
        "email": True,
        "income": True,
        "chronic": True,
        "which": True,
        "interest": False,
    }
    refused = await admin.patch(
        f"/api/v1/scripts/{made['id']}",
        json={"steps": [*HEALTH[:1], {**HEALTH[1], "personal": "no"}]},
    )
    assert (await body(refused, 400))["field"].startswith("steps")
    async with backoffice.runtime.db.sessions() as s:
        cid = await s.scalar(sa.select(Campaign.id).where(Campaign.name == "Spring sales"))
    linked = await admin.patch(f"/api/v1/campaigns/{cid}", json={"script_id": made["id"]})
    assert linked.status == 200, await linked.text()

    # Bruno (personal data allowed) saves and reads his answers in full; the read is audited.
    mine = await _attention(backoffice, "Spring sales", "bruno")
    path = f"/api/v1/desk/attentions/{mine}/script"
    saved = await body(await bruno.put(path, json={"answers": GIVEN}))
    assert saved["answers"] == GIVEN and saved["masked"] is False
    shown = await body(await bruno.get(path))
    assert shown["answers"] == GIVEN and shown["masked"] is False

    # Diego (no personal data) runs his own attention: once saved, he sees the personal answers
    # masked, the unmarked one in full.
    his = await _attention(backoffice, "Spring sales", "diego")
    his_path = f"/api/v1/desk/attentions/{his}/script"
    echoed = await body(await diego.put(his_path, json={"answers": GIVEN}))
    masked = {**{k: "***" for k in GIVEN}, "interest": "wants a quote"}
    assert echoed["answers"] == masked and echoed["masked"] is True
    again = await body(await diego.get(his_path))
    assert again["answers"] == masked
    # Sent back as shown, the masked answers keep the saved ones; a changed one is changed.
    resent = await body(
        await diego.put(his_path, json={"answers": {**again["answers"], "interest": "buys now"}})
    )
    assert resent["answers"] == {**masked, "interest": "buys now"}
    assert await _stored(backoffice, his) == {**GIVEN, "interest": "buys now"}
    # A masked answer where none was saved is no answer: refused as the wrong type.
    fresh = await _attention(backoffice, "Spring sales", "diego")
    bad = await diego.put(
        f"/api/v1/desk/attentions/{fresh}/script", json={"answers": {**GIVEN, "born": "***"}}
    )
    assert (await body(bad, 400))["field"] == "answers.born"

    # The survey: Sofia without the permission sees the counts, every answer line masked.
    await _personal_data(backoffice, "sofia", allowed=False)
    report = await body(await sofia.get(f"/api/v1/campaigns/{cid}/script-report"))
    assert report["masked"] is True and report["attentions"] == 2
    assert {q["step"]: q["personal"] for q in report["questions"]}["interest"] is False
    counts = {q["step"]: q["counts"] for q in report["questions"]}
    assert counts["chronic"] == {"yes": 2, "no": 0}
    assert [line["answers"] for line in report["lines"]] == [
        {**masked, "interest": "wants a quote"},
        {**masked, "interest": "buys now"},
    ]
    exported = await sofia.get(f"/api/v1/campaigns/{cid}/script-report?format=csv")
    text = await exported.text()
    assert exported.status == 200 and BIRTH not in text and EMAIL not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["born"] for r in rows} == {"***"} and rows[0]["interest"] == "wants a quote"
    # ...and with it, in full; lines=1 gives only the latest attention's.
    await _personal_data(backoffice, "sofia", allowed=True)
    full = await body(await sofia.get(f"/api/v1/campaigns/{cid}/script-report?lines=1"))
    assert full["masked"] is False and full["attentions"] == 2
    assert [line["attention_id"] for line in full["lines"]] == [his]
    assert full["lines"][0]["answers"]["born"] == BIRTH
    rows = list(
        csv.DictReader(
            io.StringIO(
                await (await sofia.get(f"/api/v1/campaigns/{cid}/script-report?format=csv")).text()
            )
        )
    )
    assert [r["email"] for r in rows] == [EMAIL, EMAIL]

    # The audit log: each read, whose answers and which (never their values).
    trail = await body(await admin.get("/api/v1/audit?action=personal.*&limit=1000"))
    reads = [
        (a["actor"], a["action"], a["subject"], a["details"]["purpose"], a["details"]["fields"])
        for a in trail
        if a["details"] and str(a["details"].get("purpose", "")).startswith(("campaign", "script"))
    ]
    customer = next(a["subject"] for a in trail if a["actor"] == "bruno")
    assert customer.startswith("customer:")
    assert ("bruno", "personal.read", customer, "campaign script", PERSONAL) in reads
    assert ("diego", "personal.masked", customer, "campaign script", PERSONAL) in reads
    report_subject = f"script-report:{cid}"
    assert ("sofia", "personal.masked", report_subject, "script report", PERSONAL) in reads
    assert ("sofia", "personal.masked", report_subject, "script report export", PERSONAL) in reads
    assert ("sofia", "personal.read", report_subject, "script report", PERSONAL) in reads
    assert ("sofia", "personal.read", report_subject, "script report export", PERSONAL) in reads
    everything = str(trail)
    assert BIRTH not in everything and EMAIL not in everything and INCOME not in everything
    # Nothing of the answers in the logs either.
    assert BIRTH not in caplog.text and EMAIL not in caplog.text and INCOME not in caplog.text


async def test_a_data_subject_export_holds_the_answers_the_person_gave(
    backoffice: RunningService, login: Login
) -> None:
    """The customer's export (LGPD art. 18 / GDPR art. 15) includes what they answered to campaign
    scripts, each question as it was asked; the export's audit line says so, never the values."""
    admin, bruno, ana = await login("admin"), await login("bruno"), await login("ana")
    made = await body(
        await admin.post("/api/v1/scripts", json={"name": "Health", "steps": HEALTH}), 201
    )
    async with backoffice.runtime.db.sessions() as s:
        cid = await s.scalar(sa.select(Campaign.id).where(Campaign.name == "Spring sales"))
        customer = await s.scalar(sa.select(Customer.id).where(Customer.code == "C003"))
    linked = await admin.patch(f"/api/v1/campaigns/{cid}", json={"script_id": made["id"]})
    assert linked.status == 200, await linked.text()
    attention = await _attention(backoffice, "Spring sales", "bruno")
    await body(
        await bruno.put(f"/api/v1/desk/attentions/{attention}/script", json={"answers": GIVEN})
    )

    export = await body(await ana.get(f"/api/v1/customers/{customer}/export"))
    [given] = export["script_answers"]
    assert given["attention_id"] == attention and given["campaign"] == "Spring sales"
    answered = {a["question"]: (a["text"], a["answer"]) for a in given["answers"]}
    assert answered["born"] == ("Date of birth?", BIRTH)
    assert answered["which"] == ("Which?", ["diabetes"])
    assert {k: v[1] for k, v in answered.items()} == GIVEN

    trail = await body(
        await admin.get(f"/api/v1/audit?subject=customer:{customer}&action=personal.export")
    )
    assert trail[0]["actor"] == "ana" and "script_answers" in trail[0]["details"]["fields"]
    assert BIRTH not in str(trail) and EMAIL not in str(trail)
