"""One gateway session: its worker's state, event queue, faults and handles.

The session owns the bounded queue between the (simulated) worker and the
event stream. Changes enter the queue when their delay has passed and get
their ``worker_sequence`` there, so sequences follow delivery order: that
keeps them contiguous per session without forcing changes through a FIFO,
which would distort the delay distribution (a long delay would hold back
every change behind it).

FailFast: an event that finds the queue full faults the whole session with
EventQueueOverflow; production stops and the open stream ends.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc

from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.sim.changes import Change, ChangeSchedule, Item
from gwexp.sim.galaxy import NS_PER_S, Galaxy, Tag, set_mx_value, timestamp
from gwexp.sim.profile import Profile

if TYPE_CHECKING:
    from gwexp.sim.stream import Subscriber

logger = logging.getLogger(__name__)

# OPC-style quality word of a good value.
GOOD_QUALITY = 192
# How the open stream ends when the session faults with each code.
FAULT_STREAM_STATUS = {
    pb.PROTOCOL_STATUS_CODE_EVENT_QUEUE_OVERFLOW: grpc.StatusCode.RESOURCE_EXHAUSTED,
    pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE: grpc.StatusCode.ABORTED,
}
DROPPED_STREAM_MESSAGE = "stream dropped by gateway"
# The selector rounds every timeout up to a whole millisecond, so a timer
# fires 0-1 ms late. Waking half of that early and taking what is due within
# it centres the timing error on zero instead of adding ~0.5 ms to every
# delay. An event never enters the queue before its worker_timestamp.
TIMER_SLACK_S = 0.0005
# Shortest spacing of a session's wake-ups. At high rates every event would
# otherwise get its own timer and its own stream wake-up; one selector tick
# of batching costs nothing at the dev galaxy's rate (changes ~24 ms apart).
MIN_TICK_S = 0.001


@dataclass(frozen=True)
class FaultRecord:
    """A fault the gateway recorded against a session."""

    code: pb.ProtocolStatusCode
    message: str
    time_ns: int

    def to_proto(self) -> pb.FaultRecord:
        """The wire form of this record."""
        return pb.FaultRecord(
            code=self.code, message=self.message, time=timestamp(self.time_ns)
        )


class SubscriberActiveError(Exception):
    """A second StreamEvents call on a session that already has a subscriber."""


class Session:
    """State of one session and its simulated worker."""

    def __init__(
        self,
        session_id: str,
        ordinal: int,
        profile: Profile,
        galaxy: Galaxy,
        seed: int,
    ) -> None:
        self.session_id = session_id
        self.ordinal = ordinal
        self.profile = profile
        self.galaxy = galaxy
        self.state: pb.SessionState = pb.SESSION_STATE_READY
        self.faults: list[FaultRecord] = []
        # Events entered but not yet handed to a stream or a drain.
        self.queue: deque[pb.MxEvent] = deque()
        # Events already handed out, kept so a new stream can resume.
        self.replay: deque[pb.MxEvent] = deque(maxlen=profile.replay_buffer)
        self.subscriber: Subscriber | None = None

        self._loop = asyncio.get_running_loop()
        self.last_touch = self._loop.time()
        # String seeds hash the same in every process, unlike hash().
        self._rng = random.Random(f"gwexp.sim:{seed}:{ordinal}")
        self._next_sequence = 1
        self._server_handles: dict[int, str] = {}
        self._items: dict[int, Item] = {}
        self._schedule: ChangeSchedule | None = None
        self._anchor_mono = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._fault_timers: list[asyncio.TimerHandle] = []

    @property
    def advised_count(self) -> int:
        """Items currently producing changes."""
        return 0 if self._schedule is None else self._schedule.advised_count

    def touch(self) -> None:
        """Renew the lease."""
        self.last_touch = self._loop.time()

    def register(self, client_name: str) -> int:
        """Register a client; return its server handle."""
        server_handle = len(self._server_handles) + 1
        self._server_handles[server_handle] = client_name
        return server_handle

    def is_registered(self, server_handle: int) -> bool:
        """Whether REGISTER returned ``server_handle`` in this session."""
        return server_handle in self._server_handles

    def subscribe(
        self, server_handle: int, addresses: list[str]
    ) -> list[pb.SubscribeResult]:
        """Add and advise tags; one result per address, in input order."""
        if self._schedule is None:
            self._start_schedule()
        schedule = self._schedule
        assert schedule is not None

        results: list[pb.SubscribeResult] = []
        added: list[Item] = []
        for address in addresses:
            resolved = self.galaxy.resolve(address)
            if not isinstance(resolved, Tag):
                results.append(
                    pb.SubscribeResult(
                        server_handle=server_handle,
                        tag_address=address,
                        was_successful=False,
                        error_message=resolved,
                    )
                )
                continue
            item = Item(len(self._items) + 1, server_handle, resolved)
            self._items[item.handle] = item
            added.append(item)
            results.append(
                pb.SubscribeResult(
                    server_handle=server_handle,
                    tag_address=address,
                    item_handle=item.handle,
                    was_successful=True,
                )
            )

        schedule.add_items(added, self._now_s())
        self._reschedule()
        return results

    def unsubscribe(
        self, server_handle: int, item_handles: list[int]
    ) -> list[pb.SubscribeResult]:
        """Unadvise and remove items; one result per handle, in input order."""
        results: list[pb.SubscribeResult] = []
        removed: list[Item] = []
        for handle in item_handles:
            item = self._items.get(handle)
            if item is None or not item.advised or item.server_handle != server_handle:
                results.append(
                    pb.SubscribeResult(
                        server_handle=server_handle,
                        item_handle=handle,
                        was_successful=False,
                        error_message=(
                            f"item_handle={handle} is not subscribed under "
                            f"server_handle={server_handle} in this session"
                        ),
                    )
                )
                continue
            item.advised = False
            removed.append(item)
            results.append(
                pb.SubscribeResult(
                    server_handle=server_handle,
                    tag_address=item.tag.address,
                    item_handle=handle,
                    was_successful=True,
                )
            )

        if self._schedule is not None and removed:
            self._schedule.remove_items(removed, self._now_s())
            self._reschedule()
        return results

    def drain(self, max_events: int) -> pb.DrainEventsReply:
        """Session state, fault records and up to ``max_events`` queued events.

        ``queued_event_count`` counts the queue at the time of the call,
        including the events this reply returns.
        """
        queued = len(self.queue)
        events: list[pb.MxEvent] = []
        for _ in range(min(max_events, queued)):
            event = self.queue.popleft()
            self.replay.append(event)
            events.append(event)
        return pb.DrainEventsReply(
            session_state=self.state,
            faults=[record.to_proto() for record in self.faults],
            events=events,
            queued_event_count=queued,
        )

    def attach(self, subscriber: Subscriber) -> None:
        """Make ``subscriber`` the session's one event stream."""
        if self.subscriber is not None:
            raise SubscriberActiveError(
                f"EventSubscriberAlreadyActive: {self.session_id} already has an "
                "event stream; cancel it before opening another"
            )
        self.subscriber = subscriber
        self.touch()

    def detach(self, subscriber: Subscriber) -> None:
        """Forget ``subscriber`` once its stream has ended."""
        if self.subscriber is subscriber:
            self.subscriber = None
        self.touch()

    def fault_stream_status(self) -> tuple[grpc.StatusCode, str] | None:
        """How a stream on this session must end now, or None if it may run."""
        if self.state != pb.SESSION_STATE_FAULTED or not self.faults:
            return None
        first = self.faults[0]
        return FAULT_STREAM_STATUS[first.code], first.message

    def close(self) -> None:
        """Stop the worker and end the stream cleanly; the session is CLOSED."""
        if self.state == pb.SESSION_STATE_CLOSED:
            return
        self.state = pb.SESSION_STATE_CLOSING
        self._stop_production()
        if self.subscriber is not None:
            self.subscriber.finish()
        self.state = pb.SESSION_STATE_CLOSED

    def fault(self, code: pb.ProtocolStatusCode, message: str) -> None:
        """Fault the session: record why, stop production, end the stream."""
        if self.state != pb.SESSION_STATE_READY:
            return
        self.state = pb.SESSION_STATE_FAULTED
        self.faults.append(FaultRecord(code, message, time.time_ns()))
        self._stop_production()
        logger.warning("%s faulted: %s", self.session_id, message)
        if self.subscriber is not None:
            self.subscriber.end(FAULT_STREAM_STATUS[code], message)

    def _now_s(self) -> float:
        return self._loop.time() - self._anchor_mono

    def _start_schedule(self) -> None:
        self._anchor_mono = self._loop.time()
        self._schedule = ChangeSchedule(
            self._rng,
            self.profile.change_rate_hz,
            self.profile.delay,
            anchor_wall_ns=time.time_ns(),
        )
        self._plan_faults()

    def _plan_faults(self) -> None:
        faults = self.profile.faults
        if self.ordinal not in faults.sessions:
            return
        if faults.crash_after_s is not None:
            self._fault_timers.append(
                self._loop.call_at(
                    self._anchor_mono + faults.crash_after_s,
                    self._crash,
                    faults.crash_after_s,
                )
            )
        if faults.drop_stream_after_s is not None:
            self._fault_timers.append(
                self._loop.call_at(
                    self._anchor_mono + faults.drop_stream_after_s, self._drop_stream
                )
            )

    def _crash(self, after_s: float) -> None:
        self.fault(
            pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE,
            f"WorkerUnavailable: the worker of {self.session_id} exited "
            f"unexpectedly (simulated crash {after_s:g} s after subscribing)",
        )

    def _drop_stream(self) -> None:
        # A dropped stream is a transport event, not a session fault: the
        # session stays READY and a new stream may resume from its cursor.
        if self.subscriber is None:
            logger.debug("%s: no stream open to drop", self.session_id)
            return
        logger.debug("%s: dropping its event stream", self.session_id)
        self.subscriber.end(grpc.StatusCode.UNAVAILABLE, DROPPED_STREAM_MESSAGE)

    def _stop_production(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for timer in self._fault_timers:
            timer.cancel()
        self._fault_timers.clear()

    def _reschedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._tick()

    def _tick(self) -> None:
        # One wake-up hands over everything due, so the cost is per wake-up
        # rather than per event when the rate is high.
        self._timer = None
        schedule = self._schedule
        if self.state != pb.SESSION_STATE_READY or schedule is None:
            return

        due = schedule.pop_due(self._now_s(), TIMER_SLACK_S)
        if due:
            self._enqueue(due)
            if self.state != pb.SESSION_STATE_READY:
                return

        wake_s = schedule.next_wake_s(TIMER_SLACK_S)
        if wake_s is not None:
            when = max(self._anchor_mono + wake_s, self._loop.time() + MIN_TICK_S)
            self._timer = self._loop.call_at(when, self._tick)

    def _enqueue(self, changes: list[Change]) -> None:
        capacity = self.profile.queue_capacity
        queue = self.queue
        receive_s, receive_nanos = divmod(time.time_ns(), NS_PER_S)
        for change in changes:
            if len(queue) >= capacity:
                self.fault(
                    pb.PROTOCOL_STATUS_CODE_EVENT_QUEUE_OVERFLOW,
                    f"EventQueueOverflow: the event queue of {self.session_id} "
                    f"reached its capacity of {capacity} events (FailFast)",
                )
                return
            queue.append(self._event(change, receive_s, receive_nanos))
        if self.subscriber is not None:
            self.subscriber.wake()

    def _event(self, change: Change, receive_s: int, receive_nanos: int) -> pb.MxEvent:
        # Fields are filled in place: building sub-messages and copying them
        # in costs about three times as much, once per event.
        sequence = self._next_sequence
        self._next_sequence = sequence + 1
        item = change.item
        event = pb.MxEvent(
            worker_sequence=sequence,
            family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE,
            server_handle=item.server_handle,
            item_handle=item.handle,
            session_id=self.session_id,
        )
        set_mx_value(event.value, item.tag.data_type, change.value)
        worker_s, worker_nanos = divmod(change.worker_ns, NS_PER_S)
        event.worker_timestamp.seconds = worker_s
        event.worker_timestamp.nanos = worker_nanos
        event.gateway_receive_timestamp.seconds = receive_s
        event.gateway_receive_timestamp.nanos = receive_nanos
        body = event.on_data_change
        body.quality = GOOD_QUALITY
        body.source_timestamp.seconds = worker_s
        body.source_timestamp.nanos = worker_nanos
        return event
