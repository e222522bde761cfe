"""What cti finds wrong in each PBX's own configuration, for the admins: the back office's
dashboard shows it, in the reader's language, with what to change.

``GET /api/v1/pbx/warnings`` (admins). One kind so far, ``rtp_ports_browser_refused``: the PBX's
RTP port range (read with ``rtp show settings`` at each resync) holds ports browsers refuse, so
some browser-phone calls have no audio. ``/healthz`` says the same in English.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import Field

from cti.domain.softphone import CLEAR_MEDIA_PORTS, PbxWarning
from cti.web.api import Api, Route, RouteMaker
from cti.web.backoffice.common import TAG
from cti.web.models import Answer
from cti.web.state import web_state

route = RouteMaker(TAG, "admin")


class RtpPortsWarning(Answer):
    """A PBX gives calls RTP ports browsers refuse: a browser phone's call given one is silent."""

    pbx: str = Field(description="the PBX, as named in cti's [[ami]] settings")
    code: Literal["rtp_ports_browser_refused"]
    first: int = Field(description="the first port of the PBX's RTP range (rtp.conf rtpstart)")
    last: int = Field(description="its last port (rtp.conf rtpend)")
    refused: list[int] = Field(description="the ports of that range browsers refuse, ascending")
    one_in: int | None = Field(
        description="about one browser-phone call in this many gets a refused port and has no"
        " audio (null: no call can get one)"
    )
    clear_first: int = Field(description="a range clear of refused ports to set instead: from")
    clear_last: int = Field(description="to")


class PbxWarnings(Answer):
    warnings: list[RtpPortsWarning] = Field(description="none: nothing found wrong")


def _answer(pbx: str, warning: PbxWarning) -> RtpPortsWarning:
    first, last = CLEAR_MEDIA_PORTS
    return RtpPortsWarning(
        pbx=pbx,
        code=warning.code,
        first=warning.first,
        last=warning.last,
        refused=list(warning.refused),
        one_in=warning.one_in,
        clear_first=first,
        clear_last=last,
    )


async def pbx_warnings(request: web.Request) -> web.StreamResponse:
    found = web_state(request).runtime.ami.warnings()
    answer = PbxWarnings(
        warnings=[_answer(pbx, w) for pbx, warnings in found.items() for w in warnings]
    )
    return web.json_response(answer.model_dump(mode="json"))


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/pbx/warnings",
        pbx_warnings,
        "What cti finds wrong in each PBX's own configuration (an RTP port range holding ports"
        " browsers refuse, which leaves some browser-phone calls without audio), by PBX",
        PbxWarnings,
    ),
)


def register(api: Api) -> None:
    """Declare the PBX warnings' endpoint."""
    api.add(ROUTES)
