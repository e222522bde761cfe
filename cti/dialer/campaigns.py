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
from cti.dialer.compliance import (
    OFCOM_WINDOW,
    US_TSR_WINDOW,
    AbandonLedger,
    CallingWindow,
    parse_windows,
)
from cti.dialer.pacing import (
    DEFAULT_TARGET_SHARE,
    AnswerProfile,
    AnswerStats,
    DialMode,
    HandleStats,
    PacingDecision,
    PacingSettings,
)
from cti.dialer.retry import RetryPolicy, policy_from_json
from cti.domain.model import CampaignStatus
from cti.errors import UserInputError

# Pacing knobs a supervisor may change live (besides the mode and the abandon cap).
KNOBS = (
    "max_dial_ratio",
    "target_abandon",
    "max_call_risk",
    "about_to_free_seconds",
    "fixed_ratio",
)


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
    # Preview: the interface of the agent who pressed dial (the dialplan's CTI_AGENT).
    agent: str | None = None
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
    residual: tuple[float, ...] = ()
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
        cls, row: CampaignRow, settings: DialerSettings, ledger: AbandonLedger
    ) -> LiveCampaign:
        """From the campaign's row (rules and pacing knobs read and checked here)."""
        ring = max(row.ring_seconds, settings.min_ring_seconds)
        knobs = dict(row.pacing or {})
        live = cls(
            row=row,
            rules=policy_from_json(row.retry_rules),
            windows=parse_windows(row.windows),
            pacing=pacing_settings(row, settings, knobs),
            ledger=ledger,
            ring_seconds=ring,
            knobs=dict(knobs),
            answers=AnswerStats(ring_timeout_seconds=float(ring)),
        )
        live.refresh_profiles()
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
            self.ring_seconds = ring
            self.answers = AnswerStats(ring_timeout_seconds=float(ring))
            self.refresh_profiles()

    def refresh_profiles(self) -> None:
        """Recompute what pacing reads from the measurements (after they change)."""
        self.profile = self.answers.profile()
        self.residual = self.handle.residual_table()

    @property
    def running(self) -> bool:
        return self.row.status is CampaignStatus.RUNNING

    def figures(self, now: datetime) -> dict[str, Any]:
        """The live figures of the campaign (JSON-ready); see ``DialerService.figures``."""
        answers, abandoned = self.ledger.counts(now)
        rate = abandoned / answers if answers else None
        ringing = sum(1 for f in self.inflight.values() if f.answered_at is None)
        staffed = self.agents_ready + self.agents_busy
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
            "answer_rate": round(self.answers.rate, 4),
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
