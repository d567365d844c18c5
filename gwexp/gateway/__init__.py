"""The client side of the gateway contract."""

from gwexp.gateway.client import GatewayClient, OpenFailure, Target, connect

__all__ = ["GatewayClient", "OpenFailure", "Target", "connect"]
