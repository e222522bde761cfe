"""The integrations' background work: the call events' writer and the webhook delivery worker.

``CallEvents`` listens to the AMI notices (sync, O(1)) and writes the call events to the outbox
in their order, one transaction per batch: the events that arrive within ``GATHER`` seconds of
the first (a call's events have no database change of their own to share a transaction with:
the PBX is their source; at 50 calls a second, one transaction an event was a tenth of the
desk's statements, and ``GATHER`` is nothing to a webhook's receiver).

``WebhookWorker`` posts due deliveries: each is claimed (its row locked, ``SKIP LOCKED``, so any
number of cti processes on one database never post the same one at once), posted, and its outcome
written in the same transaction. A process stopped mid-post leaves the row pending (its
transaction rolls back): it is posted again after a start (at least once; the receiver
deduplicates by the ``Idempotency-Key`` header, the event id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import aiohttp

from cti import __version__
from cti.db import outbox
from cti.domain.integrations import (
    SIGNATURE_HEADER,
    CallTranslator,
    DeliveryStatus,
    NewEvent,
    after_failure,
    body_of,
    retry_delay,
    signature_header,
)
from cti.domain.notices import AnyNotice
from cti.runtime import Runtime

log = logging.getLogger("cti.integrations")

PURGE_EVERY = 3600.0  # seconds
QUEUE_SIZE = 10_000
BATCH = 200
GATHER = 0.05  # seconds a batch of call events waits for more after its first
WORKERS = 4


class CallEvents:
    """Writes the call events of the AMI notices to the outbox, in order."""

    def __init__(self, runtime: Runtime, on_written: asyncio.Event) -> None:
        self.rt = runtime
        self._queue: asyncio.Queue[NewEvent | None] = asyncio.Queue(QUEUE_SIZE)
        self._written = on_written
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: object = None
        self._translator = CallTranslator()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="call-events")
        unsubscribe = self.rt.ami.subscribe(self.on_notice)
        self._unsubscribe = unsubscribe

    def on_notice(self, notice: AnyNotice) -> None:
        event = self._translator.event_of(notice)
        if event is None:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            log.error("call events: the outbox writer is %d events behind; one dropped", QUEUE_SIZE)

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            await asyncio.sleep(GATHER)
            batch = [first]
            while len(batch) < BATCH and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    await self._write(batch)
                    return
                batch.append(item)
            await self._write(batch)

    async def _write(self, batch: list[NewEvent]) -> None:
        for attempt in range(5):
            try:
                deliveries = await outbox.emit_now(self.rt.db, batch)
            except Exception:
                log.exception("call events: writing %d events failed (try %d)", len(batch), attempt)
                await asyncio.sleep(0.5 * (attempt + 1))
            else:
                if deliveries:
                    self._written.set()
                return

    async def stop(self) -> None:
        if callable(self._unsubscribe):
            self._unsubscribe()
        if self._task is not None:
            self._queue.put_nowait(None)
            try:
                async with asyncio.timeout(3.0):
                    await self._task
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task


class WebhookWorker:
    """Posts the due webhook deliveries, signed, with retries; several run side by side."""

    def __init__(self, runtime: Runtime, wake: asyncio.Event) -> None:
        self.rt = runtime
        self.settings = runtime.settings.webhooks
        self.wake = wake
        self._tasks: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None
        # The endpoints this process is posting to: one post at a time each, so a slow receiver
        # holds one worker, never all of them.
        self._busy: set[int] = set()
        self._claiming = asyncio.Lock()

    def start(self) -> None:
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            headers={"User-Agent": f"cti-webhooks/{__version__}"},
        )
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._loop(), name=f"webhooks-{i}") for i in range(WORKERS)]
        self._tasks.append(loop.create_task(self._watch(), name="webhooks-watch"))
        self._tasks.append(loop.create_task(self._purging(), name="outbox-purge"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._http is not None:
            await self._http.close()

    async def _watch(self) -> None:
        """Every poll_seconds, one cheap look for due deliveries (written by any process): the
        delivery loops are woken when there are some."""
        while True:
            await asyncio.sleep(self.settings.poll_seconds)
            try:
                if await outbox.any_due(self.rt.db, self.rt.clock.now()):
                    self.wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhooks: looking for due deliveries failed")

    async def _loop(self) -> None:
        """Deliver while there is work, then wait to be woken (by the watcher, by a call event
        written here, or by another loop that found work)."""
        while True:
            try:
                busy = await self.deliver_one()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhooks: a delivery round failed")
                busy = False
            if not busy:
                self.wake.clear()
                await self.wake.wait()

    async def _purging(self) -> None:
        while True:
            try:
                await self.purge()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: the purge failed")
            await asyncio.sleep(PURGE_EVERY)

    async def purge(self) -> int:
        """Delete the events past their retention that no delivery waits for."""
        keep = timedelta(days=self.settings.retention_days)
        gone = await outbox.purge(self.rt.db, self.rt.clock.now() - keep)
        if gone:
            log.info("outbox: %d events older than %d days deleted", gone, keep.days)
        return gone

    async def deliver_one(self) -> bool:
        """Claim, post and record one due delivery; False when none is due."""
        async with self.rt.db.sessions.begin() as s:
            async with self._claiming:
                claimed = await outbox.claim(s, self.rt.clock.now(), self._busy)
                if claimed is None:
                    return False
                self._busy.add(claimed.endpoint_id)
            self.wake.set()  # there may be more: the idle loops look too
            try:
                http_status, error = await self._post(claimed)
            finally:
                self._busy.discard(claimed.endpoint_id)
            attempts = claimed.attempts + 1
            now = self.rt.clock.now()
            if error is None:
                status, retry_in = DeliveryStatus.DELIVERED, 0.0
            else:
                status = after_failure(attempts, self.settings.max_attempts)
                retry_in = retry_delay(
                    attempts, self.settings.backoff_seconds, self.settings.backoff_max_seconds
                )
            await outbox.record(
                s,
                claimed.id,
                status=status,
                attempts=attempts,
                now=now,
                retry_in=retry_in,
                http_status=http_status,
                error=error,
            )
        # The endpoint's URL and secret are never logged (a URL may hold a token).
        log.info(
            "webhook delivery %d (event %s): %s after %d attempt(s)%s",
            claimed.id,
            claimed.event["id"],
            status.value,
            attempts,
            f" ({error})" if error else "",
        )
        return True

    async def _post(self, claimed: outbox.Claimed) -> tuple[int | None, str | None]:
        """The receiver's HTTP status and what went wrong (None: delivered)."""
        assert self._http is not None
        body = body_of(claimed.event)
        timestamp = int(self.rt.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(claimed.secret, timestamp, body),
            "Idempotency-Key": str(claimed.event["id"]),
            "Cti-Event-Type": str(claimed.event["type"]),
        }
        try:
            # A redirect is not followed (it would post elsewhere than the admin said); the
            # answer's body is not read (only its status counts).
            async with self._http.post(
                claimed.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                if 200 <= resp.status < 300:
                    return resp.status, None
                return resp.status, f"HTTP {resp.status}"
        except TimeoutError:
            return None, f"no answer within {self.settings.timeout_seconds:g} s"
        except aiohttp.ClientError as exc:
            return None, type(exc).__name__
        except ValueError:  # an URL aiohttp cannot post to
            return None, "the URL cannot be posted to"


__all__ = ["CallEvents", "WebhookWorker"]
