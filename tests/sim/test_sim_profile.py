"""Profiles: shipped YAML files, dotted overrides and their error messages."""

from __future__ import annotations

import math

import pytest

from gwexp.sim import DelayModel, FaultPlan, Profile, load_profile
from gwexp.sim.profile import available_profiles, valid_keys


def test_shipped_profiles_are_listed() -> None:
    assert available_profiles() == ["dev_galaxy", "flood", "loopback", "saturating"]


def test_dev_galaxy_has_the_published_figures() -> None:
    profile = load_profile("dev_galaxy")

    assert profile == Profile(name="dev_galaxy")
    assert profile.machines == 20
    assert profile.attributes == (
        "TestChangingInt",
        "TestChangingDouble",
        "TestChangingBool",
        "TestChangingString",
        "TestChangingFloat",
        "TestChangingTime",
    )
    assert profile.change_rate_hz == 0.34
    assert profile.delay == DelayModel("lognormal", 17.0, 34.0)
    assert profile.delay.sigma == pytest.approx(math.log(2) / 1.6449)
    assert (profile.worker_start_s, profile.start_contention) == (0.6, 8.0)
    assert (profile.startup_timeout_s, profile.time_scale) == (30.0, 1.0)
    assert (profile.max_sessions, profile.queue_capacity) == (64, 10_000)
    assert profile.delivery_ceiling_eps is None
    assert profile.lease_s == 1800.0
    assert profile.faults == FaultPlan(None, None, (1,))


def test_derived_profiles_change_only_their_concern() -> None:
    base = load_profile("dev_galaxy")
    loopback = load_profile("loopback")
    saturating = load_profile("saturating")
    flood = load_profile("flood")

    assert loopback.delay.model == "none"
    assert loopback.change_rate_hz == base.change_rate_hz
    assert loopback.machines == base.machines
    assert saturating.delivery_ceiling_eps == 30.0
    assert saturating.delay == base.delay
    assert flood.delay.model == "none"
    assert flood.change_rate_hz == 500.0


def test_dotted_overrides_accept_typed_values_and_strings() -> None:
    profile = load_profile(
        "dev_galaxy",
        {
            "delay.median_ms": "5",
            "delay.p95_ms": 9,
            "change_rate_hz": 5,
            "delivery_ceiling_eps": "null",
            "faults.sessions": "1,3",
            "faults.crash_after_s": "2.5",
            "attributes": "TestChangingInt,TestChangingBool",
            "time_scale": 0.02,
        },
    )

    assert profile.delay == DelayModel("lognormal", 5.0, 9.0)
    assert profile.change_rate_hz == 5.0
    assert profile.delivery_ceiling_eps is None
    assert profile.faults == FaultPlan(2.5, None, (1, 3))
    assert profile.attributes == ("TestChangingInt", "TestChangingBool")
    assert profile.time_scale == 0.02


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        (
            "nope",
            {},
            "profile='nope' is invalid: must be one of dev_galaxy, flood, "
            "loopback, saturating",
        ),
        ("dev_galaxy", {"delay.medain_ms": 3}, "unknown profile key 'delay.medain_ms'"),
        ("dev_galaxy", {"colour": 3}, "unknown profile key 'colour': valid keys are"),
        (
            "dev_galaxy",
            {"delay.model": "gauss"},
            "delay.model='gauss' is invalid: must be one of lognormal, constant, none",
        ),
        (
            "dev_galaxy",
            {"machines": "many"},
            "machines='many' is invalid: must be an integer",
        ),
        ("dev_galaxy", {"machines": 0}, "machines=0 is invalid: must be 1-999"),
        (
            "dev_galaxy",
            {"delay.p95_ms": 10},
            "delay.p95_ms=10.0 is invalid: must be >= delay.median_ms (17.0)",
        ),
        (
            "dev_galaxy",
            {"delivery_ceiling_eps": 0},
            "delivery_ceiling_eps=0.0 is invalid: must be > 0, or null for no ceiling",
        ),
        (
            "dev_galaxy",
            {"attributes": "TestChangingInt,Colour"},
            "attributes=['TestChangingInt', 'Colour'] is invalid",
        ),
        ("dev_galaxy", {"delay": 3}, "profile key 'delay' is a group"),
        ("dev_galaxy", {"queue_capacity": True}, "queue_capacity=True is invalid"),
    ],
)
def test_bad_names_keys_and_values_say_what_is_allowed(
    name: str, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        load_profile(name, overrides)

    text = str(raised.value)
    assert message in text
    assert "\n" not in text


def test_valid_keys_cover_nested_fields() -> None:
    keys = valid_keys()

    assert "delay.median_ms" in keys
    assert "faults.drop_stream_after_s" in keys
    assert "name" not in keys
    assert "delay" not in keys


def test_profiles_are_validated_when_built_directly() -> None:
    with pytest.raises(ValueError, match=r"^time_scale=0 is invalid: must be > 0$"):
        Profile(time_scale=0)
