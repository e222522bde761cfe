"""A call's recording played from the desk's history, on the simulator (which leaves a short WAV
for each queue call bridged to an agent, as the shipped dialplan's MixMonitor does on Asterisk;
the real thing is tests/pbx/test_recordings.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.async_api import Page, expect

from cti.app import RunningService, running_service
from cti.db.models import AuditEvent, Recording
from cti.sim import PbxSimulator
from tests.desk.conftest import until
from tests.web.conftest import service_settings

from .conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


@pytest.fixture
async def sim(recordings: Path) -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(manual_time=True, recordings_dir=recordings) as simulator:
        yield simulator


@pytest.fixture
async def service(
    migrated_database: str, sim: PbxSimulator, recordings: Path
) -> AsyncIterator[RunningService]:
    settings = service_settings(ami_port=sim.port, remote_answer=True)
    settings = dataclasses.replace(
        settings, recordings=dataclasses.replace(settings.recordings, dir=str(recordings))
    )
    async with running_service(settings, database_url=migrated_database, migrate=False) as svc:
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        yield svc


async def _recordings(service: RunningService) -> list[Recording]:
    async with service.runtime.db.sessions() as s:
        return list((await s.execute(sa.select(Recording))).scalars())


async def test_an_agent_plays_a_past_calls_recording_from_the_history(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
) -> None:
    page = browser_page
    await sign_in(page, service.url, "ana", password=users["ana"], landing="desk")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")

    # A first call from Acme, answered and ended: its recording is tied to the call.
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await page.click("#answer")
    await expect(page.locator("#pop-status")).to_contain_text("On the call")
    await page.select_option("#status", "closed")
    await page.click("#save")
    await expect(page.locator("#f-status")).to_have_text("closed")
    assert sim.hangup("PJSIP/agent1")
    await sim.advance(0.2)
    rows: list[Recording] = []
    for _ in range(100):
        rows = await _recordings(service)
        if rows:
            break
        await page.wait_for_timeout(100)
    assert len(rows) == 1 and rows[0].bytes > 1000

    # Acme calls again (the first call's attention was closed during it: no wrap-up is left):
    # the history shows the first call with its recording, played in place.
    await expect(page.locator("#state-text")).to_have_text("Ready")
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await page.click("#answer")
    button = page.locator(f'#history-table button[data-recording="{rows[0].id}"]')
    await expect(button).to_be_visible()
    await button.click()
    player = page.locator("#history-table audio")
    await expect(player).to_have_attribute("src", f"/api/v1/recordings/{rows[0].id}")
    for _ in range(100):
        async with service.runtime.db.sessions() as s:
            played = (
                (
                    await s.execute(
                        sa.select(AuditEvent.actor).where(
                            AuditEvent.action == "personal.recording.played"
                        )
                    )
                )
                .scalars()
                .all()
            )
        if played:
            break
        await page.wait_for_timeout(100)
    assert list(played) == ["ana"]
    # A malformed Range is refused as such, not a server error.
    bad = await page.request.get(
        f"{service.url}api/v1/recordings/{rows[0].id}", headers={"Range": "bytes=abc"}
    )
    assert bad.status == 416, await bad.text()
