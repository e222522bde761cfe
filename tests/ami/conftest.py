"""Fixtures for AMI tests: a scripted PBX playing a real capture, and the real AmiService."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from cti.config import AmiServerSettings, Secret
from cti.domain.notices import AnyNotice

from .scripted_pbx import ScriptedPbx


def pbx_settings(port: int, **overrides: Any) -> AmiServerSettings:
    values: dict[str, Any] = {
        "name": "pbx1",
        "host": "127.0.0.1",
        "port": port,
        "username": "cti",
        "secret": Secret("ctisecret"),
        "ping_interval": 5.0,
        "ping_timeout": 2.0,
        "action_timeout": 2.0,
        "reconnect_min": 0.02,
        "reconnect_max": 0.2,
    }
    values.update(overrides)
    return AmiServerSettings(**values)


@dataclass
class Recorder:
    """A notice listener that keeps everything it hears."""

    notices: list[AnyNotice] = field(default_factory=list)

    def __call__(self, notice: AnyNotice) -> None:
        self.notices.append(notice)

    def of(self, kind: type[Any]) -> list[Any]:
        return [n for n in self.notices if isinstance(n, kind)]


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until ``check()`` is true (the service works in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@pytest.fixture
async def scripted(transcripts_dir: Any) -> AsyncIterator[Callable[..., Any]]:
    servers: list[ScriptedPbx] = []

    async def make(name: str, **kwargs: Any) -> ScriptedPbx:
        server = ScriptedPbx(transcripts_dir / f"{name}.ami", **kwargs)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()
