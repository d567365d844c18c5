"""When advised tags change and when each change reaches the gateway.

All advised items of a session form one Poisson process of rate
``n * change_rate_hz`` that picks the changing item uniformly. That is the
same in distribution as ``n`` independent processes of rate
``change_rate_hz`` (a superposition of Poisson processes is Poisson, and by
memorylessness the process may restart whenever the item set changes), and it
costs one random gap per change instead of a heap of ``n`` timers.

Times are seconds since the schedule's anchor (the session's first
SUBSCRIBE_BULK); a change's ``worker_timestamp`` is the anchor's wall-clock
time plus its offset, exactly, so that two runs with one seed give identical
relative worker timestamps. Everything is drawn from one seeded generator in
change order, so wake-up timing never changes what is drawn.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from gwexp.sim.galaxy import RawValue, Tag, initial_value, next_value
from gwexp.sim.profile import DelayModel

NS_PER_S = 1_000_000_000


@dataclass(slots=True, eq=False)
class Item:
    """One advised tag of a session."""

    handle: int
    server_handle: int
    tag: Tag
    value: RawValue = 0
    advised: bool = True


@dataclass(slots=True, frozen=True)
class Change:
    """One tag change, ready to enter the session queue."""

    worker_ns: int
    item: Item
    value: RawValue


class DelaySampler:
    """Draws the worker-to-gateway delay of one change, in seconds."""

    def __init__(self, delay: DelayModel) -> None:
        self.model = delay.model
        self.median_s = delay.median_ms / 1000.0
        self.mu = math.log(self.median_s) if self.median_s > 0 else 0.0
        self.sigma = delay.sigma

    def sample_s(self, rng: random.Random) -> float:
        """One delay in seconds."""
        if self.model == "lognormal":
            return rng.lognormvariate(self.mu, self.sigma)
        if self.model == "constant":
            return self.median_s
        return 0.0


class ChangeSchedule:
    """A session's seeded change process and its in-flight changes."""

    def __init__(
        self,
        rng: random.Random,
        change_rate_hz: float,
        delay: DelayModel,
        anchor_wall_ns: int,
    ) -> None:
        self._rng = rng
        self._rate_hz = change_rate_hz
        self._delay = DelaySampler(delay)
        self.anchor_wall_ns = anchor_wall_ns
        self._items: list[Item] = []
        self._next_change_s = math.inf
        # Changes drawn but not yet due at the gateway, ordered by due time;
        # the counter breaks ties in draw order.
        self._in_flight: list[tuple[float, int, Change]] = []
        self._drawn = 0

    @property
    def advised_count(self) -> int:
        """Items currently producing changes."""
        return len(self._items)

    def add_items(self, items: list[Item], now_s: float) -> None:
        """Advise ``items`` at ``now_s``: one initial change each, then Poisson."""
        self._draw_until(now_s)
        change_ns = self._wall_ns(now_s)
        for item in items:
            item.value = initial_value(item.tag.data_type, self._rng, change_ns)
            self._push(now_s, Change(change_ns, item, item.value))
        self._items.extend(items)
        self._restart(now_s)

    def remove_items(self, items: list[Item], now_s: float) -> None:
        """Stop ``items`` changing; their changes still in flight are dropped."""
        self._draw_until(now_s)
        for item in items:
            item.advised = False
        self._items = [item for item in self._items if item.advised]
        self._restart(now_s)

    def pop_due(self, now_s: float, early_s: float = 0.0) -> list[Change]:
        """Changes due by ``now_s + early_s`` that have happened by ``now_s``.

        Due order is kept exactly: nothing due after the next undrawn change
        is taken, since that change might be due before it.
        """
        self._draw_until(now_s)
        horizon_s = min(now_s + early_s, self._next_change_s)
        due: list[Change] = []
        in_flight = self._in_flight
        while in_flight and in_flight[0][0] <= horizon_s:
            change = heapq.heappop(in_flight)[2]
            if change.item.advised:
                due.append(change)
        return due

    def next_wake_s(self, early_s: float = 0.0) -> float | None:
        """When pop_due(now, early_s) can next return something, or None."""
        candidates = [self._next_change_s]
        if self._in_flight:
            candidates.append(self._in_flight[0][0] - early_s)
        earliest = min(candidates)
        return None if math.isinf(earliest) else earliest

    def _draw_until(self, now_s: float) -> None:
        # A change drawn here is due no earlier than its change time, so
        # drawing only up to now keeps the due order exact. Names are bound
        # locally because this loop runs once per event at high rates.
        items = self._items
        count = len(items)
        rng = self._rng
        uniform = rng.random
        sample_delay_s = self._delay.sample_s
        in_flight = self._in_flight
        anchor_ns = self.anchor_wall_ns
        next_s = self._next_change_s
        while next_s <= now_s:
            item = items[int(uniform() * count)]
            change_ns = anchor_ns + round(next_s * NS_PER_S)
            value = next_value(item.tag.data_type, item.value, rng, change_ns)
            item.value = value
            self._drawn += 1
            due_s = next_s + sample_delay_s(rng)
            heapq.heappush(
                in_flight, (due_s, self._drawn, Change(change_ns, item, value))
            )
            next_s += rng.expovariate(count * self._rate_hz)
        self._next_change_s = next_s

    def _restart(self, now_s: float) -> None:
        total_rate_hz = len(self._items) * self._rate_hz
        if total_rate_hz > 0:
            self._next_change_s = now_s + self._rng.expovariate(total_rate_hz)
        else:
            self._next_change_s = math.inf

    def _push(self, change_s: float, change: Change) -> None:
        due_s = change_s + self._delay.sample_s(self._rng)
        self._drawn += 1
        heapq.heappush(self._in_flight, (due_s, self._drawn, change))

    def _wall_ns(self, offset_s: float) -> int:
        return self.anchor_wall_ns + round(offset_s * NS_PER_S)
