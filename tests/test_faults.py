"""Faults, bad input and secrets: every case provoked against a real simulator.

The simulator runs in the test process (so the test can see what is left open
at the gateway) and gwexp runs as a user runs it, in a subprocess.
"""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gwexp.sim import EmbeddedGateway, load_profile
from tests.conftest import ROOT, make_tls_files, read_json, run_gwexp

GOOD_KEY = "mxgw_k1_c0rrectHorse"
FAST_RUN = ("warmup_s=0.5", "duration_s=3", "stagger_ms=20", "tracking.enabled=false")


def _start(**overrides: object) -> EmbeddedGateway:
    settings: dict[str, object] = {"change_rate_hz": 5, "time_scale": 0.02}
    settings.update(overrides)
    return EmbeddedGateway(load_profile("loopback", settings))


def open_sessions(simulator: EmbeddedGateway) -> int:
    """Sessions the simulator still holds open."""
    return simulator.session_count


@pytest.fixture
def simulator() -> Iterator[EmbeddedGateway]:
    with _start() as running:
        yield running


def _remote(address: str, *more: str) -> tuple[str, ...]:
    return ("gateway=remote", f"gateway.endpoint={address}", *FAST_RUN, *more)


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_unreachable_gateway_is_one_line_within_the_connect_time(
    tmp_path: Path,
) -> None:
    port = _free_port()
    began = time.monotonic()
    done = run_gwexp(
        *_remote(f"127.0.0.1:{port}", "gateway.connect_timeout_s=1"),
        f"hydra.run.dir={tmp_path}",
    )
    assert time.monotonic() - began < 30
    assert done.returncode == 3
    assert _last_line(done.stderr) == (
        f"gwexp: error: no gRPC server answered at 127.0.0.1:{port} within 1 s: "
        "check gateway.endpoint, that the gateway runs, and gateway.tls.enabled"
    )
    assert "Traceback" not in done.stderr


def test_a_server_that_does_not_speak_grpc_is_unreachable(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def answer_like_a_web_server() -> None:
        server.settimeout(20)
        try:
            while True:
                conn, _ = server.accept()
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                conn.close()
        except OSError:
            return

    threading.Thread(target=answer_like_a_web_server, daemon=True).start()
    try:
        done = run_gwexp(
            *_remote(f"127.0.0.1:{port}", "gateway.connect_timeout_s=1"),
            f"hydra.run.dir={tmp_path}",
        )
    finally:
        server.close()
    assert done.returncode == 3
    assert "no gRPC server answered at" in _last_line(done.stderr)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "API key missing or unknown (UNAUTHENTICATED)"),
        ("mxgw_k1_wrong", "API key missing or unknown (UNAUTHENTICATED)"),
        ("mxgw_k2_scoped", "lacks the scope for it (PERMISSION_DENIED)"),
    ],
)
def test_bad_api_keys_are_one_line_saying_which(
    tmp_path: Path, key: str | None, expected: str
) -> None:
    profile = load_profile("loopback", {"time_scale": 0.02})
    keys = [GOOD_KEY, "mxgw_k2_scoped=sessions,commands"]
    with EmbeddedGateway(profile, api_keys=keys) as simulator:
        env = {"MXGW_API_KEY": key} if key else {}
        done = run_gwexp(
            *_remote(simulator.address), f"hydra.run.dir={tmp_path}", env=env
        )
        assert open_sessions(simulator) == 0
    assert done.returncode == 4, done.stderr
    assert expected in _last_line(done.stderr)
    assert _last_line(done.stderr).startswith("gwexp: error: gateway at")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("processes", [1, 2])
def test_session_limit_failures_are_faults_and_the_rest_is_measured(
    tmp_path: Path, processes: int
) -> None:
    with _start(max_sessions=2) as simulator:
        done = run_gwexp(
            *_remote(simulator.address, "session_count=3", "bulk_size=12"),
            f"client.processes={processes}",
            f"hydra.run.dir={tmp_path}",
        )
        assert open_sessions(simulator) == 0
    assert done.returncode == 0, done.stderr
    result = read_json(tmp_path / "result.json")
    assert result["status"] == "faulted"
    (fault,) = result["faults"]
    subscribed = [s["subscribed"] for s in result["sessions"]]
    assert subscribed.count(False) == 1
    if processes == 1:
        # One process opens in stagger order, so the third loses; two processes
        # start their staggers apart, so there any one may.
        assert subscribed == [True, True, False]
    assert fault["kind"] == "failed_open"
    assert not result["sessions"][fault["session"] - 1]["subscribed"]
    assert fault["code"] == "PROTOCOL_STATUS_CODE_SESSION_LIMIT_REACHED"
    assert result["events_total"] > 0
    # Also from a client process of its own: its warning reaches the run's log.
    (log_file,) = tmp_path.glob("*.log")
    assert f"session {fault['session']} failed to open" in log_file.read_text()


def test_on_open_failure_stop_ends_the_run_with_one_line(tmp_path: Path) -> None:
    with _start(max_sessions=1) as simulator:
        done = run_gwexp(
            *_remote(simulator.address, "session_count=2", "on_open_failure=stop"),
            f"hydra.run.dir={tmp_path}",
        )
        assert open_sessions(simulator) == 0
    assert done.returncode == 5
    assert _last_line(done.stderr).startswith(
        "gwexp: error: session 2 failed to open "
        "(PROTOCOL_STATUS_CODE_SESSION_LIMIT_REACHED) and on_open_failure=stop"
    )
    result = read_json(tmp_path / "result.json")
    assert result["status"] == "stopped"
    assert result["events_total"] == 0


def test_unknown_tags_are_counted_and_listed_not_fatal(
    tmp_path: Path, simulator: EmbeddedGateway
) -> None:
    tags = "[TestMachine_001.TestChangingInt,TestMachine_999.TestChangingInt,Nope.X]"
    done = run_gwexp(
        *_remote(
            simulator.address, "tags=explicit", f"tags.explicit={tags}", "bulk_size=3"
        ),
        f"hydra.run.dir={tmp_path}",
    )
    assert done.returncode == 0, done.stderr
    result = read_json(tmp_path / "result.json")
    assert result["fault_counts"]["refused_item"] == 2
    refused = sorted(f["code"] for f in result["faults"] if f["kind"] == "refused_item")
    assert refused == ["Nope.X", "TestMachine_999.TestChangingInt"]
    assert all(f["message"] for f in result["faults"])
    assert result["sessions"][0]["tags_subscribed"] == 1
    assert result["events_total"] > 0


def _fault_run(tmp_path: Path, **overrides: object) -> dict[str, object]:
    with _start(**overrides) as simulator:
        done = run_gwexp(*_remote(simulator.address), f"hydra.run.dir={tmp_path}")
        assert open_sessions(simulator) == 0
    assert done.returncode == 0, done.stderr
    return read_json(tmp_path / "result.json")


def test_queue_overflow_mid_window_keeps_the_counts_before_it(tmp_path: Path) -> None:
    # 600 events/s produced, 400 delivered: the 500-event queue fills in ~2 s.
    result = _fault_run(tmp_path, queue_capacity=500, delivery_ceiling_eps=400)
    assert result["status"] == "faulted"
    assert result["fault_counts"]["queue_overflow"] == 1  # type: ignore[index]
    (fault,) = [f for f in result["faults"] if f["kind"] == "queue_overflow"]  # type: ignore[attr-defined]
    assert fault["at_s"] > 0
    assert result["sessions"][0]["final_state"] == "SESSION_STATE_FAULTED"  # type: ignore[index]
    # Every stream has ended, so the window closed early and the rate is over
    # the time measured, not diluted by the rest of the planned 3 s.
    window_s = result["window_s"]
    assert 0 < window_s < 3  # type: ignore[operator]
    assert result["events_per_sec"] == pytest.approx(
        result["events_total"] / window_s  # type: ignore[operator]
    )
    seconds = result["rate_per_second"]
    assert len(seconds) == math.ceil(window_s) and seconds[0] > 0  # type: ignore[arg-type, call-overload, index]


def test_worker_crash_mid_window_is_recorded_with_its_time(tmp_path: Path) -> None:
    result = _fault_run(tmp_path, **{"faults.crash_after_s": 2.0})
    assert result["status"] == "faulted"
    assert result["fault_counts"]["worker"] == 1  # type: ignore[index]
    assert result["events_total"] > 0  # type: ignore[operator]
    assert 0 < result["window_s"] < 3  # type: ignore[operator]
    assert result["sessions"][0]["final_state"] == "SESSION_STATE_FAULTED"  # type: ignore[index]


def test_dropped_stream_is_recorded_and_resumed_without_loss(tmp_path: Path) -> None:
    result = _fault_run(tmp_path, **{"faults.drop_stream_after_s": 2.0})
    assert result["status"] == "faulted"
    assert result["fault_counts"]["stream_error"] == 1  # type: ignore[index]
    session = result["sessions"][0]  # type: ignore[index]
    assert session["stream_resumes"] == 1
    assert session["sequence_gaps"] == 0
    assert session["final_state"] == "SESSION_STATE_READY"
    assert min(result["rate_per_second"]) > 0  # type: ignore[type-var]


def test_a_gateway_that_hangs_mid_window_is_a_stall(tmp_path: Path) -> None:
    sim_log = tmp_path / "sim.log"
    sim = ("gwexp.sim", "--port", "0", "--profile", "loopback")
    settings = ("--set", "change_rate_hz=5", "--set", "time_scale=0.02")
    with sim_log.open("w") as sink:
        simulator = subprocess.Popen(
            [sys.executable, "-m", *sim, *settings], cwd=ROOT, stderr=sink
        )
    try:
        address = _wait_for(sim_log, r"listening on (\S+)")
        run_dir = tmp_path / "run"
        overrides = (
            *("gateway=remote", f"gateway.endpoint={address}", "bulk_size=12"),
            *("warmup_s=0.5", "duration_s=6", "tracking.enabled=false"),
            f"hydra.run.dir={run_dir}",
        )
        run = subprocess.Popen(
            [sys.executable, "-m", "gwexp", *overrides],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(run_dir / "__main__.log", r"then measuring")
        time.sleep(2.5)  # 2 s of the window, then the gateway hangs
        simulator.send_signal(signal.SIGSTOP)
        time.sleep(4.5)  # past the window's end
        simulator.send_signal(signal.SIGCONT)
        assert run.wait(timeout=60) == 0
    finally:
        simulator.send_signal(signal.SIGCONT)
        simulator.terminate()
        simulator.wait(timeout=30)
    result = read_json(run_dir / "result.json")
    assert result["status"] == "faulted"
    (fault,) = result["faults"]
    assert (fault["kind"], fault["session"], fault["code"]) == ("stalled", 1, "STALL")
    assert "the gateway may have hung" in fault["message"]


def _wait_for(path: Path, pattern: str, timeout_s: float = 60) -> str:
    """The first group of pattern once it appears in the file (or the match)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            found = re.search(pattern, path.read_text())
            if found:
                return found.group(found.lastindex or 0)
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} did not appear in {path}")


@pytest.mark.parametrize(
    ("phase", "log_line", "then_s"),
    [("open", "opening 2 session(s)", 0.3), ("window", "then measuring", 2.0)],
)
def test_ctrl_c_closes_sessions_and_writes_partial_results(
    tmp_path: Path, phase: str, log_line: str, then_s: float
) -> None:
    # Worker starts slow enough that the open phase lasts about a second.
    with _start(time_scale=1.0, worker_start_s=0.5) as simulator:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gwexp",
                *_remote(simulator.address, "session_count=2", "stagger_ms=300"),
                "duration_s=10",
                f"hydra.run.dir={tmp_path}",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            if log_line in line:
                break
        time.sleep(then_s)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert open_sessions(simulator) == 0
    assert process.returncode == 130, stderr
    assert _last_line(stderr) == "gwexp: interrupted"
    result = read_json(tmp_path / "result.json")
    assert result["status"] == "interrupted"
    if phase == "open":
        assert result["events_total"] == 0
    else:
        assert result["events_total"] > 0
        assert 0 < result["phases"]["window_s"] < 10
        assert result["window_s"] == result["phases"]["window_s"]
        assert abs(result["events_per_sec"] - 2 * 120 * 5) < 200


def test_sweep_with_a_failing_job_reports_it_and_exits_non_zero(tmp_path: Path) -> None:
    done = run_gwexp(
        "-m",
        "gateway.profile=loopback",
        "+gateway.overrides.change_rate_hz=5",
        *FAST_RUN,
        "bulk_size=24,500",
        f"hydra.sweep.dir={tmp_path}",
    )
    assert done.returncode == 1
    line = "bulk_size=500) failed: bulk_size=500 is invalid: must be at most 120"
    assert line in done.stderr
    assert (tmp_path / "0" / "result.json").exists()
    assert not (tmp_path / "1" / "result.json").exists()
    assert read_json(tmp_path / "1" / "outcome.json")["status"] == "failed"


def test_tls_with_a_self_signed_ca(tmp_path: Path) -> None:
    ca, cert, key = make_tls_files(tmp_path)
    profile = load_profile("loopback", {"change_rate_hz": 5, "time_scale": 0.02})
    with EmbeddedGateway(profile, tls_cert_file=cert, tls_key_file=key) as simulator:
        done = run_gwexp(
            *_remote(
                simulator.address,
                "gateway.tls.enabled=true",
                f"gateway.tls.ca_cert={ca}",
                "bulk_size=12",
            ),
            f"hydra.run.dir={tmp_path / 'run'}",
        )
        plain = run_gwexp(
            *_remote(simulator.address, "gateway.connect_timeout_s=1"),
            f"hydra.run.dir={tmp_path / 'plain'}",
        )
    assert done.returncode == 0, done.stderr
    assert read_json(tmp_path / "run" / "result.json")["events_total"] > 0
    assert plain.returncode == 3


def test_api_key_never_lands_in_anything_a_run_writes(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    store = tmp_path / "mlflow.db"
    uri = f"sqlite:///{store}"
    profile = load_profile("loopback", {"change_rate_hz": 5, "time_scale": 0.02})
    with EmbeddedGateway(profile, api_keys=[GOOD_KEY]) as simulator:
        done = run_gwexp(
            "-m",
            *_remote(simulator.address, "bulk_size=6,12"),
            "tracking.enabled=true",
            f"tracking.uri={uri}",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
            env={"MXGW_API_KEY": GOOD_KEY, "MLFLOW_ARTIFACTS_DESTINATION": ""},
        )
    assert done.returncode == 0, done.stderr
    secret = GOOD_KEY.encode()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    runs = MlflowClient(uri).search_runs(
        [MlflowClient(uri).get_experiment_by_name("gwexp").experiment_id]
    )
    assert len(runs) == 3  # the parent and two jobs
    for run in runs:
        artifacts = Path(run.info.artifact_uri.removeprefix("file://"))
        written += [p for p in artifacts.rglob("*") if p.is_file()]
        assert GOOD_KEY not in str(run.data.params) + str(run.data.tags)
        assert GOOD_KEY not in (run.info.run_name or "")
    assert any(p.name == "result.json" for p in written)
    assert any(p.name == "config.yaml" for p in written)
    leaks = [str(p) for p in written if secret in p.read_bytes()]
    assert leaks == []
    assert GOOD_KEY not in done.stdout + done.stderr


def test_an_api_key_typed_on_the_command_line_is_refused(tmp_path: Path) -> None:
    done = run_gwexp(
        *_remote("127.0.0.1:1", f"gateway.api_key={GOOD_KEY}"),
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "gwexp: error: gateway.api_key is given literally on the command line, "
        "where Hydra would save it in the run's .hydra/ folder and its logs: "
        "export MXGW_API_KEY instead"
    )
    assert not (tmp_path / "run").exists()


def test_an_api_key_swept_by_a_config_file_is_refused(tmp_path: Path) -> None:
    experiment = tmp_path / "conf" / "experiment"
    experiment.mkdir(parents=True)
    (experiment / "keys.yaml").write_text(
        "# @package _global_\n"
        f"hydra:\n  sweeper:\n    params:\n      gateway.api_key: {GOOD_KEY},other\n"
    )
    done = run_gwexp(
        "-m",
        *("--config-dir", str(tmp_path / "conf")),
        *_remote("127.0.0.1:1", "+experiment=keys"),
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "gwexp: error: gateway.api_key is given literally in hydra.sweeper.params, "
        "where Hydra would save it in the run's .hydra/ folder and its logs: "
        "export MXGW_API_KEY instead"
    )
    assert GOOD_KEY not in done.stdout
    assert not (tmp_path / "sweep").exists()


def test_an_api_key_in_a_config_file_is_redacted_from_the_saved_config(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "conf" / "gateway"
    conf.mkdir(parents=True)
    (conf / "lab.yaml").write_text(
        f"defaults:\n  - remote\n  - _self_\napi_key: {GOOD_KEY}\n"
    )
    profile = load_profile("loopback", {"change_rate_hz": 5, "time_scale": 0.02})
    with EmbeddedGateway(profile, api_keys=[GOOD_KEY]) as simulator:
        done = run_gwexp(
            *("--config-dir", str(tmp_path / "conf")),
            *_remote(simulator.address)[1:],
            "gateway=lab",
            f"hydra.run.dir={tmp_path / 'run'}",
        )
    assert done.returncode == 0, done.stderr
    assert "redacted from the saved config" in done.stdout + done.stderr
    assert read_json(tmp_path / "run" / "result.json")["events_total"] > 0
    written = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert any(p.name == "config.yaml" for p in written)
    assert [p for p in written if GOOD_KEY.encode() in p.read_bytes()] == []


def test_ctrl_c_through_a_pipe_still_writes_the_result(tmp_path: Path) -> None:
    # `gwexp ... 2>&1 | tee log` and Ctrl-C: tee dies with gwexp, so every
    # later write to the terminal meets a closed pipe.
    run_dir = tmp_path / "run"
    command = (
        f"{sys.executable} -m gwexp gateway.profile=loopback warmup_s=0.5 "
        f"duration_s=20 tracking.enabled=false hydra.run.dir={run_dir} "
        f"2>&1 | tee {tmp_path / 'log'} > /dev/null"
    )
    shell = subprocess.Popen(["bash", "-c", command], cwd=ROOT, start_new_session=True)
    _wait_for(run_dir / "__main__.log", "then measuring")
    time.sleep(2.0)
    os.killpg(shell.pid, signal.SIGINT)
    shell.wait(timeout=60)

    deadline = time.monotonic() + 30
    while not (run_dir / "outcome.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    result = read_json(run_dir / "result.json")
    assert result["status"] == "interrupted"
    assert result["events_total"] > 0
    assert read_json(run_dir / "outcome.json")["status"] == "interrupted"


def _signal_mid_window(
    tmp_path: Path, simulator: EmbeddedGateway, send: Callable[[int], None], *more: str
) -> subprocess.CompletedProcess[str]:
    """Start a run, call ``send(pid)`` two seconds into its window, wait for it."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gwexp",
            *_remote(simulator.address, "duration_s=20", *more),
            f"hydra.run.dir={tmp_path}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "then measuring" in line:
            break
    time.sleep(2.5)
    send(process.pid)
    stdout, stderr = process.communicate(timeout=90)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _twice(pid: int) -> None:
    os.killpg(pid, signal.SIGINT)
    time.sleep(0.01)
    os.killpg(pid, signal.SIGINT)


def test_ctrl_c_while_starting_up_is_one_line(tmp_path: Path) -> None:
    # Start-up imports take about a second; a Ctrl-C anywhere in them.
    for delay_s in (0.2, 0.4, 0.6):
        process = subprocess.Popen(
            [sys.executable, "-m", "gwexp", f"hydra.run.dir={tmp_path}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        time.sleep(delay_s)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert "Traceback" not in stderr, (delay_s, stderr)
        # Before Python's own handler is set, SIGINT simply ends the process.
        assert process.returncode in (130, -signal.SIGINT), (delay_s, stderr)
        assert len(stderr.strip().splitlines()) <= 1, (delay_s, stderr)


@pytest.mark.parametrize(
    ("name", "send", "more"),
    [
        ("two quick Ctrl-C", _twice, ()),
        ("SIGTERM", lambda pid: os.kill(pid, signal.SIGTERM), ()),
        (
            "SIGINT to the parent of two client processes",
            lambda pid: os.kill(pid, signal.SIGINT),
            ("client.processes=2", "session_count=2"),
        ),
        (
            "two quick Ctrl-C to two client processes",
            _twice,
            ("client.processes=2", "session_count=2"),
        ),
        (
            "SIGTERM to the process group of two client processes",
            lambda pid: os.killpg(pid, signal.SIGTERM),
            ("client.processes=2", "session_count=2"),
        ),
    ],
)
def test_stopping_signals_keep_the_result_and_close_sessions(
    tmp_path: Path,
    simulator: EmbeddedGateway,
    name: str,
    send: Callable[[int], None],
    more: tuple[str, ...],
) -> None:
    done = _signal_mid_window(tmp_path, simulator, send, *more)
    assert open_sessions(simulator) == 0, name
    assert done.returncode == 130, (name, done.stderr[-2000:])
    result = read_json(tmp_path / "result.json")
    assert result["status"] == "interrupted"
    assert result["events_total"] > 0
    assert 1.0 < result["window_s"] < 20


@pytest.mark.parametrize(
    ("override", "line"),
    [
        ("duration_s=inf", "duration_s=inf is invalid: must be a finite number"),
        ("stagger_ms=nan", "stagger_ms=nan is invalid: must be a finite number"),
        ("duration_s=1e9", "duration_s=1000000000.0 is invalid: must be at most 86400"),
    ],
)
def test_non_finite_and_huge_values_are_refused(
    tmp_path: Path, override: str, line: str
) -> None:
    done = run_gwexp(override, f"hydra.run.dir={tmp_path}")
    assert done.returncode == 2
    assert _last_line(done.stderr).startswith(f"gwexp: error: {line}")


def test_an_api_key_with_a_line_break_is_refused_without_showing_it(
    tmp_path: Path, simulator: EmbeddedGateway
) -> None:
    done = run_gwexp(
        *_remote(simulator.address),
        f"hydra.run.dir={tmp_path}",
        env={"MXGW_API_KEY": "mxgw_k1_s3cr3t\n"},
    )
    assert done.returncode == 2
    assert _last_line(done.stderr).startswith(
        "gwexp: error: gateway.api_key (from MXGW_API_KEY) is invalid"
    )
    assert "s3cr3t" not in done.stderr + done.stdout


def test_nested_simulator_overrides_reach_the_profile(tmp_path: Path) -> None:
    done = run_gwexp(
        "gateway.profile=loopback",
        "+gateway.overrides.delay.model=constant",
        "+gateway.overrides.delay.median_ms=40",
        *FAST_RUN,
        f"hydra.run.dir={tmp_path}",
    )
    assert done.returncode == 0, done.stderr
    latency = read_json(tmp_path / "result.json")["latency_ms"]
    assert 40 <= latency["p50"] < 45
