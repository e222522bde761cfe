"""A SIP user agent over secure WebSocket (RFC 7118), as the desk's softphone registers.

Only what the tier needs to prove the softphone's account on a real Asterisk: REGISTER with digest
authentication over ``wss://`` (subprotocol ``sip``), unregister, and answering Asterisk's OPTIONS
pings so the contact stays reachable. Calls with media are the browser's (JsSIP in Chromium); the
SIP messages and digest come from :mod:`tests.pbx.sipua`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl

from websockets.asyncio.client import ClientConnection, connect

from tests.pbx.sipua import SipError, SipMessage, _answer_challenge


class WsPhone:
    """One softphone registration over a WebSocket to Asterisk's HTTP server."""

    def __init__(self, ws: ClientConnection, *, user: str, password: str, domain: str) -> None:
        self.ws = ws
        self.user, self.password, self.domain = user, password, domain
        self.host = f"{secrets.token_hex(6)}.invalid"  # RFC 7118: a WebSocket client has no address
        self.call_id = secrets.token_hex(10)
        self.tag = secrets.token_hex(6)
        self.cseq = 0
        self.registered = False
        self.pings = 0
        self._responses: asyncio.Queue[SipMessage] = asyncio.Queue()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(
        cls, url: str, *, user: str, password: str, domain: str, cafile: str | None = None
    ) -> WsPhone:
        context = None
        if url.startswith("wss:"):
            context = ssl.create_default_context(cafile=cafile)
            context.check_hostname = False  # the tier's throwaway certificate names 127.0.0.1
        ws = await connect(url, subprotocols=["sip"], ssl=context, open_timeout=10)  # type: ignore[list-item]
        return cls(ws, user=user, password=password, domain=domain)

    async def _read(self) -> None:
        async for data in self.ws:
            raw = data.encode() if isinstance(data, str) else data
            try:
                message = SipMessage.parse(raw)
            except ValueError:
                continue
            if message.is_request:
                await self._answer(message)
            else:
                await self._responses.put(message)

    async def _answer(self, request: SipMessage) -> None:
        """200 to OPTIONS (Asterisk's qualify), 405 to anything else."""
        code, reason = (200, "OK") if request.method == "OPTIONS" else (405, "Method Not Allowed")
        if request.method == "OPTIONS":
            self.pings += 1
        response = SipMessage(f"SIP/2.0 {code} {reason}")
        for name in ("Via", "From", "Call-ID", "CSeq"):
            for value in request.get_all(name):
                response.add(name, value)
        to = request["To"]
        response.add("To", to if ";tag=" in to else f"{to};tag={self.tag}")
        await self.ws.send(response.encode().decode())

    def _register_request(self, expires: int) -> SipMessage:
        self.cseq += 1
        aor = f"sip:{self.user}@{self.domain}"
        request = SipMessage(f"REGISTER sip:{self.domain} SIP/2.0")
        request.add("Via", f"SIP/2.0/WSS {self.host};branch=z9hG4bK{secrets.token_hex(8)}")
        request.add("Max-Forwards", "70")
        request.add("From", f"<{aor}>;tag={self.tag}")
        request.add("To", f"<{aor}>")
        request.add("Call-ID", self.call_id)
        request.add("CSeq", f"{self.cseq} REGISTER")
        request.add("Contact", f"<sip:{self.user}@{self.host};transport=ws>;expires={expires}")
        request.add("Expires", str(expires))
        request.add("User-Agent", "cti-tier-softphone")
        return request

    async def _transact(self, request: SipMessage, timeout: float) -> SipMessage:
        await self.ws.send(request.encode().decode())
        async with asyncio.timeout(timeout):
            while True:
                response = await self._responses.get()
                if response.cseq == request.cseq and response.status >= 200:
                    return response

    async def register(self, expires: int = 300, timeout: float = 10) -> int:
        """Register; the status of the final answer (``SipError`` unless 200)."""
        request = self._register_request(expires)
        response = await self._transact(request, timeout)
        if response.status in (401, 407):
            name, value = _answer_challenge(response, request, self.user, self.password)
            request = self._register_request(expires)
            request.add(name, value)
            response = await self._transact(request, timeout)
        if response.status != 200:
            raise SipError(f"REGISTER over WebSocket: {response.status}", status=response.status)
        self.registered = expires > 0
        return response.status

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        await self.ws.close()
