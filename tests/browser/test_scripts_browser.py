"""Campaign scripts in headless Chromium: an admin writes a script with a branch in the back
office and gives it to a campaign; an agent on that campaign's call runs it at the desk, the
branch is taken, the answers are saved with the attention and counted in the campaign's survey;
the script edited later keeps the earlier answers on their version. The answers to personal
questions are masked for whoever may not see personal data: in the survey's latest answers, and
at the desk once the agent loses the permission. Leaves docs/script.png with
CTI_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.async_api import Browser, Page, expect

from cti.app import RunningService, running_service
from cti.db.models import Campaign, Lead, Operator, ScriptAnswers
from cti.domain.model import CampaignKind, CampaignMode, CampaignStatus
from cti.sim import PbxSimulator
from tests.desk.conftest import answering_customers, until
from tests.web.conftest import service_settings

from .conftest import screenshot_path, sign_in

pytestmark = pytest.mark.browser

ALWAYS = [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"}]


@pytest.fixture
async def sim() -> AsyncIterator[PbxSimulator]:
    """Every dialled customer answers after 1 s and talks for ten minutes."""
    traffic = answering_customers(ring=1.0, talk=600.0)
    async with PbxSimulator(manual_time=True, traffic=traffic) as simulator:
        yield simulator


@pytest.fixture
async def service(migrated_database: str, sim: PbxSimulator) -> AsyncIterator[RunningService]:
    settings = service_settings(ami_port=sim.port, remote_answer=True)
    async with running_service(settings, database_url=migrated_database, migrate=False) as svc:
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        yield svc


async def _write_script(page: Page, url: str, shots: Path) -> None:
    """Root writes "Satisfaction" in the back office: a guidance, a yes/no whose "no" skips to
    the last question, a number, a one-of."""
    await sign_in(page, url, "root", password="root-secret-1", landing="admin")
    await page.click("#nav [data-section=scripts]")
    await page.click("#script-new")
    await page.fill("#script-form [name=name]", "Satisfaction")
    await page.fill('[name="steps[0].text"]', "Introduce yourself and the survey.")
    await page.select_option('[name="steps[0].kind"]', "guidance")
    # A guidance is read out, not answered: no answer type, answers or flags to fill in.
    for hidden in ("type", "options", "branches", "required", "personal"):
        await expect(page.locator(f'[name="steps[0].{hidden}"]')).to_be_hidden()
    await expect(page.locator('[name="steps[0].next"]')).to_be_visible()
    steps = [
        ("customer", "Did the order arrive?", "yes_no", "", "no=why", True),
        ("score", "How do you rate the delivery (0-10)?", "number", "", "", True),
        ("why", "What went wrong?", "one_of", "late, damaged, never came", "", True),
    ]
    for i, (sid, text, kind, options, branches, required) in enumerate(steps, start=1):
        await page.click("#script-add")
        await page.fill(f'[name="steps[{i}].id"]', sid)
        await page.fill(f'[name="steps[{i}].text"]', text)
        await page.select_option(f'[name="steps[{i}].type"]', kind)
        await page.fill(f'[name="steps[{i}].options"]', options)
        await page.fill(f'[name="steps[{i}].branches"]', branches)
        if required:
            await page.check(f'[name="steps[{i}].required"]')
    # Whether the order arrived says nothing about the person: not personal data. The others
    # stay personal (the default).
    await expect(page.locator('[name="steps[3].personal"]')).to_be_checked()
    await page.uncheck('[name="steps[1].personal"]')
    # "score" ends the script (the "why" question is the "no" branch's).
    await page.fill('[name="steps[2].next"]', "end")
    await expect(page.locator('[name="steps[1].personal"]')).to_be_visible()
    await page.screenshot(path=str(shots / "script-editor.png"), full_page=True)
    await page.click("#script-save")
    await expect(page.locator(".toast")).to_contain_text("Script saved (version 1)")
    await page.select_option("#script-campaign", label="Delivery survey")
    await page.click("#script-give")
    await expect(page.locator(".toast")).to_contain_text("runs this script")


async def test_an_admin_writes_a_script_an_agent_runs_it_and_the_survey_counts_it(
    service: RunningService,
    sim: PbxSimulator,
    users: dict[str, str],
    chromium: Browser,
    browser_page: Page,
    tmp_path: Path,
) -> None:
    db = service.runtime.db
    async with db.sessions.begin() as s:
        campaign = Campaign(
            name="Delivery survey",
            kind=CampaignKind.TELEMARKETING,
            mode=CampaignMode.PREVIEW,
            status=CampaignStatus.RUNNING,
            queue="support",
            caller_id="5550000",
            ring_seconds=20,
            windows=ALWAYS,
            retry_rules={},
        )
        s.add(campaign)
        await s.flush()
        s.add(Lead(campaign_id=campaign.id, phone="+12025550180", name="Rita Moss"))
        cid = int(campaign.id)
    admin_context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    admin = await admin_context.new_page()
    admin.set_default_timeout(8000)
    await _write_script(admin, service.url, tmp_path)

    # Ana dials the campaign's lead; once the customer answers, the script is at her desk.
    page = browser_page
    await sign_in(page, service.url, "ana", password=users["ana"], landing="desk")
    await expect(page.locator("#agent-name")).to_have_text("Ana Lima")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    await page.click("#preview-next")
    await expect(page.locator("#preview .preview-lead")).to_contain_text("Rita Moss")
    await page.click("#preview-dial")
    # The dial is placed once the server has answered the click (the toast says so); only then
    # does the PBX's time move, or a slow answer would find the loop below already over.
    await expect(page.locator(".toast").last).to_contain_text("Dialling Rita Moss")
    for _ in range(40):
        await sim.advance(0.25)
        await service.runtime.ami.flush("pbx1")
        if sim.answer("PJSIP/agent1"):
            break
    else:
        raise AssertionError("ana's phone never rang")
    for _ in range(8):  # the customer answers after 1 s
        await sim.advance(0.25)
        await service.runtime.ami.flush("pbx1")
    card = page.locator("#script-card")
    await expect(card).to_be_visible()
    await expect(card.locator("#script-name")).to_have_text("Satisfaction · version 1")
    await expect(card).to_contain_text("Introduce yourself and the survey.")
    await card.locator("#script-next").click()
    # The order never arrived: "no" takes the branch to "What went wrong?", skipping the score.
    await card.locator("input[value=no]").check()
    await card.locator("#script-next").click()
    await expect(card).to_contain_text("What went wrong?")
    await card.locator("#script-next").click()  # required: not without an answer
    await expect(card.locator("#script-error")).to_have_text("This question needs an answer.")
    await card.locator("input[value='never came']").check()
    await page.screenshot(path=str(screenshot_path("script.png", tmp_path)))
    await card.locator("#script-next").click()
    await expect(card.locator("#script-end")).to_contain_text("never came")
    await card.locator("#script-save").click()
    await expect(card.locator("#script-end")).to_contain_text("Answers saved with this attention.")
    async with db.sessions() as s:
        (saved,) = (await s.execute(sa.select(ScriptAnswers))).scalars().all()
    assert saved.answers == {"customer": "no", "why": "never came"}

    # Root changes the script (version 2); the survey counts ana's answers on version 1.
    await admin.click("#nav [data-section=scripts]")
    await admin.click("#scripts-table a:text('Satisfaction')")
    await admin.fill('[name="steps[1].text"]', "Has the order arrived by now?")
    await admin.click("#script-save")
    await expect(admin.locator(".toast")).to_contain_text("Script saved (version 2)")
    survey = admin.locator(f'.survey[data-campaign="{cid}"]')
    await expect(survey).to_contain_text("1 attention(s) answered")
    why = survey.locator('.survey-q[data-step="why"][data-version="1"]')
    await expect(why.locator('.bar-row[data-answer="never came"] .bar-count')).to_have_text("1")
    await expect(why.locator('.bar-row[data-answer="late"] .bar-count')).to_have_text("0")
    async with db.sessions() as s:
        kept = (await s.execute(sa.select(ScriptAnswers))).scalars().one()
    assert kept.script_version_id == saved.script_version_id
    # Root has no personal-data permission: the latest answers show the personal one masked.
    lines = survey.locator(f"#survey-lines-{cid}")
    await expect(survey.locator("#survey-masked")).to_be_visible()
    await expect(lines).to_contain_text("***")
    await expect(lines).not_to_contain_text("never came")
    await expect(lines.locator("tbody tr").first).to_contain_text("no")
    # Each answer's column says which question it answers, as the agent asked it.
    await expect(lines.locator("thead")).to_contain_text("Did the order arrive?")
    await expect(lines.locator("thead")).to_contain_text("What went wrong?")
    await expect(why.locator(".personal")).to_have_text("personal data")
    await admin.screenshot(path=str(tmp_path / "script-admin-masked.png"), full_page=True)
    # Given the permission, root sees it.
    await _personal_data(service, "root", allowed=True)
    await admin.reload()
    await expect(survey.locator(f"#survey-lines-{cid}")).to_contain_text("never came")
    await expect(survey.locator("#survey-masked")).to_have_count(0)
    await admin.screenshot(path=str(tmp_path / "script-admin.png"), full_page=True)
    await admin_context.close()

    # Ana loses the permission: back at her desk, the saved answers are there, the personal one
    # hidden, and she may answer again.
    await _personal_data(service, "ana", allowed=False)
    await page.reload()
    await expect(card.locator("#script-end")).to_contain_text("hidden (personal data)")
    await expect(card.locator("#script-end")).not_to_contain_text("never came")
    await expect(card.locator('li[data-step="customer"]')).to_contain_text("no")
    await page.screenshot(path=str(tmp_path / "script-desk-masked.png"))
    await card.locator("#script-again").click()
    await expect(card).to_contain_text("Introduce yourself and the survey.")


async def _personal_data(service: RunningService, username: str, *, allowed: bool) -> None:
    async with service.runtime.db.sessions.begin() as s:
        await s.execute(
            sa.update(Operator).where(Operator.username == username).values(personal_data=allowed)
        )
