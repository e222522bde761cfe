"""``cti serve`` against the tier's Asterisk: the cluster harness's process (a config file, a log,
signals to stop) with the settings a real PBX wants."""

from __future__ import annotations

from tests.cluster.harness import CtiProcess
from tests.pbx.asterisk import AMI_SECRET


class CtiServer(CtiProcess):
    """One ``cti serve`` process against the tier's Asterisk and a test database: slower AMI
    timings than against the simulator, and an answered lead waits 3 s for an agent."""

    AMI_TIMINGS = (
        "ping_interval = 2.0\nping_timeout = 2.0\naction_timeout = 5.0\n"
        "reconnect_min = 0.2\nreconnect_max = 1.0\n"
    )

    def __init__(
        self, name: str = "cti", *, database_url: str, ami_port: int, extra: str = ""
    ) -> None:
        super().__init__(
            name,
            database_url=database_url,
            ami_port=ami_port,
            ami_secret=AMI_SECRET,
            remote_answer=False,
            extra="[dialer]\nconnect_within_seconds = 3.0\n" + extra,
        )
