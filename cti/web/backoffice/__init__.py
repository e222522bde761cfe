"""The back office: telesales, collection, cases, incoming-call messages, suspects, configuration."""

from __future__ import annotations

from cti.web.api import Api


def register(api: Api) -> None:
    """Declare the back-office endpoints."""
