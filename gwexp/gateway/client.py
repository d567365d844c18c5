"""Open, register, subscribe, stream, drain and close, over one grpc.aio channel.

Only field names of the contract are used, never numbers, so that the
gateway's own published ``mxaccess_gateway.proto`` can be dropped into
``protos/`` and regenerated.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import grpc.aio

from gwexp.errors import AuthError, GatewayError, GatewayUnreachable
from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.proto import mxaccess_gateway_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

STATUS_OK = pb.PROTOCOL_STATUS_CODE_OK
# Messages are far below this; it matches the gateway's own 16 MiB limit.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    """Where the gateway is and how to reach it."""

    endpoint: str
    api_key: str | None = None
    tls: bool = False
    ca_cert_file: str | None = None
    server_name: str | None = None
    connect_timeout_s: float = 5.0

    def __repr__(self) -> str:
        # The key is a secret: never let it into a log line or a traceback.
        key = "set" if self.api_key else "none"
        return f"Target(endpoint={self.endpoint!r}, api_key={key}, tls={self.tls})"


@dataclass(frozen=True)
class OpenFailure(Exception):
    """The gateway answered OpenSession but did not give a ready session."""

    code: str
    message: str


@contextlib.asynccontextmanager
async def connect(target: Target) -> AsyncIterator[grpc.aio.Channel]:
    """Open a channel; raise GatewayUnreachable if the gateway does not answer."""
    options: list[tuple[str, str | int]] = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    if target.server_name:
        options.append(("grpc.ssl_target_name_override", target.server_name))
    if target.tls:
        root = Path(target.ca_cert_file).read_bytes() if target.ca_cert_file else None
        credentials = grpc.ssl_channel_credentials(root_certificates=root)
        channel = grpc.aio.secure_channel(target.endpoint, credentials, options)
    else:
        channel = grpc.aio.insecure_channel(target.endpoint, options)

    async with channel:
        try:
            await asyncio.wait_for(channel.channel_ready(), target.connect_timeout_s)
        except TimeoutError:
            raise GatewayUnreachable(
                f"no gRPC server answered at {target.endpoint} within "
                f"{target.connect_timeout_s:g} s: check gateway.endpoint, that the "
                "gateway runs, and gateway.tls.enabled"
            ) from None
        yield channel


class GatewayClient:
    """The calls gwexp makes, each with a deadline and the API key attached."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        target: Target,
        command_timeout_s: float,
        open_timeout_s: float,
    ) -> None:
        self._stub = pb_grpc.MxAccessGatewayStub(channel)  # type: ignore[no-untyped-call]
        self._target = target
        self._command_timeout_s = command_timeout_s
        self._open_timeout_s = open_timeout_s
        self._metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {target.api_key}"),) if target.api_key else ()
        )
        self._correlation = itertools.count(1)

    async def open_session(self, name: str) -> pb.OpenSessionReply:
        """Open a session; raise OpenFailure when the gateway says it could not."""
        try:
            reply: pb.OpenSessionReply = await self._stub.OpenSession(
                pb.OpenSessionRequest(client_session_name=name),
                timeout=self._open_timeout_s,
                metadata=self._metadata,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise OpenFailure(
                    "DEADLINE_EXCEEDED",
                    f"no reply within client.open_timeout_s={self._open_timeout_s:g}",
                ) from None
            if error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise OpenFailure("RESOURCE_EXHAUSTED", error.details() or "") from None
            raise self.classify(error, "OpenSession") from None
        if reply.protocol_status.code != STATUS_OK:
            raise OpenFailure(
                pb.ProtocolStatusCode.Name(reply.protocol_status.code),
                reply.protocol_status.message,
            )
        return reply

    async def register(self, session_id: str, client_name: str) -> int:
        """Register the client with the session's MXAccess; return the server handle."""
        command = pb.MxCommand(
            kind=pb.MX_COMMAND_KIND_REGISTER,
            register=pb.RegisterCommand(client_name=client_name),
        )
        reply = await self._invoke(session_id, command)
        return int(reply.register.server_handle)

    async def subscribe(
        self, session_id: str, server_handle: int, tags: Sequence[str]
    ) -> Sequence[pb.SubscribeResult]:
        """Add and advise ``tags``; one result per tag, in order."""
        command = pb.MxCommand(
            kind=pb.MX_COMMAND_KIND_SUBSCRIBE_BULK,
            subscribe_bulk=pb.SubscribeBulkCommand(
                server_handle=server_handle, tag_addresses=list(tags)
            ),
        )
        reply = await self._invoke(session_id, command)
        return list(reply.bulk_subscribe.results)

    async def unsubscribe(
        self, session_id: str, server_handle: int, item_handles: Sequence[int]
    ) -> None:
        """Unadvise and remove items."""
        command = pb.MxCommand(
            kind=pb.MX_COMMAND_KIND_UNSUBSCRIBE_BULK,
            unsubscribe_bulk=pb.UnsubscribeBulkCommand(
                server_handle=server_handle, item_handles=list(item_handles)
            ),
        )
        await self._invoke(session_id, command)

    async def drain(self, session_id: str, max_events: int = 0) -> pb.DrainEventsReply:
        """Ask the gateway for the session's state, fault records and queued events."""
        command = pb.MxCommand(
            kind=pb.MX_COMMAND_KIND_DRAIN_EVENTS,
            drain_events=pb.DrainEventsCommand(max_events=max_events),
        )
        reply = await self._invoke(session_id, command, check_status=False)
        return reply.drain_events

    async def close_session(self, session_id: str) -> int:
        """Close the session; return its final SessionState."""
        try:
            reply = await self._stub.CloseSession(
                pb.CloseSessionRequest(session_id=session_id),
                timeout=self._command_timeout_s,
                metadata=self._metadata,
            )
        except grpc.aio.AioRpcError as error:
            raise self.classify(error, "CloseSession") from None
        return int(reply.final_state)

    def stream_events(
        self, session_id: str, after_sequence: int, timeout_s: float
    ) -> grpc.aio.UnaryStreamCall[pb.StreamEventsRequest, pb.MxEvent]:
        """Start the session's event stream; iterate the returned call."""
        request = pb.StreamEventsRequest(
            session_id=session_id, after_worker_sequence=after_sequence
        )
        call: grpc.aio.UnaryStreamCall[pb.StreamEventsRequest, pb.MxEvent] = (
            self._stub.StreamEvents(request, timeout=timeout_s, metadata=self._metadata)
        )
        return call

    def classify(self, error: grpc.aio.AioRpcError, rpc: str) -> GatewayError:
        """Turn a gRPC error into the gwexp error its status code means."""
        code = error.code()
        endpoint = self._target.endpoint
        if code == grpc.StatusCode.UNAUTHENTICATED:
            return AuthError(
                f"gateway at {endpoint} refused {rpc}: API key missing or unknown "
                "(UNAUTHENTICATED); set MXGW_API_KEY to a valid mxgw_<id>_<secret> key"
            )
        if code == grpc.StatusCode.PERMISSION_DENIED:
            return AuthError(
                f"gateway at {endpoint} refused {rpc}: the API key lacks the scope "
                "for it (PERMISSION_DENIED); use a key granted that scope"
            )
        if code == grpc.StatusCode.UNAVAILABLE:
            return GatewayUnreachable(
                f"gateway at {endpoint} became unavailable during {rpc}: "
                f"{error.details()}"
            )
        name = code.name if code is not None else "UNKNOWN"
        return GatewayError(
            f"gateway at {endpoint}: {rpc} failed with {name}: {error.details()}"
        )

    async def _invoke(
        self, session_id: str, command: pb.MxCommand, check_status: bool = True
    ) -> pb.MxCommandReply:
        request = pb.MxCommandRequest(
            session_id=session_id,
            client_correlation_id=str(next(self._correlation)),
            command=command,
        )
        kind = pb.MxCommandKind.Name(command.kind)
        try:
            reply: pb.MxCommandReply = await self._stub.Invoke(
                request, timeout=self._command_timeout_s, metadata=self._metadata
            )
        except grpc.aio.AioRpcError as error:
            raise self.classify(error, f"Invoke {kind}") from None
        if check_status and reply.protocol_status.code != STATUS_OK:
            status = reply.protocol_status
            raise GatewayError(
                f"gateway at {self._target.endpoint}: {kind} on {session_id} failed "
                f"with {pb.ProtocolStatusCode.Name(status.code)}: {status.message}"
            )
        return reply
