"""API keys and scopes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from simclient import Client, galaxy_tags

from gwexp.sim import EmbeddedGateway, load_profile
from gwexp.sim.auth import parse_api_key

StartGateway = Callable[..., EmbeddedGateway]
FULL_KEY = "mxgw_ops_s3cr3t"
SESSIONS_ONLY = "mxgw_opener_abc"
READER = "mxgw_reader_def"
COMMANDER = "mxgw_cmd_ghi"
KEYS = (
    FULL_KEY,
    f"{SESSIONS_ONLY}=sessions",
    f"{READER}=events:read,sessions",
    f"{COMMANDER}=commands,sessions",
)


def test_missing_or_wrong_keys_are_unauthenticated(start_gateway: StartGateway) -> None:
    gateway = start_gateway("loopback", api_keys=KEYS)

    async def attempt(key: str | None) -> grpc.StatusCode:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            try:
                await Client(channel, key).open()
            except grpc.aio.AioRpcError as error:
                return error.code()
            return grpc.StatusCode.OK

    codes = {
        key: asyncio.run(attempt(key))
        for key in (None, "mxgw_ops_wrong", "mxgw_nobody_x", "garbage", FULL_KEY)
    }

    assert codes == {
        None: grpc.StatusCode.UNAUTHENTICATED,
        "mxgw_ops_wrong": grpc.StatusCode.UNAUTHENTICATED,
        "mxgw_nobody_x": grpc.StatusCode.UNAUTHENTICATED,
        "garbage": grpc.StatusCode.UNAUTHENTICATED,
        FULL_KEY: grpc.StatusCode.OK,
    }


def test_each_call_needs_its_scope(start_gateway: StartGateway) -> None:
    gateway = start_gateway("loopback", api_keys=KEYS, change_rate_hz=1)

    async def scenario() -> dict[str, grpc.StatusCode]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            full = Client(channel, FULL_KEY)
            session_id, _ = await full.subscribed_session(galaxy_tags(1))
            results: dict[str, grpc.StatusCode] = {}

            async def code_of(name: str, call: object) -> None:
                try:
                    await call  # type: ignore[misc]
                except grpc.aio.AioRpcError as error:
                    results[name] = error.code()
                else:
                    results[name] = grpc.StatusCode.OK

            opener = Client(channel, SESSIONS_ONLY)
            reader = Client(channel, READER)
            commander = Client(channel, COMMANDER)
            await code_of("opener open", opener.open())
            await code_of("opener register", opener.register(session_id))
            await code_of("opener drain", opener.drain(session_id))
            await code_of("opener stream", opener.stream(session_id).read())
            await code_of("reader drain", reader.drain(session_id))
            await code_of("reader register", reader.register(session_id))
            stream = reader.stream(session_id)
            await code_of("reader stream", stream.read())
            stream.cancel()
            await code_of("commander register", commander.register(session_id))
            await code_of("commander drain", commander.drain(session_id))
            return results

    results = asyncio.run(scenario())

    denied = grpc.StatusCode.PERMISSION_DENIED
    assert results == {
        "opener open": grpc.StatusCode.OK,
        "opener register": denied,
        "opener drain": denied,
        "opener stream": denied,
        "reader drain": grpc.StatusCode.OK,
        "reader register": denied,
        "reader stream": grpc.StatusCode.OK,
        "commander register": grpc.StatusCode.OK,
        "commander drain": denied,
    }


def test_denials_name_the_scope_not_the_secret(start_gateway: StartGateway) -> None:
    gateway = start_gateway("loopback", api_keys=KEYS)

    async def scenario() -> str:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            try:
                await Client(channel, SESSIONS_ONLY).drain("session-x")
            except grpc.aio.AioRpcError as error:
                return error.details() or ""
            return ""

    details = asyncio.run(scenario())

    assert details == (
        "API key 'opener' lacks scope 'events:read', which Invoke DRAIN_EVENTS needs"
    )


def test_health_stays_open_with_keys(start_gateway: StartGateway) -> None:
    gateway = start_gateway("loopback", api_keys=KEYS)

    async def scenario() -> int:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
            return int(reply.status)

    assert asyncio.run(scenario()) == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mxgw_only", "api key #1 is invalid: must look like mxgw_<id>_<secret>"),
        ("token_a_b", "api key #1 is invalid"),
        ("mxgw_a_b=admin", "api key 'a' scopes='admin' are invalid"),
    ],
)
def test_malformed_keys_are_rejected_without_echoing_them(
    text: str, message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        parse_api_key(text)

    assert message in str(raised.value)
    assert "b=admin" not in str(raised.value)


def test_a_duplicate_key_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="api key id 'a' is given twice"):
        EmbeddedGateway(load_profile("loopback"), api_keys=("mxgw_a_1", "mxgw_a_2"))


def test_scopes_are_parsed() -> None:
    key = parse_api_key("mxgw_k1_secret_with_underscores=commands, events:read")

    assert key.key_id == "k1"
    assert key.key == "mxgw_k1_secret_with_underscores"
    assert key.scopes == {"commands", "events:read"}
    assert parse_api_key("mxgw_k2_x").scopes == {"sessions", "commands", "events:read"}
