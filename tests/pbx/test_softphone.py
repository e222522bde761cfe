"""The desk's softphone (WebRTC) on the real Asterisk: cti issues the account, Asterisk reads it from
cti's database (realtime PJSIP through res_config_pgsql), a browser-like client registers over
secure WebSocket, the agent is ready in their queues, and an account withdrawn or rotated no longer
registers."""

from __future__ import annotations

import asyncio

import aiohttp
import asyncpg

from cti.db.engine import Database
from cti.db.users import add_user
from tests.pbx.asterisk import Asterisk
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import PBX_WAIT, members, sign_in_to_phone, wait_desk
from tests.pbx.sipua import SipError
from tests.pbx.wsua import WsPhone
from tests.web.conftest import Client

CARLA = "carla-secret-pbx-1"


async def contact_status(pbx: Asterisk, aor: str) -> str | None:
    for line in (await asyncio.to_thread(pbx.cli, "pjsip show contacts")).splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[0] == "Contact:" and fields[1].startswith(f"{aor}/"):
            return fields[3]
    return None


async def test_the_desk_softphone_registers_over_wss_with_the_account_cti_issues(
    pbx: Asterisk, cti: CtiServer, migrated_database: str
) -> None:
    async with Database(migrated_database) as db:
        await add_user(
            db,
            username="carla",
            password=CARLA,
            role="operator",
            routines=["telemarketing"],
            extension="PJSIP/web1",
            full_name="Carla Souza",
            softphone=True,
        )
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        carla = Client(http=http, base=cti.url)
        assert (await carla.login("carla", CARLA)).status == 200
        resp = await carla.post("/api/v1/desk/softphone", json={})
        assert resp.status == 200, await resp.text()
        account = await resp.json()
        assert account["username"] == "web1" and account["uri"].startswith("sip:web1@")
        assert resp.headers["Cache-Control"] == "no-store"

        # cti keeps only the digest hash; Asterisk finds the endpoint in the database.
        conn = await asyncpg.connect(migrated_database.replace("+asyncpg", ""))
        try:
            auth = await conn.fetchrow("SELECT * FROM ps_auths WHERE id = 'web1'")
            assert auth is not None and account["password"] not in dict(auth).values()
        finally:
            await conn.close()
        shown = await asyncio.to_thread(pbx.cli, "pjsip show endpoint web1")
        assert "webrtc" in shown and "Carla Souza" in shown

        url = f"wss://127.0.0.1:{pbx.ports.https}/ws"
        phone = await WsPhone.open(
            url,
            user="web1",
            password=account["password"],
            domain="127.0.0.1",
            cafile=str(pbx.certificate),
        )
        try:
            assert await phone.register() == 200
            async with asyncio.timeout(PBX_WAIT):
                while await contact_status(pbx, "web1") != "Avail":
                    await asyncio.to_thread(pbx.cli, "pjsip qualify web1")
                    await asyncio.sleep(0.3)

            # The softphone is a phone like any other: the agent is ready in their queue.
            await sign_in_to_phone(carla)
            await wait_desk(carla, "ready", lambda d: d["state"] == "ready")
            assert any("PJSIP/web1" in m for m in await members(pbx, "support"))

            # Another desk asks for the phone: the password rotates, the old one is refused.
            again = await (await carla.post("/api/v1/desk/softphone", json={})).json()
            assert again["password"] != account["password"]
            refused = None
            try:
                await phone.register()
            except SipError as exc:
                refused = exc.status
            assert refused in (401, 403)
        finally:
            await phone.close()

        # Signing out of the desk withdraws the account: even the newest password is refused.
        assert (await carla.post("/api/v1/desk/signout", json={})).status == 200
        late = await WsPhone.open(
            url, user="web1", password=again["password"], domain="127.0.0.1",
            cafile=str(pbx.certificate),
        )  # fmt: skip
        try:
            refused = None
            try:
                await late.register()
            except SipError as exc:
                refused = exc.status
            assert refused in (401, 403)
        finally:
            await late.close()
