"""Spread sessions over several client processes, each with its own loop and channel.

The parent starts one process per share of the sessions (session i goes to
process (i - 1) mod K, and keeps its global start offset, so the stagger is
the same as in one process). Each process opens and subscribes its sessions
and reports how many are ready; once all have, the parent hands every process
the same wall-clock window. Each returns its sessions with their histograms,
and the parent merges them into one measurement, exactly. A worker's log
records at WARNING and above go to the parent, which logs them as its own.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from gwexp.bench import Bench, BenchSpec, Observer, WindowClock
from gwexp.errors import GwexpError, RunFailed
from gwexp.gateway import GatewayClient, Target, connect
from gwexp.measurement import Measurement
from gwexp.report import counted
from gwexp.stats import NS_PER_S

log = logging.getLogger(__name__)

# How long the parent waits for workers to hand back results after the window.
COLLECT_TIMEOUT_S = 60.0
WINDOW_POLL_S = 0.01
FORWARD_DELAY_S = 0.3


@dataclass(frozen=True)
class ClientSettings:
    """The per-call deadlines every client process uses."""

    command_timeout_s: float
    open_timeout_s: float


def partition(session_count: int, processes: int) -> list[list[int]]:
    """The 1-based session indices of each process; no process gets none."""
    shares = [
        list(range(first, session_count + 1, processes))
        for first in range(1, processes + 1)
    ]
    return [share for share in shares if share]


async def measure_in_process(
    target: Target,
    settings: ClientSettings,
    spec: BenchSpec,
    observer: Observer,
    indices: list[int] | None = None,
    window_clock: WindowClock | None = None,
) -> Measurement:
    """Connect, run the bench over ``indices`` (default all), disconnect."""
    async with connect(target) as channel:
        client = GatewayClient(
            channel,
            target,
            command_timeout_s=settings.command_timeout_s,
            open_timeout_s=settings.open_timeout_s,
        )
        bench = Bench(client, spec, observer, indices)
        return await bench.run(window_clock)


class _PipeObserver:
    """Forwards a worker's progress to the parent."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def opening(self, session_count: int) -> None:
        """Nothing to forward: the parent knows the count."""

    def session_ready(self, index: int, ok: bool) -> None:
        """Tell the parent one session subscribed or failed."""
        self._conn.send(("session", index, ok))

    def measuring(self, warmup_s: float, duration_s: float) -> None:
        """Nothing to forward: the parent set the window."""

    def tick(self, elapsed_s: float, measured_events: int) -> None:
        """Tell the parent this process's measured count."""
        self._conn.send(("tick", measured_events))

    def done(self) -> None:
        """Nothing to forward: the result follows."""


class _PipeHandler(logging.Handler):
    """Sends each record to the parent, its message (and traceback) formatted."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self._conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        """Send a copy that pickles: no arguments, no exception object."""
        try:
            sent = copy.copy(record)
            sent.msg, sent.args = self.format(record), None
            sent.exc_info = sent.exc_text = None
            self._conn.send(("log", sent))
        except Exception:
            self.handleError(record)


def _worker(
    conn: Connection,
    target: Target,
    settings: ClientSettings,
    spec: BenchSpec,
    indices: list[int],
) -> None:
    root = logging.getLogger()
    root.handlers[:] = [_PipeHandler(conn)]
    root.setLevel(logging.WARNING)
    # SIGTERM to the process group ends this worker's part like Ctrl-C does:
    # sessions closed, partial counts sent.
    signal.signal(signal.SIGTERM, lambda *_: os.kill(os.getpid(), signal.SIGINT))

    async def window_clock(subscribed: int) -> tuple[int, int]:
        conn.send(("subscribed", subscribed))
        # Polled, not awaited in a thread, so that cancellation is never blocked.
        while not conn.poll():
            await asyncio.sleep(WINDOW_POLL_S)
        message = conn.recv()
        return int(message[1]), int(message[2])

    observer = _PipeObserver(conn)
    try:
        measurement = asyncio.run(
            measure_in_process(target, settings, spec, observer, indices, window_clock)
        )
    except GwexpError as error:
        conn.send(("error", error))
        return
    except KeyboardInterrupt:
        # The run was cancelled before the bench could return its partial counts.
        conn.send(("error", RunFailed("client process interrupted")))
        return
    conn.send(("done", measurement))


def measure_in_processes(
    target: Target,
    settings: ClientSettings,
    spec: BenchSpec,
    observer: Observer,
    processes: int,
) -> Measurement:
    """Run the bench over ``processes`` client processes and merge their counts."""
    shares = partition(len(spec.session_tags), processes)
    context = multiprocessing.get_context("spawn")
    links: dict[Connection, Any] = {}
    for share in shares:
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=_worker,
            args=(child_end, target, settings, spec, share),
            daemon=True,
        )
        process.start()
        links[parent_end] = process
    measuring = counted(len(links), "client process", "client processes")
    if len(links) < processes:
        sessions = counted(len(spec.session_tags), "session")
        log.info(
            "measuring with %s: client.processes=%d, but only %s",
            measuring,
            processes,
            sessions,
        )
    else:
        log.info("measuring with %s", measuring)
    observer.opening(len(spec.session_tags))
    try:
        return _coordinate(links, spec, observer)
    finally:
        observer.done()
        for process in links.values():
            process.join(timeout=5)
            if process.is_alive():
                process.kill()


def _coordinate(
    links: dict[Connection, Any], spec: BenchSpec, observer: Observer
) -> Measurement:
    waiting_subscribed = set(links)
    waiting_done = set(links)
    counts = {conn: 0 for conn in links}
    results: list[Measurement] = []
    errors: list[GwexpError] = []
    began_ns = 0
    interrupted = False
    deadline = time.monotonic() + spec.stream_deadline_s + COLLECT_TIMEOUT_S

    while waiting_done and time.monotonic() < deadline:
        try:
            ready = wait(list(waiting_done), timeout=0.2)
        except KeyboardInterrupt:
            # Workers clean up and send what they have. A Ctrl-C in a terminal
            # reached them too; a signal to this process alone is passed on.
            # More Ctrl-Cs would lose the counts on their way back: ignored.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            interrupted = True
            # Past the SIGINT a terminal sent them all, which they now ignore.
            time.sleep(FORWARD_DELAY_S)
            for process in links.values():
                if process.is_alive() and process.pid is not None:
                    os.kill(process.pid, signal.SIGINT)
            deadline = min(deadline, time.monotonic() + COLLECT_TIMEOUT_S / 4)
            continue
        for conn in ready:
            assert isinstance(conn, Connection)
            try:
                message = conn.recv()
            except EOFError:
                message = (
                    "error",
                    RunFailed("a client process ended without a result"),
                )
            kind = message[0]
            if kind == "log":
                record = message[1]
                logging.getLogger(record.name).handle(record)
            elif kind == "session":
                observer.session_ready(message[1], message[2])
            elif kind == "tick":
                counts[conn] = message[1]
                if began_ns:
                    elapsed_s = (time.time_ns() - began_ns) / NS_PER_S
                    observer.tick(elapsed_s, sum(counts.values()))
            elif kind == "done":
                waiting_done.discard(conn)
                results.append(message[1])
            elif kind == "error":
                waiting_done.discard(conn)
                errors.append(message[1])
            if kind in ("subscribed", "error", "done") and conn in waiting_subscribed:
                waiting_subscribed.discard(conn)
                if not waiting_subscribed and not began_ns:
                    began_ns = time.time_ns()
                    _send_window(waiting_done, spec, observer)

    if errors and not results:
        raise errors[0]
    if errors:
        log.warning("%d client processes failed: %s", len(errors), errors[0])
    merged = merge_measurements(results)
    merged.interrupted = merged.interrupted or interrupted
    return merged


def _send_window(
    links: Iterable[Connection], spec: BenchSpec, observer: Observer
) -> None:
    start_ns = time.time_ns() + int(spec.warmup_s * NS_PER_S)
    end_ns = start_ns + int(spec.duration_s * NS_PER_S)
    log.info("warm-up %.1f s, then measuring %.1f s", spec.warmup_s, spec.duration_s)
    observer.measuring(spec.warmup_s, spec.duration_s)
    for conn in links:
        conn.send(("window", start_ns, end_ns))


def merge_measurements(parts: list[Measurement]) -> Measurement:
    """One measurement holding every session of the parts, in session order."""
    if not parts:
        raise RunFailed("no client process returned a measurement")
    sessions = sorted((s for p in parts for s in p.sessions), key=lambda s: s.index)
    merged = Measurement(sessions)
    windows = {(p.window_start_ns, p.window_end_ns) for p in parts}
    windows.discard((None, None))
    if windows:
        merged.window_start_ns, merged.window_end_ns = windows.pop()
    merged.open_phase_s = max(p.open_phase_s for p in parts)
    merged.warmup_phase_s = max(p.warmup_phase_s for p in parts)
    merged.window_phase_s = max(p.window_phase_s for p in parts)
    merged.cleanup_phase_s = max(p.cleanup_phase_s for p in parts)
    merged.interrupted = any(p.interrupted for p in parts)
    merged.stopped_reason = next(
        (p.stopped_reason for p in parts if p.stopped_reason), None
    )
    merged.clients = [load for p in parts for load in p.clients]
    return merged
