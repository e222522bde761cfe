"""What admins do with the integrations: webhook endpoints, their deliveries (replay one), API keys.

A webhook endpoint's secret and an API key's token are shown once, in the answer that made them;
they are never listed again, nor logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field

from cti.db import apikeys, outbox
from cti.db.audit import audit
from cti.domain.integrations import (
    DeliveryStatus,
    EventType,
    Scope,
    event_types,
    new_key,
    new_secret,
    scopes_of,
    webhook_url,
)
from cti.errors import UserInputError
from cti.i18n import _
from cti.web.api import Body, Route, RouteMaker, body_of
from cti.web.backoffice.common import path_id, query_int
from cti.web.models import Answer, Done
from cti.web.state import current, web_state

route = RouteMaker("integrations", "admin")

Url = Annotated[str, Field(min_length=1, max_length=2000)]
Names = Annotated[list[Annotated[str, Field(max_length=60)]], Field(max_length=20)]


class EndpointBody(Body):
    """A webhook endpoint: where to post, which events; the secret is made when not given."""

    url: Url
    events: Names
    secret: Annotated[str, Field(min_length=16, max_length=200)] | None = None


class EndpointChange(Body):
    """Only the fields sent change."""

    url: Url | None = None
    events: Names | None = None
    active: bool | None = None


class EndpointOut(Answer):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    pending: int = Field(description="deliveries still to make (or retry)")
    dead: int = Field(description="deliveries given up after the last retry (dead letters)")


class EndpointMade(EndpointOut):
    secret: str = Field(description="the signing secret: shown this once")


class Endpoints(Answer):
    endpoints: list[EndpointOut]
    events: list[str] = Field(description="every event an endpoint may subscribe to")


class DeliveryOut(Answer):
    id: int
    endpoint_id: int
    event_id: int = Field(description="the event id: the Idempotency-Key of each post")
    type: str
    key: str = Field(description="events of one key are delivered in order")
    status: str = Field(description="pending, delivered or dead")
    attempts: int
    next_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class Deliveries(Answer):
    deliveries: list[DeliveryOut]


class KeyBody(Body):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Names


class KeyOut(Answer):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyMade(KeyOut):
    token: str = Field(description="the key: shown this once (only its hash is kept)")


class Keys(Answer):
    keys: list[KeyOut]
    scopes: list[str]


async def _audit(
    request: web.Request, action: str, subject: str, details: dict[str, object] | None = None
) -> None:
    """An admin's change, in the audit log (never a secret nor a key)."""
    db = web_state(request).runtime.db
    await audit(db, current(request).user.username, action, subject, details)


def _json(model: BaseModel) -> web.Response:
    return web.json_response(text=model.model_dump_json())


async def list_endpoints(request: web.Request) -> web.StreamResponse:
    rows = await outbox.endpoints(web_state(request).runtime.db)
    return _json(
        Endpoints(
            endpoints=[_endpoint(r) for r in rows],
            events=[e.value for e in EventType],
        )
    )


def _endpoint(r: outbox.EndpointRow) -> EndpointOut:
    return EndpointOut(
        id=r.id,
        url=r.url,
        events=r.events,
        active=r.active,
        created_at=r.created_at,
        pending=r.pending,
        dead=r.dead,
    )


async def add_endpoint(request: web.Request) -> web.StreamResponse:
    body = body_of(request, EndpointBody)
    url = webhook_url(body.url)
    events = event_types(body.events)
    secret = body.secret or new_secret()
    r = await outbox.add_endpoint(web_state(request).runtime.db, url, events, secret)
    await _audit(request, "webhook.add", f"webhook:{r.id}", {"events": r.events})
    return _json(EndpointMade(**_endpoint(r).model_dump(), secret=secret))


async def change_endpoint(request: web.Request) -> web.StreamResponse:
    body = body_of(request, EndpointChange)
    ident = path_id(request)
    await outbox.change_endpoint(
        web_state(request).runtime.db,
        ident,
        url=None if body.url is None else webhook_url(body.url),
        events=None if body.events is None else event_types(body.events),
        active=body.active,
    )
    changed = body.model_dump(exclude_unset=True, exclude={"url"})
    await _audit(request, "webhook.change", f"webhook:{ident}", changed)
    return web.json_response({"ok": True})


async def remove_endpoint(request: web.Request) -> web.StreamResponse:
    ident = path_id(request)
    await outbox.remove_endpoint(web_state(request).runtime.db, ident)
    await _audit(request, "webhook.remove", f"webhook:{ident}")
    return web.json_response({"ok": True})


async def list_deliveries(request: web.Request) -> web.StreamResponse:
    text = request.query.get("status") or None
    if text is not None and text not in {s.value for s in DeliveryStatus}:
        raise UserInputError("status", _("expected pending, delivered or dead"))
    rows = await outbox.deliveries(
        web_state(request).runtime.db,
        status=None if text is None else DeliveryStatus(text),
        endpoint_id=query_int(request, "endpoint"),
    )
    return _json(Deliveries(deliveries=[_delivery(r) for r in rows]))


def _delivery(r: outbox.DeliveryRow) -> DeliveryOut:
    return DeliveryOut.model_validate(r, from_attributes=True)


async def replay(request: web.Request) -> web.StreamResponse:
    rt = web_state(request).runtime
    ident = path_id(request)
    await outbox.replay(rt.db, ident, rt.clock.now())
    await _audit(request, "webhook.replay", f"delivery:{ident}")
    return web.json_response({"ok": True})


async def list_keys(request: web.Request) -> web.StreamResponse:
    rows = await apikeys.keys(web_state(request).runtime.db)
    return _json(Keys(keys=[_key(r) for r in rows], scopes=[s.value for s in Scope]))


def _key(r: apikeys.KeyRow) -> KeyOut:
    return KeyOut(
        id=r.id,
        name=r.name,
        prefix=r.prefix,
        scopes=r.scopes,
        created_at=r.created_at,
        revoked_at=r.revoked_at,
        last_used_at=r.last_used_at,
    )


async def add_key(request: web.Request) -> web.StreamResponse:
    body = body_of(request, KeyBody)
    name = body.name.strip()
    if not name:
        raise UserInputError("name", _("is required"))
    scopes = scopes_of(body.scopes)
    key = new_key()
    row = await apikeys.add_key(
        web_state(request).runtime.db, name, scopes, key, current(request).user.id
    )
    await _audit(request, "apikey.add", f"apikey:{row.id}", {"name": name, "scopes": row.scopes})
    return _json(KeyMade(**_key(row).model_dump(), token=key.token))


async def revoke_key(request: web.Request) -> web.StreamResponse:
    rt = web_state(request).runtime
    ident = path_id(request)
    await apikeys.revoke(rt.db, ident, rt.clock.now())
    await _audit(request, "apikey.revoke", f"apikey:{ident}")
    return web.json_response({"ok": True})


ROUTES: tuple[Route, ...] = (
    route("GET", "/api/v1/webhooks", list_endpoints, "The webhook endpoints", Endpoints),
    route(
        "POST",
        "/api/v1/webhooks",
        add_endpoint,
        "Register a webhook endpoint (URL, events, secret); the secret is shown this once",
        EndpointMade,
        body=EndpointBody,
    ),
    route(
        "PATCH",
        "/api/v1/webhooks/{id}",
        change_endpoint,
        "Change an endpoint's URL or events, or switch it off and on",
        Done,
        body=EndpointChange,
    ),
    route(
        "DELETE",
        "/api/v1/webhooks/{id}",
        remove_endpoint,
        "Remove an endpoint and its deliveries",
        Done,
    ),
    route(
        "GET",
        "/api/v1/webhooks/deliveries",
        list_deliveries,
        "The latest 200 deliveries, newest first (?status=pending|delivered|dead, ?endpoint=id)",
        Deliveries,
    ),
    route(
        "POST",
        "/api/v1/webhooks/deliveries/{id}/replay",
        replay,
        "Send a delivery again (a dead letter, or one delivered): due now, attempts reset",
        Done,
    ),
    route("GET", "/api/v1/api-keys", list_keys, "The API keys (never their secrets)", Keys),
    route(
        "POST",
        "/api/v1/api-keys",
        add_key,
        "Make an API key for a service account, with its scopes; the key is shown this once",
        KeyMade,
        body=KeyBody,
    ),
    route(
        "DELETE",
        "/api/v1/api-keys/{id}",
        revoke_key,
        "Revoke an API key: refused from its next request on",
        Done,
    ),
)

__all__ = ["ROUTES"]
