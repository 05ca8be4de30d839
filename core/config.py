"""The coordination settings: one validated, frozen config and the source of every value.

Sources, highest first: explicit arguments, ``COORDINATION_<FIELD>`` environment variables
(names matched without regard to case), the YAML file (``coordination.yaml`` in the user config
folder, or the ``--config`` path), then the defaults. Every source is checked, including values a
higher source shadows, so a broken file is reported the day it is written rather than the day the
variable hiding it goes away. :func:`load_config` returns a complete config or raises
:class:`ConfigError` listing every problem; nothing starts half-configured.

``broker_url`` (a ``redis://`` or ``rediss://`` URL; empty or null: none) connects this machine to
relays on others (issue 14); without it nothing talks to a broker. Its password is never shown:
errors, ``format_config`` and ``config_as_dict`` give it as ``***``. ``relay_wait`` bounds how long
a delivery through a relay waits for the relay's verdict.

A relative ``validation_rules_path`` in the YAML file is taken relative to the file's folder;
from an argument or the environment it stays relative to the working directory. An empty value
means the bundled rules, like null.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from quarterdeck.core.broker_url import check_broker_url, redact
from quarterdeck.core.config_sources import (
    DEFAULT,
    ConfigProblem,
    Reading,
    ValueSource,
    read_arguments,
    read_env,
    read_yaml_file,
)
from quarterdeck.core.paths import default_config_file

__all__ = [
    "ENV_PREFIX",
    "ConfigError",
    "ConfigProblem",
    "CoordinationConfig",
    "LoadedConfig",
    "ValueSource",
    "config_as_dict",
    "format_config",
    "load_config",
]

ENV_PREFIX = "COORDINATION_"
_NUMBERS = ("max_retries", "base_delay", "backoff_multiplier", "circuit_breaker_threshold",
            "collection_interval", "max_data_points", "relay_wait")
_SECRET = "broker_url"  # shown redacted everywhere


class CoordinationConfig(BaseModel):
    """Validation, retry, circuit-breaker and monitoring settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enable_validation: bool = True
    validation_rules_path: Path | None = None
    max_retries: int = Field(default=3, ge=0)
    base_delay: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    backoff_multiplier: float = Field(default=2.0, ge=1, allow_inf_nan=False)
    circuit_breaker_threshold: int = Field(default=5, ge=1)
    enable_performance_monitoring: bool = True
    collection_interval: float = Field(default=5.0, gt=0, allow_inf_nan=False)
    max_data_points: int = Field(default=1000, ge=1)
    broker_url: str | None = None
    relay_wait: float = Field(default=30.0, gt=0, allow_inf_nan=False)

    @field_validator(*_NUMBERS, mode="before")
    @classmethod
    def _reject_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a boolean is not a number")
        return value

    @field_validator("validation_rules_path", mode="before")
    @classmethod
    def _blank_means_bundled(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("broker_url", mode="before")
    @classmethod
    def _check_broker(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError("not text")
        return check_broker_url(value)

    @field_validator("validation_rules_path")
    @classmethod
    def _resolve_path(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        value = value.expanduser()
        base_dir = (info.context or {}).get("base_dir")
        return base_dir / value if base_dir is not None and not value.is_absolute() else value


FIELDS: tuple[str, ...] = tuple(CoordinationConfig.model_fields)

_TYPE_WORDS: dict[Any, str] = {
    bool: "true or false",
    int: "an integer",
    float: "a finite number",
    Path | None: "a path (empty or null for the bundled rules)",
    str | None: "a redis:// or rediss:// URL (empty or null for none)",
}


def expected_for(name: str) -> str:
    """What a field accepts, in words: ``'an integer >= 0'``."""
    info = CoordinationConfig.model_fields[name]
    words = [_TYPE_WORDS[info.annotation]]
    for item in info.metadata:
        if getattr(item, "ge", None) is not None:
            words.append(f">= {item.ge:g}")
        if getattr(item, "gt", None) is not None:
            words.append(f"> {item.gt:g}")
    return " ".join(words)


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists everything wrong, one line each."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class LoadedConfig:
    """The effective config and, for every field, the source its value came from."""

    config: CoordinationConfig
    sources: dict[str, ValueSource]


def _validated(reading: Reading, problems: list[ConfigProblem]) -> dict[str, Any]:
    """The reading's values after validation; on failure, adds one problem per bad field."""
    raw = {name: item.value for name, item in reading.values.items()}
    try:
        checked = CoordinationConfig.model_validate(raw, context={"base_dir": reading.base_dir})
    except ValidationError as exc:
        bad: dict[str, ConfigProblem] = {}
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0])
            item = reading.values[name]
            text = redact(item.text) if name == _SECRET else item.text
            why = f" ({error['msg'].removeprefix('Value error, ')})" if name == _SECRET else ""
            bad.setdefault(name, ConfigProblem(
                name, item.origin, expected_for(name), f"invalid value {text!r}{why}", text))
        problems.extend(bad.values())
        return {}
    return {name: getattr(checked, name) for name in raw}


def load_config(
    config_file: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Build the effective config from arguments, environment, YAML file and defaults.

    ``config_file`` names the YAML file explicitly, and then it must exist; otherwise the default
    file is used if present. ``env`` defaults to ``os.environ`` and also decides the default file's
    folder (``QUARTERDECK_CONFIG_DIR``). Raises :class:`ConfigError` with every problem found.
    """
    environ = os.environ if env is None else env
    path = Path(config_file) if config_file is not None else default_config_file(environ)
    readings = (
        read_arguments(overrides or {}, FIELDS),
        read_env(environ, ENV_PREFIX, FIELDS),
        read_yaml_file(path, FIELDS, required=config_file is not None),
    )
    problems: list[ConfigProblem] = []
    effective: dict[str, Any] = {}
    sources: dict[str, ValueSource] = {}
    for reading in readings:
        problems.extend(reading.problems)
        for name, value in _validated(reading, problems).items():
            if name not in sources:
                effective[name] = value
                sources[name] = reading.values[name].source
    if problems:
        raise ConfigError(problems)
    return LoadedConfig(CoordinationConfig(**effective), {name: sources.get(name, DEFAULT) for name in FIELDS})


def _show(value: Any) -> str:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def format_config(loaded: LoadedConfig) -> str:
    """One aligned line per field: ``max_retries = 7    (env COORDINATION_MAX_RETRIES)``."""
    rows = [(f"{name} = {_show(getattr(loaded.config, name))}", loaded.sources[name]) for name in FIELDS]
    width = max(len(left) for left, _ in rows)
    return "\n".join(f"{left:<{width}}  ({source})" for left, source in rows)


def config_as_dict(loaded: LoadedConfig) -> dict[str, dict[str, Any]]:
    """JSON-ready ``{field: {"value", "source", "detail"}}`` in field order."""
    values = loaded.config.model_dump(mode="json")
    if values[_SECRET] is not None:
        values[_SECRET] = redact(values[_SECRET])
    return {
        name: {"value": values[name], "source": loaded.sources[name].kind, "detail": loaded.sources[name].detail}
        for name in FIELDS
    }
