"""Sign-in takes only JSON from cti's own pages (no login CSRF), and its throttle cannot be reset by
slipping a valid sign-in between guesses."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from tests.web.conftest import Client, client_factory, service, users

__all__ = ["client_factory", "service", "users"]

ClientFactory = Callable[[], Awaitable[Client]]


async def test_sign_in_refuses_forms_and_foreign_pages(
    users: dict[str, str], client_factory: ClientFactory
) -> None:
    c = await client_factory()
    url = f"{c.base}api/v1/login"
    creds = {"username": "ana", "password": users["ana"]}
    # What a foreign page's <form> can send without a preflight: text/plain, urlencoded.
    for content_type, data in (
        ("text/plain", json.dumps(creds)),
        ("application/x-www-form-urlencoded", "username=ana&password=" + users["ana"]),
    ):
        resp = await c.http.post(url, data=data, headers={"Content-Type": content_type})
        assert resp.status == 415, await resp.text()
        assert (await resp.json())["field"] == "Content-Type"
        assert "cti_session" not in resp.cookies
    foreign = await c.http.post(url, json=creds, headers={"Origin": "http://evil.example"})
    assert foreign.status == 403 and (await foreign.json())["field"] == "Origin"
    assert "cti_session" not in foreign.cookies
    own = await c.http.post(url, json=creds, headers={"Origin": c.base.rstrip("/")})
    assert own.status == 200
    assert (await c.login("ana", users["ana"])).status == 200  # no Origin: a script


async def test_a_valid_sign_in_does_not_reset_the_addresss_failures(
    users: dict[str, str], client_factory: ClientFactory
) -> None:
    attacker = await client_factory()
    statuses = []
    for n in range(24):
        # guesses at many accounts, with the attacker's own valid sign-in between every two
        statuses.append((await attacker.login(f"user{n}", "guess-123456")).status)
        if n % 2:
            assert (await attacker.login("bruno", users["bruno"])).status in (200, 429)
    assert statuses[:20] == [401] * 20
    assert statuses[-1] == 429, statuses


async def test_an_accounts_failures_at_an_address_survive_anothers_sign_in(
    users: dict[str, str], client_factory: ClientFactory
) -> None:
    c = await client_factory()
    assert [(await c.login("ana", "wrong-pass-1")).status for _ in range(4)] == [401] * 4
    assert (await c.login("bruno", users["bruno"])).status == 200
    assert (await c.login("ana", "wrong-pass-1")).status == 429
