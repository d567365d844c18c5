"""The sweep's parent MLflow run: opened as the sweep starts, analysed as it ends.

The parent's id is written to PARENT_FILE in the sweep folder, so jobs started
in other processes (a joblib launcher, say) nest under it too. At the end the
scaling analysis is written into the sweep folder first, then to the parent.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from gwexp.analysis import JobPoint, SweepAnalysis, analyze_sweep, metric_key
from gwexp.config import TrackingConfig
from gwexp.mlflow_store import connect, environment_tags, log_batch, tracking_uri
from gwexp.redact import flatten, without_secrets
from gwexp.sweep import FAILED_STATUSES, collect_jobs, sweep_spec
from gwexp.tracking import (
    PARENT_FILE,
    RUN_FILE,
    config_params,
    forget_open,
    read_parent,
    remember_open,
)

log = logging.getLogger(__name__)

ANALYSIS_FILE = "analysis.json"
JOBS_FILE = "jobs.csv"
PLOTS_DIR = "plots"
# Jobs whose measurement enters the fits; interrupted and failed ones do not.
FIT_STATUSES = ("ok", "faulted")
JOB_COLUMNS = (
    "job",
    "overrides",
    "status",
    "tags_subscribed_total",
    "events_per_sec",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "faults_total",
    "run_id",
    "error",
)


def start_sweep(
    tracking: TrackingConfig,
    flat_config: Mapping[str, Any],
    sweep_dir: Path,
    spec: Mapping[str, str],
) -> str | None:
    """Open the parent run and record its id in the sweep folder; None on failure."""
    # A sweep folder used again must not nest its jobs under an older parent.
    (sweep_dir / PARENT_FILE).unlink(missing_ok=True)
    if not tracking.enabled:
        return None
    name = " ".join(["sweep", *(f"{k}={v}" for k, v in spec.items())])
    try:
        client, experiment_id = connect(tracking)
        tags = {
            **environment_tags(),
            **_gateway_tags(flat_config),
            "gwexp.kind": "sweep",
            "gwexp.sweep_dir": str(sweep_dir.resolve()),
        }
        run = client.create_run(experiment_id, run_name=name, tags=tags)
        run_id = str(run.info.run_id)
        remember_open(run_id, tracking_uri(tracking))
        params = {k: v for k, v in config_params(flat_config).items() if k not in spec}
        params.update({f"sweep.{k}": v for k, v in spec.items()})
        log_batch(client, run_id, params=params)
    except Exception as error:
        log.warning(
            "MLflow parent run for sweep %s not created (%s: %s); its jobs are "
            "logged without a parent",
            sweep_dir,
            type(error).__name__,
            error,
        )
        return None

    sweep_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "run_id": run_id,
        "run_name": name,
        "tracking_uri": tracking_uri(tracking),
        "experiment_id": experiment_id,
        "varying": list(spec),
    }
    (sweep_dir / PARENT_FILE).write_text(json.dumps(record, indent=2) + "\n")
    log.info("MLflow parent run %s (%s)", run_id, name)
    return run_id


def _gateway_tags(flat_config: Mapping[str, Any]) -> dict[str, str]:
    kind = flat_config.get("gateway.kind")
    if kind == "embedded":
        return {
            "gwexp.gateway": f"embedded {flat_config.get('gateway.profile')}",
            "gwexp.simulator_seed": str(flat_config.get("gateway.seed")),
        }
    return {
        "gwexp.gateway": f"remote {flat_config.get('gateway.endpoint')}",
        "gwexp.simulator_seed": "none",
    }


def job_points(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> list[JobPoint]:
    """The measured jobs of a sweep as points, with their numeric varied values."""
    points = []
    for row in rows:
        result = row.get("result")
        if result is None or row["status"] not in FIT_STATUSES:
            continue
        points.append(
            JobPoint(
                job=int(row["job"]),
                tags_subscribed=float(result["load"]["tags_subscribed_total"]),
                events_per_sec=float(result["events_per_sec"]),
                latency_p50_ms=result["latency_ms"]["p50"],
                latency_p95_ms=result["latency_ms"]["p95"],
                params=_numeric_values(Path(row["dir"]), keys),
                window_s=result.get("window_s"),
            )
        )
    return points


def _numeric_values(job_dir: Path, keys: Sequence[str]) -> dict[str, float]:
    path = job_dir / ".hydra" / "config.yaml"
    if not path.exists():
        return {}
    config = OmegaConf.load(path)
    values = {}
    for key in keys:
        try:
            value = OmegaConf.select(config, key)
        except Exception:
            # An interpolation that cannot resolve here (an unset env var).
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[key] = float(value)
    return values


def finish_sweep(
    sweep_dir: Path, rows: Sequence[Mapping[str, Any]], spec: Mapping[str, str]
) -> SweepAnalysis:
    """Analyse the sweep into its folder, then onto the parent run, and end it.

    A sweep stopped by Ctrl-C never gets here: its parent ends KILLED without
    the analysis, and nothing recomputes it later (gwexp.upload uploads runs).
    """
    points = job_points(rows, list(spec))
    numeric = [k for k in spec if any(k in p.params for p in points)]
    analysis = analyze_sweep(points, numeric)
    table = [_job_row(row) for row in rows]
    _write_local(sweep_dir, analysis, table)
    log.info("sweep analysis: %s", analysis.throughput.describe())
    log.info("sweep knee: %s", analysis.knee.reason)

    parent = read_parent(sweep_dir)
    if parent is None:
        return analysis
    failed = sum(1 for row in rows if row["status"] in FAILED_STATUSES)
    _log_parent(parent, sweep_dir, analysis, table, failed)
    return analysis


def _job_row(row: Mapping[str, Any]) -> dict[str, Any]:
    result = row.get("result") or {}
    latency = result.get("latency_ms", {})
    run_file = Path(row["dir"]) / RUN_FILE
    run_id = json.loads(run_file.read_text())["run_id"] if run_file.exists() else ""
    return {
        "job": row["job"],
        "overrides": row["overrides"],
        "status": row["status"],
        "tags_subscribed_total": result.get("load", {}).get("tags_subscribed_total"),
        "events_per_sec": result.get("events_per_sec"),
        "latency_p50_ms": latency.get("p50"),
        "latency_p95_ms": latency.get("p95"),
        "latency_p99_ms": latency.get("p99"),
        "faults_total": result.get("faults_total"),
        "run_id": run_id,
        "error": row.get("error") or "",
    }


def _write_local(
    sweep_dir: Path, analysis: SweepAnalysis, table: Sequence[Mapping[str, Any]]
) -> None:
    # Imported here: matplotlib costs ~1 s, paid only at the end of a sweep.
    from gwexp.plots import plot_fit

    sweep_dir.mkdir(parents=True, exist_ok=True)
    summary = analysis.summary()
    (sweep_dir / ANALYSIS_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    with (sweep_dir / JOBS_FILE).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=JOB_COLUMNS)
        writer.writeheader()
        writer.writerows(table)

    plots = sweep_dir / PLOTS_DIR
    plot_fit(
        analysis.throughput,
        plots / "scaling_events_per_sec.png",
        "events/s against subscribed tags",
        analysis.knee,
    )
    for name, fit in analysis.latency.items():
        plot_fit(
            fit, plots / f"scaling_latency_{name}.png", f"latency {name} against load"
        )
    for key, fit in analysis.by_param.items():
        plot_fit(fit, plots / f"scaling_by_{metric_key(key)}.png", f"events/s by {key}")


def _log_parent(
    parent: Mapping[str, Any],
    sweep_dir: Path,
    analysis: SweepAnalysis,
    table: Sequence[Mapping[str, Any]],
    failed: int,
) -> None:
    from mlflow.tracking import MlflowClient

    run_id = str(parent["run_id"])
    client = MlflowClient(tracking_uri=parent["tracking_uri"])
    metrics = analysis.metrics()
    metrics.update({"jobs_total": float(len(table)), "jobs_failed": float(failed)})
    tags = {
        "gwexp.scaling_fit": analysis.throughput.describe(),
        "gwexp.knee": analysis.knee.reason,
    }
    for name, fit in [*analysis.latency.items(), *analysis.by_param.items()]:
        if not fit.possible:
            tags[f"gwexp.fit.{metric_key(name)}"] = fit.describe()
    status = "FAILED" if failed else "FINISHED"
    try:
        log_batch(client, run_id, metrics=metrics, tags=tags)
        client.log_artifact(run_id, str(sweep_dir / ANALYSIS_FILE))
        client.log_artifact(run_id, str(sweep_dir / JOBS_FILE))
        client.log_artifacts(run_id, str(sweep_dir / PLOTS_DIR), PLOTS_DIR)
        _log_table(client, run_id, table)
        client.set_terminated(run_id, status)
        forget_open(run_id)
    except Exception as error:
        log.warning(
            "MLflow parent run %s not updated (%s: %s); the analysis is kept in %s",
            run_id,
            type(error).__name__,
            error,
            sweep_dir,
        )
        return
    log.info("MLflow parent run %s ended %s", run_id, status)


def _log_table(client: Any, run_id: str, table: Sequence[Mapping[str, Any]]) -> None:
    import warnings

    columns = {name: [row[name] for row in table] for name in JOB_COLUMNS}
    with warnings.catch_warnings():
        # MLflow's log_table calls select_dtypes(include=["object"]), which
        # pandas 3 flags as deprecated; the table it writes is unaffected.
        warnings.filterwarnings(
            "ignore", message="For backward compatibility, 'str' dtypes"
        )
        client.log_table(run_id, columns, "jobs_table.json")


class SweepTracking(Callback):
    """Opens the sweep's parent MLflow run and, at the end, logs its analysis."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Open the parent run before any job starts."""
        tracking = OmegaConf.to_object(config.tracking)
        assert isinstance(tracking, TrackingConfig)
        start_sweep(
            tracking,
            without_secrets(flatten(_task_config(config))),
            Path(config.hydra.sweep.dir),
            _spec(config),
        )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Fit the finished jobs, log the analysis and end the parent run."""
        sweep_dir = Path(config.hydra.sweep.dir)
        finish_sweep(sweep_dir, collect_jobs(sweep_dir), _spec(config))


def _spec(config: DictConfig) -> dict[str, str]:
    params = OmegaConf.select(config, "hydra.sweeper.params", default=None)
    container = OmegaConf.to_container(params) if params is not None else None
    sweeper_params = (
        {str(k): v for k, v in container.items()}
        if isinstance(container, dict)
        else None
    )
    return sweep_spec(list(config.hydra.overrides.task), sweeper_params)


def _task_config(config: DictConfig) -> dict[str, Any]:
    task = OmegaConf.masked_copy(config, [str(k) for k in config if k != "hydra"])
    try:
        data = OmegaConf.to_container(task, resolve=True)
    except Exception:
        data = OmegaConf.to_container(task, resolve=False)
    assert isinstance(data, dict)
    return {str(k): v for k, v in data.items()}
