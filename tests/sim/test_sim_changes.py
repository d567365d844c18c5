"""The change schedule, driven on simulated time (no server, no sleeping)."""

from __future__ import annotations

import itertools
import math
import random
import statistics

import pytest

from gwexp.sim.changes import ChangeSchedule, DelaySampler, Item
from gwexp.sim.galaxy import Galaxy, Tag
from gwexp.sim.profile import DelayModel

ANCHOR_NS = 1_700_000_000_000_000_000


def make_items(count: int) -> list[Item]:
    galaxy = Galaxy(20, ("TestChangingInt", "TestChangingDouble", "TestChangingBool"))
    tags = [galaxy.resolve(address) for address in galaxy.tag_addresses()]
    return [
        Item(handle, 1, tag)
        for handle, tag in enumerate(tags[:count], start=1)
        if isinstance(tag, Tag)
    ]


def drain_schedule(
    seed: int, count: int, until_s: float, delay: DelayModel | None = None
) -> tuple[ChangeSchedule, list[tuple[int, int, object]]]:
    schedule = ChangeSchedule(
        random.Random(seed), 0.34, delay or DelayModel(), ANCHOR_NS
    )
    schedule.add_items(make_items(count), 0.0)
    changes = schedule.pop_due(until_s)
    return schedule, [(c.worker_ns, c.item.handle, c.value) for c in changes]


def test_rate_is_count_times_per_tag_rate() -> None:
    window_s = 2000.0
    _, changes = drain_schedule(seed=1, count=60, until_s=window_s)

    later = [c for c in changes if c[0] > ANCHOR_NS]
    expected = 60 * 0.34 * window_s
    # Poisson: the count's standard deviation is sqrt(expected), about 200.
    assert abs(len(later) - expected) < 4 * math.sqrt(expected)


def test_each_item_changes_at_the_per_tag_rate() -> None:
    window_s = 3000.0
    _, changes = drain_schedule(seed=2, count=20, until_s=window_s)

    per_item = [0] * 20
    for worker_ns, handle, _ in changes:
        if worker_ns > ANCHOR_NS:
            per_item[handle - 1] += 1
    expected = 0.34 * window_s
    assert all(abs(n - expected) < 4.5 * math.sqrt(expected) for n in per_item)


def test_every_item_starts_with_one_initial_change_at_the_anchor() -> None:
    _, changes = drain_schedule(seed=3, count=30, until_s=0.5)

    initial = [c for c in changes if c[0] == ANCHOR_NS]
    assert sorted(handle for _, handle, _ in initial) == list(range(1, 31))


def test_values_follow_their_attribute_type() -> None:
    _, changes = drain_schedule(seed=4, count=3, until_s=200.0)

    by_item: dict[int, list[object]] = {1: [], 2: [], 3: []}
    for _, handle, value in changes:
        by_item[handle].append(value)
    ints, doubles, bools = by_item[1], by_item[2], by_item[3]
    assert ints == list(range(int(ints[0]), int(ints[0]) + len(ints)))
    assert all(isinstance(v, float) and 0.0 <= v <= 100.0 for v in doubles)
    assert all(a != b for a, b in itertools.pairwise(bools))


def test_same_seed_same_schedule_other_seed_differs() -> None:
    _, first = drain_schedule(seed=7, count=120, until_s=30.0)
    _, again = drain_schedule(seed=7, count=120, until_s=30.0)
    _, other = drain_schedule(seed=8, count=120, until_s=30.0)

    assert first == again
    assert first[120:200] != other[120:200]


def test_wake_up_timing_does_not_change_what_is_delivered() -> None:
    whole = ChangeSchedule(random.Random(5), 3.0, DelayModel(), ANCHOR_NS)
    stepped = ChangeSchedule(random.Random(5), 3.0, DelayModel(), ANCHOR_NS)
    whole.add_items(make_items(40), 0.0)
    stepped.add_items(make_items(40), 0.0)

    at_once = whole.pop_due(20.0)
    in_steps = []
    now_s = 0.0
    step = random.Random(9)
    while now_s < 20.0:
        now_s = min(20.0, now_s + step.uniform(0.0001, 0.05))
        in_steps.extend(stepped.pop_due(now_s, early_s=0.0005))

    assert [(c.worker_ns, c.item.handle) for c in in_steps] == [
        (c.worker_ns, c.item.handle) for c in at_once
    ]


def test_lognormal_delay_has_the_configured_median_and_p95() -> None:
    sampler = DelaySampler(DelayModel("lognormal", 17.0, 34.0))
    rng = random.Random(11)

    delays_ms = sorted(sampler.sample_s(rng) * 1000 for _ in range(100_000))

    assert statistics.median(delays_ms) == pytest.approx(17.0, rel=0.02)
    assert delays_ms[95_000] == pytest.approx(34.0, rel=0.02)


def test_constant_and_no_delay() -> None:
    rng = random.Random(0)

    assert DelaySampler(DelayModel("constant", 5.0, 5.0)).sample_s(rng) == 0.005
    assert DelaySampler(DelayModel("none", 0.0, 0.0)).sample_s(rng) == 0.0


def test_unsubscribed_items_stop_and_their_in_flight_changes_drop() -> None:
    schedule = ChangeSchedule(random.Random(6), 10.0, DelayModel(), ANCHOR_NS)
    items = make_items(10)
    schedule.add_items(items, 0.0)
    schedule.pop_due(5.0)

    schedule.remove_items(items[:5], 5.0)
    later = schedule.pop_due(15.0)

    assert later
    assert {c.item.handle for c in later} <= {6, 7, 8, 9, 10}
    assert schedule.advised_count == 5


def test_a_schedule_without_items_never_wakes() -> None:
    schedule = ChangeSchedule(random.Random(0), 1.0, DelayModel(), ANCHOR_NS)

    assert schedule.next_wake_s() is None
    assert schedule.pop_due(100.0) == []
