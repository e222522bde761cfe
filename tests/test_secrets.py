"""Secrets never reach the logs: a refused AMI login names the PBX and the user, not the secret."""

from __future__ import annotations

import asyncio
import logging

import pytest

from cti.app import running_service
from cti.config import Secret
from cti.sim import AmiUser, PbxSimulator

from .web.conftest import service_settings

WRONG = "hunter2-wrong-secret"


async def test_refused_login_is_clear_and_never_shows_the_secret(
    migrated_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    users = {"cti": AmiUser(Secret("the-right-one"))}
    async with PbxSimulator(port=0, users=users, login_failure_delay=0.0) as sim:
        settings = service_settings(ami_port=sim.port, secret=Secret(WRONG))
        async with running_service(settings, database_url=migrated_database) as svc:
            for _ in range(200):
                if any("refused login" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.02)
            assert svc.runtime.ami.status() == {"pbx1": "disconnected"}
    refused = [r.getMessage() for r in caplog.records if "refused login" in r.getMessage()]
    assert refused, "the refused login was not logged"
    assert "PBX 'pbx1' refused login for user 'cti'" in refused[0]
    assert WRONG not in caplog.text
    assert "the-right-one" not in caplog.text
