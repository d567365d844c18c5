"""Config schemas for every group, registered in Hydra's ConfigStore, and checks.

OmegaConf checks types against these dataclasses when Hydra composes; the
ranges and cross-field rules that types cannot express are checked by
:func:`validate`, which raises :class:`~gwexp.errors.ConfigError` naming the
key, the bad value and what is allowed, before any session opens.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from gwexp.errors import ConfigError

DEFAULT_ATTRIBUTES = [
    "TestChangingInt",
    "TestChangingDouble",
    "TestChangingBool",
    "TestChangingString",
    "TestChangingFloat",
    "TestChangingTime",
]
ROTATIONS = ("by_machine", "by_attribute", "single_attribute", "explicit")
OPEN_FAILURE_POLICIES = ("continue", "stop")
# The window's per-second counts live in memory; a day of them is 86,400 ints.
MAX_DURATION_S = 86_400.0
# What an HTTP/2 header value may hold: printable ASCII, no spaces.
API_KEY_CHARS = set(string.ascii_letters + string.digits + string.punctuation)


@dataclass
class EmbeddedGatewayConfig:
    """The simulated gateway, started on a free loopback port for the run."""

    # Always "embedded"; tells the two gateway schemas apart.
    kind: str = "embedded"
    # Simulator profile name: a YAML file in gwexp/sim/profiles/.
    profile: str = "dev_galaxy"
    # Seed of the simulator's change schedules; the same seed replays them.
    seed: int = 0
    # Profile fields to change, dotted keys allowed (delay.median_ms: 5).
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class TlsConfig:
    """Transport security towards a remote gateway."""

    # Use TLS; false means plaintext HTTP/2 (h2c).
    enabled: bool = False
    # PEM file of the CA that signed the gateway's certificate; null: system roots.
    ca_cert: str | None = None
    # Host name to check the certificate against, when it differs from the endpoint.
    server_name: str | None = None


@dataclass
class RemoteGatewayConfig:
    """A gateway gwexp does not start: the production one, or a standalone simulator."""

    # Always "remote"; tells the two gateway schemas apart.
    kind: str = "remote"
    # host:port of the gateway.
    endpoint: str = "localhost:5000"
    # API key mxgw_<id>_<secret>; read from MXGW_API_KEY, never saved resolved.
    api_key: str | None = None
    tls: TlsConfig = field(default_factory=TlsConfig)
    # How long to wait for the gateway to answer at all, in seconds.
    connect_timeout_s: float = 5.0


@dataclass
class TagsConfig:
    """How the tags each session subscribes are chosen from the galaxy."""

    # by_machine: all attributes of machine 1, then machine 2, ...;
    # by_attribute: attribute 1 on every machine, then attribute 2, ...;
    # single_attribute: `attribute` on every machine; explicit: `explicit` as given.
    rotation: str = "by_machine"
    # Machines in the galaxy, named <machine_prefix>NNN from 001.
    machines: int = 20
    machine_prefix: str = "TestMachine_"
    # Attribute names of every machine, in rotation order.
    attributes: list[str] = field(default_factory=lambda: list(DEFAULT_ATTRIBUTES))
    # The one attribute of the single_attribute rotation.
    attribute: str = "TestChangingInt"
    # Full tag addresses for the explicit rotation.
    explicit: list[str] = field(default_factory=list)


@dataclass
class ClientConfig:
    """How the measuring client behaves."""

    # Client processes the sessions are spread over.
    processes: int = 1
    # Deadline on OpenSession, in seconds; above the gateway's 30 s worker start-up.
    open_timeout_s: float = 60.0
    # Deadline on every other unary call, in seconds.
    command_timeout_s: float = 30.0


@dataclass
class TrackingConfig:
    """Where runs are recorded in MLflow."""

    # Record runs in MLflow at all.
    enabled: bool = True
    # Tracking URI; null: the sqlite store mlflow.db at the project root.
    uri: str | None = None
    # MLflow experiment name.
    experiment: str = "gwexp"


@dataclass
class RunConfig:
    """One experiment: a gateway, a tag plan, a load and a measuring window."""

    gateway: Any = MISSING
    tags: TagsConfig = field(default_factory=TagsConfig)
    client: ClientConfig = field(default_factory=ClientConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    # Tags subscribed by each session.
    bulk_size: int = 120
    # Sessions opened, each with its own worker and its own copy of every event.
    session_count: int = 1
    # Delay between the starts of consecutive session opens, in milliseconds.
    stagger_ms: float = 750.0
    # Time after the last session subscribed before measuring starts, in seconds.
    warmup_s: float = 3.0
    # Length of the measured window, in seconds.
    duration_s: float = 20.0
    # Deadline on each event stream, in seconds; null: warm-up + window + 30 s.
    stream_deadline_s: float | None = None
    # On a failed session open: continue with the others, or stop the run.
    on_open_failure: str = "continue"


def register_configs() -> None:
    """Register every schema in Hydra's ConfigStore."""
    store = ConfigStore.instance()
    store.store(name="run_schema", node=RunConfig)
    store.store(group="gateway", name="embedded_schema", node=EmbeddedGatewayConfig)
    store.store(group="gateway", name="remote_schema", node=RemoteGatewayConfig)
    store.store(group="tags", name="tags_schema", node=TagsConfig)
    store.store(group="tracking", name="tracking_schema", node=TrackingConfig)


def galaxy_size(tags: TagsConfig) -> int:
    """How many distinct tags the rotation can hand out."""
    if tags.rotation == "explicit":
        return len(tags.explicit)
    if tags.rotation == "single_attribute":
        return tags.machines
    return tags.machines * len(tags.attributes)


def to_run_config(cfg: DictConfig) -> RunConfig:
    """The composed config as checked dataclasses; raise ConfigError when unusable."""
    reject_unknown_keys(cfg)
    run_cfg = OmegaConf.to_object(cfg)
    assert isinstance(run_cfg, RunConfig)
    validate(run_cfg)
    return run_cfg


def reject_unknown_keys(node: DictConfig, prefix: str = "") -> None:
    """Refuse keys no schema has, as ``+key=value`` would add them unchecked.

    The value is not repeated in the message: a mistyped key may hold a secret.
    """
    schema = OmegaConf.get_type(node)
    if schema is None or not dataclasses.is_dataclass(schema):
        return
    names = [f.name for f in dataclasses.fields(schema)]
    for key in node:
        name = str(key)
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            fix = (
                f"did you mean {prefix}{close[0]}?"
                if close
                else (f"the keys here are {', '.join(prefix + n for n in names)}")
            )
            raise ConfigError(f"{prefix}{name} is not a gwexp setting: {fix}")
        child = node._get_node(name)
        if isinstance(child, DictConfig):
            reject_unknown_keys(child, f"{prefix}{name}.")


def validate(cfg: RunConfig) -> None:
    """Raise ConfigError on the first value no run could use."""
    for key in ("stagger_ms", "warmup_s", "duration_s", "stream_deadline_s"):
        _require_finite(key, getattr(cfg, key))
    for key in ("open_timeout_s", "command_timeout_s"):
        _require_finite(f"client.{key}", getattr(cfg.client, key))
    if isinstance(cfg.gateway, RemoteGatewayConfig):
        _require_finite("gateway.connect_timeout_s", cfg.gateway.connect_timeout_s)
    _require(
        cfg.duration_s <= MAX_DURATION_S,
        "duration_s",
        cfg.duration_s,
        f"must be at most {MAX_DURATION_S:g} (a day); run a sweep for longer studies",
    )
    _require(cfg.bulk_size >= 1, "bulk_size", cfg.bulk_size, "must be at least 1")
    _require(
        cfg.session_count >= 1, "session_count", cfg.session_count, "must be at least 1"
    )
    _require(cfg.stagger_ms >= 0, "stagger_ms", cfg.stagger_ms, "must be 0 or more")
    _require(cfg.warmup_s >= 0, "warmup_s", cfg.warmup_s, "must be 0 or more")
    _require(cfg.duration_s > 0, "duration_s", cfg.duration_s, "must be above 0")
    _require(
        cfg.on_open_failure in OPEN_FAILURE_POLICIES,
        "on_open_failure",
        cfg.on_open_failure,
        f"must be one of {', '.join(OPEN_FAILURE_POLICIES)}",
    )
    if cfg.stream_deadline_s is not None:
        window_s = cfg.warmup_s + cfg.duration_s
        _require(
            cfg.stream_deadline_s > window_s,
            "stream_deadline_s",
            cfg.stream_deadline_s,
            f"must exceed warmup_s + duration_s = {window_s:g}, or be null",
        )
    _validate_client(cfg.client)
    _validate_tags(cfg.tags, cfg.bulk_size)
    _validate_gateway(cfg.gateway)


def _validate_client(client: ClientConfig) -> None:
    _require(
        client.processes >= 1,
        "client.processes",
        client.processes,
        "must be at least 1",
    )
    for key in ("open_timeout_s", "command_timeout_s"):
        value = getattr(client, key)
        _require(value > 0, f"client.{key}", value, "must be above 0")


def _validate_tags(tags: TagsConfig, bulk_size: int) -> None:
    _require(
        tags.rotation in ROTATIONS,
        "tags.rotation",
        tags.rotation,
        f"must be one of {', '.join(ROTATIONS)}",
    )
    _require(tags.machines >= 1, "tags.machines", tags.machines, "must be at least 1")
    _require(
        tags.machines <= 999, "tags.machines", tags.machines, "must be at most 999"
    )
    _require(
        len(tags.attributes) >= 1,
        "tags.attributes",
        tags.attributes,
        "must name at least one attribute",
    )
    if tags.rotation == "single_attribute":
        _require(
            tags.attribute in tags.attributes,
            "tags.attribute",
            tags.attribute,
            f"must be one of tags.attributes ({', '.join(tags.attributes)})",
        )
    if tags.rotation == "explicit":
        _require(
            len(tags.explicit) >= 1,
            "tags.explicit",
            tags.explicit,
            "must list at least one tag address for rotation explicit",
        )
    size = galaxy_size(tags)
    _require(
        bulk_size <= size,
        "bulk_size",
        bulk_size,
        f"must be at most {size}, the tags that rotation {tags.rotation} can offer",
    )


def _validate_gateway(gateway: Any) -> None:
    if isinstance(gateway, RemoteGatewayConfig):
        host, _, port = gateway.endpoint.rpartition(":")
        _require(
            bool(host) and port.isdigit(),
            "gateway.endpoint",
            gateway.endpoint,
            "must be host:port, e.g. localhost:5000",
        )
        key = gateway.api_key
        if key is not None and not set(key) <= API_KEY_CHARS:
            # The key itself is never repeated in a message.
            raise ConfigError(
                "gateway.api_key (from MXGW_API_KEY) is invalid: it must be printable "
                "ASCII without spaces or line breaks; check how the variable was set"
            )
        ca_cert = gateway.tls.ca_cert
        if gateway.tls.enabled and ca_cert is not None:
            _require(
                Path(ca_cert).is_file(),
                "gateway.tls.ca_cert",
                ca_cert,
                "must be a readable PEM file of the gateway's CA (or null for the "
                "system's roots)",
            )
        _require(
            gateway.connect_timeout_s > 0,
            "gateway.connect_timeout_s",
            gateway.connect_timeout_s,
            "must be above 0",
        )
        return
    _require(
        isinstance(gateway, EmbeddedGatewayConfig),
        "gateway",
        type(gateway).__name__,
        "must be gateway=embedded or gateway=remote",
    )


def _require_finite(key: str, value: float | None) -> None:
    if value is not None:
        _require(math.isfinite(value), key, value, "must be a finite number")


def _require(ok: bool, key: str, value: object, rule: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r} is invalid: {rule}")
