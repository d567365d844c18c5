"""Worker start-up contention, on the running loop's clock."""

from __future__ import annotations

import asyncio
import time

import pytest

from gwexp.sim.startup import StartupContention

# Scaled-down figures: solo start 0.6 s and timeout 30 s times 0.05.
SCALE = 0.05
SOLO_S = 0.6 * SCALE
TIMEOUT_S = 30.0 * SCALE


async def start_many(count: int, stagger_s: float) -> tuple[list[bool], float]:
    model = StartupContention(SOLO_S, 8.0)
    began = time.monotonic()

    async def one(index: int) -> bool:
        await asyncio.sleep(index * stagger_s)
        return await model.start_worker(TIMEOUT_S)

    results = await asyncio.gather(*(one(i) for i in range(count)))
    return list(results), time.monotonic() - began


def test_a_solo_start_takes_worker_start_s() -> None:
    results, elapsed_s = asyncio.run(start_many(1, 0.0))

    assert results == [True]
    assert elapsed_s == pytest.approx(SOLO_S, abs=0.01)


def test_seven_simultaneous_starts_pass_eight_time_out() -> None:
    seven, seven_s = asyncio.run(start_many(7, 0.0))
    eight, eight_s = asyncio.run(start_many(8, 0.0))

    assert seven == [True] * 7
    # 0.6 * (1 + 8 * 6) = 29.4 s at full scale.
    assert seven_s == pytest.approx(29.4 * SCALE, abs=0.03)
    assert eight == [False] * 8
    assert eight_s == pytest.approx(TIMEOUT_S, abs=0.03)


def test_starts_750_ms_apart_never_overlap() -> None:
    results, elapsed_s = asyncio.run(start_many(8, 0.75 * SCALE))

    assert results == [True] * 8
    assert elapsed_s == pytest.approx(7 * 0.75 * SCALE + SOLO_S, abs=0.03)


def test_two_overlapping_starts_share_the_machine() -> None:
    results, elapsed_s = asyncio.run(start_many(2, 0.0))

    assert results == [True, True]
    # Each runs at 1 / (1 + 8) of solo speed while both are in flight.
    assert elapsed_s == pytest.approx(9 * SOLO_S, abs=0.02)
