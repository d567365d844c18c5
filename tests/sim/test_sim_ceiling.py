"""The gateway-wide delivery ceiling and its consequences."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import grpc
from simclient import Client, galaxy_tags

from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.sim import EmbeddedGateway

StartGateway = Callable[..., EmbeddedGateway]


async def delivered_rate(
    address: str, sessions: int, tags: int, window_s: float
) -> tuple[float, list[int]]:
    """Events/s all sessions received in ``window_s``, and their queue depths."""
    async with grpc.aio.insecure_channel(address) as channel:
        client = Client(channel)
        ids = [
            (await client.subscribed_session(galaxy_tags()[:tags]))[0]
            for _ in range(sessions)
        ]
        counts = [0] * sessions
        start_ns = time.time_ns() + 300_000_000
        end_ns = start_ns + int(window_s * 1e9)

        async def read(index: int) -> None:
            call = client.stream(ids[index])
            async for _ in call:
                now_ns = time.time_ns()
                if now_ns >= end_ns:
                    break
                if now_ns >= start_ns:
                    counts[index] += 1
            call.cancel()

        await asyncio.gather(*(read(i) for i in range(sessions)))
        depths = [
            (await client.drain(session_id)).drain_events.queued_event_count
            for session_id in ids
        ]
        return sum(counts) / window_s, depths


def test_the_ceiling_caps_all_streams_together(start_gateway: StartGateway) -> None:
    # Two sessions offer 2 x 60 x 5 = 600 events/s against a 200 events/s ceiling.
    gateway = start_gateway("loopback", change_rate_hz=5, delivery_ceiling_eps=200)

    rate_eps, depths = asyncio.run(delivered_rate(gateway.address, 2, 60, 2.0))

    assert 170 < rate_eps < 215
    # The excess waits in the queues: about 400 events/s for 2.3 s.
    assert sum(depths) > 500


def test_below_the_ceiling_the_offered_rate_passes(start_gateway: StartGateway) -> None:
    gateway = start_gateway("loopback", change_rate_hz=5, delivery_ceiling_eps=1000)

    rate_eps, depths = asyncio.run(delivered_rate(gateway.address, 1, 60, 2.0))

    # 300 events/s offered; Poisson noise over 2 s is about 4 percent.
    assert 250 < rate_eps < 350
    assert max(depths) < 50


def test_a_ceiling_below_the_offered_rate_ends_in_overflow(
    start_gateway: StartGateway,
) -> None:
    gateway = start_gateway(
        "loopback", change_rate_hz=10, delivery_ceiling_eps=50, queue_capacity=300
    )

    async def scenario() -> tuple[grpc.StatusCode, pb.DrainEventsReply]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            client = Client(channel)
            session_id, _ = await client.subscribed_session(galaxy_tags()[:30])
            call = client.stream(session_id)
            try:
                async for _ in call:
                    pass
            except grpc.aio.AioRpcError as error:
                code = error.code()
            else:
                code = grpc.StatusCode.OK
            drained = (await client.drain(session_id)).drain_events
            return code, drained

    code, drained = asyncio.run(scenario())

    # 300 events/s offered, 50 delivered: 300 places fill in about 1.2 s.
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert drained.session_state == pb.SESSION_STATE_FAULTED
    assert drained.faults[0].code == pb.PROTOCOL_STATUS_CODE_EVENT_QUEUE_OVERFLOW
