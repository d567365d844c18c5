"""A minimal gateway client written from the contract only, for the sim tests.

It imports nothing of gwexp but the generated contract code, so the tests
check the simulator the way any other client would see it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import grpc

from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.proto import mxaccess_gateway_pb2_grpc as pb_grpc

# Deadline of every unary call, seconds.
DEADLINE_S = 10.0
# OpenSession waits for the worker start, which is longer.
OPEN_DEADLINE_S = 60.0
ATTRIBUTES = (
    "TestChangingInt",
    "TestChangingDouble",
    "TestChangingBool",
    "TestChangingString",
    "TestChangingFloat",
    "TestChangingTime",
)


def galaxy_tags(machines: int = 20) -> list[str]:
    """Every tag of a default-attribute galaxy of ``machines`` machines."""
    return [
        f"TestMachine_{number:03d}.{attribute}"
        for number in range(1, machines + 1)
        for attribute in ATTRIBUTES
    ]


class Client:
    """Typed helpers over the four RPCs, each unary call with a deadline."""

    def __init__(self, channel: grpc.aio.Channel, api_key: str | None = None) -> None:
        self.stub = pb_grpc.MxAccessGatewayStub(channel)
        self.metadata = (
            () if api_key is None else (("authorization", f"Bearer {api_key}"),)
        )

    async def open(self, name: str = "sim-test") -> pb.OpenSessionReply:
        """OpenSession."""
        return await self.stub.OpenSession(
            pb.OpenSessionRequest(client_session_name=name),
            timeout=OPEN_DEADLINE_S,
            metadata=self.metadata,
        )

    async def open_ready(self) -> str:
        """OpenSession that must succeed; return the session id."""
        reply = await self.open()
        assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK, reply
        return reply.session_id

    async def invoke(self, session_id: str, command: pb.MxCommand) -> pb.MxCommandReply:
        """Invoke one command."""
        return await self.stub.Invoke(
            pb.MxCommandRequest(
                session_id=session_id,
                client_correlation_id="corr-1",
                command=command,
            ),
            timeout=DEADLINE_S,
            metadata=self.metadata,
        )

    async def register(self, session_id: str, name: str = "sim-test") -> int:
        """REGISTER; return the server handle."""
        reply = await self.invoke(
            session_id,
            pb.MxCommand(
                kind=pb.MX_COMMAND_KIND_REGISTER,
                register=pb.RegisterCommand(client_name=name),
            ),
        )
        assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK, reply
        return reply.register.server_handle

    async def subscribe(
        self, session_id: str, server_handle: int, tags: Sequence[str]
    ) -> pb.MxCommandReply:
        """SUBSCRIBE_BULK."""
        return await self.invoke(
            session_id,
            pb.MxCommand(
                kind=pb.MX_COMMAND_KIND_SUBSCRIBE_BULK,
                subscribe_bulk=pb.SubscribeBulkCommand(
                    server_handle=server_handle, tag_addresses=list(tags)
                ),
            ),
        )

    async def unsubscribe(
        self, session_id: str, server_handle: int, item_handles: Sequence[int]
    ) -> pb.MxCommandReply:
        """UNSUBSCRIBE_BULK."""
        return await self.invoke(
            session_id,
            pb.MxCommand(
                kind=pb.MX_COMMAND_KIND_UNSUBSCRIBE_BULK,
                unsubscribe_bulk=pb.UnsubscribeBulkCommand(
                    server_handle=server_handle, item_handles=list(item_handles)
                ),
            ),
        )

    async def drain(self, session_id: str, max_events: int = 0) -> pb.MxCommandReply:
        """DRAIN_EVENTS."""
        return await self.invoke(
            session_id,
            pb.MxCommand(
                kind=pb.MX_COMMAND_KIND_DRAIN_EVENTS,
                drain_events=pb.DrainEventsCommand(max_events=max_events),
            ),
        )

    async def close(self, session_id: str) -> pb.CloseSessionReply:
        """CloseSession."""
        return await self.stub.CloseSession(
            pb.CloseSessionRequest(session_id=session_id),
            timeout=DEADLINE_S,
            metadata=self.metadata,
        )

    def stream(
        self, session_id: str, after_sequence: int = 0
    ) -> grpc.aio.UnaryStreamCall[pb.StreamEventsRequest, pb.MxEvent]:
        """StreamEvents (no deadline: streams end by cancel, close or fault)."""
        return self.stub.StreamEvents(
            pb.StreamEventsRequest(
                session_id=session_id, after_worker_sequence=after_sequence
            ),
            metadata=self.metadata,
        )

    async def subscribed_session(self, tags: Sequence[str]) -> tuple[str, int]:
        """Open, register and subscribe ``tags``; return (session id, handle)."""
        session_id = await self.open_ready()
        handle = await self.register(session_id)
        reply = await self.subscribe(session_id, handle, tags)
        assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK, reply
        return session_id, handle


async def collect(
    call: grpc.aio.UnaryStreamCall[pb.StreamEventsRequest, pb.MxEvent],
    count: int | None = None,
    until_ns: int | None = None,
) -> list[pb.MxEvent]:
    """Read events until ``count`` arrived, ``until_ns`` passed or the stream ends."""
    events: list[pb.MxEvent] = []
    async for event in call:
        events.append(event)
        if count is not None and len(events) >= count:
            break
        if until_ns is not None and time.time_ns() >= until_ns:
            break
    return events
