"""What the agent desk reads and writes: screen-pop lookups, the call log, attentions and notes.

One module a subject, all reached from here as ``cti.db.desk.<name>``:

* :mod:`~cti.db.desk.pop`: the screen-pop, one SQL statement (:func:`lookup_caller`,
  :class:`PopLookup`);
* :mod:`~cti.db.desk.calls`: the call log's ring, answer and end, upserts on ``(pbx, uniqueid)``;
* :mod:`~cti.db.desk.attentions`: attentions opened at connect, read, saved from the form, noted;
* :mod:`~cti.db.desk.history`: a party's attentions, the operator's next planned call;
* :mod:`~cti.db.desk.lists`: registering an unknown caller, the lists the desk's forms offer;
* :mod:`~cti.db.desk.wrapups`: the operator's wrap-up rule, each wrap-up recorded;
* :mod:`~cti.db.desk.tickets`: telemarketing tickets: an attention's items (child tickets) added
  and confirmed, their service orders, the potential non-conformities.
"""

from __future__ import annotations

from cti.db.desk.attentions import (
    ATTENTION_SPEC,
    EDITABLE,
    HISTORY_SPEC,
    Party,
    add_note,
    attention_detail,
    desk_attention,
    link_attention_party,
    open_attention,
    save_attention,
)
from cti.db.desk.calls import CallKey, log_end, log_ring
from cti.db.desk.history import PARTIES, history
from cti.db.desk.lists import (
    desk_lists,
    pause_reason_exists,
    register_contact,
    register_suspect,
)
from cti.db.desk.pop import PopLookup, lookup_caller
from cti.db.desk.tickets import NewItem, list_nonconformities
from cti.db.desk.wrapups import end_call_and_rule, pause_after_missed, record_wrapup

__all__ = [
    "ATTENTION_SPEC",
    "EDITABLE",
    "HISTORY_SPEC",
    "PARTIES",
    "CallKey",
    "NewItem",
    "Party",
    "PopLookup",
    "add_note",
    "attention_detail",
    "desk_attention",
    "desk_lists",
    "end_call_and_rule",
    "history",
    "link_attention_party",
    "list_nonconformities",
    "log_end",
    "log_ring",
    "lookup_caller",
    "open_attention",
    "pause_after_missed",
    "pause_reason_exists",
    "record_wrapup",
    "register_contact",
    "register_suspect",
    "save_attention",
]
