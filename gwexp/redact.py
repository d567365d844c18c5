"""Which config keys hold secrets, and how to keep their values out of every record.

A secret given the intended way is an interpolation such as
``${oc.env:MXGW_API_KEY,null}``: Hydra saves it unresolved, so it names where
the value comes from without holding it, and is kept. A literal secret typed
on the command line is refused before Hydra saves anything (Hydra would write
it into .hydra/ and log it with each sweep job). A literal secret in a config
file is replaced by REDACTED in the run's saved config.yaml and wherever gwexp
records the config: MLflow params, tags, uploaded Hydra files and reruns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from gwexp.errors import ConfigError

REDACTED = "<redacted>"
# Any key segment naming a credential; matched case-insensitively.
SECRET_KEY_PATTERN = re.compile(
    r"(api_?key|secret|password|passwd|token|credential)", re.IGNORECASE
)


def is_secret_key(key: str) -> bool:
    """Whether the last segment of a dotted key names a secret."""
    return bool(SECRET_KEY_PATTERN.search(key.rsplit(".", 1)[-1]))


# ${oc.env:VAR} or ${oc.env:VAR,null}: names where a secret comes from and
# holds nothing of it. A literal default (${oc.env:VAR,mxgw_...}) holds it.
SECRET_REFERENCE = re.compile(r"\$\{oc\.env:[A-Za-z_][A-Za-z0-9_]*(,\s*(null)?\s*)?\}")


def is_interpolation(value: object) -> bool:
    """Whether a secret's value only names an environment variable to read."""
    return isinstance(value, str) and bool(SECRET_REFERENCE.fullmatch(value.strip()))


def override_key(override: str) -> str:
    """The dotted key of a Hydra override string, without its +, ++ or ~ prefix."""
    return override.split("=", 1)[0].lstrip("+~")


def is_literal_secret_override(override: str) -> bool:
    """Whether an override such as `gateway.api_key=abc` gives a secret's value."""
    if "=" not in override or not is_secret_key(override_key(override)):
        return False
    value = override.split("=", 1)[1].strip("'\"")
    return value not in ("", "null") and not is_interpolation(value)


def literal_secret_keys(overrides: Iterable[str]) -> list[str]:
    """The keys of the overrides that give a secret's value literally."""
    return [override_key(o) for o in overrides if is_literal_secret_override(o)]


def refuse_literal_secrets(overrides: Iterable[str], where: str) -> None:
    """ConfigError for a secret given literally in overrides, before Hydra saves it."""
    keys = literal_secret_keys(overrides)
    if not keys:
        return
    key = keys[0]
    fix = (
        "export MXGW_API_KEY instead"
        if key.endswith("api_key")
        else f"put it in an environment variable VAR and give {key}='${{oc.env:VAR}}'"
    )
    raise ConfigError(
        f"{key} is given literally {where}, where Hydra would save it in the "
        f"run's .hydra/ folder and its logs: {fix}"
    )


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level with dotted keys; lists stay values."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def without_secrets(flat: Mapping[str, Any]) -> dict[str, Any]:
    """A flat config with every secret-named key dropped."""
    return {key: value for key, value in flat.items() if not is_secret_key(key)}


def redact_tree(node: Any) -> Any:
    """A copy of parsed YAML with literal secrets and secret overrides redacted."""
    if isinstance(node, Mapping):
        return {
            key: (
                REDACTED
                if is_secret_key(str(key))
                and node[key] is not None
                and not is_interpolation(node[key])
                and not isinstance(node[key], Mapping)
                else redact_tree(node[key])
            )
            for key in node
        }
    if isinstance(node, list):
        return [redact_tree(item) for item in node]
    if isinstance(node, str) and is_literal_secret_override(node):
        return f"{node.split('=', 1)[0]}={REDACTED}"
    return node


def redact_yaml_file(source: Path, target: Path) -> Path:
    """Write a redacted copy of a YAML file (a Hydra config or overrides list)."""
    data = yaml.safe_load(source.read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(redact_tree(data), sort_keys=False))
    return target


def redact_saved_config(path: Path) -> bool:
    """Redact a saved config in place if it holds a literal secret; True if it did.

    The file keeps its modification time, which sweeps use to tell their own
    jobs from older ones.
    """
    data = yaml.safe_load(path.read_text())
    if redact_tree(data) == data:
        return False
    stat = path.stat()
    redact_yaml_file(path, path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return True
