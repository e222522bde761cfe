"""Customer search (``GET /api/v1/customers?q=``) over HTTP against the seeded demo database: by
name, code, tax id and phone, ranked, masked for a viewer without personal data, audited once."""

from __future__ import annotations

from typing import Any

import aiohttp

from cti.app import RunningService
from cti.db.backoffice.personal import Viewer
from cti.db.backoffice.search import search_customers
from cti.db.models import Customer
from cti.domain.backoffice import mask_name, mask_tax_id

from .conftest import Login, body


async def _find(client: Any, q: str, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await body(
        await client.get("/api/v1/customers", params={"q": q, **params})
    )
    return found


def _codes(found: list[dict[str, Any]]) -> list[str]:
    return [c["code"] for c in found]


async def test_finds_demo_customers_by_name_code_tax_id_and_phone(login: Login) -> None:
    ana = await login("ana")

    [padaria] = await _find(ana, "  padaria ")
    assert padaria == {
        "id": padaria["id"],
        "code": "C002",
        "name": "Padaria São Jorge",
        "region": "BR",
        "tax_id": "12.345.678/0001-90",
        "masked": False,
        "match": "name",
    }
    assert _codes(await _find(ana, "HARBOR")) == ["C004"]  # part of a name, any case
    assert _codes(await _find(ana, "ar")) == ["C004", "C005", "C002"]  # alphabetical by name
    by_code = await _find(ana, "c00")  # a code prefix: every demo customer, by name
    assert sorted(_codes(by_code)) == [f"C00{i}" for i in range(1, 9)]
    assert [c["name"] for c in by_code] == sorted((c["name"] for c in by_code), key=str.lower)
    assert (await _find(ana, "c007"))[0]["match"] == "code"

    # Tax ids by prefix, punctuation ignored on both sides.
    assert _codes(await _find(ana, "12.345.678")) == ["C001", "C002"]  # 12-3456789 and 12.345.678/…
    assert _codes(await _find(ana, "12345678/0001")) == ["C002"]
    assert _codes(await _find(ana, "fes-0102")) == ["C003"]  # FES010203AB1
    [exact] = await _find(ana, "12-3456789")
    assert (exact["code"], exact["match"]) == ("C001", "tax_id")

    # A phone written as people write it: the customer's own, or one of its contacts'.
    assert _codes(await _find(ana, "(202) 555-0111")) == ["C001"]  # Laura Smith, Acme's contact
    assert _codes(await _find(ana, "+55 11 95555-0112")) == ["C002"]  # João Pereira
    [by_phone] = await _find(ana, "+1 312 555 0105")  # Green Valley's main line
    assert (by_phone["code"], by_phone["match"]) == ("C005", "phone")
    assert await _find(ana, "(202) 555-0199") == []
    assert await _find(ana, "no such customer") == []


async def test_exact_matches_first_then_names_starting_with_it_then_the_rest(
    backoffice: RunningService, login: Login
) -> None:
    async with backoffice.runtime.db.sessions.begin() as s:
        s.add_all(
            [
                Customer(code="SOL", name="Zeta Energia", region="BR"),
                Customer(code="C100", name="Solaris Painéis", region="BR"),
                Customer(code="C101", name="Atelier Sol Nascente", region="BR"),
                Customer(code="C102", name="Mar Azul", tax_id="SOL-1", region="BR"),
            ]
        )
    ana = await login("ana")
    # SOL is a whole code; Solaris starts with it; the rest hold it, alphabetically (C003 is
    # Ferretería El Sol); Mar Azul's tax id starts with it.
    assert _codes(await _find(ana, "sol")) == ["SOL", "C100", "C101", "C003", "C102"]
    assert _codes(await _find(ana, "SOL1")) == ["C102"]  # its whole tax id: exact, first


async def test_a_viewer_without_personal_data_gets_name_and_tax_id_masked(login: Login) -> None:
    diego = await login("diego")  # the demo's operator without the personal_data permission
    [padaria] = await _find(diego, "padaria")
    assert padaria["masked"] is True
    assert padaria["tax_id"] == mask_tax_id("12.345.678/0001-90") == "12.***.***/****-90"
    assert padaria["name"] == mask_name("Padaria São Jorge")
    assert (padaria["code"], padaria["region"]) == ("C002", "BR")
    # A prefix of a tax id cannot uncover it a digit at a time; the whole of it finds the customer.
    assert await _find(diego, "12.345.678") == []
    assert _codes(await _find(diego, "12345678000190")) == ["C002"]
    # Nor can a part of a name uncover it a letter at a time: only whole words find it.
    for typed in ("pa", "pad", "padar", "padarib", "ria", "jorg"):
        assert await _find(diego, typed) == [], typed
    assert _codes(await _find(diego, "são jorge")) == ["C002"]
    assert _codes(await _find(diego, "PADARIA")) == ["C002"]

    ana = await login("ana")
    assert (await _find(ana, "padaria"))[0]["tax_id"] == "12.345.678/0001-90"


async def test_reads_are_audited_once_per_customer_and_viewer_not_per_keystroke_unless_masked(
    login: Login,
) -> None:
    ana, diego, admin = await login("ana"), await login("diego"), await login("admin")
    [padaria] = await _find(ana, "pa")
    for typed in ("pad", "pada", "padaria"):  # the picker searching as ana types
        await _find(ana, typed)
    await _find(diego, "padaria")
    await _find(diego, "padar")
    await _find(diego, "padaria")

    lines = await body(
        await admin.get("/api/v1/audit", params={"subject": f"customer:{padaria['id']}"})
    )
    searched = [
        (line["actor"], line["action"], line["details"]["fields"])
        for line in lines
        if line["details"].get("purpose") == "customer search"
    ]
    # ana (with the permission) once for her four searches; diego every time he is shown it.
    assert sorted(searched) == [
        ("ana", "personal.read", ["name", "tax_id"]),
        ("diego", "personal.masked", ["name", "tax_id"]),
        ("diego", "personal.masked", ["name", "tax_id"]),
    ]
    # And each of diego's searches, found or not, without what he typed.
    tries = await body(
        await admin.get("/api/v1/audit", params={"actor": "diego", "action": "customer.search"})
    )
    assert sorted((t["details"]["length"], t["details"]["found"]) for t in tries) == [
        (5, 0),
        (7, 1),
        (7, 1),
    ]
    assert "padar" not in str(tries)


async def test_bad_q_is_refused_naming_it_and_limit_holds(
    backoffice: RunningService, login: Login
) -> None:
    ana = await login("ana")
    for q in ("", " x ", "x" * 101):
        problem = await body(await ana.get("/api/v1/customers", params={"q": q}), 400)
        assert problem["field"] == "q", problem
    assert (await body(await ana.get("/api/v1/customers"), 400))["field"] == "q"
    assert len(await _find(ana, "x" * 100)) == 0  # 100 characters is still a search
    for limit in ("0", "51", "many"):
        problem = await body(
            await ana.get("/api/v1/customers", params={"q": "c0", "limit": limit}), 400
        )
        assert problem["field"] == "limit", problem
    assert _codes(await _find(ana, "c0", limit="3")) == ["C001", "C004", "C006"]  # Acme, Blue, Co…

    async with backoffice.runtime.db.sessions.begin() as s:
        s.add_all(Customer(code=f"L{i:02}", name=f"Lote {i:02}") for i in range(25))
    assert len(await _find(ana, "lote")) == 20  # the default limit
    assert len(await _find(ana, "lote", limit="50")) == 25
    viewer = Viewer(ana.user["id"], "ana")
    found = await search_customers(
        backoffice.runtime.db, "lote", viewer=viewer, region="US", limit=7
    )
    assert _codes(found) == [f"L{i:02}" for i in range(7)]

    # Signed-in users only; the endpoint is in the OpenAPI document.
    async with aiohttp.ClientSession() as stranger:
        anonymous = await stranger.get(f"{backoffice.url}api/v1/customers?q=acme")
        assert anonymous.status == 401
    openapi = await body(await ana.get("/api/v1/openapi.json"))
    operation = openapi["paths"]["/api/v1/customers"]["get"]
    assert "?q=" in operation["summary"] and operation["security"] == [{"session": []}]
