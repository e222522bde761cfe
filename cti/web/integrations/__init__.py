"""Integrations (docs/integrations.md): webhooks from an outbox, the event stream, API keys and
click-to-call for other systems (a CRM)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from cti.db import outbox
from cti.web.api import Api
from cti.web.bus import INSTANCE_BUS
from cti.web.integrations import admin, public
from cti.web.integrations.worker import CallEvents, WebhookWorker
from cti.web.state import WEB


def register(api: Api) -> None:
    """Declare the integrations' endpoints."""
    api.add(admin.ROUTES)
    api.add(public.ROUTES)


async def _workers(app: web.Application) -> AsyncIterator[None]:
    """The call events' writer and the webhook worker, started and stopped with the app."""
    runtime = app[WEB].runtime
    wake = asyncio.Event()
    bell = app[public.OUTBOX_BELL]

    async def written(message: dict[str, object]) -> None:
        if message.get("deliveries"):
            wake.set()
        bell.ring()

    # An outbox write anywhere (this instance included) says so at its commit: the event
    # streams, and the webhook loops when it made deliveries, look now, not at their next poll
    # (with no endpoint taking the events, nothing is claimed for each call event).
    app[INSTANCE_BUS].on(outbox.OUTBOX_KIND, written)
    calls = CallEvents(runtime, wake)
    webhooks = WebhookWorker(runtime, wake)
    calls.start()
    webhooks.start()
    yield
    await calls.stop()
    await webhooks.stop()


async def _end_streams(app: web.Application) -> None:
    app[public.STOPPING].set()
    app[public.OUTBOX_BELL].ring()


def setup(app: web.Application) -> None:
    app[public.STOPPING] = asyncio.Event()
    app[public.OUTBOX_BELL] = public.Doorbell()
    app.on_shutdown.append(_end_streams)
    app.cleanup_ctx.append(_workers)


__all__ = ["register", "setup"]
