"""Composition root: builds every part from one Settings, runs them, stops them in stages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from cti.clock import Clock, SystemClock
from cti.config import Settings
from cti.gcpolicy import GcPolicy

if TYPE_CHECKING:
    from cti.ami.service import AmiService
    from cti.db.calllog import CallLog
    from cti.db.engine import Database
    from cti.runtime import Runtime

log = logging.getLogger("cti")

STOP_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class RunningService:
    """A started service: where it listens and its parts."""

    url: str
    port: int
    database_url: str
    runtime: Runtime
    app: web.Application


@asynccontextmanager
async def embedded_or_configured_database(settings: Settings) -> AsyncIterator[str]:
    """The configured database URL, or a private embedded PostgreSQL's when none is configured."""
    url = settings.database.url.reveal()
    if url:
        yield url
        return
    from cti.db.embedded import EmbeddedPostgres, default_data_dir

    data_dir = settings.database.embedded_dir or str(default_data_dir())
    log.info("no database URL configured: starting embedded PostgreSQL in %s", data_dir)
    async with EmbeddedPostgres(data_dir) as pg:
        yield pg.url


async def _stage(name: str, close: Callable[[], Awaitable[Any]]) -> None:
    """Run one shutdown stage with a timeout, so one stuck part cannot hold the others."""
    try:
        async with asyncio.timeout(STOP_TIMEOUT):
            await close()
    except TimeoutError:
        log.error("shutdown: %s did not stop within %.0f s", name, STOP_TIMEOUT)


@asynccontextmanager
async def running_service(
    settings: Settings,
    *,
    clock: Clock | None = None,
    database_url: str | None = None,
    migrate: bool = True,
) -> AsyncIterator[RunningService]:
    """Start the whole service; on exit stop it in stages (dialer → web → call log → AMI → DB)."""
    from cti.ami.service import AmiService
    from cti.db import migrate as migrations
    from cti.db.engine import Database
    from cti.dialer.service import DialerService
    from cti.instances import InstanceBeat
    from cti.runtime import Runtime
    from cti.web import campaigns
    from cti.web.app import build_app

    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        if database_url is None:
            database_url = await stack.enter_async_context(
                embedded_or_configured_database(settings)
            )
        if migrate:
            await asyncio.to_thread(migrations.upgrade, database_url)
        db = Database(
            database_url, pool_size=settings.database.pool_size, echo=settings.database.echo
        )
        await db.__aenter__()
        stack.push_async_callback(_stage, "database", lambda: db.__aexit__(None, None, None))
        ami = AmiService(settings.ami, clock=clock)
        await ami.__aenter__()
        stack.push_async_callback(_stage, "AMI links", lambda: ami.__aexit__(None, None, None))
        calls = _call_log(settings, db, ami)
        calls.start()
        unsubscribe = ami.subscribe(calls.on_notice)
        stack.push_async_callback(_stage, "call log", calls.stop)
        stack.callback(unsubscribe)
        runtime = Runtime(settings=settings, clock=clock, db=db, ami=ami)
        beat = InstanceBeat(db, runtime.instance)
        await beat.start()
        stack.push_async_callback(_stage, "instance beat", beat.stop)
        # Started after the AMI links and before the web server; stopped first (pushed last).
        dialer = DialerService(settings, clock, db, ami, database_url, instance=runtime.instance)
        await dialer.start()
        try:
            app = build_app(runtime)
            campaigns.attach(app, dialer)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
            await runner.setup()
            stack.push_async_callback(_stage, "web server", runner.cleanup)
        finally:
            stack.push_async_callback(_stage, "dialer", dialer.stop)
        site = web.TCPSite(runner, settings.server.host, settings.server.port)
        await site.start()
        gc_policy = GcPolicy()
        gc_policy.start()
        stack.push_async_callback(gc_policy.stop)
        port = _bound_port(runner, settings.server.port)
        host = settings.server.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        url = f"http://{shown}:{port}/"
        log.info("cti listening on %s", url)
        yield RunningService(
            url=url, port=port, database_url=database_url, runtime=runtime, app=app
        )
        log.info("stopping")


def _call_log(settings: Settings, db: Database, ami: AmiService) -> CallLog:
    """The call log writer, reading numbers in the configured region, dialer calls by context."""
    from cti.db.calllog import CallLog
    from cti.domain.phone import normalize_phone
    from cti.errors import UserInputError

    region = settings.telephony.default_region
    contexts = {p.name: p.dialer_context for p in settings.ami}

    def phone_of(caller: str) -> str | None:
        if not caller or caller in ("<unknown>", "anonymous"):
            return None
        try:
            return normalize_phone(caller, region)
        except UserInputError:
            return None

    def is_outbound(pbx: str, linkedid: str) -> bool:
        context = contexts.get(pbx)
        return context is not None and ami.state(pbx).call_runs_in(linkedid, context)

    return CallLog(db, phone_of=phone_of, is_outbound=is_outbound)


def _bound_port(runner: web.AppRunner, configured: int) -> int:
    for addr in runner.addresses:
        if isinstance(addr, tuple) and len(addr) >= 2:
            return int(addr[1])
    return configured


async def wait_for_stop_signal() -> None:
    """Return on SIGINT or SIGTERM (Ctrl-C, docker stop)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)


async def serve(settings: Settings) -> None:
    """``cti serve``: migrate, run until Ctrl-C or SIGTERM, stop cleanly."""
    async with running_service(settings):
        await wait_for_stop_signal()
