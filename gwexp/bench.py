"""The two phases of a run: open and subscribe every session, then measure.

Phase 1 starts session opens ``stagger_ms`` apart (an open does not wait for
the previous one to finish, so a small stagger makes worker starts overlap,
as on the real rig), registers, subscribes and starts each event stream.
Phase 2 begins once every session is subscribed or has failed: a warm-up,
then the measured window, both defined on the wall clock of event receipt.
After the window every session is probed with DrainEvents for faults, then
unsubscribed and closed, also after errors and on cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc
import grpc.aio

from gwexp.errors import GatewayError
from gwexp.gateway import GatewayClient, OpenFailure
from gwexp.measurement import Fault, Measurement, SessionRun
from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.stats import NS_PER_S

log = logging.getLogger(__name__)

# A dropped stream is resumed from its last sequence this many times at most.
STREAM_RESUMES = 3
# Cleanup calls share this much time in all, so a dead gateway cannot hang the exit.
CLEANUP_TIMEOUT_S = 15.0
# Seconds before resume n of a dropped stream is tried: n times this.
RESUME_BACKOFF_S = 0.5
# Also the sampling interval of the client's event-loop lag.
PROGRESS_INTERVAL_S = 0.1
# A stream's arrivals are accounted in batches of this many, and once a
# second (every this many progress ticks) whatever has come.
ACCOUNT_BATCH = 512
ACCOUNT_EVERY_TICKS = 10
# A silence this long, in which this many events were due, is a stalled stream.
STALL_MIN_S = 3.0
STALL_EXPECTED_EVENTS = 20
# Stream statuses that mean the session itself is gone, so resuming is pointless.
SESSION_FAULT_CODES = {
    grpc.StatusCode.RESOURCE_EXHAUSTED: "queue_overflow",
    grpc.StatusCode.ABORTED: "worker",
    grpc.StatusCode.NOT_FOUND: "stream_error",
    grpc.StatusCode.FAILED_PRECONDITION: "stream_error",
    grpc.StatusCode.UNAUTHENTICATED: "stream_error",
    grpc.StatusCode.PERMISSION_DENIED: "stream_error",
}
DRAIN_FAULT_KINDS = {
    pb.PROTOCOL_STATUS_CODE_EVENT_QUEUE_OVERFLOW: "queue_overflow",
    pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE: "worker",
}


@dataclass(frozen=True)
class BenchSpec:
    """What one run does, free of any config framework."""

    session_tags: Sequence[Sequence[str]]
    stagger_ms: float
    warmup_s: float
    duration_s: float
    stream_deadline_s: float
    stop_on_open_failure: bool
    client_name: str = "gwexp"


# Given how many sessions subscribed, returns the window [start_ns, end_ns) on the
# wall clock; a parent process uses it to give all its workers one window.
WindowClock = Callable[[int], Awaitable[tuple[int, int]]]


class Observer(Protocol):
    """What a progress display is told; every method must return at once."""

    def opening(self, session_count: int) -> None: ...
    def session_ready(self, index: int, ok: bool) -> None: ...
    def measuring(self, warmup_s: float, duration_s: float) -> None: ...
    def tick(self, elapsed_s: float, measured_events: int) -> None: ...
    def done(self) -> None: ...


class Bench:
    """Runs one measurement against a connected gateway."""

    def __init__(
        self,
        client: GatewayClient,
        spec: BenchSpec,
        observer: Observer,
        indices: Sequence[int] | None = None,
    ):
        """``indices`` are the 1-based sessions this bench runs (default: all)."""
        self._client = client
        self._spec = spec
        self._observer = observer
        self._start = time.perf_counter()
        chosen = indices or range(1, len(spec.session_tags) + 1)
        self._sessions = [
            SessionRun(index=i, tags=spec.session_tags[i - 1]) for i in chosen
        ]
        # Each subscribed session's stream-reading task, by session index.
        self._streams: dict[int, asyncio.Task[None]] = {}
        self._stop_opening = asyncio.Event()
        self._fatal: GatewayError | None = None
        self._stop_reason: str | None = None

    async def run(self, window_clock: WindowClock | None = None) -> Measurement:
        """Both phases and the cleanup; cancellation returns a partial measurement."""
        measurement = Measurement(self._sessions)
        try:
            await self._open_phase(measurement)
            subscribed = sum(s.subscribed for s in self._sessions)
            clock = window_clock or self._window_after_warmup
            start_ns, end_ns = await clock(0 if self._fatal else subscribed)
            measurement.stopped_reason = self._stop_reason
            if self._fatal is None and subscribed and self._stop_reason is None:
                await self._measure_phase(measurement, start_ns, end_ns)
        except asyncio.CancelledError:
            self._interrupted(measurement)
        finally:
            # Shielded: a Ctrl-C during cleanup must not leave sessions open.
            cleanup = asyncio.ensure_future(self._cleanup(measurement))
            while not cleanup.done():
                try:
                    await asyncio.shield(cleanup)
                except asyncio.CancelledError:
                    self._interrupted(measurement)
            self._observer.done()
        if self._fatal is not None:
            raise self._fatal
        return measurement

    def _interrupted(self, measurement: Measurement) -> None:
        """Take the first Ctrl-C as the end of the run; ignore more until cleaned up."""
        if not measurement.interrupted:
            log.warning("interrupted: closing sessions and keeping partial counts")
        measurement.interrupted = True
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        # asyncio turns a second Ctrl-C into KeyboardInterrupt wherever the loop
        # is, which would lose the counts; cleanup is bounded by CLEANUP_TIMEOUT_S.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    def _now_s(self) -> float:
        return time.perf_counter() - self._start

    async def _open_phase(self, measurement: Measurement) -> None:
        started = time.perf_counter()
        self._observer.opening(len(self._sessions))
        log.info(
            "opening %d session(s) %.0f ms apart, %d tags each",
            len(self._sessions),
            self._spec.stagger_ms,
            len(self._spec.session_tags[0]),
        )
        opens = [asyncio.create_task(self._open_one(s)) for s in self._sessions]
        try:
            await asyncio.gather(*opens)
        finally:
            for task in opens:
                task.cancel()
            await asyncio.gather(*opens, return_exceptions=True)
        measurement.open_phase_s = time.perf_counter() - started
        ready = sum(s.subscribed for s in self._sessions)
        log.info(
            "open phase: %d of %d sessions subscribed in %.2f s",
            ready,
            len(self._sessions),
            measurement.open_phase_s,
        )

    async def _open_one(self, session: SessionRun) -> None:
        # Waits for its turn, or less when the run is stopping anyway.
        with contextlib.suppress(TimeoutError):
            offset_s = (session.index - 1) * self._spec.stagger_ms / 1000.0
            await asyncio.wait_for(self._stop_opening.wait(), offset_s)
        if self._stop_opening.is_set():
            return
        name = f"{self._spec.client_name}-{session.index}"
        started = time.perf_counter()
        try:
            reply = await self._client.open_session(name)
        except OpenFailure as failure:
            session.open_s = time.perf_counter() - started
            session.add_fault(
                Fault(
                    "failed_open",
                    session.index,
                    self._now_s(),
                    failure.code,
                    failure.message,
                )
            )
            log.warning(
                "session %d failed to open after %.1f s: %s %s",
                session.index,
                session.open_s,
                failure.code,
                failure.message,
            )
            if self._spec.stop_on_open_failure:
                self._stop_reason = self._stop_reason or (
                    f"session {session.index} failed to open ({failure.code}) and "
                    "on_open_failure=stop; set on_open_failure=continue to measure "
                    "the sessions that did open"
                )
                self._stop_opening.set()
            self._observer.session_ready(session.index, False)
            return
        except GatewayError as error:
            self._fatal = self._fatal or error
            self._stop_opening.set()
            return
        session.session_id = reply.session_id
        session.open_s = time.perf_counter() - started

        try:
            await self._subscribe(session)
        except GatewayError as error:
            self._fatal = self._fatal or error
            self._stop_opening.set()
            return
        self._observer.session_ready(session.index, session.subscribed)

    async def _subscribe(self, session: SessionRun) -> None:
        assert session.session_id is not None
        started = time.perf_counter()
        handle = await self._client.register(session.session_id, self._spec.client_name)
        session.server_handle = handle
        results = await self._client.subscribe(session.session_id, handle, session.tags)
        for result in results:
            if result.was_successful:
                session.item_handles.append(result.item_handle)
            else:
                session.add_fault(
                    Fault(
                        "refused_item",
                        session.index,
                        self._now_s(),
                        result.tag_address,
                        result.error_message,
                    )
                )
        refused = len(results) - len(session.item_handles)
        if refused:
            log.warning(
                "session %d: gateway refused %d of %d tags (first: %s)",
                session.index,
                refused,
                len(results),
                next(r.tag_address for r in results if not r.was_successful),
            )
        session.subscribe_s = time.perf_counter() - started
        self._streams[session.index] = asyncio.create_task(self._consume(session))

    async def _consume(self, session: SessionRun) -> None:
        """Read the session's stream until cancelled; resume a dropped stream."""
        assert session.session_id is not None
        stats = session.stats
        arrivals = stats.arrivals
        arrive = arrivals.append
        clock = time.time_ns
        while True:
            call = self._client.stream_events(
                session.session_id,
                session.stats.last_sequence,
                self._spec.stream_deadline_s,
            )
            try:
                async for event in call:
                    stamp = event.worker_timestamp
                    arrive((event.worker_sequence, stamp.seconds, stamp.nanos, clock()))
                    if len(arrivals) >= ACCOUNT_BATCH:
                        stats.account()
                return
            except grpc.aio.AioRpcError as error:
                stats.account()
                code = error.code()
                kind = SESSION_FAULT_CODES.get(code, "stream_error")
                name = code.name if code is not None else "UNKNOWN"
                session.add_fault(
                    Fault(
                        kind, session.index, self._now_s(), name, error.details() or ""
                    )
                )
                if (
                    code in SESSION_FAULT_CODES
                    or session.stream_resumes >= STREAM_RESUMES
                ):
                    log.warning(
                        "session %d stream ended: %s %s",
                        session.index,
                        name,
                        error.details(),
                    )
                    if code in (
                        grpc.StatusCode.UNAUTHENTICATED,
                        grpc.StatusCode.PERMISSION_DENIED,
                    ):
                        self._fatal = self._fatal or self._client.classify(
                            error, "StreamEvents"
                        )
                    return
                session.stream_resumes += 1
                await asyncio.sleep(RESUME_BACKOFF_S * session.stream_resumes)
                log.warning(
                    "session %d stream dropped (%s); resuming after sequence %d",
                    session.index,
                    name,
                    session.stats.last_sequence,
                )

    async def _window_after_warmup(self, subscribed: int) -> tuple[int, int]:
        start_ns = time.time_ns() + int(self._spec.warmup_s * NS_PER_S)
        return start_ns, start_ns + int(self._spec.duration_s * NS_PER_S)

    async def _measure_phase(
        self, measurement: Measurement, start_ns: int, end_ns: int
    ) -> None:
        spec = self._spec
        self._observer.measuring(spec.warmup_s, spec.duration_s)
        for session in self._sessions:
            session.stats.set_window(start_ns, end_ns)
        measurement.window_start_ns, measurement.window_end_ns = start_ns, end_ns
        log.info(
            "warm-up %.1f s, then measuring %.1f s", spec.warmup_s, spec.duration_s
        )

        began_ns = time.time_ns()
        load = measurement.clients[0]
        cpu_at_start: float | None = None
        ticks = 0
        try:
            while (now_ns := time.time_ns()) < end_ns:
                asked_s = min(PROGRESS_INTERVAL_S, (end_ns - now_ns) / NS_PER_S)
                await asyncio.sleep(asked_s)
                woke_ns = time.time_ns()
                if woke_ns >= start_ns:
                    if cpu_at_start is None:
                        cpu_at_start = time.process_time()
                    # How late the loop woke up: the delay every event also waited.
                    load.add_lag((woke_ns - now_ns) / NS_PER_S - asked_s)
                ticks += 1
                if ticks % ACCOUNT_EVERY_TICKS == 0:
                    for session in self._sessions:
                        session.stats.account()
                        session.stats.flush_if_large()
                measured = sum(s.stats.events for s in self._sessions)
                self._observer.tick((woke_ns - began_ns) / NS_PER_S, measured)
                if self._fatal is not None:
                    break
                if all(stream.done() for stream in self._streams.values()):
                    # Every session's stream has ended for good (faults): the
                    # rest of the window would only add zeros to wait for.
                    log.warning(
                        "every event stream of this client has ended; closing its "
                        "window"
                    )
                    break
        finally:
            # Also on cancellation: an interrupted window is measured up to here.
            stopped_ns = time.time_ns()
            if cpu_at_start is not None:
                load.cpu_s = time.process_time() - cpu_at_start
            warmup_ns = max(0, min(stopped_ns, start_ns) - began_ns)
            measurement.warmup_phase_s = warmup_ns / NS_PER_S
            measurement.window_phase_s = max(0, stopped_ns - start_ns) / NS_PER_S

    async def _cleanup(self, measurement: Measurement) -> None:
        started = time.perf_counter()
        # Streams that had not ended by themselves; only these can have stalled.
        open_streams = {i for i, task in self._streams.items() if not task.done()}
        for task in self._streams.values():
            task.cancel()
        await asyncio.gather(*self._streams.values(), return_exceptions=True)
        opened = [s for s in self._sessions if s.session_id is not None]
        try:
            async with asyncio.timeout(CLEANUP_TIMEOUT_S):
                await asyncio.gather(*(self._finish(s) for s in opened))
        except TimeoutError:
            log.warning(
                "cleanup took over %.0f s; some sessions may still be open at the "
                "gateway until their lease ends",
                CLEANUP_TIMEOUT_S,
            )
        for session in self._sessions:
            stats = session.stats
            stats.account()
            if session.index in open_streams:
                self._check_stall(session, measurement)
            if stats.sequence_gaps:
                session.add_fault(
                    Fault(
                        "sequence_gap",
                        session.index,
                        self._now_s(),
                        "GAP",
                        f"{stats.lost_events} events lost in "
                        f"{stats.sequence_gaps} gaps",
                    )
                )
        measurement.cleanup_phase_s = time.perf_counter() - started

    def _check_stall(self, session: SessionRun, measurement: Measurement) -> None:
        """A fault when an open stream went silent far longer than its rate allows.

        A gateway that hangs without closing its streams looks like quiet tags.
        A silence of STALL_MIN_S or more in which, at the session's own rate
        over the window, STALL_EXPECTED_EVENTS would have come (a Poisson
        chance of e**-20 with none) is taken for a hang.
        """
        stats, window_s = session.stats, measurement.window_phase_s
        if not stats.events or window_s <= 0 or measurement.window_start_ns is None:
            return
        end_ns = measurement.window_start_ns + int(window_s * NS_PER_S)
        silence_s = stats.longest_silence_until(end_ns) / NS_PER_S
        expected = stats.events / window_s * silence_s
        if silence_s >= STALL_MIN_S and expected >= STALL_EXPECTED_EVENTS:
            message = (
                f"no event for {silence_s:.1f} s of the window, where about "
                f"{expected:.0f} were due at the session's rate: the gateway may "
                "have hung"
            )
            session.add_fault(
                Fault("stalled", session.index, self._now_s(), "STALL", message)
            )
            log.warning("session %d: %s", session.index, message)

    async def _finish(self, session: SessionRun) -> None:
        """Probe the session for faults, then unsubscribe and close it."""
        assert session.session_id is not None
        sid = session.session_id
        with contextlib.suppress(GatewayError):
            drained = await self._client.drain(sid)
            session.final_state = pb.SessionState.Name(drained.session_state)
            for record in drained.faults:
                kind = DRAIN_FAULT_KINDS.get(record.code, "gateway_fault")
                session.add_fault(
                    Fault(
                        kind,
                        session.index,
                        self._now_s(),
                        pb.ProtocolStatusCode.Name(record.code),
                        record.message,
                    )
                )
        if session.item_handles and session.server_handle is not None:
            with contextlib.suppress(GatewayError):
                await self._client.unsubscribe(
                    sid, session.server_handle, session.item_handles
                )
        try:
            await self._client.close_session(sid)
        except GatewayError as error:
            log.warning("session %d could not be closed: %s", session.index, error)
