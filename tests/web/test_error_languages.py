"""The API's messages for people in the reader's language: a refused body, a missing record and a
rule's refusal answer in Portuguese or Spanish (the browser's Accept-Language, else the user's own
setting), with the values they name filled in; the field named stays the API's own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.web.conftest import Client, client_factory, service, users

__all__ = ["client_factory", "service", "users"]


async def _root(factory: Callable[[], Awaitable[Client]], password: str) -> Client:
    client = await factory()
    resp = await client.login("root", password)
    assert resp.status == 200, await resp.text()
    return client


async def _answer(
    client: Client, method: str, path: str, language: str, body: Any = None
) -> tuple[int, dict[str, Any]]:
    headers = {"X-CSRF-Token": client.csrf, "Accept-Language": language}
    resp = await client.http.request(method, f"{client.base}{path}", json=body, headers=headers)
    return resp.status, await resp.json()


async def test_a_refused_body_and_a_missing_record_answer_in_the_browsers_language(
    client_factory: Callable[[], Awaitable[Client]], users: dict[str, str]
) -> None:
    root = await _root(client_factory, users["root"])

    status, said = await _answer(root, "POST", "api/v1/users", "pt-BR,pt;q=0.9", {})
    assert status == 400
    assert said["field"] == "username" and said["error"] == "é obrigatório"

    status, said = await _answer(
        root, "POST", "api/v1/users", "es", {"username": "eva", "password": 5}
    )
    assert status == 400
    assert said["field"] == "password" and said["error"] == "se esperaba texto"

    status, said = await _answer(root, "PATCH", "api/v1/users/987654", "es-AR", {})
    assert status == 404
    assert said["error"] == "usuario 987654 no existe"

    # English when the browser asks for it, and for a language we do not speak.
    for language in ("en-US", "de-DE"):
        status, said = await _answer(root, "PATCH", "api/v1/users/987654", language, {})
        assert said["error"] == "user 987654 does not exist"


async def test_a_users_own_language_wins_over_the_browsers(
    client_factory: Callable[[], Awaitable[Client]], users: dict[str, str]
) -> None:
    root = await _root(client_factory, users["root"])
    status, _ = await _answer(root, "PUT", "api/v1/me/language", "en", {"language": "pt-BR"})
    assert status == 200
    status, said = await _answer(root, "PATCH", "api/v1/users/987654", "es", {})
    assert status == 404 and said["error"] == "usuário 987654 não existe"


async def test_a_rules_refusal_and_a_bound_with_its_value_in_portuguese_and_spanish(
    client_factory: Callable[[], Awaitable[Client]], users: dict[str, str]
) -> None:
    root = await _root(client_factory, users["root"])
    me = f"api/v1/users/{root.user['id']}"
    status, said = await _answer(root, "PATCH", me, "pt-BR", {"role": "operator"})
    assert status == 409 and said["field"] == "role"
    assert said["error"] == (
        "você não pode tirar o seu próprio papel de administrador; peça a outro administrador"
    )
    status, said = await _answer(root, "POST", f"{me}/deactivate", "es")
    assert status == 409
    assert said["error"] == (
        "no puede desactivar su propia cuenta de administrador; pídaselo a otro administrador"
    )
    # A rule with its value filled in: the password's minimum length.
    status, said = await _answer(
        root,
        "POST",
        "api/v1/users",
        "pt-BR",
        {"username": "eva", "password": "curta", "role": "operator", "routines": ["telesales"]},
    )
    assert status == 400 and said["field"] == "password"
    assert said["error"].startswith("deve ter pelo menos ") and said["error"].endswith(
        " caracteres"
    )
    # And nothing was stored by any of them.
    status, listed = await _answer(root, "GET", "api/v1/users", "en")
    assert status == 200 and "eva" not in str(listed)


async def _login(factory: Callable[[], Awaitable[Client]], username: str, password: str) -> Client:
    client = await factory()
    resp = await client.login(username, password)
    assert resp.status == 200, await resp.text()
    return client


async def test_a_back_office_refusal_names_its_values_in_the_readers_language(
    client_factory: Callable[[], Awaitable[Client]], users: dict[str, str]
) -> None:
    root = await _root(client_factory, users["root"])
    ana = await _login(client_factory, "ana", users["ana"])
    situation = {"name": "Awaiting payment", "pending": True, "usual_pending": True}
    status, _ = await _answer(root, "PUT", "api/v1/config/message-situations/AP", "en", situation)
    assert status == 200
    message = {"from_phone": "+12025550199", "to_user_id": 1, "description": "call back"}
    status, made = await _answer(ana, "POST", "api/v1/messages", "en", message)
    assert status == 201, made

    # A situation a message uses is not removed (Refused, 409): its code in the reader's words.
    path = "api/v1/config/message-situations/AP"
    status, said = await _answer(root, "DELETE", path, "pt-BR")
    assert status == 409
    assert said["error"] == "AP está em uso; não pode ser removido"
    status, said = await _answer(root, "DELETE", path, "es-MX")
    assert status == 409
    assert said["error"] == "AP está en uso; no se puede eliminar"
    status, said = await _answer(root, "DELETE", path, "en")
    assert said["error"] == "AP is in use; it cannot be removed"

    # A settings table's own word for a record that does not exist.
    body = {"name": "Lunch"}
    status, said = await _answer(root, "PATCH", "api/v1/config/pause-reasons/987", "pt-BR", body)
    assert status == 404
    assert said["error"] == "motivo de pausa 987 não existe"


async def test_a_campaign_a_search_and_a_report_refused_with_their_values(
    client_factory: Callable[[], Awaitable[Client]], users: dict[str, str]
) -> None:
    sofia = await _login(client_factory, "sofia", users["sofia"])
    campaign = {"name": "Winter", "kind": "telesales", "mode": "preview", "queue": "sales"}
    status, made = await _answer(sofia, "POST", "api/v1/campaigns", "en", campaign)
    assert status == 201, made

    status, said = await _answer(sofia, "POST", "api/v1/campaigns", "es", campaign)
    assert status == 400 and said["field"] == "name"
    assert said["error"] == "ya hay una campaña llamada 'Winter'"

    status, said = await _answer(sofia, "GET", "api/v1/customers?q=a", "pt-BR")
    assert status == 400 and said["field"] == "q"
    assert said["error"] == "digite pelo menos 2 caracteres"

    status, said = await _answer(sofia, "GET", "api/v1/reports/nonsense", "pt-BR")
    assert status == 404
    assert said["error"].startswith("relatório inexistente; um de ")
