"""``python -m gwexp.rerun SOURCE [OVERRIDE ...]``: repeat one run exactly.

SOURCE is a run's output folder (a sweep job's folder too) or the MLflow run
id of such a run. The new run is composed from the project's config with the
same group choices, and the saved ``.hydra/config.yaml`` merged over it, so
every value and the simulator seed are those of the original even if conf/
has changed since. Secrets are not repeated: the API key comes from the
environment again through the ``${oc.env:MXGW_API_KEY,null}`` interpolation
that Hydra saved unresolved. The new run is tagged ``gwexp.rerun_of=SOURCE``.
Any OVERRIDE (``hydra.run.dir=...``, ``tracking.uri=...``) is applied last.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gwexp.config import TrackingConfig
from gwexp.errors import ConfigError, GwexpError, TrackingError, unreadable_folder
from gwexp.mlflow_store import project_root, tracking_uri
from gwexp.redact import (
    is_interpolation,
    is_secret_key,
    override_key,
    refuse_literal_secrets,
)
from gwexp.tracking import PARENT_FILE, RERUN_OF_ENV, RUN_FILE, RUN_NAME_ENV

log = logging.getLogger("gwexp.rerun")

RERUN_CONFIG_NAME = "gwexp_rerun"
RUN_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
# Where each secret-named key takes its value from when a rerun repeats it.
SECRET_SOURCES = {"api_key": "${oc.env:MXGW_API_KEY,null}"}
# Group choices not repeated: Hydra's own, and experiments, whose sweeps and
# values the saved config already holds as plain values.
SKIPPED_GROUPS = ("hydra/", "experiment")
HYDRA_FILES = ("config.yaml", "hydra.yaml", "overrides.yaml")
# Hydra's names for config folders a run added: --config-dir, hydra.searchpath.
ADDED_CONFIG_PROVIDERS = ("command-line", "hydra.searchpath")


@dataclass(frozen=True)
class SavedRun:
    """The saved Hydra files of the run to repeat, and where they came from."""

    # Holds config.yaml and hydra.yaml as Hydra wrote them (overrides.yaml too).
    hydra_dir: Path
    # The output folder (absolute) or MLflow run id given on the command line.
    origin: str
    # The original MLflow run's name, when known.
    run_name: str | None = None


def from_folder(folder: Path) -> SavedRun:
    """The saved run in an output folder; ConfigError when it is not one."""
    folder = folder.resolve()
    if (folder / PARENT_FILE).exists() or (folder / "0" / ".hydra").is_dir():
        raise ConfigError(
            f"source={folder} is a sweep folder: rerun one of its jobs, "
            f"e.g. {folder / '0'}"
        )
    hydra_dir = folder / ".hydra"
    for name in ("config.yaml", "hydra.yaml"):
        if not (hydra_dir / name).exists():
            raise ConfigError(
                f"source={folder} has no .hydra/{name}: give a run's output folder "
                "(outputs/runs/<date>/<time>) or a sweep job's "
                "(outputs/sweeps/<date>/<time>/<job>), or an MLflow run id"
            )
    run_name = None
    if (folder / RUN_FILE).exists():
        run_name = json.loads((folder / RUN_FILE).read_text()).get("run_name")
    return SavedRun(hydra_dir, str(folder), run_name)


def from_mlflow(run_id: str, uri: str, into: Path) -> SavedRun:
    """The saved Hydra files of an MLflow run, downloaded into a folder."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        raise TrackingError(
            f"source={run_id} is not a run in {uri} ({error.error_code}): "
            "give --tracking-uri of the store that holds it"
        ) from None
    if run.data.tags.get("gwexp.kind") == "sweep":
        raise ConfigError(
            f"source={run_id} is a sweep's parent run: rerun one of its nested runs"
        )
    into.mkdir(parents=True, exist_ok=True)
    try:
        local = Path(client.download_artifacts(run_id, "hydra", str(into)))
    except (MlflowException, OSError) as error:
        raise TrackingError(
            f"source={run_id}: its hydra/ artifacts could not be read from {uri} "
            f"({error}); rerun from its output folder instead"
        ) from None
    return SavedRun(local, run_id, run.info.run_name)


def rerun_config(saved_config: Mapping[str, Any]) -> dict[str, Any]:
    """The primary config of the rerun: the project's, then every saved value."""
    values = _without_literal_secrets(saved_config, "")
    return {"defaults": ["config", "_self_"], **values}


def _without_literal_secrets(node: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            cleaned[key] = _without_literal_secrets(value, f"{dotted}.")
        elif is_secret_key(str(key)) and value is not None:
            if not is_interpolation(value):
                source = SECRET_SOURCES.get(str(key).lower())
                log.warning(
                    "%s was saved as a literal value and is not repeated; "
                    "the rerun takes it from %s",
                    dotted,
                    source or "null",
                )
                value = source
            cleaned[key] = value
        else:
            cleaned[key] = value
    return cleaned


def group_overrides(hydra_yaml: Mapping[str, Any]) -> list[str]:
    """`gateway=embedded`, ...: the config group choices the original run made."""
    choices = hydra_yaml.get("hydra", {}).get("runtime", {}).get("choices", {})
    return [
        f"{group}={choice}"
        for group, choice in choices.items()
        if choice is not None and not str(group).startswith(SKIPPED_GROUPS)
    ]


def added_config_dirs(hydra_yaml: Mapping[str, Any]) -> list[str]:
    """The config folders the original run added with --config-dir or searchpath."""
    runtime = hydra_yaml.get("hydra", {}).get("runtime", {})
    return [
        f"file://{source['path']}"
        for source in runtime.get("config_sources", [])
        if source.get("schema") == "file"
        and source.get("provider") in ADDED_CONFIG_PROVIDERS
    ]


def rerun_command(saved: SavedRun, config_dir: Path, extra: Sequence[str]) -> list[str]:
    """Write the rerun's primary config into config_dir; the command that runs it."""
    # Read from open files, so that a parse error names the file.
    with (saved.hydra_dir / "config.yaml").open() as config_file:
        saved_config = yaml.safe_load(config_file)
    with (saved.hydra_dir / "hydra.yaml").open() as hydra_file:
        hydra_yaml = yaml.safe_load(hydra_file)
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / f"{RERUN_CONFIG_NAME}.yaml").write_text(
        f"# Rerun of {saved.origin}\n"
        + yaml.safe_dump(rerun_config(saved_config), sort_keys=False)
    )
    given = {override_key(o) for o in extra}
    groups = [o for o in group_overrides(hydra_yaml) if override_key(o) not in given]
    # The original's own config folders, where its group choices may live.
    added = added_config_dirs(hydra_yaml)
    if added and "hydra.searchpath" not in given:
        groups.append(f"hydra.searchpath=[{','.join(repr(p) for p in added)}]")
    return [
        sys.executable,
        "-m",
        "gwexp",
        "--config-dir",
        str(config_dir),
        "--config-name",
        RERUN_CONFIG_NAME,
        *groups,
        *extra,
    ]


def resolve_source(source: str, uri: str, scratch: Path) -> SavedRun:
    """A folder if one exists at SOURCE, else an MLflow run id."""
    if Path(source).is_dir():
        return from_folder(Path(source))
    if RUN_ID_PATTERN.fullmatch(source):
        return from_mlflow(source, uri, scratch / "hydra")
    raise ConfigError(
        f"source={source!r} is neither an output folder nor an MLflow run id "
        "(32 hex digits)"
    )


def rerun(source: str, extra: Sequence[str], uri: str | None = None) -> int:
    """Repeat the run and return the exit status of `python -m gwexp`."""
    lookup_uri = uri or tracking_uri(TrackingConfig())
    with tempfile.TemporaryDirectory(prefix="gwexp-rerun-") as scratch_name:
        scratch = Path(scratch_name)
        saved = resolve_source(source, lookup_uri, scratch)
        command = rerun_command(saved, scratch / "conf", extra)
        env = {**os.environ, RERUN_OF_ENV: saved.origin}
        if saved.run_name:
            env[RUN_NAME_ENV] = saved.run_name
        log.info("rerun of %s: %s", saved.origin, " ".join(command[2:]))
        process = subprocess.Popen(command, cwd=project_root(), env=env)
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:
                # The run got Ctrl-C too; wait while it cleans up and records.
                continue


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: `python -m gwexp.rerun SOURCE [OVERRIDE ...]`."""
    parser = argparse.ArgumentParser(
        prog="python -m gwexp.rerun",
        description="Repeat a gwexp run with the same config and simulator seed.",
    )
    parser.add_argument("source", help="a run's output folder or its MLflow run id")
    parser.add_argument(
        "overrides",
        nargs="*",
        help="Hydra overrides applied last, e.g. hydra.run.dir=X",
    )
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow store holding SOURCE when it is a run id (default: mlflow.db)",
    )
    args = parser.parse_intermixed_args(argv)
    logging.basicConfig(level=logging.INFO, format="gwexp: %(message)s")
    try:
        refuse_literal_secrets(args.overrides, "on the command line")
        try:
            status = rerun(args.source, args.overrides, args.tracking_uri)
        except (yaml.YAMLError, ValueError) as error:
            raise unreadable_folder(args.source, error) from None
    except GwexpError as error:
        print(f"gwexp: error: {error}", file=sys.stderr)
        sys.exit(error.exit_status)
    sys.exit(status)


if __name__ == "__main__":
    main()
