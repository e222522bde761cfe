"""An admin learns from the API what cti finds wrong in a PBX's own configuration: an RTP port
range that holds a port browsers refuse (Asterisk's own default, 10000-20000, holds 10080), which
leaves some browser-phone calls without audio. The answer is structured (the range, the refused
ports, how often a call is hit, a clear range to set), so the back office says it in the reader's
language; supervisors and operators are refused."""

from __future__ import annotations

from cti.sim import PbxSimulator
from tests.desk.conftest import until
from tests.web.conftest import service_settings

from .conftest import (
    ServiceWith,
    backoffice_with,
    body,
    logins_for,
    seeded_database,
    seeded_template,
)

__all__ = ["backoffice_with", "seeded_database", "seeded_template"]


async def test_an_admin_gets_the_warning_of_a_pbx_whose_rtp_ports_browsers_refuse(
    backoffice_with: ServiceWith,
) -> None:
    async with PbxSimulator(rtp_ports=(10000, 20000)) as sim:
        ami = service_settings(ami_port=sim.port).ami
        async with backoffice_with(ami=ami) as svc, logins_for(svc) as login:
            await until(lambda: bool(svc.runtime.ami.warnings()), what="the RTP settings read")
            admin, sofia, ana = await login("admin"), await login("sofia"), await login("ana")
            found = await body(await admin.get("/api/v1/pbx/warnings"))
            refused = [
                await body(await who.get("/api/v1/pbx/warnings"), 403) for who in (sofia, ana)
            ]
    assert found == {
        "warnings": [
            {
                "pbx": "pbx1",
                "code": "rtp_ports_browser_refused",
                "first": 10000,
                "last": 20000,
                "refused": [10080],
                # Asterisk gives each call one of the range's 5000 even ports, 10080 among them.
                "one_in": 5000,
                # config/asterisk/rtp.conf's range, clear of every refused port.
                "clear_first": 10100,
                "clear_last": 10199,
            }
        ]
    }
    assert all(r["error"] == "this needs the role admin" for r in refused), refused


async def test_a_pbx_whose_rtp_ports_are_clear_gives_no_warning(
    backoffice_with: ServiceWith,
) -> None:
    # The simulator's range is config/asterisk/rtp.conf's, 10100-10199.
    async with PbxSimulator() as sim:
        ami = service_settings(ami_port=sim.port).ami
        async with backoffice_with(ami=ami) as svc, logins_for(svc) as login:
            await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="login")
            await svc.runtime.ami.resync("pbx1")
            admin = await login("admin")
            found = await body(await admin.get("/api/v1/pbx/warnings"))
    assert found == {"warnings": []}
