"""API keys: parse ``mxgw_<id>_<secret>[=scope,...]`` and enforce scopes.

Keys travel as ``authorization: Bearer <key>`` metadata. A missing or unknown
key is UNAUTHENTICATED; a known key without the scope a call needs is
PERMISSION_DENIED. Health checking and reflection stay open. Secrets are
never logged; the key id is.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.sim.commands import kind_name

logger = logging.getLogger(__name__)

SCOPES = ("sessions", "commands", "events:read")
KEY_PREFIX = "mxgw_"
_SERVICE = "/" + pb.DESCRIPTOR.services_by_name["MxAccessGateway"].full_name + "/"
# Scope each RPC needs; Invoke's depends on its command (see below).
METHOD_SCOPES = {
    _SERVICE + "OpenSession": "sessions",
    _SERVICE + "CloseSession": "sessions",
    _SERVICE + "Invoke": "commands",
    _SERVICE + "StreamEvents": "events:read",
}
# DRAIN_EVENTS reads events, so it needs events:read rather than commands.
DRAIN_SCOPE = "events:read"


@dataclass(frozen=True)
class ApiKey:
    """One accepted key: its id, the full key text and its scopes."""

    key_id: str
    key: str
    scopes: frozenset[str]


def parse_api_key(text: str, position: int = 1) -> ApiKey:
    """Parse ``mxgw_<id>_<secret>`` or ``mxgw_<id>_<secret>=scope,scope``."""
    key, has_scopes, scope_text = text.partition("=")
    key_id, _, secret = key.removeprefix(KEY_PREFIX).partition("_")
    # The message never repeats the key: it may hold a real secret.
    if not key.startswith(KEY_PREFIX) or not key_id or not secret:
        raise ValueError(
            f"api key #{position} is invalid: must look like mxgw_<id>_<secret>, "
            "optionally followed by =scope,scope"
        )
    scopes = frozenset(SCOPES)
    if has_scopes:
        scopes = frozenset(part.strip() for part in scope_text.split(","))
        unknown = sorted(scopes - set(SCOPES))
        if unknown or not scopes:
            raise ValueError(
                f"api key {key_id!r} scopes={','.join(unknown)!r} are invalid: "
                f"must be drawn from {', '.join(SCOPES)}"
            )
    return ApiKey(key_id, key, scopes)


def parse_api_keys(texts: Sequence[str]) -> dict[str, ApiKey]:
    """Parse every key; reject two keys with one id."""
    keys: dict[str, ApiKey] = {}
    for position, text in enumerate(texts, start=1):
        key = parse_api_key(text, position)
        if key.key_id in keys:
            raise ValueError(
                f"api key id {key.key_id!r} is given twice: each id must be unique"
            )
        keys[key.key_id] = key
    return keys


def _deny(
    handler: grpc.RpcMethodHandler[Any, Any], code: grpc.StatusCode, message: str
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same shape as ``handler`` that only refuses."""
    if handler.response_streaming:

        async def abort_stream(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            await context.abort(code, message)
            yield  # pragma: no cover - makes this an async generator

        return grpc.unary_stream_rpc_method_handler(
            abort_stream,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    async def abort(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(code, message)

    return grpc.unary_unary_rpc_method_handler(
        abort,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


if TYPE_CHECKING:
    _Interceptor = grpc.aio.ServerInterceptor[Any, Any]
else:
    # The runtime class is not generic; only the stubs are.
    _Interceptor = grpc.aio.ServerInterceptor


class ApiKeyInterceptor(_Interceptor):
    """Checks the bearer key and the scope of every gateway call."""

    def __init__(self, keys: dict[str, ApiKey]) -> None:
        self._keys = keys

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        """Authenticate and authorise, or answer with the refusal."""
        method = handler_call_details.method
        scope = METHOD_SCOPES.get(method)
        if scope is None:
            return await continuation(handler_call_details)

        handler = await continuation(handler_call_details)
        key = self._authenticate(handler_call_details.invocation_metadata)
        if key is None:
            return _deny(
                handler,
                grpc.StatusCode.UNAUTHENTICATED,
                "missing or unknown API key: send 'authorization: Bearer "
                "mxgw_<id>_<secret>'",
            )
        if method == _SERVICE + "Invoke":
            return self._guard_invoke(key, handler)
        if scope not in key.scopes:
            logger.debug("key %s lacks scope %s for %s", key.key_id, scope, method)
            return _deny(
                handler,
                grpc.StatusCode.PERMISSION_DENIED,
                f"API key {key.key_id!r} lacks scope {scope!r}, "
                f"which {method.rsplit('/', 1)[-1]} needs",
            )
        return handler

    def _authenticate(self, metadata: Any) -> ApiKey | None:
        header = ""
        for name, value in metadata or ():
            if name == "authorization":
                header = value if isinstance(value, str) else value.decode()
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        presented = presented.strip()
        key_id = presented.removeprefix(KEY_PREFIX).partition("_")[0]
        key = self._keys.get(key_id)
        if key is None or not hmac.compare_digest(key.key, presented):
            logger.debug("refused a call with an unknown API key")
            return None
        return key

    def _guard_invoke(
        self, key: ApiKey, handler: grpc.RpcMethodHandler[Any, Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        # The scope depends on the command inside the request, which only
        # the handler sees; so the check wraps the handler.
        # The stubs describe sync handlers; on an aio server this is a coroutine.
        inner: Any = handler.unary_unary

        async def guarded(
            request: pb.MxCommandRequest,
            context: grpc.aio.ServicerContext[Any, Any],
        ) -> Any:
            scope = (
                DRAIN_SCOPE
                if request.command.kind == pb.MX_COMMAND_KIND_DRAIN_EVENTS
                else "commands"
            )
            if scope not in key.scopes:
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"API key {key.key_id!r} lacks scope {scope!r}, which "
                    f"Invoke {kind_name(request.command.kind)} needs",
                )
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
