"""User administration over HTTP against PostgreSQL: admins add, change, reset, deactivate and
reactivate users; others are refused; changes reach open sessions; every change is audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.desk.conftest import open_desk
from tests.web.conftest import Client, client_factory, service, users

__all__ = ["client_factory", "service", "users"]

Factory = Callable[[], Awaitable[Client]]


async def _signed_in(factory: Factory, username: str, password: str) -> Client:
    client = await factory()
    resp = await client.login(username, password)
    assert resp.status == 200, await resp.text()
    return client


async def _json(resp: aiohttp.ClientResponse, status: int = 200) -> Any:
    data = await resp.json()
    assert resp.status == status, data
    return data


async def _audit(admin: Client, subject: str) -> list[dict[str, Any]]:
    """The administration's audit lines about a subject (sign-ins left out), newest first."""
    found = await _json(await admin.get(f"/api/v1/audit?subject={subject}&action=user.*"))
    return list(found)


async def test_admin_adds_a_user_with_the_cli_rules_and_changes_them(
    client_factory: Factory, users: dict[str, str]
) -> None:
    root = await _signed_in(client_factory, "root", users["root"])
    eva = {
        "username": "eva",
        "password": "eva-secret-1",
        "role": "operator",
        "routines": ["collection", "telesales"],
        "group": "Fast",
        "extension": "1010",
        "full_name": "Eva Gomes",
    }
    # The rules of `cti user add`, each refusal naming its field.
    for wrong, field in (
        ({"username": "ana"}, "username"),
        ({"password": "short"}, "password"),
        ({"routines": []}, "routines"),
        ({"group": "Nowhere"}, "group"),
        ({"extension": "PJSIP/agent1"}, "extension"),
        ({"role": "boss"}, "role"),
    ):
        problem = await _json(await root.post("/api/v1/users", json={**eva, **wrong}), 400)
        assert problem["field"] == field, (wrong, problem)

    made = await _json(await root.post("/api/v1/users", json=eva), 201)
    assert made["username"] == "eva" and made["role"] == "operator"
    assert made["routines"] == ["telesales", "collection"]
    assert (made["group"], made["extension"], made["interface"]) == ("Fast", "1010", "PJSIP/1010")
    assert made["active"] is True and made["personal_data"] is False
    assert "password" not in made and "password_hash" not in made

    listed = await _json(await root.get("/api/v1/users"))
    assert [u["username"] for u in listed] == ["ana", "bruno", "eva", "root", "sofia"]
    ana = next(u for u in listed if u["username"] == "ana")
    assert (ana["personal_data"], ana["interface"], ana["group"]) == (True, "PJSIP/agent1", "Fast")

    # She signs in with what the admin gave her.
    eva_client = await _signed_in(client_factory, "eva", "eva-secret-1")
    assert eva_client.user["routines"] == ["telesales", "collection"]

    # Change: role, routines, group, extension (its interface follows), personal data.
    uid = made["id"]
    taken = await root.patch(f"/api/v1/users/{uid}", json={"extension": "PJSIP/agent2"})
    assert (await _json(taken, 400))["field"] == "extension"
    unknown = await root.patch(f"/api/v1/users/{uid}", json={"group": "Nowhere"})
    assert (await _json(unknown, 400))["field"] == "group"
    bare = await root.patch(f"/api/v1/users/{uid}", json={"routines": []})
    assert (await _json(bare, 400))["field"] == "routines"
    changed = await _json(
        await root.patch(
            f"/api/v1/users/{uid}",
            json={
                "role": "supervisor",
                "routines": [],
                "group": None,
                "extension": "1011",
                "personal_data": True,
                "softphone": True,
            },
        )
    )
    assert (changed["role"], changed["routines"], changed["group"]) == ("supervisor", [], None)
    assert (changed["extension"], changed["interface"]) == ("1011", "PJSIP/1011")
    assert changed["personal_data"] is True
    assert changed["softphone"] is True  # their phone is now the desk's (WebRTC)

    # Audited, with what changed, and never a password.
    lines = await _audit(root, f"user:{uid}")
    assert [line["action"] for line in lines] == ["user.change", "user.add"]
    assert all(line["actor"] == "root" for line in lines)
    assert lines[0]["details"]["role"] == ["operator", "supervisor"]
    assert lines[0]["details"]["interface"] == ["PJSIP/1010", "PJSIP/1011"]
    assert lines[0]["details"]["softphone"] == [False, True]
    assert "eva-secret-1" not in str(lines)

    assert (await root.get("/api/v1/users/999999")).status == 404


async def test_only_admins_administer_users_but_everyone_sees_the_directory(
    client_factory: Factory, users: dict[str, str]
) -> None:
    ana = await _signed_in(client_factory, "ana", users["ana"])
    sofia = await _signed_in(client_factory, "sofia", users["sofia"])
    for client in (ana, sofia):
        assert (await client.get("/api/v1/users")).status == 403
        new = {"username": "x1", "password": "secret-123", "role": "admin"}
        assert (await client.post("/api/v1/users", json=new)).status == 403
        assert (await client.post("/api/v1/users/1/deactivate")).status == 403
        assert (await client.patch("/api/v1/users/1", json={"role": "admin"})).status == 403
    anonymous = await client_factory()
    assert (await anonymous.get("/api/v1/users/directory")).status == 401

    directory = await _json(await ana.get("/api/v1/users/directory"))
    assert {u["username"] for u in directory} == {"ana", "bruno", "sofia", "root"}
    assert set(directory[0]) == {"id", "username", "full_name", "role", "group_id", "group"}


async def test_a_change_reaches_the_users_open_session(
    client_factory: Factory, users: dict[str, str]
) -> None:
    root = await _signed_in(client_factory, "root", users["root"])
    ana = await _signed_in(client_factory, "ana", users["ana"])
    assert ana.user["personal_data"] is True
    await _json(
        await root.patch(
            f"/api/v1/users/{ana.user['id']}",
            json={"routines": ["telemarketing", "collection"], "personal_data": False},
        )
    )
    me = (await _json(await ana.get("/api/v1/me")))["user"]
    assert me["routines"] == ["telemarketing", "collection"]
    # Her group "Fast" does not grant personal data either: she now sees it masked.
    assert me["personal_data"] is False
    # The new routine opens the collection folder to her.
    assert (await ana.get("/api/v1/collection/delinquents")).status == 200


async def test_a_deactivated_user_is_signed_out_and_cannot_sign_in_until_reactivated(
    client_factory: Factory, users: dict[str, str]
) -> None:
    root = await _signed_in(client_factory, "root", users["root"])
    ana = await _signed_in(client_factory, "ana", users["ana"])
    desk = await open_desk(ana)
    uid = ana.user["id"]

    gone = await _json(await root.post(f"/api/v1/users/{uid}/deactivate"))
    assert gone["active"] is False and gone["sessions_ended"] == 1
    await desk.closed.wait()
    assert desk.ws.close_code == 4001
    assert (await ana.get("/api/v1/me")).status == 401
    again = await client_factory()
    assert (await again.login("ana", users["ana"])).status == 401
    listed = await _json(await root.get("/api/v1/users?active=false"))
    assert [u["username"] for u in listed] == ["ana"]
    # No longer offered as a message recipient.
    directory = await _json(await root.get("/api/v1/users/directory"))
    assert "ana" not in {u["username"] for u in directory}

    back = await _json(await root.post(f"/api/v1/users/{uid}/reactivate"))
    assert back["active"] is True
    assert (await again.login("ana", users["ana"])).status == 200
    actions = [line["action"] for line in await _audit(root, f"user:{uid}")]
    assert actions[:2] == ["user.reactivate", "user.deactivate"]


async def test_a_password_reset_ends_the_users_sessions(
    client_factory: Factory, users: dict[str, str]
) -> None:
    root = await _signed_in(client_factory, "root", users["root"])
    bruno = await _signed_in(client_factory, "bruno", users["bruno"])
    uid = bruno.user["id"]
    short = await root.post(f"/api/v1/users/{uid}/password", json={"password": "abc"})
    assert (await _json(short, 400))["field"] == "password"

    done = await _json(
        await root.post(f"/api/v1/users/{uid}/password", json={"password": "brand-new-9"})
    )
    assert done["sessions_ended"] == 1
    assert (await bruno.get("/api/v1/me")).status == 401
    fresh = await client_factory()
    assert (await fresh.login("bruno", users["bruno"])).status == 401
    assert (await fresh.login("bruno", "brand-new-9")).status == 200
    [line] = await _audit(root, f"user:{uid}")
    assert line["action"] == "user.password"
    assert "brand-new-9" not in str(line)
    # The admin's own session goes on.
    assert (await root.get("/api/v1/me")).status == 200


async def test_the_last_admin_and_ones_own_admin_rights_cannot_be_taken_away(
    client_factory: Factory, users: dict[str, str]
) -> None:
    root = await _signed_in(client_factory, "root", users["root"])
    me = root.user["id"]
    demote = await root.patch(f"/api/v1/users/{me}", json={"role": "supervisor"})
    problem = await _json(demote, 409)
    assert problem["field"] == "role" and "your own" in problem["error"]
    problem = await _json(await root.post(f"/api/v1/users/{me}/deactivate"), 409)
    assert problem["field"] == "active"

    boss = {"username": "boss", "password": "boss-secret-1", "role": "admin"}
    await _json(await root.post("/api/v1/users", json=boss), 201)
    other = await _signed_in(client_factory, "boss", "boss-secret-1")
    # With another admin, one may take root's admin role away.
    demoted = await _json(await other.patch(f"/api/v1/users/{me}", json={"role": "supervisor"}))
    assert demoted["role"] == "supervisor"
    # root's open session lost the admin pages at once.
    assert (await root.get("/api/v1/users")).status == 403
    # boss is now the last admin.
    promote = await other.patch(f"/api/v1/users/{other.user['id']}", json={"role": "operator"})
    assert (await _json(promote, 409))["field"] == "role"
