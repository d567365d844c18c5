"""The MLflow store: where it is, a client on it, batched logging, and run tags.

A sqlite store keeps its artifacts in ARTIFACTS_DIR beside the database file,
whatever the working directory, so `mlflow ui` on that file finds everything.
mlflow itself is imported on first use: it takes about 2 s to import, which a
run with tracking off and `--help` should not pay.
"""

from __future__ import annotations

import importlib.metadata
import platform
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gwexp.config import TrackingConfig
from gwexp.errors import TrackingError

DB_FILE = "mlflow.db"
ARTIFACTS_DIR = "mlruns"
VERSIONED_PACKAGES = (
    "gwexp",
    "mlflow",
    "grpcio",
    "protobuf",
    "hydra-core",
    "omegaconf",
    "numpy",
    "scipy",
    "hdrhistogram",
)
# MLflow's limits: 100 params or tags and 1000 metrics per batch.
BATCH_PARAMS_TAGS = 100
BATCH_METRICS = 1000
GIT_TIMEOUT_S = 5.0
# Seconds a tracking server gets to accept a connection before the run gives up on it.
SERVER_PROBE_S = 3.0


def project_root() -> Path:
    """The folder holding conf/ and pyproject.toml; the working directory if absent."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "conf").is_dir() else Path.cwd()


def tracking_uri(tracking: TrackingConfig) -> str:
    """The configured URI, or the sqlite store mlflow.db at the project root."""
    if tracking.uri:
        return tracking.uri
    return f"sqlite:///{project_root() / DB_FILE}"


def _probe_server(uri: str) -> None:
    """Fail at once when a tracking server's port does not answer.

    MLflow's own client retries for minutes before giving up. The message names
    host and port only: the URI itself may carry credentials.
    """
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), SERVER_PROBE_S).close()
    except OSError as error:
        raise TrackingError(
            f"tracking server {parts.hostname}:{port} does not answer ({error}): "
            "start it, or set tracking.uri to a reachable store"
        ) from None


def connect(tracking: TrackingConfig) -> tuple[Any, str]:
    """An MlflowClient on the store and the id of the experiment, created if new."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    uri = tracking_uri(tracking)
    _probe_server(uri)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(tracking.experiment)
    if experiment is None:
        try:
            return client, str(
                client.create_experiment(
                    tracking.experiment, artifact_location=_artifact_location(uri)
                )
            )
        except MlflowException:
            # Another job process created it first.
            experiment = client.get_experiment_by_name(tracking.experiment)
            if experiment is None:
                raise
    if experiment.lifecycle_stage != "active":
        raise TrackingError(
            f"tracking.experiment={tracking.experiment!r} is deleted in {uri}: "
            "restore it in the MLflow UI or choose another experiment name"
        )
    return client, str(experiment.experiment_id)


def _artifact_location(uri: str) -> str | None:
    if not uri.startswith("sqlite:///"):
        return None
    db_path = Path(uri.removeprefix("sqlite:///")).resolve()
    return (db_path.parent / ARTIFACTS_DIR).as_uri()


def environment_tags() -> dict[str, str]:
    """Git commit, package versions, Python and host of this process."""
    tags = {"gwexp.python": platform.python_version(), "gwexp.host": platform.node()}
    for package in VERSIONED_PACKAGES:
        try:
            tags[f"gwexp.version.{package}"] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            tags[f"gwexp.version.{package}"] = "not installed"
    commit = _git("rev-parse", "HEAD")
    tags["gwexp.git_commit"] = commit or "unknown"
    if commit:
        tags["mlflow.source.git.commit"] = commit
        changed = _git("--no-optional-locks", "status", "--porcelain", "-uno")
        tags["gwexp.git_dirty"] = "true" if changed else "false"
    return tags


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(project_root()), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def log_batch(
    client: Any,
    run_id: str,
    params: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    series: Mapping[str, Sequence[float]] | None = None,
) -> None:
    """Params, metrics, tags and stepped series in as few calls as MLflow allows."""
    from mlflow.entities import Metric, Param, RunTag

    now_ms = int(time.time() * 1000)
    entries = [Param(k, v) for k, v in (params or {}).items()]
    for chunk in _chunks(entries, BATCH_PARAMS_TAGS):
        client.log_batch(run_id, params=chunk)
    tag_entries = [RunTag(k, v) for k, v in (tags or {}).items()]
    for chunk in _chunks(tag_entries, BATCH_PARAMS_TAGS):
        client.log_batch(run_id, tags=chunk)
    metric_entries = [Metric(k, v, now_ms, 0) for k, v in (metrics or {}).items()]
    for key, values in (series or {}).items():
        metric_entries.extend(
            Metric(key, value, now_ms, step) for step, value in enumerate(values)
        )
    for chunk in _chunks(metric_entries, BATCH_METRICS):
        client.log_batch(run_id, metrics=chunk)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
