"""The ``pbx`` tier: cti against a real Asterisk 22 running cti's own ``config/asterisk/``.

Every test gets a fresh Asterisk (``pbx``) and, when it asks for ``cti``, a ``cti serve`` process
on a fresh database, with operators ana and bruno (phones ``PJSIP/agent1`` and ``agent2``),
supervisor sofia (no phone of her own until she states one) and admin root. Softphones and the carrier are played by
:mod:`tests.pbx.sipua` over real SIP (digest REGISTER, INVITE, re-INVITE, BYE).

Without an Asterisk install the tier is skipped with a line saying how to build one, unless
``CTI_REQUIRE_PBX=1`` (CI), where a missing Asterisk fails the run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from cti.db.engine import Database
from cti.db.users import add_user
from tests.desk.conftest import DeskSocket, open_desk, until
from tests.pbx.asterisk import AGENT_PASSWORD, BUILD_HINT, Asterisk, asterisk_prefix
from tests.pbx.cti_server import CtiServer
from tests.pbx.sipua import Phone
from tests.web.conftest import Client

__all__ = ["DeskSocket", "open_desk", "until"]

PASSWORDS = {
    "ana": "ana-secret-pbx-1",
    "bruno": "bruno-secret-pbx-1",
    "sofia": "sofia-secret-pbx-1",
    "root": "root-secret-pbx-1",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.pbx)
            item.add_marker(pytest.mark.timeout(180))


@pytest.fixture(scope="session")
def asterisk_install() -> Path:
    prefix = asterisk_prefix()
    if prefix is None:
        if os.environ.get("CTI_REQUIRE_PBX") == "1":
            pytest.fail(BUILD_HINT)
        pytest.skip(BUILD_HINT)
    return prefix


@pytest.fixture
def pbx(asterisk_install: Path, migrated_database: str) -> Iterator[Asterisk]:
    """A fresh Asterisk, fully booted, on cti's own configuration."""
    ast = Asterisk(asterisk_install, database=migrated_database)
    try:
        ast.start()
        yield ast
    finally:
        log = ast.log_tail(40)
        ast.close()
        print(f"--- Asterisk messages.log (last lines) ---\n{log}")


@pytest.fixture
async def phones(pbx: Asterisk) -> AsyncIterator[Callable[..., Awaitable[Phone]]]:
    """Open softphones (``agentN``, registered) or the carrier (``carrier``) on demand."""
    opened: list[Phone] = []

    async def make(user: str, *, register: bool = True) -> Phone:
        if user == "carrier":
            phone = await Phone.open(
                user="carrier", server=("127.0.0.1", pbx.ports.trunk), port=pbx.ports.carrier
            )
            await carrier_reachable(pbx, phone)
        else:
            phone = await Phone.open(
                user=user, password=AGENT_PASSWORD, server=("127.0.0.1", pbx.ports.agents)
            )
            if register:
                await phone.register()
        opened.append(phone)
        return phone

    yield make
    for phone in opened:
        try:
            async with asyncio.timeout(5):
                await phone.close()
        except Exception as exc:  # a phone's close must not hide the test's own result
            print(f"closing {phone}: {exc!r}")


# Seconds after the carrier opens by which Asterisk's first qualify of it (sent within 1 s of
# booting, timed out after 3 s) is over.
FIRST_QUALIFY_OVER = 5.0


async def carrier_reachable(pbx: Asterisk, carrier: Phone, within: float = 30.0) -> None:
    """Wait until Asterisk sees the carrier's static contact as reachable.

    A real carrier is always up; ours opens with each test, after Asterisk has already sent its
    first OPTIONS (within a second of booting: max_initial_qualify_time) to a closed port, and a
    Dial to an unavailable contact fails at once ("Could not create dialog to invalid URI"). So
    the tier waits for that first OPTIONS to be answered or to time out (3 s; the contact is
    ``NonQual`` until then: a qualify asked meanwhile would be undone by its timeout), then asks
    Asterisk to qualify again and waits for the answer, as an operator would after bringing a
    trunk up. If it never comes, the failure says what Asterisk showed and what the carrier got.
    """
    contact = f"carrier/sip:127.0.0.1:{pbx.ports.carrier}"
    loop = asyncio.get_running_loop()
    began = loop.time()
    seen: list[str] = []  # each status Asterisk showed, in order, once per change
    qualified = 0

    async def status() -> str:
        out = await asyncio.to_thread(pbx.cli, "pjsip show contacts")
        found = "(no such contact)"
        for line in out.splitlines():
            fields = line.split()
            if fields[:2] == ["Contact:", contact]:
                found = fields[3]
        if not seen or seen[-1] != found:
            seen.append(found)
        return found

    try:
        async with asyncio.timeout(within):
            while (now := await status()) != "Avail":
                # Still NonQual well after that first OPTIONS timed out: Asterisk never sent it
                # (seen once: 30 s of NonQual, no OPTIONS at the carrier; the next would come with
                # qualify_frequency, 60 s after boot), so it is asked for.
                if now != "NonQual" or loop.time() - began > FIRST_QUALIFY_OVER:
                    await asyncio.to_thread(pbx.cli, "pjsip qualify carrier")
                    qualified += 1
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(
            f"the carrier {contact} was not reachable within {within:g} s: Asterisk showed"
            f" {' -> '.join(seen) or 'nothing yet'}; {qualified} qualifies asked; the carrier answered"
            f" {carrier.received['OPTIONS']} OPTIONS"
        ) from None


async def make_users(database_url: str) -> None:
    async with Database(database_url) as db:
        await add_user(
            db,
            username="ana",
            password=PASSWORDS["ana"],
            role="operator",
            routines=["telemarketing"],
            extension="PJSIP/agent1",
            full_name="Ana Lima",
            personal_data=True,
        )
        await add_user(
            db,
            username="bruno",
            password=PASSWORDS["bruno"],
            role="operator",
            routines=["telemarketing"],
            extension="PJSIP/agent2",
            full_name="Bruno Dias",
            personal_data=True,
        )
        # No phone: she states it on the wallboard (PJSIP/agent9) when she wants to listen.
        await add_user(
            db,
            username="sofia",
            password=PASSWORDS["sofia"],
            role="supervisor",
            full_name="Sofia Reis",
            personal_data=True,
        )
        await add_user(db, username="root", password=PASSWORDS["root"], role="admin")


@pytest.fixture
async def cti(pbx: Asterisk, migrated_database: str) -> AsyncIterator[CtiServer]:
    """``cti serve`` connected to ``pbx``, on a fresh database with the tier's users."""
    await make_users(migrated_database)
    extra = (
        f'[softphone]\nws_url = "wss://127.0.0.1:{pbx.ports.https}/ws"\ndomain = "127.0.0.1"\n'
        f'[recordings]\ndir = "{pbx.recordings}"\npurge_every_minutes = 0.02\n'
    )
    server = CtiServer(database_url=migrated_database, ami_port=pbx.ports.ami, extra=extra)
    server.start()
    try:
        await server.wait_ready()
        yield server
    finally:
        await server.stop()
        print(f"--- cti serve log (last lines) ---\n{server.tail()}")


@pytest.fixture
async def signed_in(
    cti: CtiServer,
) -> AsyncIterator[Callable[[str], Awaitable[Client]]]:
    """HTTP clients signed in to ``cti`` as one of the tier's users."""
    import aiohttp

    sessions: list[aiohttp.ClientSession] = []

    async def make(username: str) -> Client:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(http)
        client = Client(http=http, base=cti.url)
        resp = await client.login(username, PASSWORDS[username])
        assert resp.status == 200, await resp.text()
        return client

    yield make
    for http in sessions:
        await http.close()
