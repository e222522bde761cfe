"""What every running part may reach: built once by the composition root (cti.app)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cti.instances import instance_name

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
    # This process's name among the cti instances serving the call center (cti.instances).
    instance: str = field(default_factory=instance_name)
