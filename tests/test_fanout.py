"""Sessions spread over processes: the partition and the exact merge."""

from __future__ import annotations

import pickle

from gwexp.fanout import merge_measurements, partition
from gwexp.measurement import ClientLoad, Measurement, SessionRun
from gwexp.results import Load, build_result, judge_client
from gwexp.stats import NS_PER_S

MS = 1_000_000


def test_partition_deals_sessions_round_robin() -> None:
    assert partition(8, 3) == [[1, 4, 7], [2, 5, 8], [3, 6]]
    assert partition(2, 4) == [[1], [2]]
    assert partition(1, 1) == [[1]]


def _part(indices: list[int], base_ms: int, events: int) -> Measurement:
    sessions = []
    for index in indices:
        session = SessionRun(index=index, tags=["T.a"], session_id=f"s{index}")
        session.item_handles = [1]
        session.subscribe_s = 0.1
        session.stats.set_window(0, 2 * NS_PER_S)
        for sequence in range(1, events + 1):
            session.stats.record(sequence, 0, (base_ms + index) * MS + sequence * 1000)
        sessions.append(session)
    part = Measurement(sessions, window_start_ns=0, window_end_ns=2 * NS_PER_S)
    part.window_phase_s = 2.0
    part.clients = [ClientLoad(cpu_s=0.2)]
    # What crosses the process boundary is the pickled measurement.
    restored: Measurement = pickle.loads(pickle.dumps(part))
    return restored


def test_merged_processes_give_the_result_one_process_would() -> None:
    first, second = _part([1, 3], 10, 400), _part([2, 4], 30, 600)
    merged = merge_measurements([first, second])
    assert [s.index for s in merged.sessions] == [1, 2, 3, 4]
    assert len(merged.clients) == 2

    single = _part([1, 2, 3, 4], 0, 0)
    for session, source in zip(single.sessions, merged.sessions, strict=True):
        session.stats = source.stats
    load = Load(1, 4, 0, 0, 2, 0)
    a = build_result(merged, load, "test", {})
    b = build_result(single, load, "test", {})
    assert a.events_total == b.events_total == 2 * 400 + 2 * 600
    assert a.events_per_sec == 1000.0
    assert a.latency_ms == b.latency_ms
    assert a.latency_ms.count == 2000
    assert a.histogram == b.histogram
    assert a.client.processes == 2


def test_busy_or_late_client_is_flagged_with_advice() -> None:
    idle = judge_client([ClientLoad(cpu_s=1.0, lag_sum_s=0.01, lag_samples=10)], 10.0)
    assert not idle.saturated and idle.warning is None
    assert abs(idle.cpu_fraction_max - 0.1) < 1e-9
    busy = judge_client([ClientLoad(cpu_s=9.5), ClientLoad(cpu_s=1.0)], 10.0)
    assert busy.saturated
    assert busy.warning is not None and "raise client.processes" in busy.warning
    late = judge_client([ClientLoad(cpu_s=1, lag_sum_s=0.5, lag_samples=10)], 10.0)
    assert late.saturated and abs(late.loop_lag_mean_ms - 50.0) < 1e-9
    # Late at 10% CPU: starved by other work, so more processes would not help.
    assert late.warning is not None and "busy with other work" in late.warning
    assert "raise client.processes" not in late.warning
