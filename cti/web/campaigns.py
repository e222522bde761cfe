"""Endpoints of the campaigns part (filled in by its issue)."""

from __future__ import annotations

from cti.web.api import Api


def register(api: Api) -> None:
    """Declare the campaigns endpoints."""
