"""``cti demo``: the whole product on one machine.

An embedded PostgreSQL (unless a database URL is configured), the built-in PBX simulator speaking
AMI with steady inbound traffic, the service connected to it, and demo data seeded once. Prints the
URL and the logins; Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from cti.app import embedded_or_configured_database, running_service, wait_for_stop_signal
from cti.clock import SystemClock
from cti.config import AmiServerSettings, Secret, Settings
from cti.i18n import LANGUAGE_NAMES

if TYPE_CHECKING:
    from cti.db.seed import DemoLogin

log = logging.getLogger("cti.demo")

SIM_USER = "cti"
SIM_SECRET = "ctisecret"  # noqa: S105 - the simulator's own demo login, on loopback only
# Simulated agents that answer the demo's inbound calls beside the people at the desk. They are
# the queues' backups (a higher penalty): a free person at a desk is rung first, so whoever tries the
# demo gets the next call of their queue (one every 40 s by default) rather than one in four.
SIM_AGENTS_PER_QUEUE = 3
SIM_AGENT_PENALTY = 1
# Callers talk a minute and a quarter on average and wait three minutes on average before they
# give up: with the default arrivals the simulated agents alone lose a few calls in a hundred (a
# wallboard that looks like a call center's, not one in crisis).
DEMO_TALK_SECONDS = 75.0
DEMO_PATIENCE_SECONDS = 180.0
# The simulated agents answer within a second, as agents on a headset with auto-answer do: the
# predictive campaign's customers are connected within the two seconds the law gives (a ring of
# three seconds made nearly every answered customer an abandon).
DEMO_AGENT_RING_SECONDS = 0.8


def demo_recordings(settings: Settings) -> Path:
    """Where the demo's simulator leaves its recordings: ``recordings.dir``, else beside the
    embedded database's data (``<user data dir>/cti/recordings``)."""
    if settings.recordings.dir:
        return Path(settings.recordings.dir)
    return Path(platformdirs.user_data_dir("cti")) / "recordings"


def demo_settings(
    settings: Settings, sim_port: int, web_port: int | None, recordings: Path | None = None
) -> Settings:
    """The settings with the one PBX being the simulator (its PBX answers desk phones on request)
    and, given ``recordings``, cti reading the simulator's recordings there."""
    pbx = AmiServerSettings(
        name="pbx1",
        host=settings.demo.sim_host,
        port=sim_port,
        username=SIM_USER,
        secret=Secret(SIM_SECRET),
        remote_answer=True,
        reconnect_min=0.2,
        reconnect_max=5.0,
    )
    server = settings.server
    if web_port is not None:
        server = dataclasses.replace(server, port=web_port)
    kept = settings.recordings
    if recordings is not None:
        kept = dataclasses.replace(kept, dir=str(recordings))
    return dataclasses.replace(settings, ami=(pbx,), server=server, recordings=kept)


async def run_demo(settings: Settings, *, port: int | None = None) -> None:
    """Run the demo until Ctrl-C."""
    from cti.db.seed import DEMO_CALLERS, DEMO_LOGINS, DEMO_QUEUES, seed_demo, seeded_language
    from cti.sim import PbxSimulator, TrafficModel
    from cti.sim.traffic import Duration

    queues = DEMO_QUEUES
    traffic = TrafficModel(
        inbound_per_minute=dict.fromkeys(queues, settings.demo.inbound_per_minute),
        callers=tuple(DEMO_CALLERS),
        talk=Duration(mean=DEMO_TALK_SECONDS, spread=0.6, minimum=10.0, maximum=1800.0),
        patience=Duration(mean=DEMO_PATIENCE_SECONDS, spread=0.7, minimum=5.0, maximum=600.0),
        agent_ring=Duration(mean=DEMO_AGENT_RING_SECONDS, spread=0.3, minimum=0.3, maximum=1.5),
    )
    recordings = demo_recordings(settings)
    async with embedded_or_configured_database(settings) as database_url:
        sim = PbxSimulator(
            host=settings.demo.sim_host,
            port=settings.demo.sim_port,
            seed=settings.demo.seed,
            traffic=traffic,
            queues=queues,
            recordings_dir=recordings,
        )
        try:
            await sim.__aenter__()
        except OSError:
            log.warning(
                "port %s is taken (an Asterisk?); the simulator listens on a free port instead",
                settings.demo.sim_port,
            )
            sim = PbxSimulator(
                host=settings.demo.sim_host,
                port=0,
                seed=settings.demo.seed,
                traffic=traffic,
                queues=queues,
                recordings_dir=recordings,
            )
            await sim.__aenter__()
        try:
            for q_index, queue in enumerate(queues):
                for n in range(SIM_AGENTS_PER_QUEUE):
                    ext = 200 + 10 * q_index + n
                    sim.add_simulated_agent(
                        queue,
                        f"Local/{ext}@sim-agent/n",
                        f"Sim Agent {ext}",
                        penalty=SIM_AGENT_PENALTY,
                    )
            run_settings = demo_settings(settings, sim.port, port, recordings)
            clock = SystemClock()
            async with running_service(
                run_settings, clock=clock, database_url=database_url
            ) as service:
                language = settings.server.language
                if await seed_demo(service.runtime.db, clock=clock, language=language):
                    log.info("demo data seeded")
                written = await seeded_language(service.runtime.db) or language
                _print_banner(service.url, sim.port, DEMO_LOGINS, language, written)
                await wait_for_stop_signal()
        finally:
            await sim.__aexit__(None, None, None)


def _print_banner(
    url: str, sim_port: int, logins: Iterable[DemoLogin], language: str, written: str
) -> None:
    """What the demo prints: where to go, who to sign in as, and the language of its data
    (``written``, which an earlier run may have chosen) and of its pages (``language``)."""
    lines = [
        "",
        f"  cti demo is running: open {url}",
        f"  PBX simulator (AMI) on 127.0.0.1:{sim_port}, inbound calls arriving in support, sales, collections",
        "",
        "  logins (user / password — role, routines):",
    ]
    for login in logins:
        note = (
            login.note if login.note.startswith(str(login.role)) else f"{login.role}: {login.note}"
        )
        lines.append(f"    {login.username:<8} / {login.password:<10} {note}")
    name = LANGUAGE_NAMES.get(written, written)
    if written == language:
        said = [
            f"  demo data in {name}"
            " (cti demo --language en|pt-BR|es; the data keeps the language it was first seeded in)"
        ]
    else:
        said = [
            f"  demo data in {name}, as an earlier run wrote it; the pages default to"
            f" {LANGUAGE_NAMES.get(language, language)}.",
            "  The data keeps the language it was first seeded in: for data in another language,"
            " start the demo on an empty database (CTI_DATABASE__EMBEDDED_DIR=<an empty folder>).",
        ]
    lines += [
        "",
        *said,
        "  Ctrl-C stops everything.",
        "",
    ]
    print("\n".join(lines), file=sys.stdout, flush=True)
