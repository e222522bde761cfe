"""A running campaign's live state: its rules, measurements, abandon ledger and calls in flight.

One :class:`LiveCampaign` per campaign the dialer works, owned by :class:`cti.dialer.service.
DialerService` and changed only on the event loop. :meth:`LiveCampaign.figures` is what the
supervisor's wallboard shows (see ``DialerService.figures``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from cti.config import DialerSettings
from cti.db.dialer import CampaignRow
from cti.domain.compliance import (
    OFCOM_WINDOW,
    US_TSR_WINDOW,
    AbandonLedger,
    CallingWindow,
    parse_windows,
)
from cti.domain.model import CampaignStatus
from cti.domain.pacing import (
    DEFAULT_TARGET_SHARE,
    DialMode,
    PacingDecision,
    PacingSettings,
)
from cti.domain.pacing_estimates import (
    AnswerProfile,
    AnswerStats,
    HandleProfile,
    HandleStats,
    restore,
    snapshot,
)
from cti.domain.retry import RetryPolicy, policy_from_json
from cti.errors import UserInputError

# Pacing knobs a supervisor may change live (besides the mode and the abandon cap).
KNOBS = (
    "max_dial_ratio",
    "target_abandon",
    "max_call_risk",
    "about_to_free_seconds",
    "fixed_ratio",
)
# Seconds between two handle-time profiles (they count the calls in progress, so they age).
HANDLE_REFRESH_SECONDS = 5.0
# Seconds between two saves of a campaign's measurements (bench/pacing_sim.py restarts from them).
SAVE_SECONDS = 10.0


@dataclass(slots=True)
class InFlight:
    """One dial attempt from the moment it is placed until its outcome is stored."""

    attempt_id: int
    lead_id: int
    campaign_id: int
    phone: str
    placed_at: datetime
    action_id: str | None = None
    answered_at: datetime | None = None
    linkedid: str | None = None
    connected_at: datetime | None = None
    gone_at: datetime | None = None
    # When the person was known to be live: the AMD verdict if AMD ran, else the answer.
    live_at: datetime | None = None
    machine: bool = False
    abandoned_at: datetime | None = None
    # Preview: the interface of the agent who pressed dial (the dialplan's CTI_AGENT). Their
    # phone rings first; the customer is dialled once they answered (``agent_up_at``).
    agent: str | None = None
    agent_up_at: datetime | None = None
    # Preview: the customer's leg did not answer (Dial's DIALSTATUS: BUSY, NOANSWER, ...).
    dial_status: str | None = None
    decided: bool = False


def ledger_window(settings: DialerSettings) -> timedelta:
    """The abandon ledger's rolling window (30 days, US TSR; or 24 hours, Ofcom)."""
    return OFCOM_WINDOW if settings.abandon_window == "24h" else US_TSR_WINDOW


def pacing_settings(
    row: CampaignRow, settings: DialerSettings, knobs: dict[str, float]
) -> PacingSettings:
    """The pacing of a campaign: its mode and cap (else the settings' cap) and the live knobs."""
    cap = row.abandon_cap if row.abandon_cap is not None else settings.abandon_cap
    cap = min(0.99, max(0.001, cap))
    target = knobs.get("target_abandon", cap * DEFAULT_TARGET_SHARE)
    target = min(target, cap * 0.999)
    extra = {k: v for k, v in knobs.items() if k in KNOBS and k != "target_abandon"}
    return PacingSettings(
        mode=DialMode(row.mode.value),
        abandon_cap=cap,
        target_abandon=max(0.0, target),
        connect_within_seconds=settings.connect_within_seconds,
        **extra,
    )


@dataclass(slots=True)
class LiveCampaign:
    """What the dialer knows about one campaign between database reads."""

    row: CampaignRow
    rules: RetryPolicy
    windows: tuple[CallingWindow, ...]
    pacing: PacingSettings
    ledger: AbandonLedger
    ring_seconds: int
    knobs: dict[str, float] = field(default_factory=dict)
    answers: AnswerStats = field(default_factory=AnswerStats)
    handle: HandleStats = field(default_factory=HandleStats)
    profile: AnswerProfile | None = None
    handle_profile: HandleProfile | None = None
    handle_profiled_at: float = -1e18
    # Measurements changed since they were last saved (``saved_at``, seconds since the epoch).
    unsaved: bool = False
    saved_at: float = -1e18
    inflight: dict[int, InFlight] = field(default_factory=dict)
    placed: int = 0
    answered: int = 0
    abandoned: int = 0
    refused_dnc: int = 0
    leads_left: int | None = None
    agents_ready: int = 0
    agents_busy: int = 0
    decision: PacingDecision | None = None
    wake_at: datetime | None = None

    @classmethod
    def build(
        cls, row: CampaignRow, settings: DialerSettings, ledger: AbandonLedger, now: datetime
    ) -> LiveCampaign:
        """From the campaign's row (rules and pacing knobs read and checked here)."""
        ring = max(row.ring_seconds, settings.min_ring_seconds)
        knobs = dict(row.pacing or {})
        at = now.timestamp()
        # The measurements saved before a restart or before the campaign was last worked resume
        # (valued now: the time the campaign was not dialled teaches nothing); else the priors.
        answers, handle = restore(row.estimates or {}, ring_timeout_seconds=float(ring), now=at)
        live = cls(
            row=row,
            rules=policy_from_json(row.retry_rules),
            windows=parse_windows(row.windows),
            pacing=pacing_settings(row, settings, knobs),
            ledger=ledger,
            ring_seconds=ring,
            knobs=dict(knobs),
            answers=answers,
            handle=handle,
            saved_at=at,
        )
        live.profile = live.answers.profile(at)
        return live

    def update(self, row: CampaignRow, settings: DialerSettings) -> None:
        """The campaign changed in the database (status, mode, cap, rules, knobs).

        Raises:
            UserInputError: a stored rule is wrong; nothing changed then but the status.
        """
        knobs = dict(row.pacing or {})
        try:
            rules = policy_from_json(row.retry_rules)
            windows = parse_windows(row.windows)
            pacing = pacing_settings(row, settings, knobs)
        except UserInputError:
            self.row = replace(self.row, status=row.status)
            raise
        self.row, self.rules, self.windows, self.knobs, self.pacing = (
            row,
            rules,
            windows,
            knobs,
            pacing,
        )
        ring = max(row.ring_seconds, settings.min_ring_seconds)
        if ring != self.ring_seconds:
            # Answer delays measured with another ring timeout do not apply: start them again.
            self.ring_seconds = ring
            self.answers = AnswerStats(ring_timeout_seconds=float(ring), at=self.answers.at)
            self.profile = self.answers.profile(self.answers.at)
            self.unsaved = True

    # --- measurements (times in seconds since the epoch) ---------------------------------------

    def observe_answer(self, placed_at: datetime, answered_at: datetime) -> None:
        """A person answered an attempt of this campaign."""
        at = answered_at.timestamp()
        self.answers = self.answers.observe_answer(placed_at.timestamp(), at)
        self.profile = self.answers.profile(at)
        self.unsaved = True

    def observe_unanswered(self, placed_at: datetime, ended_at: datetime) -> None:
        """An attempt ended without a person (no answer, busy, congestion, machine, failure)."""
        at = ended_at.timestamp()
        self.answers = self.answers.observe_unanswered(placed_at.timestamp(), at)
        self.profile = self.answers.profile(at)
        self.unsaved = True

    def observe_handle(self, seconds: float, ended_at: datetime) -> None:
        """An agent's call of this campaign lasted ``seconds`` and ended at ``ended_at``."""
        self.handle = self.handle.observe(seconds, ended_at.timestamp())
        self.unsaved = True

    def to_save(self, now: datetime, *, force: bool = False) -> dict[str, float] | None:
        """The measurements to save now (:func:`cti.domain.pacing.snapshot`): None when nothing
        changed, or when the last save is under ``SAVE_SECONDS`` old and ``force`` is not set."""
        at = now.timestamp()
        if not self.unsaved or (not force and at - self.saved_at < SAVE_SECONDS):
            return None
        self.unsaved, self.saved_at = False, at
        return snapshot(self.answers, self.handle)

    def handle_now(self, now: datetime, in_progress: tuple[float, ...]) -> HandleProfile:
        """The handle-time hazard at ``now``, counting the calls in progress (their ages), rebuilt
        at most every ``HANDLE_REFRESH_SECONDS``."""
        at = now.timestamp()
        if self.handle_profile is None or at - self.handle_profiled_at >= HANDLE_REFRESH_SECONDS:
            self.handle_profile = self.handle.profile(at, in_progress)
            self.handle_profiled_at = at
        return self.handle_profile

    @property
    def running(self) -> bool:
        return self.row.status is CampaignStatus.RUNNING

    def figures(self, now: datetime) -> dict[str, Any]:
        """The live figures of the campaign (JSON-ready); see ``DialerService.figures``."""
        answers, abandoned = self.ledger.counts(now)
        rate = abandoned / answers if answers else None
        ringing = sum(1 for f in self.inflight.values() if f.answered_at is None)
        staffed = self.agents_ready + self.agents_busy
        measured = self.answers.measured
        return {
            "id": self.row.id,
            "name": self.row.name,
            "kind": self.row.kind.value,
            "mode": self.row.mode.value,
            "status": self.row.status.value,
            "queue": self.row.queue,
            "dial_level": round(len(self.inflight) / staffed, 3) if staffed else 0.0,
            "in_flight": len(self.inflight),
            "ringing": ringing,
            "agents_ready": self.agents_ready,
            "agents_busy": self.agents_busy,
            "answer_rate": round(measured, 4) if measured is not None else None,
            "abandon_rate": round(rate, 4) if rate is not None else None,
            "abandon_cap": self.pacing.abandon_cap,
            "target_abandon": self.pacing.target_abandon,
            "abandon_window_seconds": int(self.ledger.window.total_seconds()),
            "live_answers": answers,
            "abandoned": abandoned,
            "placed": self.placed,
            "refused_dnc": self.refused_dnc,
            "leads_left": self.leads_left,
            "pacing": {
                "reason": self.decision.reason if self.decision else None,
                "allowed_risk": round(self.decision.allowed_risk, 4) if self.decision else 0.0,
                "max_dial_ratio": self.pacing.max_dial_ratio,
                "max_call_risk": self.pacing.max_call_risk,
                "about_to_free_seconds": self.pacing.about_to_free_seconds,
                "fixed_ratio": self.pacing.fixed_ratio,
            },
        }


__all__ = ["KNOBS", "InFlight", "LiveCampaign", "ledger_window", "pacing_settings"]
