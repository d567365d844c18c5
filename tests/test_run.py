"""``python -m gwexp`` end to end against the embedded simulator: runs and sweeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FAST, poisson_bounds, read_json, run_gwexp


def test_single_run_measures_rate_latency_and_writes_its_result(
    tmp_path: Path, no_tracking: str
) -> None:
    done = run_gwexp(*FAST, "bulk_size=24", no_tracking, f"hydra.run.dir={tmp_path}")
    assert done.returncode == 0, done.stderr

    result = read_json(tmp_path / "result.json")
    assert result["schema_version"] == 1
    assert result["status"] == "completed"
    low, high = poisson_bounds(24 * 5, 3)
    assert low <= result["events_per_sec"] <= high
    assert result["events_total"] == sum(s["events"] for s in result["sessions"])
    assert sum(result["rate_per_second"]) == result["events_total"]
    assert len(result["rate_per_second"]) == 3
    assert result["window_s"] == 3.0
    # The initial event per item arrives in the warm-up, never in the window.
    assert result["warmup_events"] >= 24
    latency = result["latency_ms"]
    assert latency["count"] == result["events_total"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert latency["p50"] < 20  # loopback: no modelled delay
    assert latency["negative_count"] == 0
    assert result["faults_total"] == 0
    assert result["sessions"][0]["final_state"] == "SESSION_STATE_READY"
    assert result["load"]["tags_subscribed_total"] == 24
    assert result["histogram"].startswith("HIST")
    assert (tmp_path / ".hydra" / "config.yaml").exists()
    assert "events/s" in done.stdout


def test_sweep_over_bulk_size_scales_linearly_within_poisson_bounds(
    tmp_path: Path, no_tracking: str
) -> None:
    done = run_gwexp(
        "-m", *FAST, "bulk_size=6,24,60,120", no_tracking, f"hydra.sweep.dir={tmp_path}"
    )
    assert done.returncode == 0, done.stderr

    for job, bulk in enumerate((6, 24, 60, 120)):
        result = read_json(tmp_path / str(job) / "result.json")
        low, high = poisson_bounds(bulk * 5, 3)
        assert low <= result["events_per_sec"] <= high, (bulk, result["events_per_sec"])
        assert result["load"]["bulk_size"] == bulk
        assert result["faults_total"] == 0
    assert "gwexp sweep" in done.stdout
    for bulk in (6, 24, 60, 120):
        assert f"bulk_size={bulk}" in done.stdout


def test_sessions_scale_linearly_when_opens_are_staggered(
    tmp_path: Path, no_tracking: str
) -> None:
    # -m after an override, which Hydra's own parser would refuse.
    done = run_gwexp(
        "session_count=1,2,4", "-m", *FAST, no_tracking, f"hydra.sweep.dir={tmp_path}"
    )
    assert done.returncode == 0, done.stderr
    for job, sessions in enumerate((1, 2, 4)):
        result = read_json(tmp_path / str(job) / "result.json")
        low, high = poisson_bounds(sessions * 120 * 5, 3)
        assert low <= result["events_per_sec"] <= high
        assert sum(s["subscribed"] for s in result["sessions"]) == sessions
        assert result["fault_counts"]["failed_open"] == 0


def test_unstaggered_opens_time_out_and_are_recorded_as_faults(
    tmp_path: Path, no_tracking: str
) -> None:
    done = run_gwexp(
        *FAST,
        "session_count=8",
        "stagger_ms=0",
        no_tracking,
        f"hydra.run.dir={tmp_path}",
    )
    assert done.returncode == 0, done.stderr
    result = read_json(tmp_path / "result.json")
    assert result["status"] == "faulted"
    # On a loaded machine a session may still open, and then the window runs.
    opened = any(s["subscribed"] for s in result["sessions"])
    assert (result["window_s"] > 0) == opened
    failed = [f for f in result["faults"] if f["kind"] == "failed_open"]
    assert len(failed) == result["fault_counts"]["failed_open"] >= 2
    assert all(
        f["code"] == "PROTOCOL_STATUS_CODE_WORKER_STARTUP_TIMEOUT" for f in failed
    )
    assert "faults: failed_open" in done.stdout


@pytest.mark.parametrize(
    ("override", "line"),
    [
        ("session_count=0", "session_count=0 is invalid: must be at least 1"),
        (
            "bulk_size=abc",
            "Error merging override bulk_size=abc; Value 'abc' of type 'str' "
            "could not be converted to Integer",
        ),
        ("+bulk_sise=60", "bulk_sise is not a gwexp setting: did you mean bulk_size?"),
        (
            "gateway=remote gateway.tls.enabled=true gateway.tls.ca_cert=nowhere.pem",
            "gateway.tls.ca_cert='nowhere.pem' is invalid: must be a readable PEM "
            "file of the gateway's CA (or null for the system's roots)",
        ),
        (
            "tags=diagonal",
            "In 'config': Could not find 'tags/diagonal'; Available options in "
            "'tags': by_attribute, by_machine, explicit, single_attribute",
        ),
    ],
)
def test_bad_value_is_one_line_with_a_distinct_status(
    tmp_path: Path, override: str, line: str
) -> None:
    done = run_gwexp(*override.split(), f"hydra.run.dir={tmp_path}")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"gwexp: error: {line}"]
    assert not (tmp_path / "result.json").exists()


@pytest.mark.parametrize("processes", [2])
def test_sessions_spread_over_client_processes_merge_into_one_result(
    tmp_path: Path, no_tracking: str, processes: int
) -> None:
    done = run_gwexp(
        *FAST,
        "session_count=3",
        f"client.processes={processes}",
        no_tracking,
        f"hydra.run.dir={tmp_path}",
    )
    assert done.returncode == 0, done.stderr
    result = read_json(tmp_path / "result.json")
    assert result["client"]["processes"] == processes
    assert [s["index"] for s in result["sessions"]] == [1, 2, 3]
    low, high = poisson_bounds(3 * 120 * 5, 3)
    assert low <= result["events_per_sec"] <= high
    assert result["latency_ms"]["count"] == result["events_total"]
