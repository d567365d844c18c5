"""Faults: FailFast overflow, worker crash, dropped stream, one subscriber."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import pytest
from simclient import Client, collect, galaxy_tags

from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.sim import EmbeddedGateway

StartGateway = Callable[..., EmbeddedGateway]
OK = pb.PROTOCOL_STATUS_CODE_OK
OVERFLOW = pb.PROTOCOL_STATUS_CODE_EVENT_QUEUE_OVERFLOW
WORKER_UNAVAILABLE = pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE


async def read_until_error(
    call: grpc.aio.UnaryStreamCall[pb.StreamEventsRequest, pb.MxEvent],
) -> tuple[list[pb.MxEvent], grpc.aio.AioRpcError | None]:
    events: list[pb.MxEvent] = []
    try:
        while True:
            event = await call.read()
            if event is grpc.aio.EOF:
                return events, None
            assert isinstance(event, pb.MxEvent)
            events.append(event)
    except grpc.aio.AioRpcError as error:
        return events, error


def test_a_full_queue_faults_the_session(start_gateway: StartGateway) -> None:
    gateway = start_gateway("loopback", change_rate_hz=20, queue_capacity=200)

    async def scenario() -> tuple[
        pb.DrainEventsReply, grpc.aio.AioRpcError | None, pb.MxCommandReply, int
    ]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            client = Client(channel)
            # No stream yet: 2,400 events/s fill 200 places within a second.
            session_id, _ = await client.subscribed_session(galaxy_tags())
            await asyncio.sleep(0.5)
            drained = (await client.drain(session_id, max_events=10)).drain_events
            _, error = await read_until_error(client.stream(session_id))
            register = await client.invoke(
                session_id,
                pb.MxCommand(
                    kind=pb.MX_COMMAND_KIND_REGISTER,
                    register=pb.RegisterCommand(client_name="again"),
                ),
            )
            closed = await client.close(session_id)
            return drained, error, register, closed.final_state

    drained, error, register, final_state = asyncio.run(scenario())

    assert drained.session_state == pb.SESSION_STATE_FAULTED
    assert drained.queued_event_count == 200
    assert len(drained.events) == 10
    (fault,) = drained.faults
    assert fault.code == OVERFLOW
    assert fault.message.startswith("EventQueueOverflow:")
    assert "capacity of 200 events" in fault.message
    assert fault.time.ToNanoseconds() > 0
    assert error is not None
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (error.details() or "").startswith("EventQueueOverflow:")
    assert register.protocol_status.code == OVERFLOW
    assert final_state == pb.SESSION_STATE_CLOSED


def test_a_client_that_stops_reading_overflows_the_open_stream(
    start_gateway: StartGateway,
) -> None:
    gateway = start_gateway("loopback", change_rate_hz=400, queue_capacity=100)

    # A small fixed HTTP/2 window: otherwise the client's transport buffers
    # megabytes of events on its own before the gateway's queue sees any
    # back-pressure.
    small_window = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 16384)]

    async def scenario() -> tuple[int, grpc.aio.AioRpcError | None, int]:
        async with grpc.aio.insecure_channel(
            gateway.address, options=small_window
        ) as channel:
            client = Client(channel)
            session_id, _ = await client.subscribed_session(galaxy_tags(1))
            call = client.stream(session_id)
            await call.read()
            # Stop reading: the window fills, then the queue does.
            await asyncio.sleep(0.5)
            events, error = await read_until_error(call)
            drained = (await client.drain(session_id)).drain_events
            return len(events), error, drained.session_state

    count, error, state = asyncio.run(scenario())

    # 2,400 events/s for 0.5 s would be 1,200 had the stream kept up.
    assert 0 < count < 1000
    assert error is not None
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (error.details() or "").startswith("EventQueueOverflow:")
    assert state == pb.SESSION_STATE_FAULTED


def test_a_worker_crash_aborts_the_stream(start_gateway: StartGateway) -> None:
    gateway = start_gateway("loopback", change_rate_hz=5, faults__crash_after_s=0.4)

    async def scenario() -> tuple[
        list[pb.MxEvent], grpc.aio.AioRpcError | None, pb.DrainEventsReply, int
    ]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            client = Client(channel)
            session_id, _ = await client.subscribed_session(galaxy_tags())
            events, error = await read_until_error(client.stream(session_id))
            drained = (await client.drain(session_id)).drain_events
            again = await client.subscribe(session_id, 1, galaxy_tags(1))
            return events, error, drained, again.protocol_status.code

    events, error, drained, again = asyncio.run(scenario())

    assert len(events) > 120
    assert error is not None
    assert error.code() == grpc.StatusCode.ABORTED
    assert (error.details() or "").startswith("WorkerUnavailable:")
    assert drained.session_state == pb.SESSION_STATE_FAULTED
    assert [f.code for f in drained.faults] == [WORKER_UNAVAILABLE]
    assert again == WORKER_UNAVAILABLE


def test_faults_hit_only_the_listed_session_ordinals(
    start_gateway: StartGateway,
) -> None:
    gateway = start_gateway(
        "loopback",
        change_rate_hz=1,
        faults__crash_after_s=0.2,
        faults__sessions="2",
    )

    async def scenario() -> list[int]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            client = Client(channel)
            first, _ = await client.subscribed_session(galaxy_tags(1))
            second, _ = await client.subscribed_session(galaxy_tags(1))
            await asyncio.sleep(0.5)
            return [
                (await client.drain(first)).drain_events.session_state,
                (await client.drain(second)).drain_events.session_state,
            ]

    states = asyncio.run(scenario())

    assert states == [pb.SESSION_STATE_READY, pb.SESSION_STATE_FAULTED]


def test_a_dropped_stream_can_resume_without_gaps(start_gateway: StartGateway) -> None:
    gateway = start_gateway(
        "loopback", change_rate_hz=5, faults__drop_stream_after_s=0.4
    )

    async def scenario() -> tuple[
        list[pb.MxEvent], grpc.aio.AioRpcError | None, int, list[pb.MxEvent]
    ]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            client = Client(channel)
            session_id, _ = await client.subscribed_session(galaxy_tags())
            before, error = await read_until_error(client.stream(session_id))
            state = (await client.drain(session_id)).drain_events.session_state
            resumed = client.stream(session_id, before[-1].worker_sequence)
            after = await collect(resumed, count=200)
            resumed.cancel()
            return before, error, state, after

    before, error, state, after = asyncio.run(scenario())

    assert error is not None
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error.details() == "stream dropped by gateway"
    assert state == pb.SESSION_STATE_READY
    sequences = [e.worker_sequence for e in before + after]
    assert sequences == list(range(1, len(sequences) + 1))
    assert not after[0].HasField("replay_gap")


def test_resuming_before_the_replay_buffer_reports_a_gap(
    start_gateway: StartGateway,
) -> None:
    gateway = start_gateway(
        "loopback",
        change_rate_hz=5,
        replay_buffer=50,
        faults__drop_stream_after_s=0.4,
    )

    async def scenario() -> tuple[int, list[pb.MxEvent], list[pb.MxEvent]]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            client = Client(channel)
            session_id, _ = await client.subscribed_session(galaxy_tags())
            before, _ = await read_until_error(client.stream(session_id))
            last = before[-1].worker_sequence
            near = client.stream(session_id, last - 10)
            near_events = await collect(near, count=15)
            near.cancel()
            await asyncio.sleep(0.1)
            far = client.stream(session_id, 5)
            far_events = await collect(far, count=3)
            far.cancel()
            return last, near_events, far_events

    last, near, far = asyncio.run(scenario())

    assert last > 60
    assert [e.worker_sequence for e in near] == list(range(last - 9, last + 6))
    assert not near[0].HasField("replay_gap")
    gap = far[0].replay_gap
    assert far[0].HasField("replay_gap")
    assert gap.requested_after_sequence == 5
    assert gap.oldest_available_sequence == far[0].worker_sequence
    assert far[0].worker_sequence > 6
    assert not far[1].HasField("replay_gap")


def test_a_second_stream_is_refused(start_gateway: StartGateway) -> None:
    gateway = start_gateway("loopback", change_rate_hz=1)

    async def scenario() -> grpc.aio.AioRpcError:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            client = Client(channel)
            session_id, _ = await client.subscribed_session(galaxy_tags(1))
            first = client.stream(session_id)
            await first.read()
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await collect(client.stream(session_id))
            first.cancel()
            return raised.value

    error = asyncio.run(scenario())

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (error.details() or "").startswith("EventSubscriberAlreadyActive:")
