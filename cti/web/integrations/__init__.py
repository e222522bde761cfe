"""Integrations (docs/integrations.md): webhooks from an outbox, the event stream, API keys and
click-to-call for other systems (a CRM)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from cti.web.api import Api
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
    calls = CallEvents(runtime, wake)
    webhooks = WebhookWorker(runtime, wake)
    calls.start()
    webhooks.start()
    yield
    await calls.stop()
    await webhooks.stop()


async def _end_streams(app: web.Application) -> None:
    app[public.STOPPING].set()


def setup(app: web.Application) -> None:
    app[public.STOPPING] = asyncio.Event()
    app.on_shutdown.append(_end_streams)
    app.cleanup_ctx.append(_workers)


__all__ = ["register", "setup"]
