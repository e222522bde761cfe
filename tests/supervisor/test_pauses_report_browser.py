"""The pauses report in Chromium, in a supervisor's language (pt-BR): its tab, each operator's
pauses by reason with the time paused, cti's own reason in her language and an admin's as named,
the chart beside the table."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.async_api import Browser, expect

from cti.app import RunningService
from cti.db.models import AgentPause, Operator
from cti.domain.no_answer import MISSED_REASON
from tests.browser.conftest import chromium, screenshot_path, sign_in

from .conftest import Client

__all__ = ["chromium"]

pytestmark = pytest.mark.browser


async def test_the_pauses_report_in_portuguese(
    service: RunningService, supervisor: Client, chromium: Browser, tmp_path: Path
) -> None:
    db = service.runtime.db
    day = (service.runtime.clock.now() - timedelta(days=2)).date()

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)

    async with db.sessions.begin() as s:
        ops = dict((await s.execute(sa.select(Operator.username, Operator.id))).all())
        s.add_all(
            [
                AgentPause(
                    operator_id=ops["ana"], reason="lunch", started_at=at(12), ended_at=at(12, 30)
                ),
                AgentPause(
                    operator_id=ops["ana"],
                    reason=MISSED_REASON,
                    started_at=at(14),
                    ended_at=at(14, 2),
                ),
                AgentPause(
                    operator_id=ops["ana"],
                    reason=MISSED_REASON,
                    started_at=at(15),
                    ended_at=at(15, 4),
                ),
                AgentPause(
                    operator_id=ops["bruno"],
                    reason="coaching",
                    started_at=at(9),
                    ended_at=at(9, 45),
                ),
            ]
        )
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="pt-BR")
    page = await context.new_page()
    try:
        await sign_in(page, service.url, "vera", password="vera-secret-1", landing="wallboard")
        await page.goto(f"{service.url}static/reports/index.html?report=pauses")
        await page.fill("#from", day.isoformat())
        await page.fill("#to", day.isoformat())
        await page.click("#filters button[type=submit]")
        await expect(page.locator("#tabs [data-report=pauses]")).to_have_text("Pausas")
        table = page.locator("#table")
        await expect(table.locator("thead")).to_contain_text("Tempo em pausa (s)")
        missed = table.locator("tbody tr", has_text="chamadas perdidas")
        # Two pauses of 2 and 4 minutes: 360 s, 180 s on average, the longest 240 s.
        await expect(missed.locator("td")).to_have_text(
            ["Ana Lima", "chamadas perdidas", "2", "360", "180", "240"]
        )
        lunch = table.locator("tbody tr", has_text="lunch")  # an admin's reason, as named
        await expect(lunch.locator("td")).to_have_text(
            ["Ana Lima", "lunch", "1", "1.800", "1.800", "1.800"]
        )
        coaching = table.locator("tbody tr", has_text="coaching")
        await expect(coaching.locator("td").first).to_have_text("Bruno Dias")
        await expect(page.locator("#tabs [data-report=pauses]")).to_have_attribute(
            "aria-selected", "true"
        )
        await expect(page.locator("#chart")).to_be_visible()
        await page.screenshot(path=str(screenshot_path("report-pauses.png", tmp_path)))
    finally:
        await context.close()
