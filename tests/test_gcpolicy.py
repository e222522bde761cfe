"""The garbage-collection policy keeps full collections off the event loop's busy path, and gives
everything back to the collector when the service stops."""

from __future__ import annotations

import gc

from cti.gcpolicy import YOUNG_THRESHOLDS, GcPolicy


async def test_long_lived_objects_are_frozen_while_it_runs_and_given_back_at_stop() -> None:
    before = gc.get_threshold()
    policy = GcPolicy(freeze_seconds=3600, full_seconds=7200)
    policy.start()
    try:
        assert gc.get_freeze_count() > 1000  # the start-up's objects: modules, classes, state
        assert gc.get_threshold() == YOUNG_THRESHOLDS
    finally:
        await policy.stop()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


async def test_two_services_side_by_side_give_the_collector_back_once_both_stopped() -> None:
    before = gc.get_threshold()
    one, two = GcPolicy(freeze_seconds=3600), GcPolicy(freeze_seconds=3600)
    one.start()
    two.start()
    await one.stop()
    assert gc.get_threshold() == YOUNG_THRESHOLDS  # the other still runs
    assert gc.get_freeze_count() > 0
    await two.stop()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
