"""Resolve the gateway config into a reachable target, starting the simulator if asked.

This is the one module besides the entry point that knows both the runner's
config and the simulator; the runner itself only ever sees a :class:`Target`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gwexp.config import EmbeddedGatewayConfig, RemoteGatewayConfig
from gwexp.errors import ConfigError
from gwexp.gateway import Target
from gwexp.sim import EmbeddedGateway, load_profile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedGateway:
    """A reachable gateway and how to name it in results."""

    target: Target
    label: str
    # The simulator's seed, when gwexp started the gateway itself.
    seed: int | None


def dotted(overrides: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested overrides (``+gateway.overrides.delay.median_ms=5``) as dotted keys."""
    flat: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            flat.update(dotted(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@contextlib.contextmanager
def open_gateway(
    gateway: EmbeddedGatewayConfig | RemoteGatewayConfig,
) -> Iterator[ResolvedGateway]:
    """Yield the gateway to measure; an embedded one lives as long as the block."""
    if isinstance(gateway, RemoteGatewayConfig):
        tls = gateway.tls
        yield ResolvedGateway(
            Target(
                endpoint=gateway.endpoint,
                api_key=gateway.api_key,
                tls=tls.enabled,
                ca_cert_file=tls.ca_cert,
                server_name=tls.server_name,
                connect_timeout_s=gateway.connect_timeout_s,
            ),
            label=f"remote {gateway.endpoint}",
            seed=None,
        )
        return

    try:
        profile = load_profile(gateway.profile, dotted(gateway.overrides))
    except ValueError as error:
        raise ConfigError(f"gateway: {error}") from None
    with EmbeddedGateway(profile, seed=gateway.seed) as simulator:
        address = simulator.address
        log.info(
            "embedded simulated gateway, profile %s, seed %d, on %s",
            gateway.profile,
            gateway.seed,
            address,
        )
        yield ResolvedGateway(
            Target(endpoint=address),
            label=f"embedded {gateway.profile}",
            seed=gateway.seed,
        )
