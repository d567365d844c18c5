"""Build, start and stop a simulated gateway: gRPC server, health, reflection."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from gwexp.proto import mxaccess_gateway_pb2_grpc as pb_grpc
from gwexp.sim.auth import ApiKeyInterceptor, parse_api_keys
from gwexp.sim.profile import Profile
from gwexp.sim.registry import SessionRegistry
from gwexp.sim.service import SERVICE_NAME, GatewayServicer

logger = logging.getLogger(__name__)

# The real gateway's message limit.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
# Seconds in-flight calls get to finish once stop() has ended every stream.
STOP_GRACE_S = 1.0


def read_tls_pair(cert_file: str | Path, key_file: str | Path) -> tuple[bytes, bytes]:
    """Read a PEM certificate chain and its private key; ValueError if unusable."""
    pems: list[bytes] = []
    for option, path in (("tls_cert_file", cert_file), ("tls_key_file", key_file)):
        try:
            pems.append(Path(path).read_bytes())
        except OSError as error:
            raise ValueError(
                f"{option}={str(path)!r} is invalid: {error.strerror or error}"
            ) from None
    return pems[0], pems[1]


class SimulatedGateway:
    """One simulated gateway on the running event loop."""

    def __init__(
        self,
        profile: Profile,
        seed: int = 0,
        api_keys: Sequence[str] = (),
        tls_cert_file: str | Path | None = None,
        tls_key_file: str | Path | None = None,
    ) -> None:
        if (tls_cert_file is None) != (tls_key_file is None):
            raise ValueError(
                "tls_cert_file and tls_key_file are invalid alone: give both or neither"
            )
        self.profile = profile
        self.seed = seed
        self._keys = parse_api_keys(api_keys)
        self._tls = (
            None
            if tls_cert_file is None or tls_key_file is None
            else read_tls_pair(tls_cert_file, tls_key_file)
        )
        self._server: grpc.aio.Server | None = None
        self._health: HealthServicer | None = None
        self.registry: SessionRegistry | None = None

    @property
    def session_count(self) -> int:
        """Sessions open now (starting ones excluded)."""
        return 0 if self.registry is None else len(self.registry)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Bind ``host:port`` (0 picks a free port), start serving; return the port."""
        interceptors = [ApiKeyInterceptor(self._keys)] if self._keys else []
        server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                # A fixed port must fail loudly when taken, not be shared.
                ("grpc.so_reuseport", 0),
            ],
        )
        self.registry = SessionRegistry(self.profile, self.seed)
        pb_grpc.add_MxAccessGatewayServicer_to_server(  # type: ignore[no-untyped-call]
            GatewayServicer(self.registry), server
        )

        self._health = HealthServicer()
        for service in ("", SERVICE_NAME):
            await self._health.set(service, health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )

        address = f"{host}:{port}"
        try:
            if self._tls is None:
                bound = server.add_insecure_port(address)
            else:
                cert_pem, key_pem = self._tls
                credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)])
                bound = server.add_secure_port(address, credentials)
        except RuntimeError as error:
            raise OSError(f"cannot listen on {address}: {error}") from None
        if bound == 0:
            raise OSError(f"cannot listen on {address}: the port is not free")

        await server.start()
        self._server = server
        logger.debug(
            "serving profile %s seed %d on %s:%d (tls %s, api keys %d)",
            self.profile.name,
            self.seed,
            host,
            bound,
            "on" if self._tls else "off",
            len(self._keys),
        )
        return bound

    async def stop(self) -> None:
        """End every stream cleanly, close every session, stop the server."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        if self.registry is not None:
            self.registry.close_all()
        await server.stop(STOP_GRACE_S)
