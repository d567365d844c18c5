"""Fixtures for the simulated gateway tests: real servers on free ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from gwexp.sim import EmbeddedGateway, load_profile


@pytest.fixture
def start_gateway() -> Iterator[Callable[..., EmbeddedGateway]]:
    """Start embedded gateways from a profile name and overrides; stop them after.

    Keyword overrides use ``__`` for dots (``delay__median_ms=5``). Worker
    starts are scaled to 1/20 unless a test sets ``time_scale``, so that
    opening a session costs 30 ms rather than 0.6 s.
    """
    started: list[EmbeddedGateway] = []

    def start(
        profile: str = "dev_galaxy",
        seed: int = 0,
        api_keys: tuple[str, ...] = (),
        **overrides: object,
    ) -> EmbeddedGateway:
        dotted = {key.replace("__", "."): value for key, value in overrides.items()}
        dotted.setdefault("time_scale", 0.05)
        gateway = EmbeddedGateway(
            load_profile(profile, dotted), seed=seed, api_keys=api_keys
        )
        gateway.start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()
