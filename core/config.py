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

import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

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
from quarterdeck.core.paths import NoHome, default_config_file, home_expanded

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
_SECRET = "broker_url"  # shown redacted everywhere


class CoordinationConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Validation, retry, circuit-breaker and monitoring settings. Calling the class checks nothing:
    :func:`load_config` checks every value it reads (:data:`_CHECKS`)."""

    enable_validation: bool = True
    validation_rules_path: Path | None = None
    max_retries: int = 3
    base_delay: float = 1.0
    backoff_multiplier: float = 2.0
    circuit_breaker_threshold: int = 5
    enable_performance_monitoring: bool = True
    collection_interval: float = 5.0
    max_data_points: int = 1000
    broker_url: str | None = None
    relay_wait: float = 30.0


FIELDS: tuple[str, ...] = CoordinationConfig.__struct_fields__

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_INT_TEXT = re.compile(r"[+-]?[0-9](?:_?[0-9])*(?:\.0+)?")


def _text(value: Any) -> str | None:
    """Text to convert, stripped: from a string or bytes, else None."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip() if isinstance(value, str) else None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if isinstance(word, str):
        if (lowered := word.lower()) in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValueError("not true or false")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 63:
        return int(value)
    text = _text(value)
    if text is not None and _INT_TEXT.fullmatch(text):
        return int(text.split(".")[0])
    raise ValueError("not an integer")


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    text = _text(value)
    if isinstance(value, float):
        number = value
    elif isinstance(value, int):
        try:
            number = float(value)
        except OverflowError:  # past the largest float
            number = math.inf
    elif text is not None and text.isascii() and any(char.isdigit() for char in text):
        number = float(text)  # ValueError when it is no number
    else:
        raise ValueError("not a number")
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _path(value: Any) -> Path | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # the bundled rules
    if not isinstance(value, str | Path):
        raise ValueError("not a path")
    return home_expanded(value)


def _broker(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError("not text")
    return check_broker_url(value)


# each setting: its conversion, its lower bound and whether the bound is strict (>), in words
_CHECKS: dict[str, tuple[Callable[[Any], Any], float | None, bool, str]] = {
    "enable_validation": (_bool, None, False, "true or false"),
    "validation_rules_path": (_path, None, False, "a path (empty or null for the bundled rules)"),
    "max_retries": (_int, 0, False, "an integer"),
    "base_delay": (_float, 0, False, "a finite number"),
    "backoff_multiplier": (_float, 1, False, "a finite number"),
    "circuit_breaker_threshold": (_int, 1, False, "an integer"),
    "enable_performance_monitoring": (_bool, None, False, "true or false"),
    "collection_interval": (_float, 0, True, "a finite number"),
    "max_data_points": (_int, 1, False, "an integer"),
    "broker_url": (_broker, None, False, "a redis:// or rediss:// URL (empty or null for none)"),
    "relay_wait": (_float, 0, True, "a finite number"),
}


def expected_for(name: str) -> str:
    """What a field accepts, in words: ``'an integer >= 0'``."""
    _, bound, strict, words = _CHECKS[name]
    return words if bound is None else f"{words} {'>' if strict else '>='} {bound:g}"


def _checked(name: str, value: Any, base_dir: Path | None) -> Any:
    """``value`` as setting ``name``; ValueError says why not."""
    convert, bound, strict, _ = _CHECKS[name]
    converted = convert(value)
    if bound is not None and not (converted > bound if strict else converted >= bound):
        raise ValueError(f"{'greater than' if strict else 'at least'} {bound:g} needed")
    if isinstance(converted, Path) and base_dir is not None and not converted.is_absolute():
        return base_dir / converted
    return converted


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
    """The reading's values after validation; on failure (of any), adds one problem per bad field
    and returns nothing."""
    values: dict[str, Any] = {}
    bad: list[ConfigProblem] = []
    for name in (name for name in FIELDS if name in reading.values):  # in the fields' order
        item = reading.values[name]
        try:
            values[name] = _checked(name, item.value, reading.base_dir)
        except ValueError as exc:
            text = redact(item.text) if name == _SECRET else item.text
            why = f" ({exc})" if name == _SECRET or isinstance(exc, NoHome) else ""
            bad.append(ConfigProblem(name, item.origin, expected_for(name), f"invalid value {text!r}{why}", text))
    problems.extend(bad)
    return {} if bad else values


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
    values = msgspec.to_builtins(loaded.config, enc_hook=str)
    if values[_SECRET] is not None:
        values[_SECRET] = redact(values[_SECRET])
    return {
        name: {"value": values[name], "source": loaded.sources[name].kind, "detail": loaded.sources[name].detail}
        for name in FIELDS
    }
