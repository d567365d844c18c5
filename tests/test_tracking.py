"""MLflow runs, parent runs and the sweep analysis, read back with MlflowClient."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlflow.tracking import MlflowClient

from gwexp.config import EmbeddedGatewayConfig, RunConfig, TrackingConfig
from gwexp.errors import ConfigError
from gwexp.mlflow_store import tracking_uri
from gwexp.redact import REDACTED, flatten, redact_tree
from gwexp.stats import encode_histogram, new_histogram
from gwexp.sweep import collect_jobs, sweep_spec
from gwexp.sweep_tracking import finish_sweep, start_sweep
from gwexp.tracking import (
    PARENT_FILE,
    RUN_FILE,
    RunContext,
    config_params,
    end_open_runs,
    log_run,
    run_context,
    run_name,
)
from gwexp.upload import upload
from tests.conftest import FAST, ROOT, run_gwexp

SECRET = "mxgw_k1_s3cret"
LATENCIES_US = (12_000, 15_000, 17_000, 17_500, 20_000, 34_000)
CONFIG = {
    "gateway": {
        "kind": "remote",
        "endpoint": "gw-host:5000",
        "api_key": "${oc.env:MXGW_API_KEY,null}",
    },
    "tracking": {"enabled": True, "uri": None, "experiment": "gwexp"},
    "bulk_size": 24,
    "session_count": 1,
    "duration_s": 3.0,
}


def _result(bulk_size: int, events_per_sec: float, status: str) -> dict[str, Any]:
    histogram = new_histogram()
    for value in LATENCIES_US:
        histogram.record_value(value)
    latency = {
        "count": len(LATENCIES_US),
        "p50": 17.0,
        "p90": 20.0,
        "p95": 34.0,
        "p99": 34.0,
        "p999": 34.0,
        "max": 34.0,
        "mean": 19.25,
        "negative_count": 0,
        "min_negative": None,
    }
    return {
        "schema_version": 1,
        "status": status,
        "gateway": "remote gw-host:5000",
        "load": {"bulk_size": bulk_size, "tags_subscribed_total": bulk_size},
        "events_total": int(events_per_sec * 3),
        "events_per_sec": events_per_sec,
        "warmup_events": bulk_size,
        "latency_ms": latency,
        "rate_per_second": [7, 9, 8],
        "sessions": [{"sequence_gaps": 1}, {"sequence_gaps": 2}],
        "fault_counts": {"sequence_gap": 3},
        "faults_total": 3,
        "histogram": encode_histogram(histogram),
        "client": {
            "processes": 2,
            "cpu_fraction_max": 0.9,
            "loop_lag_mean_ms": 1.5,
            "loop_lag_max_ms": 4.0,
            "saturated": True,
            "warning": "the client may have limited this run: raise client.processes",
        },
        "meta": {"host": "bench-host", "simulator_seed": 11},
    }


def _run_folder(
    path: Path, bulk_size: int = 24, events_per_sec: float = 8.0, status: str = "ok"
) -> Path:
    """A run folder as gwexp leaves it, with a literal API key typed on the CLI."""
    hydra = path / ".hydra"
    hydra.mkdir(parents=True)
    config = {**CONFIG, "bulk_size": bulk_size}
    overrides = [
        "gateway=remote",
        f"gateway.api_key={SECRET}",
        f"bulk_size={bulk_size}",
    ]
    (hydra / "config.yaml").write_text(yaml.safe_dump(config))
    (hydra / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (hydra / "hydra.yaml").write_text(
        yaml.safe_dump({"hydra": {"overrides": {"task": overrides}}})
    )
    result_status = "interrupted" if status == "interrupted" else "completed"
    result = _result(bulk_size, events_per_sec, result_status)
    (path / "result.json").write_text(json.dumps(result))
    (path / "outcome.json").write_text(json.dumps({"status": status, "error": None}))
    return path


def _flat_config(bulk_size: int = 24) -> dict[str, Any]:
    """The composed config as a run sees it: the API key resolved."""
    config = flatten({**CONFIG, "bulk_size": bulk_size})
    config["gateway.api_key"] = SECRET
    return config


def _artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= _artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return found


def test_params_are_the_flat_config_without_secrets() -> None:
    params = config_params(_flat_config())

    assert params["gateway.endpoint"] == "gw-host:5000"
    assert params["bulk_size"] == "24"
    assert params["duration_s"] == "3"
    assert params["tracking.uri"] == "null"
    assert not any("api_key" in key for key in params)
    assert SECRET not in json.dumps(params)


def test_redaction_keeps_interpolations_and_hides_literal_secrets() -> None:
    tree = {
        "gateway": {"api_key": SECRET, "endpoint": "gw:1"},
        "other": {"api_key": "${oc.env:MXGW_API_KEY,null}", "token": None},
        "task": [f"gateway.api_key={SECRET}", "+db.password=pw", "bulk_size=6"],
    }
    assert redact_tree(tree) == {
        "gateway": {"api_key": REDACTED, "endpoint": "gw:1"},
        "other": {"api_key": "${oc.env:MXGW_API_KEY,null}", "token": None},
        "task": [
            f"gateway.api_key={REDACTED}",
            f"+db.password={REDACTED}",
            "bulk_size=6",
        ],
    }


def test_only_a_bare_environment_reference_counts_as_no_secret() -> None:
    from gwexp.redact import is_interpolation

    assert is_interpolation("${oc.env:MXGW_API_KEY}")
    assert is_interpolation("${oc.env:MXGW_API_KEY,null}")
    assert not is_interpolation(f"${{oc.env:UNSET,{SECRET}}}")
    assert not is_interpolation(f"${{oc.env:MXGW_API_KEY}}{SECRET}")
    assert not is_interpolation(SECRET)
    tree = {"gateway": {"api_key": f"${{oc.env:UNSET,{SECRET}}}"}}
    assert redact_tree(tree) == {"gateway": {"api_key": REDACTED}}


def test_a_run_is_named_after_what_its_sweep_varies() -> None:
    flat = {"bulk_size": 60, "session_count": 1, "stagger_ms": 750.0}

    assert run_name(flat, [], []) == "bulk_size=60 session_count=1"
    assert (
        run_name(flat, ["stagger_ms=0", "bulk_size=60"], ["stagger_ms"])
        == "bulk_size=60 session_count=1 stagger_ms=0"
    )
    assert run_name(flat, [], ["gateway.api_key"]) == "bulk_size=60 session_count=1"


def test_a_single_run_is_named_after_its_command_line() -> None:
    overrides = [
        "gateway.profile=loopback",
        "+gateway.overrides.change_rate_hz=5",
        "tracking.uri=sqlite:///x.db",
        "hydra.run.dir=out",
    ]
    context = run_context(
        RunConfig(gateway=EmbeddedGatewayConfig()), None, overrides, {}
    )
    assert context.run_name == (
        "bulk_size=120 session_count=1 gateway.profile=loopback "
        "gateway.overrides.change_rate_hz=5"
    )


def test_the_sweep_spec_comes_from_sweep_overrides_and_sweeper_params() -> None:
    spec = sweep_spec(
        ["bulk_size=6,24,60", "duration_s=3", "stagger_ms=range(0,3)"],
        {"session_count": "1,2"},
    )
    assert spec == {
        "session_count": "1,2",
        "bulk_size": "6,24,60",
        "stagger_ms": "range(0,3)",
    }


def test_the_default_store_is_mlflow_db_at_the_project_root() -> None:
    assert tracking_uri(TrackingConfig()) == f"sqlite:///{ROOT / 'mlflow.db'}"
    assert tracking_uri(TrackingConfig(uri="http://mlflow:5000")) == (
        "http://mlflow:5000"
    )


def test_a_run_records_params_metrics_tags_and_artifacts(
    tmp_path: Path, mlflow_uri: str
) -> None:
    folder = _run_folder(tmp_path / "run")
    context = RunContext("bulk_size=24 session_count=1", rerun_of="/old/run")
    tracking = TrackingConfig(uri=mlflow_uri)

    run_id = log_run(tracking, _flat_config(), folder, context)

    assert run_id is not None
    client = MlflowClient(mlflow_uri)
    run = client.get_run(run_id)
    assert run.info.run_name == "bulk_size=24 session_count=1"
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "gwexp"
    assert run.info.artifact_uri.startswith((tmp_path / "mlruns").as_uri())
    assert run.data.params["gateway.endpoint"] == "gw-host:5000"
    assert "gateway.api_key" not in run.data.params
    metrics = run.data.metrics
    assert metrics["events_per_sec"] == 8.0
    assert metrics["events_total"] == 24.0
    assert metrics["faults_total"] == 3.0
    assert metrics["sequence_gaps"] == 3.0
    for key, value in (("p50", 17.0), ("p90", 20.0), ("p95", 34.0), ("mean", 19.25)):
        assert metrics[f"latency_{key}_ms"] == value
    for key in ("p99", "p999", "max"):
        assert metrics[f"latency_{key}_ms"] == 34.0
    assert metrics["client_cpu_fraction_max"] == 0.9
    assert metrics["client_loop_lag_mean_ms"] == 1.5
    assert metrics["client_loop_lag_max_ms"] == 4.0
    series = client.get_metric_history(run_id, "rate_eps")
    assert [(m.step, m.value) for m in series] == [(0, 7.0), (1, 9.0), (2, 8.0)]
    tags = run.data.tags
    assert tags["gwexp.gateway"] == "remote gw-host:5000"
    assert tags["gwexp.simulator_seed"] == "11"
    assert tags["gwexp.host"] == "bench-host"
    assert tags["gwexp.rerun_of"] == "/old/run"
    assert tags["gwexp.client_processes"] == "2"
    assert tags["gwexp.client_saturated"] == "true"
    assert tags["gwexp.warning"].endswith("raise client.processes")
    assert tags["gwexp.version.mlflow"]
    assert tags["gwexp.version.gwexp"] == "0.1.0"
    assert tags["gwexp.git_commit"]
    assert "mlflow.parentRunId" not in tags
    assert _artifacts(client, run_id) == {
        "hydra/config.yaml",
        "hydra/hydra.yaml",
        "hydra/overrides.yaml",
        "result.json",
        "latency_histogram.hdr",
        "plots/latency_distribution.png",
        "plots/rate_timeline.png",
    }
    local = Path(client.download_artifacts(run_id, "", str(tmp_path / "down")))
    everything = json.dumps(run.data.params) + json.dumps(tags)
    texts = [p for p in local.rglob("*") if p.is_file() and p.suffix != ".png"]
    everything += "".join(p.read_text() for p in texts)
    assert SECRET not in everything
    assert "${oc.env:MXGW_API_KEY,null}" in (local / "hydra/config.yaml").read_text()
    record = json.loads((folder / RUN_FILE).read_text())
    assert record["run_id"] == run_id


def test_an_interrupted_run_is_recorded_as_killed(
    tmp_path: Path, mlflow_uri: str
) -> None:
    folder = _run_folder(tmp_path / "run", status="interrupted")

    run_id = log_run(TrackingConfig(uri=mlflow_uri), {}, folder, RunContext("x"))

    assert run_id is not None
    run = MlflowClient(mlflow_uri).get_run(run_id)
    assert run.info.status == "KILLED"
    assert run.data.tags["gwexp.status"] == "interrupted"


def test_a_tracking_failure_keeps_the_result_and_says_how_to_upload(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _run_folder(tmp_path / "run")
    before = (folder / "result.json").read_text()
    # A file where the store's folder should be: the database cannot be made.
    (tmp_path / "blocker").write_text("")
    broken = TrackingConfig(uri=f"sqlite:///{tmp_path}/blocker/mlflow.db")

    with caplog.at_level(logging.WARNING, logger="gwexp.tracking"):
        run_id = log_run(broken, {}, folder, RunContext("x"))

    assert run_id is None
    assert (folder / "result.json").read_text() == before
    assert not (folder / RUN_FILE).exists()
    assert f"python -m gwexp.upload {folder}" in caplog.text


def test_a_tracking_server_that_does_not_answer_fails_fast(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = _run_folder(tmp_path / "run")
    server = TrackingConfig(uri=f"http://user:pw@127.0.0.1:{port}")

    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="gwexp.tracking"):
        run_id = log_run(server, {}, folder, RunContext("x"))

    assert run_id is None
    assert time.monotonic() - began < 10
    assert f"tracking server 127.0.0.1:{port} does not answer" in caplog.text
    assert "pw" not in caplog.text.replace("upload", "")
    assert (folder / "result.json").exists()


def test_tracking_off_records_nothing(tmp_path: Path, mlflow_uri: str) -> None:
    folder = _run_folder(tmp_path / "run")
    tracking = TrackingConfig(enabled=False, uri=mlflow_uri)

    assert log_run(tracking, {}, folder, RunContext("x")) is None
    assert not (tmp_path / "mlflow.db").exists()


def test_a_folder_is_uploaded_later_under_its_sweeps_parent(
    tmp_path: Path, mlflow_uri: str
) -> None:
    sweep = tmp_path / "sweep"
    parent_id = start_sweep(
        TrackingConfig(uri=mlflow_uri), {}, sweep, {"bulk_size": "6"}
    )
    folder = _run_folder(sweep / "0", bulk_size=6, events_per_sec=2.0)

    run_id = upload(folder, mlflow_uri)

    run = MlflowClient(mlflow_uri).get_run(run_id)
    assert run.data.tags["mlflow.parentRunId"] == parent_id
    assert run.info.run_name == "bulk_size=6 session_count=1"
    assert run.data.metrics["events_per_sec"] == 2.0
    assert "gateway.api_key" not in run.data.params
    with pytest.raises(ConfigError, match="already in MLflow"):
        upload(folder, mlflow_uri)
    end_open_runs("KILLED")


def test_jobs_in_other_processes_nest_under_the_parent_run(
    tmp_path: Path, mlflow_uri: str
) -> None:
    sweep = tmp_path / "sweep"
    tracking = TrackingConfig(uri=mlflow_uri)
    parent_id = start_sweep(tracking, _flat_config(), sweep, {"bulk_size": "6,24"})
    assert parent_id is not None
    _run_folder(sweep / "0", bulk_size=6, events_per_sec=2.0)

    code = (
        "import sys; from pathlib import Path; "
        "from gwexp.config import RunConfig, TrackingConfig, EmbeddedGatewayConfig; "
        "from gwexp import tracking as t; "
        f"cfg = RunConfig(gateway=EmbeddedGatewayConfig(), bulk_size=6, "
        f"tracking=TrackingConfig(uri={mlflow_uri!r})); "
        f"c = t.run_context(cfg, Path({str(sweep)!r}), ['bulk_size=6'], {{}}); "
        f"print(t.track_run(cfg, Path({str(sweep / '0')!r}), c))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr

    child = MlflowClient(mlflow_uri).get_run(done.stdout.strip().splitlines()[-1])
    assert child.data.tags["mlflow.parentRunId"] == parent_id
    assert child.info.run_name == "bulk_size=6 session_count=1"
    assert json.loads((sweep / PARENT_FILE).read_text())["run_id"] == parent_id
    end_open_runs("KILLED")


def test_a_two_point_sweep_with_a_failed_job_reports_no_fit_and_fails(
    tmp_path: Path, mlflow_uri: str
) -> None:
    sweep = tmp_path / "sweep"
    spec = {"bulk_size": "6,24,60"}
    parent_id = start_sweep(TrackingConfig(uri=mlflow_uri), _flat_config(), sweep, spec)
    assert parent_id is not None
    _run_folder(sweep / "0", bulk_size=6, events_per_sec=2.0)
    _run_folder(sweep / "1", bulk_size=24, events_per_sec=8.0)
    (sweep / "2").mkdir()
    (sweep / "2" / "outcome.json").write_text(
        json.dumps({"status": "failed", "error": "gateway unreachable"})
    )

    finish_sweep(sweep, collect_jobs(sweep), spec)

    parent = MlflowClient(mlflow_uri).get_run(parent_id)
    assert parent.info.status == "FAILED"
    assert parent.data.tags["gwexp.kind"] == "sweep"
    assert parent.data.params["sweep.bulk_size"] == "6,24,60"
    assert "bulk_size" not in parent.data.params
    assert "gateway.api_key" not in parent.data.params
    metrics = parent.data.metrics
    assert "scaling_slope" not in metrics
    assert "knee_found" not in metrics
    assert metrics["scaling_points"] == 2.0
    assert metrics["jobs_failed"] == 1.0
    assert "not possible" in parent.data.tags["gwexp.scaling_fit"]
    assert "need at least 3" in parent.data.tags["gwexp.scaling_fit"]
    analysis = json.loads((sweep / "analysis.json").read_text())
    assert analysis["fits"]["throughput"]["possible"] is False


def test_ctrl_c_ends_an_open_parent_as_killed(tmp_path: Path, mlflow_uri: str) -> None:
    parent_id = start_sweep(
        TrackingConfig(uri=mlflow_uri), {}, tmp_path / "sweep", {"bulk_size": "6,24"}
    )
    assert parent_id is not None
    assert MlflowClient(mlflow_uri).get_run(parent_id).info.status == "RUNNING"

    end_open_runs("KILLED")

    assert MlflowClient(mlflow_uri).get_run(parent_id).info.status == "KILLED"


def _sweep_runs(uri: str) -> tuple[Any, list[Any]]:
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("gwexp")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("gwexp.kind") == "sweep"]
    assert len(parents) == 1
    children = [
        r
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id
    ]
    return parents[0], children


def test_a_fast_bulk_size_sweep_gives_a_parent_with_the_scaling_fit(
    tmp_path: Path, mlflow_uri: str
) -> None:
    done = run_gwexp(
        "-m",
        *FAST,
        "duration_s=2",
        "bulk_size=6,24,60,120",
        f"tracking.uri={mlflow_uri}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert done.returncode == 0, done.stderr

    parent, children = _sweep_runs(mlflow_uri)
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == "sweep bulk_size=6,24,60,120"
    assert sorted(r.info.run_name for r in children) == sorted(
        f"bulk_size={b} session_count=1" for b in (6, 24, 60, 120)
    )
    assert all(r.info.status == "FINISHED" for r in children)
    metrics = parent.data.metrics
    # The loopback profile with 5 changes per tag per second: 5 events/s per tag.
    assert metrics["scaling_slope_ci95_low"] < 5.0 < metrics["scaling_slope_ci95_high"]
    assert metrics["scaling_r2"] > 0.98
    assert metrics["scaling_p_value"] < 0.01
    assert metrics["scaling_by_bulk_size_slope"] == metrics["scaling_slope"]
    assert metrics["knee_found"] == 0.0
    for name in ("latency_p50", "latency_p95"):
        assert f"{name}_slope" in metrics
    artifacts = _artifacts(MlflowClient(mlflow_uri), parent.info.run_id)
    assert {"analysis.json", "jobs.csv", "jobs_table.json"} <= artifacts
    assert "plots/scaling_events_per_sec.png" in artifacts
    rows = (tmp_path / "sweep" / "jobs.csv").read_text().splitlines()
    assert len(rows) == 5
    assert {r.info.run_id for r in children} == {
        line.split(",")[-2] for line in rows[1:]
    }
    child = children[0]
    assert len(child.data.params) >= 20
    assert child.data.tags["gwexp.simulator_seed"] == "0"
    assert child.data.tags["gwexp.gateway"] == "embedded loopback"
    history = MlflowClient(mlflow_uri).get_metric_history(child.info.run_id, "rate_eps")
    assert [m.step for m in history] == [0, 1]


def _acceptance_sweep(tmp_path: Path, mlflow_uri: str, profile: str) -> Any:
    done = run_gwexp(
        "-m",
        f"gateway.profile={profile}",
        # Worker starts 50x faster; the measured window stays the default 20 s.
        "+gateway.overrides.time_scale=0.02",
        "bulk_size=6,24,60,120",
        f"tracking.uri={mlflow_uri}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        timeout_s=400,
    )
    assert done.returncode == 0, done.stderr
    parent, children = _sweep_runs(mlflow_uri)
    assert len(children) == 4
    return parent


@pytest.mark.slow
def test_a_dev_galaxy_sweep_recovers_0_34_events_per_s_per_tag(
    tmp_path: Path, mlflow_uri: str
) -> None:
    parent = _acceptance_sweep(tmp_path, mlflow_uri, "dev_galaxy")

    metrics = parent.data.metrics
    assert metrics["scaling_slope_ci95_low"] < 0.34 < metrics["scaling_slope_ci95_high"]
    assert metrics["scaling_r2"] > 0.98
    assert metrics["knee_found"] == 0.0


@pytest.mark.slow
def test_a_saturating_sweep_finds_the_knee(tmp_path: Path, mlflow_uri: str) -> None:
    parent = _acceptance_sweep(tmp_path, mlflow_uri, "saturating")

    metrics = parent.data.metrics
    assert metrics["knee_found"] == 1.0
    # The 30 events/s ceiling is reached at 88 tags: between 24 and 120.
    assert 24 < metrics["knee_tags"] < 120
    assert metrics["knee_slope_after"] < 0.7 * metrics["knee_slope_before"]
    assert "knee at" in parent.data.tags["gwexp.knee"]
