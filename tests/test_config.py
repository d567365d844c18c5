"""Composition of the real conf/ tree and the checks on bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from gwexp.config import (
    EmbeddedGatewayConfig,
    RemoteGatewayConfig,
    RunConfig,
    register_configs,
    to_run_config,
)
from gwexp.errors import ConfigError

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


def _compose(*overrides: str, hydra: bool = False) -> DictConfig:
    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", list(overrides), return_hydra_config=hydra)


def test_default_config_is_one_dev_galaxy_session_of_120_tags() -> None:
    cfg = to_run_config(_compose())
    assert isinstance(cfg, RunConfig)
    assert isinstance(cfg.gateway, EmbeddedGatewayConfig)
    assert cfg.gateway.profile == "dev_galaxy"
    assert (cfg.bulk_size, cfg.session_count, cfg.stagger_ms) == (120, 1, 750)
    assert cfg.tags.rotation == "by_machine"
    assert len(cfg.tags.attributes) == 6


def test_remote_gateway_reads_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MXGW_API_KEY", "mxgw_k1_s3cret")
    cfg = to_run_config(_compose("gateway=remote", "gateway.endpoint=gw.example:5000"))
    assert isinstance(cfg.gateway, RemoteGatewayConfig)
    assert cfg.gateway.api_key == "mxgw_k1_s3cret"
    assert cfg.gateway.endpoint == "gw.example:5000"


def test_experiment_presets_compose_as_sweeps() -> None:
    tag = _compose("+experiment=tag_scaling", hydra=True)
    assert tag.hydra.sweeper.params.bulk_size == "6,24,60,120"
    session = _compose("+experiment=session_scaling", hydra=True)
    assert session.hydra.sweeper.params.session_count == "1,2,4,8"
    assert session.stagger_ms == 750


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("session_count=0", "session_count=0 is invalid: must be at least 1"),
        ("bulk_size=-3", "bulk_size=-3 is invalid: must be at least 1"),
        ("duration_s=0", "duration_s=0.0 is invalid: must be above 0"),
        ("warmup_s=-1", "warmup_s=-1.0 is invalid: must be 0 or more"),
        ("bulk_size=121", "bulk_size=121 is invalid: must be at most 120"),
        ("tags.rotation=diagonal", "tags.rotation='diagonal' is invalid: must be one"),
        ("stream_deadline_s=10", "stream_deadline_s=10.0 is invalid: must exceed"),
        ("on_open_failure=retry", "on_open_failure='retry' is invalid: must be one"),
        ("client.processes=0", "client.processes=0 is invalid: must be at least 1"),
    ],
)
def test_bad_values_name_the_key_the_value_and_the_rule(
    override: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        to_run_config(_compose(override))
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_single_attribute_must_be_a_known_attribute() -> None:
    with pytest.raises(ConfigError, match=r"tags\.attribute='Nope' is invalid"):
        to_run_config(_compose("tags=single_attribute", "tags.attribute=Nope"))
    cfg = to_run_config(_compose("tags=single_attribute", "bulk_size=20"))
    assert cfg.tags.rotation == "single_attribute"
