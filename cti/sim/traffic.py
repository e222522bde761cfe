"""The traffic model: who calls, who answers, for how long. Seeded, so a run is repeatable."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from cti.sim.pbx import ANSWER, BUSY_OUT, CONGESTION, NOANSWER, AgentBehaviour, CustomerPlan, Pbx
from cti.sim.scheduler import Timer

_FIRST = (
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Elena",
    "Fabio",
    "Gabriela",
    "Hugo",
    "Irene",
    "Joao",
    "Lucia",
    "Marcos",
)
_LAST = (
    "Silva",
    "Souza",
    "Costa",
    "Pereira",
    "Gomez",
    "Rodriguez",
    "Fernandez",
    "Lopez",
    "Oliveira",
    "Santos",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Duration:
    """A positive duration: lognormal around ``mean`` seconds, clipped to [minimum, maximum]."""

    mean: float
    spread: float = 0.5
    minimum: float = 1.0
    maximum: float = 3600.0

    def sample(self, rng: random.Random) -> float:
        if self.spread <= 0:
            return self.mean
        mu = math.log(self.mean) - self.spread**2 / 2
        return min(self.maximum, max(self.minimum, rng.lognormvariate(mu, self.spread)))


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundCustomers:
    """How dialled customers (the dialer's ``Local/NUMBER@cti-dialer`` carrier leg, or
    ``Local/NUMBER@sim-customer``) behave; the four outcome probabilities are normalised.
    ``p_machine`` is the share of answers that are answering machines."""

    p_answer: float = 0.55
    p_busy: float = 0.15
    p_noanswer: float = 0.2
    p_congestion: float = 0.1
    p_machine: float = 0.0
    ring: Duration = field(
        default_factory=lambda: Duration(mean=6.0, spread=0.4, minimum=1.0, maximum=25.0)
    )
    talk: Duration = field(
        default_factory=lambda: Duration(mean=90.0, spread=0.6, minimum=5.0, maximum=900.0)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficModel:
    """Inbound arrivals per queue (Poisson, calls per minute), callers' patience and talk time,
    outbound customers, and how simulated agents behave."""

    inbound_per_minute: Mapping[str, float] = field(
        default_factory=lambda: {"support": 4.0, "sales": 2.0, "collections": 1.0}
    )
    patience: Duration = field(
        default_factory=lambda: Duration(mean=60.0, spread=0.7, minimum=5.0, maximum=600.0)
    )
    talk: Duration = field(
        default_factory=lambda: Duration(mean=120.0, spread=0.6, minimum=10.0, maximum=1800.0)
    )
    customers: OutboundCustomers = field(default_factory=OutboundCustomers)
    agent_ring: Duration = field(
        default_factory=lambda: Duration(mean=3.0, spread=0.3, minimum=1.0, maximum=10.0)
    )
    agent_wrapup: Duration = field(
        default_factory=lambda: Duration(mean=10.0, spread=0.4, minimum=0.0, maximum=120.0)
    )
    # Known callers (number, name) that call in, e.g. the demo's customers; the rest of the
    # arrivals (and all of them when empty) come from random numbers.
    callers: tuple[tuple[str, str], ...] = ()
    known_caller_share: float = 0.7
    # The numbers the capture PBX reserves (0000 busy, 0001 congestion, 0002 no answer, 0003
    # long answer) keep their fixed behaviour.
    reserved_numbers: bool = True


class TrafficDriver:
    """Runs a :class:`TrafficModel` against a :class:`Pbx`: schedules arrivals, plans customers."""

    def __init__(self, pbx: Pbx, model: TrafficModel, rng: random.Random) -> None:
        self.pbx = pbx
        self.model = model
        self.rng = rng
        self._timers: list[Timer] = []
        self.running = False
        self.inbound_started = 0

    def agent_behaviour(self) -> AgentBehaviour:
        m, rng = self.model, self.rng
        return AgentBehaviour(
            ring_seconds=lambda: m.agent_ring.sample(rng),
            handle_seconds=lambda: m.talk.sample(rng),
            wrapup_seconds=lambda: m.agent_wrapup.sample(rng),
        )

    def customer_plan(self, number: str) -> CustomerPlan:
        if self.model.reserved_numbers and number in ("0000", "0001", "0002", "0003"):
            return self.pbx.default_customer_plan(number)
        c, rng = self.model.customers, self.rng
        weights = [c.p_answer, c.p_busy, c.p_noanswer, c.p_congestion]
        outcome = rng.choices([ANSWER, BUSY_OUT, NOANSWER, CONGESTION], weights=weights)[0]
        ring = c.ring.sample(rng)
        talk = round(c.talk.sample(rng))
        if outcome in (BUSY_OUT, CONGESTION):
            ring = min(ring, 3.0)
        machine = outcome == ANSWER and c.p_machine > 0 and rng.random() < c.p_machine
        return CustomerPlan(outcome, ring, float(talk), machine)

    def start(self) -> None:
        self.running = True
        for queue, per_minute in self.model.inbound_per_minute.items():
            if per_minute > 0 and queue in self.pbx.queues:
                self._schedule(queue, per_minute)

    def stop(self) -> None:
        self.running = False
        for t in self._timers:
            t.cancel()
        self._timers.clear()

    def _schedule(self, queue: str, per_minute: float) -> None:
        delay = self.rng.expovariate(per_minute / 60.0)
        # Callers keep calling whatever happens to the PBX: not a timer of the PBX model.
        self._timers.append(
            self.pbx.scheduler.call_later(delay, lambda: self._arrive(queue, per_minute))
        )
        if len(self._timers) > 64:
            self._timers = self._timers[-16:]

    def _arrive(self, queue: str, per_minute: float) -> None:
        if not self.running:
            return
        if not self.pbx.up:  # the PBX is restarting: this caller gets no answer, tries later
            self._schedule(queue, per_minute)
            return
        rng = self.rng
        callers = self.model.callers
        if callers and rng.random() < self.model.known_caller_share:
            number, name = rng.choice(callers)
        else:
            number = f"55{rng.randrange(10**8):08d}"
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        self.inbound_started += 1
        self.pbx.inbound_call(
            queue,
            number,
            name,
            # The caller ends the call if the agent has not: long after a typical handle time.
            talk_seconds=2.0 * self.model.talk.sample(rng),
            patience=self.model.patience.sample(rng),
        )
        self._schedule(queue, per_minute)
