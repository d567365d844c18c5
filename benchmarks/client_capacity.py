"""How far gwexp's measuring client is from the ceiling of its own transport.

Run from the project root:

    .venv/bin/python benchmarks/client_capacity.py [--seconds 5] [--rounds 10]

On a small machine one simulator process cannot send faster than one Python
consumer can read (both pay grpc.aio's per-message cost), so the rate a
consumer receives is the simulator's, not the consumer's. A consumer's own
ceiling is therefore taken from its CPU cost: events received per CPU second
of the consumer process is the rate it could sustain with a core to itself.

The two consumers are measured side by side, in paired rounds: each round
runs both at once, each in its own process on its own session of the same
simulator, over the same window. Both sessions carry the same events at the
same moments, so a noisy neighbour, or the simulator's own pace, hurts both
alike; the ratio is the median of the rounds' ratios.

Printed: each consumer's received rate, CPU share and ceiling; what two
simulator processes send to two bare consumers together (the simulator's
output per process, and whether it or the client is the limit); client
fan-out over one and two processes; the fixed overhead of one tracked sweep
job beyond warm-up plus window; resident memory over a long run. The last
line is ``consumer ratio (gwexp / bare): X.XX``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import multiprocessing
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path

import grpc.aio

from gwexp.bench import BenchSpec
from gwexp.config import TagsConfig
from gwexp.fanout import ClientSettings, measure_in_process, measure_in_processes
from gwexp.gateway import Target
from gwexp.plan import session_tags
from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.proto import mxaccess_gateway_pb2_grpc as pb_grpc
from gwexp.stats import NS_PER_S

ROOT = Path(__file__).resolve().parent.parent
# 120 tags x 60 Hz: 7,200 events/s per stream, a rate one simulator process
# and one consumer keep up with. The consumers are compared on two streams of
# 120 tags x 30 Hz read at the same time, 7,200 events/s from the simulator in
# all. The large queue keeps FailFast from ending a stream that lags a moment.
FLOOD_SETTINGS = ("queue_capacity=50000000", "worker_start_s=0")
FLOOD_HZ = 60
PAIRED_HZ = 30
TAGS = 120
WARMUP_S = 1.0
SETTINGS = ClientSettings(command_timeout_s=30, open_timeout_s=30)
PAGE_BYTES = 4096
# How long a consumer waits for the other to be ready for the window, in s.
BARRIER_TIMEOUT_S = 60.0


@dataclass
class Reading:
    """What one consumer received over its window, and what it cost."""

    events: int
    window_s: float
    cpu_s: float

    @property
    def rate_eps(self) -> float:
        """Events per second received."""
        return self.events / self.window_s

    @property
    def cpu_share(self) -> float:
        """Share of one core the consumer process used."""
        return self.cpu_s / self.window_s

    @property
    def ceiling_eps(self) -> float:
        """Events per CPU second: the rate this consumer sustains on a whole core."""
        return self.events / self.cpu_s


class NullObserver:
    """No progress display: the benchmark prints its own table."""

    def opening(self, session_count: int) -> None:
        """Ignore."""

    def session_ready(self, index: int, ok: bool) -> None:
        """Ignore."""

    def measuring(self, warmup_s: float, duration_s: float) -> None:
        """Ignore."""

    def tick(self, elapsed_s: float, measured_events: int) -> None:
        """Ignore."""

    def done(self) -> None:
        """Ignore."""


def start_simulator(rate_hz: int = FLOOD_HZ) -> tuple[subprocess.Popen[str], str]:
    """A standalone flood simulator in its own process, and its address."""
    settings = (*FLOOD_SETTINGS, f"change_rate_hz={rate_hz}")
    sets = [arg for setting in settings for arg in ("--set", setting)]
    command = [sys.executable, "-m", "gwexp.sim", "--port", "0", "--profile", "flood"]
    process = subprocess.Popen(
        [*command, *sets], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    for line in process.stderr:
        found = re.search(r"listening on (\S+)", line)
        if found:
            return process, found.group(1)
    raise RuntimeError("the simulator did not start")


def stop_simulator(process: subprocess.Popen[str]) -> None:
    """Interrupt the simulator and wait for it to exit."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def all_tags() -> list[str]:
    """All 120 tags of the galaxy."""
    return session_tags(TagsConfig(), TAGS, 1)[0]


async def bare_consumer(
    address: str, seconds: float, barrier: Barrier | None = None
) -> Reading:
    """A loop that only counts: open, subscribe, stream, count, close."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.MxAccessGatewayStub(channel)  # type: ignore[no-untyped-call]
        request = pb.OpenSessionRequest(client_session_name="bare")
        sid = (await stub.OpenSession(request, timeout=30)).session_id
        register = pb.MxCommand(
            kind=pb.MX_COMMAND_KIND_REGISTER,
            register=pb.RegisterCommand(client_name="bare"),
        )
        reply = await stub.Invoke(
            pb.MxCommandRequest(session_id=sid, command=register), timeout=30
        )
        subscribe = pb.MxCommand(
            kind=pb.MX_COMMAND_KIND_SUBSCRIBE_BULK,
            subscribe_bulk=pb.SubscribeBulkCommand(
                server_handle=reply.register.server_handle, tag_addresses=all_tags()
            ),
        )
        await stub.Invoke(
            pb.MxCommandRequest(session_id=sid, command=subscribe), timeout=30
        )

        if barrier is not None:
            barrier.wait(timeout=BARRIER_TIMEOUT_S)
        count = 0
        start = time.perf_counter() + WARMUP_S
        end = start + seconds
        cpu_start = 0.0
        call = stub.StreamEvents(
            pb.StreamEventsRequest(session_id=sid), timeout=seconds + 60
        )
        async for _ in call:
            now = time.perf_counter()
            if now >= start:
                if not count:
                    cpu_start = time.process_time()
                count += 1
                if now >= end:
                    break
        cpu_s = time.process_time() - cpu_start
        call.cancel()
        await stub.CloseSession(pb.CloseSessionRequest(session_id=sid), timeout=30)
        return Reading(count, seconds, cpu_s)


def bench_spec(tags: list[list[str]], seconds: float) -> BenchSpec:
    """Sessions opened at once, a short warm-up and a window of ``seconds``."""
    return BenchSpec(
        session_tags=tags,
        stagger_ms=0,
        warmup_s=WARMUP_S,
        duration_s=seconds,
        stream_deadline_s=seconds + 60,
        stop_on_open_failure=True,
    )


async def gwexp_consumer(
    address: str, seconds: float, barrier: Barrier | None = None
) -> Reading:
    """gwexp's full measuring consumer over one stream of all 120 tags."""

    async def agreed_window(subscribed: int) -> tuple[int, int]:
        assert barrier is not None
        barrier.wait(timeout=BARRIER_TIMEOUT_S)
        start_ns = time.time_ns() + int(WARMUP_S * NS_PER_S)
        return start_ns, start_ns + int(seconds * NS_PER_S)

    spec = bench_spec([all_tags()], seconds)
    measurement = await measure_in_process(
        Target(address),
        SETTINGS,
        spec,
        NullObserver(),
        window_clock=agreed_window if barrier is not None else None,
    )
    events = sum(s.stats.events for s in measurement.sessions)
    return Reading(events, seconds, measurement.clients[0].cpu_s)


CONSUMERS = {"bare": bare_consumer, "gwexp": gwexp_consumer}


def _consumer_worker(
    kind: str,
    address: str,
    seconds: float,
    barrier: Barrier,
    out: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    # A stream fault in the consumer would otherwise pass unseen.
    logging.basicConfig(level=logging.WARNING)
    reading = asyncio.run(CONSUMERS[kind](address, seconds, barrier))
    out.put((kind, reading.events, reading.window_s, reading.cpu_s))


def paired_round(address: str, seconds: float) -> dict[str, Reading]:
    """Both consumers at once, each in its own process on its own stream.

    The two sessions get the same events at the same moments, and the windows
    start together, so a noisy neighbour or the simulator's own pace hurts
    both alike.
    """
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    barrier = context.Barrier(len(CONSUMERS))
    workers = [
        context.Process(
            target=_consumer_worker, args=(kind, address, seconds, barrier, out)
        )
        for kind in CONSUMERS
    ]
    for worker in workers:
        worker.start()
    readings = {}
    for _ in workers:
        kind, events, window_s, cpu_s = out.get(timeout=seconds + BARRIER_TIMEOUT_S)
        readings[kind] = Reading(events, window_s, cpu_s)
    for worker in workers:
        worker.join()
    return readings


def fan_out(address: str, seconds: float, processes: int) -> tuple[float, list[float]]:
    """Events/s of four 30-tag sessions read by ``processes`` client processes.

    Returns the received rate and each process's CPU share of a core.
    """
    spec = bench_spec(session_tags(TagsConfig(), 30, 4), seconds)
    target = Target(address)
    if processes == 1:
        measurement = asyncio.run(
            measure_in_process(target, SETTINGS, spec, NullObserver())
        )
    else:
        measurement = measure_in_processes(
            target, SETTINGS, spec, NullObserver(), processes
        )
    events = sum(s.stats.events for s in measurement.sessions)
    return events / seconds, [load.cpu_s / seconds for load in measurement.clients]


def _bare_worker(address: str, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(asyncio.run(bare_consumer(address, seconds)).rate_eps)


def two_simulators(seconds: float) -> list[float]:
    """Rates two bare consumers receive at once, each from its own simulator."""
    simulators = [start_simulator() for _ in range(2)]
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    workers = [
        context.Process(target=_bare_worker, args=(address, seconds, out))
        for _, address in simulators
    ]
    try:
        for worker in workers:
            worker.start()
        rates = [out.get(timeout=seconds + 90) for _ in workers]
        for worker in workers:
            worker.join()
    finally:
        for process, _ in simulators:
            stop_simulator(process)
    return rates


def sweep_job_overhead_s(jobs: int = 5) -> tuple[float, float]:
    """What one sweep job costs beyond its warm-up plus window, and that span.

    A real tracked sweep (`python -m gwexp -m`, MLflow in a temporary sqlite
    store) against a loopback simulator: each job starts when Hydra saves its
    config, so the gap between two jobs' starts is one whole job. The first
    gap, which pays the one-time imports of MLflow and matplotlib, is skipped.
    """
    warmup_s, window_s = 1.0, 2.0
    with tempfile.TemporaryDirectory() as out:
        sweep = Path(out) / "sweep"
        sizes = ",".join(str(6 * (n + 1)) for n in range(jobs))
        command = [
            *(sys.executable, "-m", "gwexp", "-m", f"bulk_size={sizes}"),
            *(f"warmup_s={warmup_s:g}", f"duration_s={window_s:g}"),
            *("gateway.profile=loopback", "+gateway.overrides.worker_start_s=0"),
            *(f"tracking.uri=sqlite:///{out}/mlflow.db", f"hydra.sweep.dir={sweep}"),
        ]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        starts = [
            (sweep / str(n) / ".hydra" / "config.yaml").stat().st_mtime
            for n in range(jobs)
        ]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts[1:])]
    return statistics.median(gaps) - warmup_s - window_s, warmup_s + window_s


def rss_mib() -> float:
    """Resident memory of this process now, in MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * PAGE_BYTES / 2**20


async def long_run_memory(address: str, seconds: float) -> tuple[float, float]:
    """Resident memory a tenth of the way into a long gwexp window, and at its end."""
    samples: list[float] = []

    async def sample() -> None:
        while True:
            samples.append(rss_mib())
            await asyncio.sleep(seconds / 20)

    sampler = asyncio.create_task(sample())
    await gwexp_consumer(address, seconds)
    sampler.cancel()
    first = samples[min(len(samples) - 1, 4)]
    return first, samples[-1]


def main() -> None:
    """Measure, then print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="window, s")
    parser.add_argument("--rounds", type=int, default=10, help="paired rounds")
    parser.add_argument("--long-s", type=float, default=60.0, help="memory run, s")
    args = parser.parse_args()

    bare: list[Reading] = []
    full: list[Reading] = []
    simulator, address = start_simulator(PAIRED_HZ)
    try:
        for number in range(1, args.rounds + 1):
            readings = paired_round(address, args.seconds)
            bare.append(readings["bare"])
            full.append(readings["gwexp"])
            print(
                f"round {number}: bare {bare[-1].rate_eps:,.0f} events/s at "
                f"{bare[-1].cpu_share:.0%} CPU, gwexp {full[-1].rate_eps:,.0f} "
                f"events/s at {full[-1].cpu_share:.0%} CPU, ratio "
                f"{full[-1].ceiling_eps / bare[-1].ceiling_eps:.2f}",
                flush=True,
            )
    finally:
        stop_simulator(simulator)
    simulator, address = start_simulator(FLOOD_HZ)
    try:
        fanned = {k: fan_out(address, args.seconds, k) for k in (1, 2)}
        rss_early, rss_end = asyncio.run(long_run_memory(address, args.long_s))
    finally:
        stop_simulator(simulator)
    pair = two_simulators(args.seconds)
    overhead_s, span_s = sweep_job_overhead_s()

    def median(readings: list[Reading], key: str) -> float:
        return statistics.median(getattr(r, key) for r in readings)

    ratio = statistics.median(
        f.ceiling_eps / b.ceiling_eps for b, f in zip(bare, full, strict=True)
    )
    print()
    print(f"{'':34}{'received':>14}{'CPU':>7}{'ceiling':>14}")
    for name, readings in (("bare grpc.aio loop", bare), ("gwexp consumer", full)):
        print(
            f"{name:34}{median(readings, 'rate_eps'):>10,.0f} e/s"
            f"{median(readings, 'cpu_share'):>7.0%}"
            f"{median(readings, 'ceiling_eps'):>10,.0f} e/s"
        )
    print(
        f"(read at once, one stream each of {TAGS} tags x {PAIRED_HZ} Hz; "
        "ratio: median over rounds)"
    )
    offered = TAGS * FLOOD_HZ
    print(f"simulator offers per stream ({TAGS} tags x {FLOOD_HZ} Hz): {offered:,} e/s")
    print(
        "two simulators -> two bare consumers: "
        + " + ".join(f"{rate:,.0f}" for rate in pair)
        + f" = {sum(pair):,.0f} e/s"
    )
    for k, (rate, shares) in fanned.items():
        cpu = ", ".join(f"{share:.0%}" for share in shares)
        print(
            f"client.processes={k}, 4 sessions: {rate:,.0f} e/s, CPU per process {cpu}"
        )
    print(
        f"tracked sweep job beyond its {span_s:g} s of warm-up + window: "
        f"{overhead_s:.2f} s (median of jobs 2 to 4 of 5)"
    )
    print(
        f"resident memory in a {args.long_s:g} s window: {rss_early:.1f} MiB "
        f"early, {rss_end:.1f} MiB at the end"
    )
    print(f"consumer ratio (gwexp / bare): {ratio:.2f}")


if __name__ == "__main__":
    main()
