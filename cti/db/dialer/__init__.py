"""The dialer's repositories: campaigns, lead selection, attempts and outcomes, callbacks, the ledger.

One module a subject, all reached from here as ``cti.db.dialer.<name>``:

* :mod:`~cti.db.dialer.campaigns`: campaigns as the dialer reads them, their status, form, pacing,
  and the leads of a collection campaign;
* :mod:`~cti.db.dialer.leads`: lead selection (:func:`claim_leads`, under row locks), a preview's
  reservation and dial, putting a lead back;
* :mod:`~cti.db.dialer.attempts`: the pacing turn, each attempt's answer and outcome, the abandon
  ledger and the figures;
* :mod:`~cti.db.dialer.callbacks`: callbacks and the do-not-call lists;
* :mod:`~cti.db.dialer.pop`: the desk's pop for a dialer call (:func:`lead_for_call`);
* :mod:`~cti.db.dialer.jobs`: the scheduler's leader lock and job store.

What a campaign or a lead may do (a stopped campaign never runs again, a lead on a do-not-call list
gets no callback...) is decided in :mod:`cti.domain.campaigns`; these modules read and write rows.
"""

from __future__ import annotations

from cti.db.dialer.attempts import (
    NextStep,
    attempts_of,
    finish_attempt,
    leads_left,
    ledger_rows,
    mark_answered,
    pacing_turn,
    recover_stale,
    ringing_elsewhere,
)
from cti.db.dialer.callbacks import add_callback, add_dnc, callbacks_of, release_callback
from cti.db.dialer.campaigns import (
    CAMPAIGN_FIELDS,
    CampaignRow,
    build_collection_leads,
    campaign,
    campaigns,
    save_campaign,
    save_estimates,
    set_pacing,
    set_status,
)
from cti.db.dialer.jobs import JOB_TABLE, LEADER_LOCK, Leadership, dispose_job_store, job_store
from cti.db.dialer.leads import (
    DIALABLE,
    RESERVE,
    Claim,
    Claimed,
    Verdict,
    claim_leads,
    release_lead,
    reserver_of,
    start_attempt,
)
from cti.db.dialer.pop import (
    call_given_to,
    lead_for_call,
    lead_of_linkedid,
    operator_id_of,
    operator_interface,
)

__all__ = [
    "CAMPAIGN_FIELDS",
    "DIALABLE",
    "JOB_TABLE",
    "LEADER_LOCK",
    "RESERVE",
    "CampaignRow",
    "Claim",
    "Claimed",
    "Leadership",
    "NextStep",
    "Verdict",
    "add_callback",
    "add_dnc",
    "attempts_of",
    "build_collection_leads",
    "call_given_to",
    "callbacks_of",
    "campaign",
    "campaigns",
    "claim_leads",
    "dispose_job_store",
    "finish_attempt",
    "job_store",
    "lead_for_call",
    "lead_of_linkedid",
    "leads_left",
    "ledger_rows",
    "mark_answered",
    "operator_id_of",
    "operator_interface",
    "pacing_turn",
    "recover_stale",
    "release_callback",
    "release_lead",
    "reserver_of",
    "ringing_elsewhere",
    "save_campaign",
    "save_estimates",
    "set_pacing",
    "set_status",
    "start_attempt",
]
