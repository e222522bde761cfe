"""The agent desk: desk sign-in to queues, pauses, screen-pops, talk timers, attentions."""

from __future__ import annotations

from cti.web.api import Api


def register(api: Api) -> None:
    """Declare the desk endpoints."""
