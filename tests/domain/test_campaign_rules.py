"""The rules for a campaign's life and its leads' moves (cti.domain.campaigns): no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cti.domain.campaigns import (
    check_callback_allowed,
    check_campaign_fields,
    check_collection,
    check_releasable,
    check_reserved,
    check_status_move,
    is_dnc,
    put_off_until,
    refuse_call,
    released_status,
)
from cti.domain.compliance import DialCheck, Refusal
from cti.domain.model import CampaignKind, CampaignStatus, LeadStatus
from cti.errors import Refused, UserInputError

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def test_a_stopped_campaign_never_runs_again() -> None:
    check_status_move(CampaignStatus.DRAFT, CampaignStatus.RUNNING)
    check_status_move(CampaignStatus.PAUSED, CampaignStatus.RUNNING)
    check_status_move(CampaignStatus.FINISHED, CampaignStatus.FINISHED)
    for again in (CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.DRAFT):
        with pytest.raises(Refused, match="cannot run again") as exc:
            check_status_move(CampaignStatus.FINISHED, again)
        assert exc.value.field == "status"


def test_only_a_campaigns_fields_are_set_through_its_form() -> None:
    check_campaign_fields({"name": "Spring", "ring_seconds": 25})
    with pytest.raises(UserInputError, match="is not a campaign field") as exc:
        check_campaign_fields({"name": "Spring", "status": "running"})
    assert exc.value.field == "status"


def test_only_a_collection_campaign_is_built_from_receivables() -> None:
    check_collection(CampaignKind.COLLECTION)
    with pytest.raises(Refused, match="only a collection campaign") as exc:
        check_collection(CampaignKind.TELESALES)
    assert exc.value.field == "kind"


def test_a_do_not_call_refusal_ends_the_lead_a_window_one_puts_it_off() -> None:
    later = NOW + timedelta(hours=3)
    assert is_dnc(DialCheck(refusal=Refusal.DNC_GLOBAL))
    assert is_dnc(DialCheck(refusal=Refusal.DNC_CAMPAIGN))
    window = DialCheck(refusal=Refusal.OUTSIDE_WINDOW, retry_at=later)
    assert not is_dnc(window)
    assert not is_dnc(DialCheck(refusal=None))
    assert put_off_until(window, NOW) == later
    assert put_off_until(DialCheck(refusal=Refusal.OUTSIDE_WINDOW), NOW) == NOW + timedelta(days=1)
    refusal = refuse_call(window)
    assert refusal.field == "phone"
    assert refusal.message == "the lead may not be called now (outside_window)"


def test_a_preview_lead_is_dialled_only_by_the_agent_it_is_reserved_for() -> None:
    check_reserved(LeadStatus.DIALING, "ana", "ana")
    check_reserved(LeadStatus.DIALING, None, None)
    with pytest.raises(Refused, match="not reserved for dialling") as exc:
        check_reserved(LeadStatus.RETRY, "ana", "ana")
    assert exc.value.field == "lead"
    with pytest.raises(Refused, match="reserved for another agent"):
        check_reserved(LeadStatus.DIALING, "bea", "ana")
    with pytest.raises(Refused, match="reserved for another agent"):
        check_reserved(LeadStatus.DIALING, None, "ana")


def test_a_finished_lead_is_not_put_back_and_one_put_back_waits() -> None:
    for status in (LeadStatus.NEW, LeadStatus.RETRY, LeadStatus.DIALING, LeadStatus.CALLBACK):
        check_releasable(status)
    for status in (LeadStatus.DONE, LeadStatus.DNC, LeadStatus.EXHAUSTED):
        with pytest.raises(Refused, match=f"the lead is {status.value}"):
            check_releasable(status)
    assert released_status(0) is LeadStatus.NEW
    assert released_status(2) is LeadStatus.RETRY


def test_no_callback_is_promised_to_a_number_on_a_do_not_call_list() -> None:
    check_callback_allowed(LeadStatus.RETRY)
    with pytest.raises(Refused, match="on a do-not-call list") as exc:
        check_callback_allowed(LeadStatus.DNC)
    assert exc.value.field == "lead"
