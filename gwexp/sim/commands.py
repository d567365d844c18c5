"""Invoke: the MXAccess commands the simulated gateway models."""

from __future__ import annotations

from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.sim.session import Session

# E_FAIL as a signed int32, the HRESULT of a command that did not run.
E_FAIL = -2147467259
HANDLED_KINDS = {
    pb.MX_COMMAND_KIND_REGISTER: "register",
    pb.MX_COMMAND_KIND_SUBSCRIBE_BULK: "subscribe_bulk",
    pb.MX_COMMAND_KIND_UNSUBSCRIBE_BULK: "unsubscribe_bulk",
    pb.MX_COMMAND_KIND_DRAIN_EVENTS: "drain_events",
}


def kind_name(kind: pb.MxCommandKind) -> str:
    """A command kind as the contract's documentation names it: DRAIN_EVENTS."""
    return pb.MxCommandKind.Name(kind).removeprefix("MX_COMMAND_KIND_")


def reply_for(request: pb.MxCommandRequest) -> pb.MxCommandReply:
    """An OK reply skeleton echoing the request's session, correlation and kind."""
    return pb.MxCommandReply(
        session_id=request.session_id,
        correlation_id=request.client_correlation_id,
        kind=request.command.kind,
        protocol_status=pb.ProtocolStatus(code=pb.PROTOCOL_STATUS_CODE_OK),
    )


def refuse(
    reply: pb.MxCommandReply, code: pb.ProtocolStatusCode, message: str
) -> pb.MxCommandReply:
    """Turn ``reply`` into a failed one with ``code`` and ``message``."""
    reply.protocol_status.code = code
    reply.protocol_status.message = message
    reply.hresult = E_FAIL
    reply.diagnostic_message = message
    return reply


def execute(session: Session, request: pb.MxCommandRequest) -> pb.MxCommandReply:
    """Run one command against ``session`` and build its reply."""
    reply = reply_for(request)
    command = request.command
    payload = HANDLED_KINDS.get(command.kind)
    if payload is None:
        return refuse(
            reply,
            pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST,
            f"command kind {kind_name(command.kind)} is not modelled by the "
            "simulated gateway: use REGISTER, SUBSCRIBE_BULK, UNSUBSCRIBE_BULK or "
            "DRAIN_EVENTS",
        )
    if command.WhichOneof("payload") != payload:
        return refuse(
            reply,
            pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST,
            f"command kind {kind_name(command.kind)} needs the {payload!r} payload",
        )

    if command.kind == pb.MX_COMMAND_KIND_DRAIN_EVENTS:
        # Allowed on a faulted session: it is how a client reads the faults.
        reply.drain_events.CopyFrom(session.drain(command.drain_events.max_events))
        return reply
    if session.state != pb.SESSION_STATE_READY:
        return _refuse_not_ready(reply, session)

    if command.kind == pb.MX_COMMAND_KIND_REGISTER:
        reply.register.server_handle = session.register(command.register.client_name)
        return reply
    if command.kind == pb.MX_COMMAND_KIND_SUBSCRIBE_BULK:
        body = command.subscribe_bulk
        addresses = list(body.tag_addresses)
        if not session.is_registered(body.server_handle):
            return _refuse_handle(reply, body.server_handle, addresses, [])
        results = session.subscribe(body.server_handle, addresses)
        reply.bulk_subscribe.results.extend(results)
        return reply

    unsubscribe = command.unsubscribe_bulk
    handles = list(unsubscribe.item_handles)
    if not session.is_registered(unsubscribe.server_handle):
        return _refuse_handle(reply, unsubscribe.server_handle, [], handles)
    results = session.unsubscribe(unsubscribe.server_handle, handles)
    reply.bulk_subscribe.results.extend(results)
    return reply


def _refuse_not_ready(reply: pb.MxCommandReply, session: Session) -> pb.MxCommandReply:
    state_name = pb.SessionState.Name(session.state).removeprefix("SESSION_STATE_")
    if session.faults:
        first = session.faults[0]
        return refuse(
            reply,
            first.code,
            f"{session.session_id} is {state_name} ({first.message}); only "
            "DRAIN_EVENTS and CloseSession are accepted",
        )
    return refuse(
        reply,
        pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE,
        f"{session.session_id} is {state_name}",
    )


def _refuse_handle(
    reply: pb.MxCommandReply,
    server_handle: int,
    addresses: list[str],
    item_handles: list[int],
) -> pb.MxCommandReply:
    # Each item still gets its result, so a client reading results per item
    # sees why every one failed.
    message = (
        f"server_handle={server_handle} is not registered in this session: "
        "call REGISTER first and use the handle it returns"
    )
    for address in addresses:
        reply.bulk_subscribe.results.add(
            server_handle=server_handle,
            tag_address=address,
            was_successful=False,
            error_message=message,
        )
    for handle in item_handles:
        reply.bulk_subscribe.results.add(
            server_handle=server_handle,
            item_handle=handle,
            was_successful=False,
            error_message=message,
        )
    return refuse(reply, pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST, message)
