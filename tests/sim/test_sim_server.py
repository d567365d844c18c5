"""The server around the service: health, reflection, TLS, start and stop."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from simclient import Client, collect, galaxy_tags

from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.sim import EmbeddedGateway, load_profile

StartGateway = Callable[..., EmbeddedGateway]
SERVICE = "mxaccess_gateway.v1.MxAccessGateway"


def test_health_answers_serving_for_the_server_and_the_service(
    start_gateway: StartGateway,
) -> None:
    gateway = start_gateway("loopback")

    async def scenario() -> list[int]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            return [
                int(
                    (
                        await stub.Check(
                            health_pb2.HealthCheckRequest(service=name), timeout=5
                        )
                    ).status
                )
                for name in ("", SERVICE)
            ]

    assert asyncio.run(scenario()) == [health_pb2.HealthCheckResponse.SERVING] * 2


def test_reflection_lists_the_services(start_gateway: StartGateway) -> None:
    gateway = start_gateway("loopback")

    async def scenario() -> list[str]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            call = stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                timeout=5,
            )
            async for reply in call:
                return [s.name for s in reply.list_services_response.service]
            return []

    names = asyncio.run(scenario())

    assert SERVICE in names
    assert "grpc.health.v1.Health" in names


def write_self_signed_pair(folder: Path) -> tuple[Path, Path, bytes]:
    """A CA and a server certificate for 127.0.0.1 signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gwexp test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file = folder / "server.pem"
    key_file = folder / "server.key"
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file, ca_cert.public_bytes(serialization.Encoding.PEM)


def test_tls_serves_a_client_that_trusts_the_ca(tmp_path: Path) -> None:
    cert_file, key_file, ca_pem = write_self_signed_pair(tmp_path)
    profile = load_profile("loopback", {"time_scale": 0.05, "change_rate_hz": 0})
    gateway = EmbeddedGateway(profile, tls_cert_file=cert_file, tls_key_file=key_file)

    async def scenario(address: str) -> tuple[int, grpc.StatusCode]:
        credentials = grpc.ssl_channel_credentials(root_certificates=ca_pem)
        async with grpc.aio.secure_channel(address, credentials) as channel:
            client = Client(channel)
            session_id, _ = await client.subscribed_session(galaxy_tags(1))
            events = await collect(client.stream(session_id), count=6)
        async with grpc.aio.insecure_channel(address) as plain:
            try:
                await Client(plain).open()
            except grpc.aio.AioRpcError as error:
                return len(events), error.code()
        return len(events), grpc.StatusCode.OK

    with gateway:
        count, plaintext_code = asyncio.run(scenario(gateway.address))

    assert count == 6
    assert plaintext_code == grpc.StatusCode.UNAVAILABLE


def test_tls_files_must_exist_and_come_in_pairs(tmp_path: Path) -> None:
    profile = load_profile("loopback")

    with pytest.raises(ValueError, match=r"tls_cert_file='.*missing\.pem' is invalid"):
        EmbeddedGateway(
            profile,
            tls_cert_file=tmp_path / "missing.pem",
            tls_key_file=tmp_path / "missing.key",
        )
    with pytest.raises(ValueError, match="give both or neither"):
        EmbeddedGateway(profile, tls_cert_file=tmp_path / "a.pem")


def test_stop_is_prompt_ends_streams_and_leaves_no_thread() -> None:
    profile = load_profile("loopback", {"time_scale": 0.05, "change_rate_hz": 5})
    gateway = EmbeddedGateway(profile)
    address = gateway.start()

    async def scenario() -> tuple[grpc.StatusCode, float, int]:
        async with grpc.aio.insecure_channel(address) as channel:
            client = Client(channel)
            session_id, _ = await client.subscribed_session(galaxy_tags(2))
            call = client.stream(session_id)
            reader = asyncio.ensure_future(collect(call))
            await asyncio.sleep(0.2)
            began = time.monotonic()
            await asyncio.get_running_loop().run_in_executor(None, gateway.stop)
            stopped_s = time.monotonic() - began
            events = await asyncio.wait_for(reader, 5)
            return await call.code(), stopped_s, len(events)

    code, stopped_s, count = asyncio.run(scenario())

    assert count >= 12
    assert code == grpc.StatusCode.OK
    assert stopped_s < 1.0
    assert not [t for t in threading.enumerate() if t.name == "gwexp-sim"]
    gateway.stop()


def test_address_needs_a_started_gateway() -> None:
    gateway = EmbeddedGateway(load_profile("loopback"))

    with pytest.raises(RuntimeError, match="not started"):
        _ = gateway.address
    assert pb.SESSION_STATE_READY


def test_session_count_shows_what_clients_left_open(
    start_gateway: StartGateway,
) -> None:
    gateway = start_gateway("loopback")

    async def scenario() -> list[int]:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            client = Client(channel)
            first = await client.open_ready()
            await client.open_ready()
            counts = [gateway.session_count]
            await client.close(first)
            counts.append(gateway.session_count)
            return counts

    assert asyncio.run(scenario()) == [2, 1]
