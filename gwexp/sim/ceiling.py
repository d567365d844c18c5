"""The gateway-wide delivery ceiling: a token bucket shared by all streams."""

from __future__ import annotations

import time

# Burst allowance as seconds of the ceiling rate: enough that a stream sends
# a few events per wake-up at high ceilings, small enough that the rate over
# any window longer than this stays at the ceiling.
BURST_S = 0.01


class DeliveryCeiling:
    """Hands out at most ``rate_eps`` send tokens per second to all streams."""

    def __init__(self, rate_eps: float) -> None:
        self.rate_eps = rate_eps
        self._capacity = max(1.0, rate_eps * BURST_S)
        self._tokens = self._capacity
        self._updated = time.monotonic()

    def try_take(self) -> bool:
        """Take one token if one is available now."""
        if self._tokens < 1.0:
            self._refill()
            if self._tokens < 1.0:
                return False
        self._tokens -= 1.0
        return True

    def wait_s(self) -> float:
        """Seconds until the next token is available."""
        self._refill()
        return max(0.0, (1.0 - self._tokens) / self.rate_eps)

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(
            self._capacity, self._tokens + (now - self._updated) * self.rate_eps
        )
        self._updated = now
