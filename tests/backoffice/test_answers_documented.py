"""The telesales, collection, case and message endpoints answer what their OpenAPI models say.

Every route of those modules is called once, in an order that makes each call succeed, and its
answer is validated against the route's response model (the models forbid unknown keys, so a key
added to an answer and not to its model fails here). The models are the ones the OpenAPI document
shows under their names.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from cti.web.backoffice import cases, collection, messages, telesales
from tests.web.conftest import Client
from tests.web.test_openapi import _api

from .conftest import Login, body

MODULES = (cases, collection, messages, telesales)
ROUTES = {(r.method, r.path): r for m in MODULES for r in m.ROUTES}


def _models() -> set[type[BaseModel]]:
    return {
        model
        for r in ROUTES.values()
        for model in (r.body, r.response)
        if isinstance(model, type) and issubclass(model, BaseModel)
    }


def test_every_route_declares_its_answer_and_the_document_shows_its_models() -> None:
    assert all(r.response is not None for r in ROUTES.values())
    schemas = _api().openapi()["components"]["schemas"]
    for model in _models():
        own = model.model_json_schema(ref_template="#/components/schemas/{model}")
        own.pop("$defs", None)
        assert schemas[model.__name__] == own, f"{model.__name__} is another model's name too"


class _Walk:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    async def call(
        self,
        client: Client,
        method: str,
        route: str,
        path: str | None = None,
        json: Any = None,
        status: int = 200,
    ) -> Any:
        """Call ``route`` (at ``path``, default the route's) and check the answer's model."""
        declared = ROUTES[(method, route)].response
        assert isinstance(declared, type) and issubclass(declared, BaseModel)
        url = f"{client.base}{(path or route).lstrip('/')}"
        headers = {"X-CSRF-Token": client.csrf}
        async with client.http.request(method, url, json=json, headers=headers) as resp:
            answer = await body(resp, status)
        declared.model_validate(answer)
        self.seen.add((method, route))
        return answer


async def test_every_answer_matches_its_model(login: Login) -> None:
    walk = _Walk()
    admin, carla, bruno, sofia, ana, diego = [
        await login(n) for n in ("admin", "carla", "bruno", "sofia", "ana", "diego")
    ]

    # Cases.
    await walk.call(admin, "GET", "/api/v1/cases")
    await walk.call(diego, "GET", "/api/v1/cases/counts")
    made = await walk.call(
        admin,
        "POST",
        "/api/v1/cases",
        json={"customer_id": 1, "kind": "telesales", "subject": "Renewal"},
        status=201,
    )
    await walk.call(
        admin, "GET", "/api/v1/cases/suggestion", "/api/v1/cases/suggestion?kind=collection"
    )
    await walk.call(
        admin,
        "POST",
        "/api/v1/cases/assign",
        json={"case_ids": [made["id"]], "operator_id": bruno.user["id"]},
    )
    case = f"/api/v1/cases/{made['id']}"
    await walk.call(bruno, "GET", "/api/v1/cases/{id}", case)
    await walk.call(
        bruno, "POST", "/api/v1/cases/{id}/status", f"{case}/status", json={"status": "suspended"}
    )

    # Collection.
    await walk.call(carla, "GET", "/api/v1/collection/delinquents")
    position = await walk.call(
        carla,
        "GET",
        "/api/v1/collection/customers/{id}/position",
        "/api/v1/collection/customers/4/position",
    )
    promises = []
    for amount in ("100.00", 50):
        promises.append(
            await walk.call(
                carla,
                "POST",
                "/api/v1/collection/promises",
                json={"customer_id": 4, "promised_on": "2026-03-09", "amount": amount},
                status=201,
            )
        )
    for promise, how in zip(promises, ("kept", "broken"), strict=True):
        route = f"/api/v1/collection/promises/{{id}}/{how}"
        await walk.call(carla, "POST", route, route.replace("{id}", str(promise["id"])))
    plan = await walk.call(
        carla,
        "POST",
        "/api/v1/collection/plans",
        json={"customer_id": 6, "instalments": [{"due_on": "2026-03-10", "amount": "10.00"}]},
        status=201,
    )
    await walk.call(
        carla,
        "POST",
        "/api/v1/collection/plans/{id}/instalments/{seq}/paid",
        f"/api/v1/collection/plans/{plan['id']}/instalments/1/paid",
    )
    await walk.call(sofia, "POST", "/api/v1/collection/break-overdue")
    await walk.call(
        sofia,
        "POST",
        "/api/v1/collection/invoices/{id}/paid",
        f"/api/v1/collection/invoices/{position['overdue'][0]['id']}/paid",
    )

    # Telesales.
    await walk.call(bruno, "GET", "/api/v1/telesales/products")
    items = [{"product_id": 1, "quantity": 2}, {"product_id": 3, "quantity": "1.5"}]
    quote = await walk.call(
        bruno,
        "POST",
        "/api/v1/telesales/quotes",
        json={"customer_id": 3, "valid_until": "2026-03-20", "items": items},
        status=201,
    )
    await walk.call(
        bruno, "GET", "/api/v1/telesales/quotes", "/api/v1/telesales/quotes?customer_id=3"
    )
    q = f"/api/v1/telesales/quotes/{quote['id']}"
    await walk.call(bruno, "GET", "/api/v1/telesales/quotes/{id}", q)
    await walk.call(bruno, "PATCH", "/api/v1/telesales/quotes/{id}", q, json={"valid_until": None})
    order = await walk.call(
        bruno, "POST", "/api/v1/telesales/quotes/{id}/order", f"{q}/order", status=201
    )
    await walk.call(bruno, "GET", "/api/v1/telesales/orders")
    await walk.call(
        bruno,
        "POST",
        "/api/v1/telesales/orders",
        json={"customer_id": 3, "items": items[:1]},
        status=201,
    )
    o = f"/api/v1/telesales/orders/{order['id']}"
    await walk.call(bruno, "GET", "/api/v1/telesales/orders/{id}", o)
    await walk.call(bruno, "PATCH", "/api/v1/telesales/orders/{id}", o, json={"items": items[1:]})
    await walk.call(
        sofia,
        "POST",
        "/api/v1/telesales/orders/{id}/bill",
        f"{o}/bill",
        json={"invoice_number": "NF-3000"},
    )

    # Messages: ana registers them for her own group (Service, 2); diego reads them masked.
    new = {"from_phone": "+12025550199", "to_group_id": 2, "description": "Call back"}
    message = await walk.call(ana, "POST", "/api/v1/messages", json=new, status=201)
    other = await walk.call(ana, "POST", "/api/v1/messages", json=new, status=201)
    await walk.call(diego, "GET", "/api/v1/messages")
    m = f"/api/v1/messages/{message['id']}"
    await walk.call(ana, "GET", "/api/v1/messages/{id}", m)
    await walk.call(ana, "PATCH", "/api/v1/messages/{id}", m, json={"situation_code": "FI"})
    await walk.call(
        ana, "POST", "/api/v1/messages/{id}/notes", f"{m}/notes", json={"text": "Tried"}, status=201
    )
    await walk.call(
        ana,
        "POST",
        "/api/v1/messages/{id}/postpone",
        f"{m}/postpone",
        json={"until": "2026-03-03T10:00:00Z", "reason": "away", "to_group_id": 2},
    )
    await walk.call(ana, "POST", "/api/v1/messages/{id}/finalize", f"{m}/finalize", json={})
    await walk.call(
        ana,
        "POST",
        "/api/v1/messages/{id}/attention",
        f"/api/v1/messages/{other['id']}/attention",
        json={"kind": "telemarketing"},
        status=201,
    )

    assert set(ROUTES) - walk.seen == set()
