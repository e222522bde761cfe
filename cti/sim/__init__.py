"""A PBX simulator that speaks AMI over TCP like Asterisk 22, for the demo, the tests and the benchmarks."""

from cti.sim.model import AgentMode
from cti.sim.pbx import AgentBehaviour, CustomerPlan, Pbx
from cti.sim.scheduler import ManualScheduler, RealtimeScheduler
from cti.sim.server import AmiUser, default_users
from cti.sim.simulator import PbxSimulator
from cti.sim.traffic import Duration, OutboundCustomers, TrafficModel

__all__ = [
    "AgentBehaviour",
    "AgentMode",
    "AmiUser",
    "CustomerPlan",
    "Duration",
    "ManualScheduler",
    "OutboundCustomers",
    "Pbx",
    "PbxSimulator",
    "RealtimeScheduler",
    "TrafficModel",
    "default_users",
]
