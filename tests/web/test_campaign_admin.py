"""Supervisors create and change campaigns through the API; every value is checked as the dialer
reads it, a mistake names its field, operators are refused, and each change is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import AuditEvent, Campaign, Lead
from cti.web import campaign_leads
from tests.web.conftest import Client

GOOD = {
    "name": "Winter renewals",
    "kind": "telesales",
    "mode": "predictive",
    "queue": "sales",
    "caller_id": "5550000",
    "ring_seconds": 25,
    "windows": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"}],
    "retry_rules": {"max_attempts": 4, "after": {"busy": 900}},
    "abandon_cap": 0.025,
    "timezone": "America/Sao_Paulo",
    "amd": True,
}


async def test_create_change_and_refusals(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    sofia = await client_factory()
    await sofia.login("sofia", users["sofia"])
    resp = await sofia.post("/api/v1/campaigns", json=GOOD)
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    assert created["status"] == "draft"

    async def refused(body: dict[str, object], field: str) -> None:
        r = await sofia.post("/api/v1/campaigns", json={**GOOD, "name": "Other", **body})
        assert r.status == 400, await r.text()
        assert (await r.json())["field"] == field

    await refused({"windows": [{"days": [1], "start": "09:00", "end": "25:00"}]}, "windows[0].end")
    await refused({"ring_seconds": 10}, "ring_seconds")
    await refused({"retry_rules": {"after": {"busy": -5}}}, "retry_rules.after.busy")
    await refused({"timezone": "Mars/Olympus"}, "timezone")
    await refused({"pbx": "nowhere"}, "pbx")
    dup = await sofia.post("/api/v1/campaigns", json=GOOD)
    assert dup.status == 400 and (await dup.json())["field"] == "name"

    changed = await sofia.patch(f"/api/v1/campaigns/{created['id']}", json={"queue": "support"})
    assert changed.status == 200, await changed.text()

    # Leads from a CSV file: a bad row refuses the whole file, naming row and field.
    leads = f"api/v1/campaigns/{created['id']}/leads"
    bad = await sofia.http.post(
        f"{sofia.base}{leads}",
        data=b"phone,name\n+1 202 555 0170,Ada\nnot a phone,Bob\n",
        headers={"X-CSRF-Token": sofia.csrf, "Content-Type": "text/csv"},
    )
    assert bad.status == 400
    assert [(r["row"], r["field"]) for r in (await bad.json())["rows"]] == [(3, "phone")]
    good = await sofia.http.post(
        f"{sofia.base}{leads}",
        data=b"phone,name\n+1 202 555 0170,Ada\n+1 202 555 0171,Bob\n",
        headers={"X-CSRF-Token": sofia.csrf, "Content-Type": "text/csv"},
    )
    assert good.status == 200 and (await good.json()) == {"stored": 2}

    ana = await client_factory()
    await ana.login("ana", users["ana"])
    assert (await ana.post("/api/v1/campaigns", json={**GOOD, "name": "Mine"})).status == 403

    async with service.runtime.db.sessions() as s:
        row = await s.get(Campaign, created["id"])
        assert row is not None
        assert (row.queue, row.mode.value, row.amd, row.timezone) == (
            "support",
            "predictive",
            True,
            "America/Sao_Paulo",
        )
        assert (await s.scalar(sa.select(sa.func.count()).select_from(Campaign))) == 1
        actions = (
            (
                await s.execute(
                    sa.select(AuditEvent.action).where(AuditEvent.subject == f"campaign:{row.id}")
                )
            )
            .scalars()
            .all()
        )
        lead_count = await s.scalar(sa.select(sa.func.count()).select_from(Lead))
    assert lead_count == 2
    assert actions == ["campaign.created", "campaign.changed"]


async def test_a_lead_file_bigger_than_other_requests_is_streamed_in_whole(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A day's list for a big floor is megabytes; other bodies stop at 2 MB, lead files don't."""
    sofia = await client_factory()
    await sofia.login("sofia", users["sofia"])
    created = await (await sofia.post("/api/v1/campaigns", json=GOOD)).json()
    leads = f"{sofia.base}api/v1/campaigns/{created['id']}/leads"
    headers = {"X-CSRF-Token": sofia.csrf, "Content-Type": "text/csv"}
    rows = [
        f"+1 (212) {exchange} {line:04d},Customer number {exchange}-{line} of the winter list"
        for exchange in range(200, 260)
        for line in range(1000)
    ]
    data = ("phone,name\n" + "\n".join(rows) + "\n").encode()
    assert len(data) > 3 * 1024 * 1024
    resp = await sofia.http.post(leads, data=data, headers=headers)
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"stored": len(rows)}
    async with service.runtime.db.sessions() as s:
        stored = await s.scalar(
            sa.select(sa.func.count()).select_from(Lead).where(Lead.campaign_id == created["id"])
        )
    assert stored == len(rows)

    empty = await sofia.http.post(leads, data=b"  \n", headers=headers)
    assert empty.status == 400 and (await empty.json())["field"] == "body"
    # Past the cap (made 1 MB here), a file is refused whole, with or without a length.
    monkeypatch.setattr(campaign_leads, "LEADS_MAX_BYTES", 1024 * 1024)
    sized = await sofia.http.post(leads, data=data, headers=headers)
    assert sized.status == 413, await sized.text()
    assert (await sized.json())["field"] == "body"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    cut = await sofia.http.post(leads, data=chunks(), headers=headers)
    assert cut.status == 413, await cut.text()
    assert "larger than 1 MB" in (await cut.json())["error"]
    async with service.runtime.db.sessions() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(Lead)) == len(rows)


async def test_a_refused_lead_file_tells_each_row_in_the_readers_language(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    """A supervisor reading Portuguese or Spanish is told what is wrong with each row in their
    language, the cell's value kept as written; nothing of the file is stored."""
    sofia = await client_factory()
    await sofia.login("sofia", users["sofia"])
    created = await (await sofia.post("/api/v1/campaigns", json=GOOD)).json()
    leads = f"{sofia.base}api/v1/campaigns/{created['id']}/leads"
    data = (
        b"phone,name,timezone,priority\n"
        b"+1 202 555 0170,Ada,Mars/Olympus,1\n"
        b"+1 202 555 0171,Bob,,high\n"
        b"+1 202 555 0170,Cy,,2\n"
    )

    async def refused(language: str) -> dict[str, object]:
        resp = await sofia.http.post(
            leads,
            data=data,
            headers={
                "X-CSRF-Token": sofia.csrf,
                "Content-Type": "text/csv",
                "Accept-Language": language,
            },
        )
        assert resp.status == 400, await resp.text()
        body: dict[str, object] = await resp.json()
        return body

    pt = await refused("pt-BR,pt;q=0.9")
    assert pt["error"] == (
        "o arquivo foi recusado inteiro, nada foi gravado: linhas com problemas: 3"
    )
    assert pt["rows"] == [
        {
            "row": 2,
            "field": "timezone",
            "reason": "'Mars/Olympus' não é um fuso horário como 'America/Sao_Paulo'",
        },
        {"row": 3, "field": "priority", "reason": "'high' não é um número inteiro"},
        {"row": 4, "field": "phone", "reason": "+12025550170 já está na linha 2"},
    ]
    es = await refused("es")
    assert [r["reason"] for r in es["rows"]] == [  # type: ignore[attr-defined]
        "'Mars/Olympus' no es una zona horaria como 'America/Sao_Paulo'",
        "'high' no es un número entero",
        "+12025550170 ya está en la fila 2",
    ]
    en = await refused("en")
    assert [r["reason"] for r in en["rows"]] == [  # type: ignore[attr-defined]
        "'Mars/Olympus' is not a time zone like 'America/Sao_Paulo'",
        "'high' is not a whole number",
        "+12025550170 is already on row 2",
    ]
    async with service.runtime.db.sessions() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0
