"""What a simulated gateway models: the Profile schema and its YAML profiles.

A profile is a frozen dataclass whose defaults are the ``dev_galaxy`` figures.
Named profiles live in ``gwexp/sim/profiles/<name>.yaml``; a file may start
from another with ``extends: <name>``. Overrides use dotted keys for nested
fields (``delay.median_ms``) and accept typed values or strings, which are
parsed as YAML scalars so that command-line ``--set key=value`` pairs work.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from gwexp.sim.galaxy import ATTRIBUTE_TYPES

DELAY_MODELS = ("lognormal", "constant", "none")
# z of the 95th percentile of a standard normal: a log-normal's p95 is
# median * exp(1.6449 * sigma), which gives sigma from the two figures.
P95_Z = 1.6449
# Tag names carry a three-digit machine number.
MAX_MACHINES = 999


@dataclass(frozen=True)
class DelayModel:
    """Delay between a change's ``worker_timestamp`` and its arrival in the queue."""

    # lognormal, constant (always median_ms) or none (zero delay).
    model: str = "lognormal"
    # Median delay in milliseconds.
    median_ms: float = 17.0
    # 95th percentile delay in milliseconds; used by lognormal only.
    p95_ms: float = 34.0

    @property
    def sigma(self) -> float:
        """Log-normal shape implied by the median and p95; 0 for the other models."""
        if self.model != "lognormal" or self.median_ms <= 0:
            return 0.0
        return math.log(self.p95_ms / self.median_ms) / P95_Z


@dataclass(frozen=True)
class FaultPlan:
    """Faults injected on purpose, timed from a session's first SUBSCRIBE_BULK."""

    # Seconds until the session's worker crashes (WorkerUnavailable); None: never.
    crash_after_s: float | None = None
    # Seconds until the gateway drops the open event stream once; None: never.
    drop_stream_after_s: float | None = None
    # 1-based session ordinals (order of OpenSession arrival) the faults hit.
    sessions: tuple[int, ...] = (1,)


@dataclass(frozen=True)
class Profile:
    """Everything a simulated gateway models; defaults are the dev_galaxy figures."""

    # Profile name, for logs and backend_name.
    name: str = "dev_galaxy"
    # Machines in the galaxy: TestMachine_001 .. TestMachine_<machines>.
    machines: int = 20
    # Attribute names per machine; each name fixes the value type.
    attributes: tuple[str, ...] = tuple(ATTRIBUTE_TYPES)
    # Poisson change rate of each advised tag, in changes per second.
    change_rate_hz: float = 0.34
    # Delay from worker_timestamp to the event entering the session queue.
    delay: DelayModel = field(default_factory=DelayModel)
    # Seconds one worker takes to start when no other start overlaps it.
    worker_start_s: float = 0.6
    # Slow-down per extra overlapping start: with n starts in flight each runs
    # at 1 / (1 + start_contention * (n - 1)) of its solo speed.
    start_contention: float = 8.0
    # Seconds an OpenSession waits for its worker before failing.
    startup_timeout_s: float = 30.0
    # Multiplies worker_start_s and startup_timeout_s (tests use ~0.02).
    time_scale: float = 1.0
    # Sessions open or starting at once; one more gets SESSION_LIMIT_REACHED.
    max_sessions: int = 64
    # Events a session may hold undelivered; one more faults it (FailFast).
    queue_capacity: int = 10_000
    # Events per second the gateway hands to all streams together; None: no limit.
    delivery_ceiling_eps: float | None = None
    # Events kept per session after sending, so a new stream can resume.
    replay_buffer: int = 1_000
    # Seconds a session may go untouched by calls or an open stream before
    # the gateway closes it.
    lease_s: float = 1800.0
    # Faults injected on purpose.
    faults: FaultPlan = field(default_factory=FaultPlan)

    def __post_init__(self) -> None:
        _validate(self)


def _fail(key: str, value: object, rule: str) -> ValueError:
    return ValueError(f"{key}={value!r} is invalid: {rule}")


def _require(ok: bool, key: str, value: object, rule: str) -> None:
    if not ok:
        raise _fail(key, value, rule)


def _validate(profile: Profile) -> None:
    p = profile
    _require(1 <= p.machines <= MAX_MACHINES, "machines", p.machines, "must be 1-999")
    _require(
        len(p.attributes) > 0 and all(a in ATTRIBUTE_TYPES for a in p.attributes),
        "attributes",
        list(p.attributes),
        f"must be a non-empty list drawn from {', '.join(ATTRIBUTE_TYPES)}",
    )
    _require(
        len(set(p.attributes)) == len(p.attributes),
        "attributes",
        list(p.attributes),
        "must not repeat a name",
    )
    _require(p.change_rate_hz >= 0, "change_rate_hz", p.change_rate_hz, "must be >= 0")
    _validate_delay(p.delay)
    _require(p.worker_start_s >= 0, "worker_start_s", p.worker_start_s, "must be >= 0")
    _require(
        p.start_contention >= 0, "start_contention", p.start_contention, "must be >= 0"
    )
    _require(
        p.startup_timeout_s > 0, "startup_timeout_s", p.startup_timeout_s, "must be > 0"
    )
    _require(p.time_scale > 0, "time_scale", p.time_scale, "must be > 0")
    _require(p.max_sessions >= 1, "max_sessions", p.max_sessions, "must be >= 1")
    _require(p.queue_capacity >= 1, "queue_capacity", p.queue_capacity, "must be >= 1")
    _require(
        p.delivery_ceiling_eps is None or p.delivery_ceiling_eps > 0,
        "delivery_ceiling_eps",
        p.delivery_ceiling_eps,
        "must be > 0, or null for no ceiling",
    )
    _require(p.replay_buffer >= 0, "replay_buffer", p.replay_buffer, "must be >= 0")
    _require(p.lease_s > 0, "lease_s", p.lease_s, "must be > 0")
    _validate_faults(p.faults)


def _validate_delay(delay: DelayModel) -> None:
    _require(
        delay.model in DELAY_MODELS,
        "delay.model",
        delay.model,
        f"must be one of {', '.join(DELAY_MODELS)}",
    )
    _require(delay.median_ms >= 0, "delay.median_ms", delay.median_ms, "must be >= 0")
    if delay.model == "lognormal":
        _require(
            delay.median_ms > 0,
            "delay.median_ms",
            delay.median_ms,
            "must be > 0 for the lognormal model",
        )
        _require(
            delay.p95_ms >= delay.median_ms,
            "delay.p95_ms",
            delay.p95_ms,
            f"must be >= delay.median_ms ({delay.median_ms})",
        )


def _validate_faults(faults: FaultPlan) -> None:
    for key in ("crash_after_s", "drop_stream_after_s"):
        value = getattr(faults, key)
        _require(
            value is None or value >= 0,
            f"faults.{key}",
            value,
            "must be >= 0, or null for never",
        )
    _require(
        all(ordinal >= 1 for ordinal in faults.sessions),
        "faults.sessions",
        list(faults.sessions),
        "must list 1-based session ordinals",
    )


def available_profiles() -> list[str]:
    """Names of the profiles shipped in ``gwexp/sim/profiles``."""
    folder = resources.files("gwexp.sim") / "profiles"
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def load_profile(name: str, overrides: Mapping[str, object] | None = None) -> Profile:
    """Load the named profile, apply dotted-key overrides, validate it."""
    raw = _read_chain(name, seen=())
    raw["name"] = name
    for key, value in (overrides or {}).items():
        _set_dotted(raw, key, value)
    profile: Profile = _build(Profile, raw, prefix="")
    return profile


def _read_chain(name: str, seen: tuple[str, ...]) -> dict[str, Any]:
    names = available_profiles()
    if name not in names:
        raise ValueError(
            f"profile={name!r} is invalid: must be one of {', '.join(names)}"
        )
    if name in seen:
        raise ValueError(f"profile={name!r} is invalid: it extends itself")

    text = (resources.files("gwexp.sim") / "profiles" / f"{name}.yaml").read_text()
    loaded = yaml.safe_load(text) or {}
    if not isinstance(loaded, dict):
        raise ValueError(f"profile={name!r} is invalid: the file is not a mapping")

    base = loaded.pop("extends", None)
    if base is None:
        return loaded
    merged = _read_chain(str(base), (*seen, name))
    for key, value in _flatten(loaded, prefix=""):
        _set_dotted(merged, key, value)
    return merged


def _flatten(tree: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    for key, value in tree.items():
        if isinstance(value, Mapping):
            pairs.extend(_flatten(value, f"{prefix}{key}."))
        else:
            pairs.append((f"{prefix}{key}", value))
    return pairs


def _set_dotted(raw: dict[str, Any], key: str, value: object) -> None:
    *parents, leaf = key.split(".")
    _field_type(key)
    node = raw
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[leaf] = value


def _field_type(key: str) -> Any:
    """The annotated type of a dotted key; ValueError naming the valid keys."""
    owner: Any = Profile
    hint: Any = None
    for part in key.split("."):
        hints = typing.get_type_hints(owner) if dataclasses.is_dataclass(owner) else {}
        if part not in hints or part == "name":
            raise ValueError(
                f"unknown profile key {key!r}: valid keys are {', '.join(valid_keys())}"
            )
        hint = hints[part]
        owner = hint
    if dataclasses.is_dataclass(hint):
        raise ValueError(
            f"profile key {key!r} is a group: set one of its fields, "
            f"such as {key}.{dataclasses.fields(hint)[0].name}"
        )
    return hint


def valid_keys() -> list[str]:
    """Every dotted key an override may set."""
    keys: list[str] = []

    def walk(owner: Any, prefix: str) -> None:
        for name, hint in typing.get_type_hints(owner).items():
            if dataclasses.is_dataclass(hint):
                walk(hint, f"{prefix}{name}.")
            elif name != "name":
                keys.append(f"{prefix}{name}")

    walk(Profile, "")
    return keys


def _build(cls: Any, raw: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in hints:
            raise ValueError(
                f"unknown profile key {dotted!r}: "
                f"valid keys are {', '.join(valid_keys())}"
            )
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise _fail(dotted, value, "must be a mapping of its fields")
            values[key] = _build(hint, value, f"{dotted}.")
        else:
            values[key] = _coerce(dotted, value, hint)
    return cls(**values)


def _coerce(key: str, value: object, hint: Any) -> object:
    """Convert ``value`` to the annotated type, parsing strings as YAML."""
    if isinstance(value, str) and hint is not str:
        value = yaml.safe_load(value) if value.strip() else None

    optional = _is_optional(hint)
    if optional and value is None:
        return None
    base = _strip_none(hint)

    if base is str and isinstance(value, str):
        return value
    if base is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if typing.get_origin(base) is tuple:
        return _coerce_tuple(key, value, typing.get_args(base)[0])

    expected = _describe(base) + (", or null" if optional else "")
    raise _fail(key, value, f"must be {expected}")


def _coerce_tuple(key: str, value: object, item_type: Any) -> tuple[Any, ...]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple):
        raise _fail(key, value, f"must be a list of {_describe(item_type)}")
    items = [_coerce(key, item, item_type) for item in value]
    return tuple(items)


def _is_optional(hint: Any) -> bool:
    return isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)


def _strip_none(hint: Any) -> Any:
    if not _is_optional(hint):
        return hint
    (base,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return base


def _describe(hint: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a number"}
    if hint in names:
        return names[hint]
    if typing.get_origin(hint) is tuple:
        return f"a list of {_describe(typing.get_args(hint)[0])}"
    return str(hint)
