"""What every running part may reach: built once by the composition root (cti.app)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cti.ami.service import AmiService
    from cti.clock import Clock
    from cti.config import Settings
    from cti.db.engine import Database


@dataclass(frozen=True, slots=True)
class Runtime:
    """The service's parts, shared by the web layer, the dialer and the workers."""

    settings: Settings
    clock: Clock
    db: Database
    ami: AmiService
