"""Several cti instances, one call center: which instance holds each operator's desk.

Each instance has its own AMI link and sees the whole PBX, so any of them can hold any desk; one
at a time does (the lease in :mod:`cti.db.desk.holders`), so a call's pop is audited once and its
attention opened once. Every :data:`BEAT` seconds an instance renews its leases, and:

* a desk made here (a sign-in, a restore) and not yet held is claimed;
* a desk another instance took (the operator's page connected there) is let go here, unless the
  page is still connected here (then it is taken back: the page is where the operator is);
* a desk given up here (a sign-out) is released;
* a desk whose holder stopped renewing (its instance was killed) or stopped cleanly is taken, if
  its operator still has a live session and their phone is still in a queue, with the call in
  progress, its pop, timer and attention (as a restart restores them).

A desk's page that connects to an instance not holding it is served there at once
(:meth:`DeskHolding.adopt`): that is how a reverse proxy moves the pages of a killed instance to
the others. The seats of every instance are kept here too, for the wallboard's names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from cti.db import sessions as sessions_repo
from cti.db.desk import holders
from cti.web.auth import SignedIn, signed_in_of
from cti.web.desk_restore import DeskRestorer
from cti.web.desk_service import DeskService

log = logging.getLogger("cti.web.desk")

BEAT = 1.0


class DeskHolding:
    """Holds this instance's desks in the database and takes over those of a dead instance."""

    def __init__(self, service: DeskService, restorer: DeskRestorer) -> None:
        self.instance = service.rt.instance
        self._service = service
        self._restorer = restorer
        self._rt = service.rt
        self._held: set[int] = set()
        self._seats: list[holders.Seat] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = restorer.lock
        self.adopted = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._beat(), name="desk-holding")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            # Another instance takes these desks at its next beat; this one, started again,
            # restores them if none did.
            await holders.release(self._rt.db, self.instance)
        except Exception:
            log.warning("desks held here could not be given up: their leases run out instead")

    async def may_hold(self, user_id: int, pbx: str, interface: str) -> bool:
        """Hold a desk nobody else holds (a restore; called with the restorer's lock held):
        whether it is ours now."""
        ours = await holders.claim(self._rt.db, user_id, self.instance, pbx, interface, force=False)
        if ours:
            self._held.add(user_id)
        return ours

    def seats(self) -> dict[tuple[str, str], tuple[int, str]]:
        """Who sits at which phone, on any instance: (pbx, interface) → (user id, name)."""
        seated = {(s.pbx, s.interface): (s.user_id, s.full_name) for s in self._seats}
        for a in self._service.agents():
            seated[(a.pbx, a.interface)] = (a.user.id, a.user.full_name)
        return seated

    async def adopt(self, user: SignedIn) -> bool:
        """The operator's desk page connected here: serve their desk here if their phone is in a
        queue (held elsewhere, by a dead instance, or nobody). Whether it is here now."""
        async with self._lock:
            if self._service.agent_of(user.id) is not None:
                return True
            seat = next((s for s in await holders.seats_of(self._rt.db, user.id)), None)
            interface = seat.interface if seat is not None else user.extension or ""
            pbx = self._member_pbx(interface, seat.pbx if seat is not None else None)
            if pbx is None:
                return False
            await holders.claim(self._rt.db, user.id, self.instance, pbx, interface, force=True)
            self._held.add(user.id)
            return await self._seat(user, pbx, interface)

    async def _seat(self, user: SignedIn, pbx: str, interface: str) -> bool:
        queues = self._rt.settings.desk.queues_for(user.routines)
        if not queues or self._service.holder_of(pbx, interface) is not None:
            return False
        await self._restorer.seat(user, pbx, interface, queues)
        self.adopted += 1
        log.info("desk of %s at %s taken over here", user.username, interface)
        return True

    def _member_pbx(self, interface: str, preferred: str | None) -> str | None:
        """The PBX whose queues hold ``interface`` as a member (``preferred`` first)."""
        names = [p.name for p in self._rt.settings.ami]
        if preferred in names:
            names.remove(preferred)
            names.insert(0, preferred)
        for name in names:
            state = self._rt.ami.state(name)
            if any(interface in q.members for q in state.queues.values()):
                return name
        return None

    # --- the beat -------------------------------------------------------------------------------

    async def _beat(self) -> None:
        while True:
            try:
                async with self._lock:
                    await self._keep()
                    await self._take_lapsed()
                self._seats = await holders.seats(self._rt.db)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("desk leases not renewed this time; tried again in %.0f s", BEAT)
            await asyncio.sleep(BEAT)

    async def _keep(self) -> None:
        db, service = self._rt.db, self._service
        renewed = await holders.renew(db, self.instance)
        local = {a.user.id: a for a in service.agents()}
        for user_id, agent in local.items():
            if user_id in renewed:
                continue
            lost = user_id in self._held
            if lost and not service.desk_clients(user_id):
                log.info(
                    "desk of %s is held by another instance now: let go here",
                    agent.user.username,
                )
                self._held.discard(user_id)
                await service.remove(agent, handed_over=True)
                continue
            await holders.claim(db, user_id, self.instance, agent.pbx, agent.interface, force=True)
            self._held.add(user_id)
        gone = (renewed | self._held) - set(local)
        if gone:
            await holders.release(db, self.instance, gone)
            self._held -= gone

    async def _take_lapsed(self) -> None:
        db, service = self._rt.db, self._service
        lapsed = [
            s
            for s in await holders.lapsed(db)
            if service.agent_of(s.user_id) is None
            and self._rt.ami.status().get(s.pbx) == "connected"
        ]
        if not lapsed:
            return
        now = self._rt.clock.now()
        for account in await sessions_repo.accounts_signed_in(db, [s.user_id for s in lapsed], now):
            seat = next(s for s in lapsed if s.user_id == account.id)
            if self._member_pbx(seat.interface, seat.pbx) != seat.pbx:
                continue
            if not await holders.claim(
                db, seat.user_id, self.instance, seat.pbx, seat.interface, force=False
            ):
                continue  # another instance was quicker
            self._held.add(seat.user_id)
            await self._seat(signed_in_of(account), seat.pbx, seat.interface)


DESK_HOLDING = web.AppKey("cti.desk_holding", DeskHolding)
