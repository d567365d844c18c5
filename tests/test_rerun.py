"""Exact reruns from an output folder or an MLflow run id: same config, same seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from gwexp.errors import ConfigError, TrackingError
from gwexp.rerun import (
    SavedRun,
    from_folder,
    group_overrides,
    rerun_command,
    rerun_config,
    resolve_source,
)
from gwexp.tracking import RUN_FILE
from tests.conftest import FAST, ROOT, read_json, run_gwexp

LITERAL_KEY = "mxgw_k1_typed_on_the_cli"
CHOICES = {
    "gateway": "remote",
    "tags": "by_attribute",
    "tracking": "local",
    "experiment": "tag_scaling",
    "hydra/launcher": "basic",
    "hydra/callbacks": None,
}


def _rerun(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gwexp.rerun", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "120"},
    )


def _saved_config(path: Path) -> object:
    return yaml.safe_load((path / ".hydra" / "config.yaml").read_text())


def test_a_rerun_repeats_the_config_and_seed_of_a_folder_or_a_run_id(
    tmp_path: Path, mlflow_uri: str
) -> None:
    original = tmp_path / "original"
    done = run_gwexp(
        *FAST,
        "duration_s=1",
        "bulk_size=12",
        "gateway.seed=7",
        f"tracking.uri={mlflow_uri}",
        f"hydra.run.dir={original}",
    )
    assert done.returncode == 0, done.stderr
    original_id = read_json(original / RUN_FILE)["run_id"]

    rerun = tmp_path / "rerun"
    done = _rerun(str(original), f"hydra.run.dir={rerun}")

    assert done.returncode == 0, done.stderr
    assert _saved_config(rerun) == _saved_config(original)
    result = read_json(rerun / "result.json")
    assert result["meta"]["simulator_seed"] == 7
    assert result["load"]["bulk_size"] == 12
    client = MlflowClient(mlflow_uri)
    first = client.get_run(original_id)
    run = client.get_run(read_json(rerun / RUN_FILE)["run_id"])
    assert run.data.tags["gwexp.rerun_of"] == str(original)
    assert run.data.tags["gwexp.rerun_of_run_id"] == original_id
    assert run.data.tags["gwexp.simulator_seed"] == "7"
    assert run.data.params == first.data.params
    assert run.info.run_name == first.info.run_name
    assert first.info.run_name.startswith("bulk_size=12 session_count=1 ")
    assert first.info.run_name.count("duration_s=") == 1

    # From the run id: the same config, composed from the run's MLflow artifacts.
    saved = resolve_source(original_id, mlflow_uri, tmp_path / "scratch")
    assert saved.origin == original_id
    assert saved.run_name == first.info.run_name
    command = rerun_command(saved, tmp_path / "scratch" / "conf", ["--cfg", "job"])
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout) == _saved_config(original)


def _remote_run(folder: Path, api_key: str) -> Path:
    hydra = folder / ".hydra"
    hydra.mkdir(parents=True)
    config = {
        "gateway": {
            "kind": "remote",
            "endpoint": "gw-host:5000",
            "api_key": api_key,
            "tls": {"enabled": False, "ca_cert": None, "server_name": None},
            "connect_timeout_s": 5.0,
        },
        "bulk_size": 6,
        "duration_s": 7.0,
        "tags": {"rotation": "by_attribute"},
    }
    (hydra / "config.yaml").write_text(yaml.safe_dump(config))
    (hydra / "hydra.yaml").write_text(
        yaml.safe_dump({"hydra": {"runtime": {"choices": CHOICES}}})
    )
    return folder


@pytest.mark.parametrize("saved_key", [LITERAL_KEY, "${oc.env:MXGW_API_KEY,null}"])
def test_a_rerun_takes_the_api_key_from_the_environment_again(
    tmp_path: Path, saved_key: str
) -> None:
    saved = from_folder(_remote_run(tmp_path / "run", saved_key))
    command = rerun_command(saved, tmp_path / "conf", ["--cfg", "job", "--resolve"])

    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "MXGW_API_KEY": "mxgw_k2_from_env"},
    )

    assert done.returncode == 0, done.stderr
    composed = yaml.safe_load(done.stdout)
    assert composed["gateway"]["api_key"] == "mxgw_k2_from_env"
    assert composed["gateway"]["endpoint"] == "gw-host:5000"
    assert composed["duration_s"] == 7.0
    assert composed["tags"]["rotation"] == "by_attribute"
    assert LITERAL_KEY not in (tmp_path / "conf" / "gwexp_rerun.yaml").read_text()


def test_the_rerun_config_puts_every_saved_value_over_the_project_config() -> None:
    config = rerun_config({"bulk_size": 6, "gateway": {"api_key": LITERAL_KEY}})

    assert config == {
        "defaults": ["config", "_self_"],
        "bulk_size": 6,
        "gateway": {"api_key": "${oc.env:MXGW_API_KEY,null}"},
    }


def test_group_choices_are_repeated_but_not_hydras_own_or_experiments() -> None:
    assert group_overrides({"hydra": {"runtime": {"choices": CHOICES}}}) == [
        "gateway=remote",
        "tags=by_attribute",
        "tracking=local",
    ]


def test_a_given_override_replaces_the_saved_group_choice(tmp_path: Path) -> None:
    saved = SavedRun(_remote_run(tmp_path / "run", "x") / ".hydra", "run")

    command = rerun_command(saved, tmp_path / "conf", ["tags=by_machine"])

    assert command.count("tags=by_machine") == 1
    assert "tags=by_attribute" not in command


def test_sources_that_are_not_single_runs_are_refused(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    (sweep / "0" / ".hydra").mkdir(parents=True)
    with pytest.raises(ConfigError, match="is a sweep folder: rerun one of its jobs"):
        from_folder(sweep)
    with pytest.raises(ConfigError, match=r"has no \.hydra/config\.yaml"):
        from_folder(tmp_path)
    with pytest.raises(ConfigError, match="neither an output folder nor an MLflow"):
        resolve_source("no-such-thing", "sqlite:///unused.db", tmp_path)


def test_an_unknown_run_id_names_the_store_it_looked_in(
    tmp_path: Path, mlflow_uri: str
) -> None:
    with pytest.raises(TrackingError, match="give --tracking-uri"):
        resolve_source("0123456789abcdef0123456789abcdef", mlflow_uri, tmp_path)


def test_the_command_line_prints_one_error_line_and_exits_non_zero() -> None:
    keyed = _rerun("no-such-thing", f"gateway.api_key={LITERAL_KEY}")
    assert keyed.returncode == ConfigError.exit_status
    assert keyed.stderr.startswith("gwexp: error: gateway.api_key is given literally")
    assert LITERAL_KEY not in keyed.stdout + keyed.stderr

    done = _rerun("no-such-thing")

    assert done.returncode == ConfigError.exit_status
    assert done.stderr.startswith("gwexp: error: source='no-such-thing'")
    assert "Traceback" not in done.stderr
    assert json.dumps(done.stdout) == '""'


@pytest.mark.parametrize("tool", ["gwexp.rerun", "gwexp.upload"])
def test_a_corrupt_run_folder_is_one_error_line_naming_the_file(
    tmp_path: Path, tool: str
) -> None:
    hydra = tmp_path / "run" / ".hydra"
    hydra.mkdir(parents=True)
    (hydra / "config.yaml").write_text("{{{ cut short")
    (hydra / "hydra.yaml").write_text("hydra: {}\n")
    (tmp_path / "run" / "result.json").write_text("{}")

    done = subprocess.run(
        [sys.executable, "-m", tool, str(tmp_path / "run")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == ConfigError.exit_status
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"gwexp: error: {tmp_path / 'run'} cannot be read: ")
    assert f"{hydra / 'config.yaml'}" in line


def test_a_rerun_finds_the_config_folder_the_original_added(tmp_path: Path) -> None:
    conf = tmp_path / "conf" / "gateway"
    conf.mkdir(parents=True)
    (conf / "lab.yaml").write_text(
        "defaults:\n  - embedded\n  - _self_\nprofile: loopback\n"
    )
    done = run_gwexp(
        *("--config-dir", str(tmp_path / "conf")),
        "gateway=lab",
        *FAST,
        "duration_s=1",
        "tracking.enabled=false",
        f"hydra.run.dir={tmp_path / 'original'}",
    )
    assert done.returncode == 0, done.stderr

    again = _rerun(
        str(tmp_path / "original"),
        f"hydra.run.dir={tmp_path / 'again'}",
        "tracking.enabled=false",
    )

    assert again.returncode == 0, again.stderr
    saved = _saved_config(tmp_path / "again")
    assert isinstance(saved, dict) and saved["gateway"]["profile"] == "loopback"
    assert read_json(tmp_path / "again" / "result.json")["events_total"] > 0
