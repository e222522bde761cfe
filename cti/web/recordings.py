"""Call recordings: tied to their calls as calls end, played to users allowed to hear personal
data, stopped at a caller's request, purged after the retention period.

Asterisk records queue calls (``extensions.conf`` ``[cti-record]``: MixMonitor from the bridge on,
a file named by the caller channel's Uniqueid, the call log's key) into the folder cti reads as
``recordings.dir``. :class:`Recordings` ties each file to its call-log row once the call has ended
(an agent's call ending names the caller's Uniqueid; the file and the row may both come a moment
later, so it retries for a while) and purges recordings older than ``recordings.retention_days``
with their rows.

``GET /api/v1/recordings/{id}`` plays one (the file as is, with HTTP range requests so the browser
can seek). Recordings are personal data: a user without ``personal_data`` is refused (403) and the
refusal is audited; each playback is audited (once per playback: the browser's later range
requests to seek are not). ``POST /api/v1/desk/recording/stop`` stops the recording of the
operator's current call (AMI ``StopMixMonitor``): what was recorded until then is kept, marked
stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from cti.db import recordings as repo
from cti.db.audit import audit
from cti.domain.commands import StopRecording
from cti.domain.events import UniqueId
from cti.domain.notices import AgentCallEnded, CallEnded, DialerConnected
from cti.domain.recordings import WAV_HEADER, wav_finished
from cti.errors import AmiError
from cti.i18n import _
from cti.runtime import Runtime
from cti.web.api import Api, HTTPProblem, Route, RouteMaker
from cti.web.backoffice.common import path_id
from cti.web.desk_phone import reply, seated
from cti.web.models import Done
from cti.web.personal import permission
from cti.web.state import WEB, current, web_state

log = logging.getLogger(__name__)

route = RouteMaker("desk", "operator")

# How long a finished call's file and call-log row are waited for (MixMonitor closes the file at
# hangup; the call log writes in batches).
ATTACH_TRIES = 30
ATTACH_EVERY = 1.0
# A file still being written (the caller is still on, talking to another agent after a transfer)
# is waited for while its call lasts, up to this long; then tied as it is.
WRITING_AT_MOST = 12 * 3600.0


class Recordings:
    """Ties recording files to their calls, and purges old ones."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        settings = runtime.settings.recordings
        self.folder = Path(settings.dir) if settings.dir else None
        self._retention = timedelta(days=settings.retention_days)
        self._purge_every = settings.purge_every_minutes * 60
        # (pbx, caller Uniqueid) -> tries left; when its file was first seen still being written;
        # and who stopped a call's recording.
        self._pending: dict[tuple[str, str], int] = {}
        self._writing: dict[tuple[str, str], float] = {}
        # Preview calls connected: (pbx, Linkedid) -> the customer channel's Uniqueid.
        self._previews: dict[tuple[str, str], str] = {}
        self._stopped: dict[tuple[str, str], str] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Any = None

    def start(self) -> None:
        if self.folder is None:
            return
        self._unsubscribe = self._rt.ami.subscribe(self.on_notice)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._attach_loop(), name="recordings-attach"),
            loop.create_task(self._purge_loop(), name="recordings-purge"),
        ]

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def on_notice(self, notice: object) -> None:
        """The AMI listener (sync, O(1)): an agent's call ended, its recording may be there. A
        preview call (the customer's channel is recorded, [cti-dialer-connected]) has no queue:
        it is followed from its connect to the end of its call."""
        if isinstance(notice, AgentCallEnded):
            self._pending[(notice.pbx, notice.uniqueid)] = ATTACH_TRIES
            self._wake.set()
        elif isinstance(notice, DialerConnected):
            self._previews[(notice.pbx, notice.linkedid)] = notice.uniqueid
        elif isinstance(notice, CallEnded):
            uniqueid = self._previews.pop((notice.pbx, notice.linkedid), None)
            if uniqueid is not None:
                self._pending[(notice.pbx, uniqueid)] = ATTACH_TRIES
                self._wake.set()

    def stopped(self, pbx: str, uniqueid: str, actor: str) -> None:
        """The recording of this call was stopped by ``actor``."""
        self._stopped[(pbx, uniqueid)] = actor

    def path_of(self, file: str) -> Path:
        """Where a recording's file is (only a plain name in the folder is ever served)."""
        if self.folder is None or "/" in file or file.startswith("."):
            raise HTTPProblem(404, _("no such recording"))
        return self.folder / file

    async def attach_pending(self) -> None:
        """One round: tie every ended call whose file is finished and whose row is there; retry
        the others."""
        assert self.folder is not None
        now = asyncio.get_running_loop().time()
        for key, tries in list(self._pending.items()):
            pbx, uniqueid = key
            file = f"{uniqueid}.wav"
            made = None
            path = self.folder / file
            size = finished_size(path)
            if size is None and path.is_file():
                current = path.stat().st_size
                if current > WAV_HEADER:
                    # Sound after a header not yet set: MixMonitor still writes it.
                    since = self._writing.setdefault(key, now)
                    if now - since < WRITING_AT_MOST:
                        continue
                    size = current
                elif tries <= 1:
                    size = current  # an empty recording (stopped at once, or nothing heard)
            if size is not None:
                made = await repo.attach(
                    self._rt.db,
                    pbx=pbx,
                    uniqueid=uniqueid,
                    file=file,
                    size=size,
                    stopped_by=self._stopped.get(key),
                )
            if made is not None or tries <= 1:
                self._pending.pop(key, None)
                self._stopped.pop(key, None)
                self._writing.pop(key, None)
            else:
                self._pending[key] = tries - 1

    async def _attach_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                try:
                    await self.attach_pending()
                except Exception:
                    log.exception("recordings: could not tie recordings to their calls")
                await asyncio.sleep(ATTACH_EVERY)

    async def purge(self) -> int:
        """Delete the recordings past the retention period, files first; how many."""
        assert self.folder is not None
        before = self._rt.clock.now() - self._retention
        old = await repo.expired(self._rt.db, before)
        for _ident, file in old:
            (self.folder / file).unlink(missing_ok=True)
        return await repo.forget(
            self._rt.db, [i for i, _ in old], actor="retention", reason="retention period"
        )

    async def _purge_loop(self) -> None:
        while True:
            try:
                gone = await self.purge()
                if gone:
                    log.info("recordings: %d past the retention period deleted", gone)
            except Exception:
                log.exception("recordings: the retention purge failed")
            await asyncio.sleep(self._purge_every)


def finished_size(path: Path) -> int | None:
    """The size of a recording file its writer has closed; None if it is missing or still being
    written."""
    try:
        with path.open("rb") as f:
            header = f.read(WAV_HEADER)
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        return None
    return size if wav_finished(header, size) else None


RECORDINGS = web.AppKey("cti.recordings", Recordings)


# --- handlers -----------------------------------------------------------------------------------


async def play(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    user = current(request).user
    found = await repo.recording(st.runtime.db, path_id(request))
    subject = f"recording:{found.id}"
    details = {"call": found.linkedid, "attention": found.attention_id}
    if not await permission(st.runtime.db, user.id):
        await audit(st.runtime.db, user.username, "personal.recording.refused", subject, details)
        raise HTTPProblem(403, _("recordings are personal data: you may not hear them"))
    path = request.app[RECORDINGS].path_of(found.file)
    if not path.is_file():
        raise HTTPProblem(404, _("the recording's file is gone"))
    # One audit line per playback: a seek (a range not from the start) is the same playback.
    try:
        seeking = request.http_range.start not in (None, 0)
    except ValueError:
        raise HTTPProblem(416, _("Range: not a byte range this server reads")) from None
    if not seeking:
        await audit(st.runtime.db, user.username, "personal.recording.played", subject, details)
    response = web.FileResponse(path, headers={"Cache-Control": "no-store"})
    response.content_type = "audio/wav"
    return response


async def stop_recording(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    if agent.call is None:
        raise HTTPProblem(409, _("you have no call to act on"))
    st = web_state(request)
    state = st.runtime.ami.state(agent.pbx)
    uniqueid = str(agent.call["uniqueid"])
    caller = state.channels.get(UniqueId(uniqueid))
    if caller is None:
        raise HTTPProblem(409, _("you have no call to act on"))
    try:
        await st.runtime.ami.send(agent.pbx, StopRecording(channel=caller.name))
    except AmiError as exc:
        raise HTTPProblem(409, _("this call is not being recorded ({exc})"), exc=exc) from exc
    username = current(request).user.username
    request.app[RECORDINGS].stopped(agent.pbx, uniqueid, username)
    await audit(
        st.runtime.db, username, "recording.stopped", f"call:{agent.call.get('linkedid', '')}", {}
    )
    return reply(Done(ok=True))


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/recordings/{id}",
        play,
        "Play a call's recording (audio/wav; range requests; personal data, audited)",
        None,
        media_type="audio/wav",
    ),
    route(
        "POST",
        "/api/v1/desk/recording/stop",
        stop_recording,
        "Stop recording my current call (the caller refused it); what was recorded is kept",
        Done,
    ),
)


def register(api: Api) -> None:
    """Declare the recordings endpoints."""
    api.add(ROUTES)


def setup(app: web.Application) -> None:
    """The recordings service, started and stopped with the app."""

    async def service(app: web.Application) -> AsyncIterator[None]:
        recordings = Recordings(app[WEB].runtime)
        app[RECORDINGS] = recordings
        recordings.start()
        yield
        await recordings.stop()

    app.cleanup_ctx.append(service)
