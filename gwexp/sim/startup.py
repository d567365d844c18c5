"""Worker start-up: overlapping starts share the machine and slow each other.

Each start needs ``worker_start_s`` of solo work. While ``n`` starts are in
flight each progresses at ``1 / (1 + start_contention * (n - 1))`` of solo
speed (processor sharing); speeds are recomputed whenever a start begins,
completes or gives up. With the dev_galaxy figures 7 simultaneous starts take
0.6 * (1 + 8 * 6) = 29.4 s and pass the 30 s timeout, 8 take 34.2 s and all
time out, and starts 750 ms apart never overlap. A start that times out stops
contending at once, as the real gateway kills a worker that missed its limit.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

# Remaining work below this counts as done; it absorbs float rounding.
DONE_EPSILON_S = 1e-9


@dataclass(eq=False)
class _Start:
    remaining_s: float
    done: asyncio.Future[None] = field(repr=False)


class StartupContention:
    """Models the worker starts in flight on one gateway."""

    def __init__(self, worker_start_s: float, start_contention: float) -> None:
        self._work_s = worker_start_s
        self._contention = start_contention
        self._starts: list[_Start] = []
        self._last_update = 0.0
        self._timer: asyncio.TimerHandle | None = None

    @property
    def in_flight(self) -> int:
        """Starts currently in progress."""
        return len(self._starts)

    async def start_worker(self, timeout_s: float) -> bool:
        """Run one start; True once it completes, False if ``timeout_s`` ran out."""
        loop = asyncio.get_running_loop()
        start = _Start(self._work_s, loop.create_future())
        self._advance(loop)
        self._starts.append(start)
        self._reschedule(loop)

        try:
            async with asyncio.timeout(timeout_s):
                await start.done
        except TimeoutError:
            # Completion and timeout can land in one loop iteration; the
            # completion timer ran first, so the start made it in time.
            if start.done.done() and not start.done.cancelled():
                return True
            logger.debug(
                "worker start timed out after %.3f s with %d starts in flight",
                timeout_s,
                len(self._starts),
            )
            return False
        finally:
            if start in self._starts:
                self._advance(loop)
                self._starts.remove(start)
                self._reschedule(loop)
        return True

    def cancel_all(self) -> None:
        """Stop the timer; used when the gateway shuts down."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _speed(self) -> float:
        return 1.0 / (1.0 + self._contention * max(0, len(self._starts) - 1))

    def _advance(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        progress_s = (now - self._last_update) * self._speed()
        self._last_update = now
        for start in self._starts:
            start.remaining_s -= progress_s

    def _reschedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._starts:
            return
        shortest_s = max(0.0, min(start.remaining_s for start in self._starts))
        when = loop.time() + shortest_s / self._speed()
        self._timer = loop.call_at(when, self._on_timer, loop)

    def _on_timer(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        self._advance(loop)
        finished = [s for s in self._starts if s.remaining_s <= DONE_EPSILON_S]
        for start in finished:
            self._starts.remove(start)
            if not start.done.done():
                start.done.set_result(None)
        self._reschedule(loop)
