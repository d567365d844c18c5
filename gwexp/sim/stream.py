"""The send side of one StreamEvents call: resume, replay gap, ceiling, end."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

import grpc

from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.sim.ceiling import DeliveryCeiling
from gwexp.sim.session import Session


class Subscriber:
    """A session's one event stream, from its resume cursor to its end."""

    def __init__(
        self,
        session: Session,
        after_sequence: int,
        ceiling: DeliveryCeiling | None,
    ) -> None:
        self._session = session
        self._cursor = after_sequence
        self._ceiling = ceiling
        self._wakeup = asyncio.Event()
        # Events already handed out once that this stream must send again.
        self._backlog = deque(
            event for event in session.replay if event.worker_sequence > after_sequence
        )
        self._first = True
        self._finished = False
        # The status the stream must end with, or None for a clean end.
        self.end_status: tuple[grpc.StatusCode, str] | None = None

    def wake(self) -> None:
        """Tell the stream that events arrived."""
        self._wakeup.set()

    def finish(self) -> None:
        """End the stream cleanly once it notices (the session closed)."""
        self._finished = True
        self._wakeup.set()

    def end(self, code: grpc.StatusCode, message: str) -> None:
        """End the stream with status ``code`` once it notices."""
        if self._finished:
            return
        self.end_status = (code, message)
        self.finish()

    async def pump(self, write: Callable[[pb.MxEvent], Awaitable[None]]) -> None:
        """Write events as they become available, until the stream must end."""
        queue = self._session.queue
        replay = self._session.replay
        backlog = self._backlog
        ceiling = self._ceiling
        while not self._finished:
            if not backlog and not queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if not backlog and queue[0].worker_sequence <= self._cursor:
                # The client already has it (from a drain): skip, unsent.
                replay.append(queue.popleft())
                continue
            if ceiling is not None and not ceiling.try_take():
                await asyncio.sleep(ceiling.wait_s())
                continue

            if backlog:
                event = backlog.popleft()
            else:
                event = queue.popleft()
                replay.append(event)
            if self._first:
                self._first = False
                event = self._mark_gap(event)
            await write(event)

    def _mark_gap(self, event: pb.MxEvent) -> pb.MxEvent:
        # Only the first event can reveal that the cursor is older than
        # anything still kept; a copy keeps the replay buffer unmarked.
        if event.worker_sequence <= self._cursor + 1:
            return event
        marked = pb.MxEvent()
        marked.CopyFrom(event)
        marked.replay_gap.requested_after_sequence = self._cursor
        marked.replay_gap.oldest_available_sequence = event.worker_sequence
        return marked
