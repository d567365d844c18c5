"""MLflow runs: one per result folder, and the runs left open on Ctrl-C.

A run is logged from what its folder already holds (result.json and the saved
Hydra files), after result.json is on disk; when MLflow fails the result stays
and a WARNING gives the command that uploads it later. Runs this process has
opened and not yet ended are remembered, so that the entry point can end them
as KILLED when the user presses Ctrl-C.

A run that fails before it has a result (a bad config value, an unreachable
gateway) gets no MLflow run of its own: in a sweep the parent lists it in its
jobs table and ends FAILED; a single run's error is only on the console and
in outcome.json.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gwexp.config import RunConfig, TrackingConfig
from gwexp.mlflow_store import connect, environment_tags, log_batch, tracking_uri
from gwexp.redact import (
    flatten,
    is_secret_key,
    override_key,
    redact_yaml_file,
    without_secrets,
)
from gwexp.results import RESULT_FILE, read_result

log = logging.getLogger(__name__)

# Written into a sweep folder by the parent run, read by its jobs in any process.
PARENT_FILE = "mlflow_parent.json"
# Written into a run folder once its MLflow run is logged.
RUN_FILE = "mlflow_run.json"
# Set by `python -m gwexp.rerun` for the run it starts.
RERUN_OF_ENV = "GWEXP_RERUN_OF"
RUN_NAME_ENV = "GWEXP_RUN_NAME"
PARENT_RUN_ID_TAG = "mlflow.parentRunId"
# Always in a run's name, with any other key its sweep varies.
NAME_KEYS = ("bulk_size", "session_count")
LATENCY_KEYS = ("p50", "p90", "p95", "p99", "p999", "max", "mean")
# MLflow run status by result status; completed and faulted runs are FINISHED.
RUN_STATUS = {"interrupted": "KILLED", "stopped": "FAILED"}
# MLflow's limit on a param value, in characters.
MAX_PARAM_CHARS = 6000

_open_runs: dict[str, str] = {}


@dataclass(frozen=True)
class RunContext:
    """Where a run sits: its name, its sweep's parent run and the run it repeats."""

    run_name: str
    parent_run_id: str | None = None
    # The output folder or MLflow run id this run repeats, when it is a rerun.
    rerun_of: str | None = None


def run_context(
    cfg: RunConfig,
    sweep_dir: Path | None,
    task_overrides: Sequence[str],
    environ: Mapping[str, str],
) -> RunContext:
    """Name, parent and rerun origin of the run the entry point is about to start."""
    parent = read_parent(sweep_dir) if sweep_dir is not None else None
    varying = list(parent.get("varying", [])) if parent else []
    if sweep_dir is None:
        # A single run is named after what its command line changed.
        keys = (override_key(o) for o in task_overrides if "=" in o)
        chosen = [k for k in keys if not k.startswith(("hydra.", "tracking."))]
        varying = list(dict.fromkeys(chosen))
    name = environ.get(RUN_NAME_ENV) or run_name(
        flatten(dataclasses.asdict(cfg)), task_overrides, varying
    )
    return RunContext(
        run_name=name,
        parent_run_id=parent.get("run_id") if parent else None,
        rerun_of=environ.get(RERUN_OF_ENV) or None,
    )


def run_name(
    flat_config: Mapping[str, Any],
    task_overrides: Sequence[str],
    varying: Sequence[str],
) -> str:
    """`bulk_size=60 session_count=1`, plus every other key the sweep varies."""
    given = {override_key(o): o.split("=", 1)[1] for o in task_overrides if "=" in o}
    parts = []
    for key in [*NAME_KEYS, *(k for k in varying if k not in NAME_KEYS)]:
        if is_secret_key(key):
            continue
        if key in given:
            parts.append(f"{key}={given[key]}")
        elif key in flat_config:
            parts.append(f"{key}={_format(flat_config[key])}")
    return " ".join(parts)


def read_parent(sweep_dir: Path) -> dict[str, Any] | None:
    """The sweep's parent-run record, or None when the sweep has none."""
    path = sweep_dir / PARENT_FILE
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def config_params(flat_config: Mapping[str, Any]) -> dict[str, str]:
    """MLflow params from a flat config: secrets dropped, values as text."""
    params = {}
    for key, value in without_secrets(flat_config).items():
        text = _format(value)
        if len(text) > MAX_PARAM_CHARS:
            # The full value is in the uploaded hydra/config.yaml.
            text = text[: MAX_PARAM_CHARS - 3] + "..."
        params[key] = text
    return params


def track_run(cfg: RunConfig, output_dir: Path, context: RunContext) -> str | None:
    """Log the run in output_dir to MLflow; None when tracking is off or failed."""
    return log_run(cfg.tracking, flatten(dataclasses.asdict(cfg)), output_dir, context)


def log_run(
    tracking: TrackingConfig,
    flat_config: Mapping[str, Any],
    output_dir: Path,
    context: RunContext,
) -> str | None:
    """One MLflow run from a run folder: params, metrics, tags and artifacts."""
    if not tracking.enabled:
        return None
    uri = tracking_uri(tracking)
    client: Any = None
    run_id: str | None = None
    try:
        result = read_result(output_dir / RESULT_FILE)
        client, experiment_id = connect(tracking)
        tags = {**environment_tags(), **_result_tags(result, output_dir, context)}
        if context.parent_run_id:
            tags[PARENT_RUN_ID_TAG] = context.parent_run_id
        run = client.create_run(experiment_id, run_name=context.run_name, tags=tags)
        run_id = str(run.info.run_id)
        remember_open(run_id, uri)
        log_batch(
            client,
            run_id,
            params=config_params(flat_config),
            metrics=run_metrics(result),
            series={"rate_eps": [float(c) for c in result["rate_per_second"]]},
        )
        _log_run_artifacts(client, run_id, result, output_dir, context.run_name)
        client.set_terminated(run_id, RUN_STATUS.get(result["status"], "FINISHED"))
        forget_open(run_id)
    except Exception as error:
        # Any failure of the store (locked, unreachable, full disk) must leave
        # the run's result and exit status as they are.
        if client is not None and run_id is not None:
            _terminate_quietly(client, run_id, "FAILED")
        warn_upload_later(output_dir, error)
        return None

    record = {"run_id": run_id, "run_name": context.run_name, "tracking_uri": uri}
    (output_dir / RUN_FILE).write_text(json.dumps(record, indent=2) + "\n")
    log.info("MLflow run %s (%s) in %s", run_id, context.run_name, uri)
    return run_id


def warn_upload_later(output_dir: Path, error: BaseException) -> None:
    """The WARNING for a run whose result is safe on disk but not in MLflow."""
    log.warning(
        "MLflow tracking failed for %s (%s: %s); result.json is kept there: "
        "upload it later with `python -m gwexp.upload %s` (add --tracking-uri URI "
        "for another store)",
        output_dir,
        type(error).__name__,
        error,
        output_dir,
    )


def run_metrics(result: Mapping[str, Any]) -> dict[str, float]:
    """The run's summary metrics; latency keys are left out when there were none."""
    metrics = {
        "events_per_sec": float(result["events_per_sec"]),
        "events_total": float(result["events_total"]),
        "warmup_events": float(result["warmup_events"]),
        "faults_total": float(result["faults_total"]),
        "sequence_gaps": float(sum(s["sequence_gaps"] for s in result["sessions"])),
        "tags_subscribed_total": float(result["load"]["tags_subscribed_total"]),
    }
    for key in LATENCY_KEYS:
        value = result["latency_ms"].get(key)
        if value is not None:
            metrics[f"latency_{key}_ms"] = float(value)
    client = result["client"]
    metrics["client_cpu_fraction_max"] = float(client["cpu_fraction_max"])
    metrics["client_loop_lag_mean_ms"] = float(client["loop_lag_mean_ms"])
    metrics["client_loop_lag_max_ms"] = float(client["loop_lag_max_ms"])
    return metrics


def _result_tags(
    result: Mapping[str, Any], output_dir: Path, context: RunContext
) -> dict[str, str]:
    meta = result.get("meta", {})
    seed = meta.get("simulator_seed")
    tags = {
        "gwexp.kind": "run",
        "gwexp.status": str(result["status"]),
        "gwexp.gateway": str(result["gateway"]),
        "gwexp.simulator_seed": "none" if seed is None else str(seed),
        "gwexp.output_dir": str(output_dir.resolve()),
        "gwexp.schema_version": str(result["schema_version"]),
    }
    if meta.get("host"):
        tags["gwexp.host"] = str(meta["host"])
    client = result["client"]
    tags["gwexp.client_processes"] = str(client["processes"])
    tags["gwexp.client_saturated"] = str(client["saturated"]).lower()
    if client["warning"]:
        tags["gwexp.warning"] = str(client["warning"])
    if result.get("stopped_reason"):
        tags["gwexp.stopped_reason"] = str(result["stopped_reason"])
    if context.rerun_of:
        tags["gwexp.rerun_of"] = context.rerun_of
        origin = Path(context.rerun_of) / RUN_FILE
        if origin.exists():
            tags["gwexp.rerun_of_run_id"] = json.loads(origin.read_text())["run_id"]
    return tags


def _log_run_artifacts(
    client: Any, run_id: str, result: Mapping[str, Any], output_dir: Path, title: str
) -> None:
    # Imported here: matplotlib and scipy cost ~2 s, only paid when tracking.
    from gwexp.plots import plot_latency_distribution, plot_rate_timeline

    with tempfile.TemporaryDirectory(prefix="gwexp-artifacts-") as staging:
        stage = Path(staging)
        hydra_dir = output_dir / ".hydra"
        if hydra_dir.is_dir():
            for path in sorted(hydra_dir.glob("*.yaml")):
                redact_yaml_file(path, stage / "hydra" / path.name)
            client.log_artifacts(run_id, str(stage / "hydra"), "hydra")
        client.log_artifact(run_id, str(output_dir / RESULT_FILE))
        histogram = stage / "latency_histogram.hdr"
        histogram.write_text(result["histogram"] + "\n")
        client.log_artifact(run_id, str(histogram))

    plots = output_dir / "plots"
    plot_latency_distribution(
        result["histogram"], plots / "latency_distribution.png", f"latency, {title}"
    )
    plot_rate_timeline(
        result["rate_per_second"], plots / "rate_timeline.png", f"events/s, {title}"
    )
    client.log_artifacts(run_id, str(plots), "plots")
    for path in sorted(output_dir.glob("*.log")):
        client.log_artifact(run_id, str(path), "logs")


def remember_open(run_id: str, uri: str) -> None:
    """Note a run this process opened, so Ctrl-C can end it."""
    _open_runs[run_id] = uri


def forget_open(run_id: str) -> None:
    """The run has ended; nothing to do for it on Ctrl-C."""
    _open_runs.pop(run_id, None)


def end_open_runs(status: str) -> None:
    """End every run this process opened and left open (KILLED on Ctrl-C)."""
    if not _open_runs:
        return
    from mlflow.tracking import MlflowClient

    for run_id, uri in list(_open_runs.items()):
        _terminate_quietly(MlflowClient(tracking_uri=uri), run_id, status)
        forget_open(run_id)
        log.info("MLflow run %s ended as %s", run_id, status)


def _terminate_quietly(client: Any, run_id: str, status: str) -> None:
    try:
        client.set_terminated(run_id, status)
    except Exception as error:
        log.warning(
            "could not end MLflow run %s as %s (%s); end it in the MLflow UI",
            run_id,
            status,
            error,
        )


def _format(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return json.dumps(value, default=str)
