"""The flood profile: the event path keeps up with thousands of events/s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import grpc
from simclient import Client, galaxy_tags

from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.sim import EmbeddedGateway

StartGateway = Callable[..., EmbeddedGateway]


def test_flood_delivers_the_offered_rate_without_faults(
    start_gateway: StartGateway,
) -> None:
    # 2 sessions x 4 tags x 500 changes/s = 4,000 events/s offered. The client
    # shares this process (and its GIL), so the figure is kept well below
    # what a separate client sees (see the report for standalone figures).
    gateway = start_gateway("flood")
    window_s = 2.0

    async def scenario() -> tuple[list[int], list[int]]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            client = Client(channel)
            counts = [0, 0]
            states: list[int] = []
            start_ns = time.time_ns() + 300_000_000
            end_ns = start_ns + int(window_s * 1e9)

            async def read(index: int) -> None:
                session_id, _ = await client.subscribed_session(galaxy_tags()[:4])
                call = client.stream(session_id)
                last = 0
                async for event in call:
                    assert event.worker_sequence == last + 1
                    last = event.worker_sequence
                    if start_ns <= event.worker_timestamp.ToNanoseconds() < end_ns:
                        counts[index] += 1
                    if time.time_ns() >= end_ns + 100_000_000:
                        break
                call.cancel()
                drained = (await client.drain(session_id)).drain_events
                states.append(drained.session_state)

            await asyncio.gather(read(0), read(1))
            return counts, states

    counts, states = asyncio.run(scenario())

    expected = 4 * 500 * window_s
    assert states == [pb.SESSION_STATE_READY] * 2
    assert all(abs(count - expected) < 0.1 * expected for count in counts)
