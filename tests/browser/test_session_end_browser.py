"""In Chromium: a restart of cti costs the desk and the wallboard nothing; a session that ended
while they were away is said so, with a way to sign in again, instead of "reconnecting…" forever.
"""

from __future__ import annotations

import dataclasses
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
from playwright.async_api import Browser, Page, expect

from cti.app import RunningService, running_service
from cti.db.users import add_user
from cti.sim import PbxSimulator
from tests.desk.conftest import until
from tests.web.conftest import closed_port, service_settings

from .conftest import screenshot_path, sign_in

PASSWORDS = {"ana": "ana-secret-1", "sofia": "sofia-secret-1"}


class Cti:
    """cti on a fixed port (the pages reconnect to the same address), stopped and started."""

    def __init__(self, database_url: str, ami_port: int) -> None:
        settings = service_settings(ami_port=ami_port, remote_answer=True)
        server = dataclasses.replace(settings.server, port=closed_port())
        self.settings = dataclasses.replace(settings, server=server)
        self.url = f"http://127.0.0.1:{server.port}/"
        self.database_url = database_url
        self._stack: AsyncExitStack | None = None

    async def start(self) -> RunningService:
        self._stack = AsyncExitStack()
        svc = await self._stack.enter_async_context(
            running_service(self.settings, database_url=self.database_url, migrate=False)
        )
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        return svc

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None


async def _page(chromium: Browser) -> Page:
    context = await chromium.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = await context.new_page()
    page.set_default_timeout(10000)
    return page


async def _end_sessions_elsewhere(database_url: str) -> None:
    """What another instance does when it signs them out (or their time runs out there)."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE web_sessions SET ended_at = now(), end_reason = 'signed_out'"
            " WHERE ended_at IS NULL"
        )
    finally:
        await conn.close()


async def test_a_restart_keeps_the_pages_and_an_ended_session_is_said_so(
    migrated_database: str, sim: PbxSimulator, chromium: Browser, tmp_path: Path
) -> None:
    cti = Cti(migrated_database, sim.port)
    svc = await cti.start()
    try:
        await add_user(
            svc.runtime.db,
            username="ana",
            password=PASSWORDS["ana"],
            role="operator",
            routines=["telemarketing"],
            extension="PJSIP/agent1",
            full_name="Ana Lima",
        )
        await add_user(
            svc.runtime.db,
            username="sofia",
            password=PASSWORDS["sofia"],
            role="supervisor",
            full_name="Sofia Reis",
        )
        desk, board = await _page(chromium), await _page(chromium)
        await sign_in(desk, cti.url, "ana", password=PASSWORDS["ana"], landing="desk")
        await sign_in(board, cti.url, "sofia", password=PASSWORDS["sofia"], landing="wallboard")
        await expect(desk.locator("#link")).to_have_text("live")
        await expect(board.locator("#link")).to_have_text("● live")

        # cti stopped and started again: both pages say so while it is away, then are live again
        # on the same sessions.
        await cti.stop()
        await expect(desk.locator("#link")).to_have_text("reconnecting…")
        await expect(board.locator("#link")).to_have_text("reconnecting…")
        await cti.start()
        await expect(desk.locator("#link")).to_have_text("live")
        await expect(board.locator("#link")).to_have_text("● live")
        await expect(desk.locator("#overlay")).to_be_hidden()
        await expect(board.locator("#signin")).to_have_count(0)

        # Away again; meanwhile their sessions end (another instance signed them out). The
        # refused sockets are not retried forever: each page says the session ended and offers
        # to sign in again.
        await cti.stop()
        await expect(desk.locator("#link")).to_have_text("reconnecting…")
        await _end_sessions_elsewhere(migrated_database)
        await cti.start()
        await expect(desk.locator("#overlay")).to_be_visible()
        await expect(desk.locator("#overlay-title")).to_have_text("Session ended")
        await expect(desk.locator("#overlay-text")).to_contain_text("Sign in again")
        await expect(desk.locator("#link")).to_have_text("session ended")
        await expect(desk.locator("#overlay-go")).to_have_text("Sign in again")
        await desk.screenshot(path=str(screenshot_path("desk-session-ended.png", tmp_path)))

        await expect(board.locator("#signin")).to_be_visible()
        await expect(board.locator("#signin .signin-error")).to_contain_text(
            "Your session has ended"
        )
        await expect(board.locator("#link")).to_have_text("session ended")
        await board.screenshot(path=str(screenshot_path("wallboard-session-ended.png", tmp_path)))

        # Signing in again from there works: the wallboard is live, the desk back at sign-in.
        await board.fill("#signin input[name=username]", "sofia")
        await board.fill("#signin input[name=password]", PASSWORDS["sofia"])
        await board.click("#signin button[type=submit]")
        await expect(board.locator("#link")).to_have_text("● live")
        await desk.click("#overlay-go")
        await desk.wait_for_url("**/index.html")
        await sign_in(desk, cti.url, "ana", password=PASSWORDS["ana"], landing="desk")
        await expect(desk.locator("#link")).to_have_text("live")
    finally:
        await cti.stop()
