"""Coordination settings: precedence, provenance, every error kind, and the user folders."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import msgspec
import platformdirs
import pytest
import yaml

from quarterdeck.core import paths
from quarterdeck.core.config import ConfigError, CoordinationConfig, config_as_dict, format_config, load_config
from quarterdeck.core.config_sources import ValueSource, _syntax_problem

VALID_KEYS = (
    "enable_validation, validation_rules_path, max_retries, base_delay, backoff_multiplier, "
    "circuit_breaker_threshold, enable_performance_monitoring, collection_interval, max_data_points, "
    "broker_url, relay_wait"
)


def write(tmp_path: Path, text: str, name: str = "coordination.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(excinfo) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


# --- user folders ---------------------------------------------------------------------------

def test_folders_follow_the_override_variables(tmp_path):
    env = {"QUARTERDECK_CONFIG_DIR": str(tmp_path / "c"), "QUARTERDECK_DATA_DIR": str(tmp_path / "d")}
    assert paths.user_config_dir(env) == tmp_path / "c"
    assert paths.user_data_dir(env) == tmp_path / "d"
    assert paths.user_log_dir(env) == tmp_path / "d" / "logs"
    assert paths.default_config_file(env) == tmp_path / "c" / "coordination.yaml"
    assert paths.default_roster_file(env) == tmp_path / "c" / "agents.yaml"


def test_folders_default_to_platformdirs_without_an_author_folder():
    env = {"QUARTERDECK_CONFIG_DIR": "", "UNRELATED": "x"}
    assert paths.user_config_dir(env) == platformdirs.user_config_path("quarterdeck", appauthor=False)
    assert paths.user_data_dir(env) == platformdirs.user_data_path("quarterdeck", appauthor=False)
    assert paths.user_log_dir(env) == platformdirs.user_log_path("quarterdeck", appauthor=False)


def test_folders_read_the_process_environment_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("QUARTERDECK_CONFIG_DIR", str(tmp_path / "here"))
    assert paths.default_config_file() == tmp_path / "here" / "coordination.yaml"


def test_nothing_is_created_until_ensure_dir(tmp_path):
    env = {"QUARTERDECK_CONFIG_DIR": str(tmp_path / "cfg")}
    load_config(env=env)
    assert not (tmp_path / "cfg").exists()
    target = tmp_path / "a" / "b"
    assert paths.ensure_dir(target) == target and target.is_dir()
    assert paths.ensure_dir(target) == target


# --- precedence and provenance ----------------------------------------------------------------

SOURCES = ("argument", "env", "file")


@pytest.mark.parametrize(
    "present", [c for n in range(4) for c in itertools.combinations(SOURCES, n)], ids=lambda c: "+".join(c) or "none"
)
def test_highest_source_wins_in_every_combination(tmp_path, present):
    path = write(tmp_path, "# settings\nmax_retries: 5\n" if "file" in present else "")
    env = {"COORDINATION_MAX_RETRIES": "7"} if "env" in present else {}
    overrides = {"max_retries": 9} if "argument" in present else None
    loaded = load_config(path, overrides=overrides, env=env)
    expected = {
        "argument": (9, ValueSource("argument", "")),
        "env": (7, ValueSource("env", "COORDINATION_MAX_RETRIES")),
        "file": (5, ValueSource("file", f"{path}:2")),
    }
    value, source = next((expected[s] for s in SOURCES if s in present), (3, ValueSource("default", "")))
    assert loaded.config.max_retries == value
    assert loaded.sources["max_retries"] == source
    assert loaded.sources["base_delay"] == ValueSource("default", "")


def test_sources_mix_field_by_field(tmp_path):
    path = write(tmp_path, "base_delay: 0.5\nmax_retries: 1\ncollection_interval: 2\n")
    loaded = load_config(path, overrides={"collection_interval": 9.5}, env={"COORDINATION_MAX_RETRIES": "4"})
    assert (loaded.config.base_delay, loaded.config.max_retries, loaded.config.collection_interval) == (0.5, 4, 9.5)
    assert [loaded.sources[n].kind for n in ("base_delay", "max_retries", "collection_interval", "max_data_points")] \
        == ["file", "env", "argument", "default"]


def test_env_names_match_without_regard_to_case(tmp_path):
    loaded = load_config(env={"coordination_Max_Retries": "6", "QUARTERDECK_CONFIG_DIR": str(tmp_path)})
    assert loaded.config.max_retries == 6
    assert loaded.sources["max_retries"] == ValueSource("env", "coordination_Max_Retries")


def test_two_spellings_of_one_variable_are_an_error(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_config(env={"COORDINATION_BASE_DELAY": "1", "coordination_base_delay": "2",
                         "QUARTERDECK_CONFIG_DIR": str(tmp_path)})
    assert problems_of(excinfo) == [
        "base_delay: set by more than one variable from env COORDINATION_BASE_DELAY, coordination_base_delay: "
        "expected only one of these variables to be set"
    ]


def test_unrelated_prefixed_variables_are_ignored(tmp_path):
    loaded = load_config(env={"COORDINATION_SERVER": "x", "QUARTERDECK_CONFIG_DIR": str(tmp_path)})
    assert loaded.config == CoordinationConfig()


def test_process_environment_is_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("COORDINATION_ENABLE_VALIDATION", "false")
    loaded = load_config()
    assert loaded.config.enable_validation is False
    assert loaded.sources["enable_validation"] == ValueSource("env", "COORDINATION_ENABLE_VALIDATION")


def test_default_file_is_read_from_the_config_folder(tmp_path):
    write(tmp_path, "max_data_points: 50\n")
    loaded = load_config(env={"QUARTERDECK_CONFIG_DIR": str(tmp_path)})
    assert loaded.config.max_data_points == 50
    assert loaded.sources["max_data_points"] == ValueSource("file", f"{tmp_path / 'coordination.yaml'}:1")


def test_missing_default_file_means_all_defaults(tmp_path):
    loaded = load_config(env={"QUARTERDECK_CONFIG_DIR": str(tmp_path / "absent")})
    assert loaded.config == CoordinationConfig()
    assert set(loaded.sources.values()) == {ValueSource("default", "")}


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing set yet\n", "---\n", "~\n"])
def test_empty_file_means_all_defaults(tmp_path, text):
    assert load_config(write(tmp_path, text), env={}).config == CoordinationConfig()


def test_defaults_are_the_documented_ones():
    assert msgspec.structs.asdict(CoordinationConfig()) == {
        "enable_validation": True, "validation_rules_path": None, "max_retries": 3, "base_delay": 1.0,
        "backoff_multiplier": 2.0, "circuit_breaker_threshold": 5, "enable_performance_monitoring": True,
        "collection_interval": 5.0, "max_data_points": 1000, "broker_url": None, "relay_wait": 30.0,
    }


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        CoordinationConfig().max_retries = 4  # type: ignore[misc]


def test_strings_from_env_convert_to_each_type(tmp_path):
    env = {"COORDINATION_ENABLE_PERFORMANCE_MONITORING": "no", "COORDINATION_BACKOFF_MULTIPLIER": "1.5",
           "COORDINATION_CIRCUIT_BREAKER_THRESHOLD": "2", "COORDINATION_VALIDATION_RULES_PATH": "/opt/rules",
           "QUARTERDECK_CONFIG_DIR": str(tmp_path)}
    config = load_config(env=env).config
    assert config.enable_performance_monitoring is False
    assert (config.backoff_multiplier, config.circuit_breaker_threshold) == (1.5, 2)
    assert config.validation_rules_path == Path("/opt/rules")


# --- rules path --------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "given", "value"), [
    ("max_retries", "1_000", 1000), ("max_retries", " 7 ", 7), ("max_retries", "+3", 3), ("max_retries", "2.0", 2),
    ("max_retries", 4.0, 4), ("max_retries", b"5", 5), ("base_delay", "1e3", 1000.0), ("base_delay", ".5", 0.5),
    ("base_delay", "-0", -0.0), ("base_delay", 10 ** 20, 1e20), ("base_delay", 2 ** 1023, 2.0 ** 1023),
    ("enable_validation", "On", True), ("enable_validation", "n", False), ("enable_validation", 0, False),
    ("enable_validation", 1.0, True),
    ("validation_rules_path", " ", None), ("broker_url", "  ", None),
])
def test_values_convert_leniently_where_they_mean_one_thing(tmp_path, name, given, value):
    loaded = load_config(overrides={name: given}, env={"QUARTERDECK_CONFIG_DIR": str(tmp_path)})
    got = getattr(loaded.config, name)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(("name", "given"), [
    ("max_retries", "1.5"), ("max_retries", "1e3"), ("max_retries", "1__0"), ("max_retries", "\u0663"),
    ("max_retries", 1e308), ("max_retries", True), ("base_delay", "nan"), ("base_delay", "Infinity"),
    ("base_delay", 10 ** 400), ("base_delay", "\uff11"), ("base_delay", False), ("base_delay", []),
    ("enable_validation", 2), ("enable_validation", " true"), ("validation_rules_path", 3), ("broker_url", 3),
])
def test_values_that_mean_nothing_or_too_much_are_refused(tmp_path, name, given):
    with pytest.raises(ConfigError) as excinfo:
        load_config(overrides={name: given}, env={"QUARTERDECK_CONFIG_DIR": str(tmp_path)})
    assert problems_of(excinfo)[0].startswith(f"{name}: invalid value ")


def test_relative_rules_path_in_file_is_relative_to_the_file(tmp_path):
    path = write(tmp_path, "validation_rules_path: my-rules\n")
    assert load_config(path, env={}).config.validation_rules_path == tmp_path / "my-rules"


def test_relative_rules_path_from_env_stays_relative(tmp_path):
    config = load_config(env={"COORDINATION_VALIDATION_RULES_PATH": "r", "QUARTERDECK_CONFIG_DIR": str(tmp_path)})
    assert config.config.validation_rules_path == Path("r")


@pytest.mark.parametrize("text", ["validation_rules_path:\n", "validation_rules_path: ''\n",
                                  "validation_rules_path: null\n"])
def test_blank_or_null_rules_path_means_bundled(tmp_path, text):
    assert load_config(write(tmp_path, text), env={}).config.validation_rules_path is None


def test_home_is_expanded_in_rules_path(tmp_path):
    path = write(tmp_path, "validation_rules_path: ~/rules\n")
    assert load_config(path, env={}).config.validation_rules_path == Path.home() / "rules"


# --- errors ----------------------------------------------------------------------------------

def test_bad_file_value_names_field_position_and_expected_type(tmp_path):
    path = write(tmp_path, "enable_validation: true\nbase_delay: 0.5\nmax_retries: lots\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    [problem] = excinfo.value.problems
    assert str(problem) == f"max_retries: invalid value 'lots' from {path}:3:14: expected an integer >= 0"
    assert (problem.field, problem.value, problem.expected) == ("max_retries", "lots", "an integer >= 0")
    assert problem.source == ValueSource("file", f"{path}:3:14")


@pytest.mark.parametrize(("name", "bad", "expected"), [
    ("enable_validation", "maybe", "true or false"),
    ("validation_rules_path", "[a, b]", "a path (empty or null for the bundled rules)"),
    ("max_retries", "-1", "an integer >= 0"),
    ("max_retries", "2.5", "an integer >= 0"),
    ("max_retries", "true", "an integer >= 0"),
    ("base_delay", "-0.1", "a finite number >= 0"),
    ("base_delay", ".inf", "a finite number >= 0"),
    ("backoff_multiplier", "0.5", "a finite number >= 1"),
    ("circuit_breaker_threshold", "0", "an integer >= 1"),
    ("enable_performance_monitoring", "2", "true or false"),
    ("collection_interval", "0", "a finite number > 0"),
    ("collection_interval", ".nan", "a finite number > 0"),
    ("max_data_points", "no", "an integer >= 1"),
])
def test_each_field_explains_what_it_expects(tmp_path, name, bad, expected):
    path = write(tmp_path, f"{name}: {bad}\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    col = len(name) + 3
    assert problems_of(excinfo) == [f"{name}: invalid value {bad!r} from {path}:1:{col}: expected {expected}"]


def test_bad_env_and_argument_values_name_their_source(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_config(overrides={"base_delay": "soon"},
                    env={"COORDINATION_MAX_RETRIES": "lots", "QUARTERDECK_CONFIG_DIR": str(tmp_path)})
    assert problems_of(excinfo) == [
        "base_delay: invalid value 'soon' from argument: expected a finite number >= 0",
        "max_retries: invalid value 'lots' from env COORDINATION_MAX_RETRIES: expected an integer >= 0",
    ]


def test_every_problem_is_collected_and_str_has_one_line_each(tmp_path):
    path = write(tmp_path, "max_retries: x\nmax_retrys: 3\nbase_delay: -1\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, overrides={"colour": "red"}, env={"COORDINATION_MAX_DATA_POINTS": "0"})
    lines = str(excinfo.value).splitlines()
    assert lines == problems_of(excinfo)
    assert [p.field for p in excinfo.value.problems] == \
        ["colour", "max_data_points", "max_retrys", "max_retries", "base_delay"]
    assert [p.source.kind for p in excinfo.value.problems] == ["argument", "env", "file", "file", "file"]


def test_a_bad_value_is_reported_even_when_a_higher_source_shadows_it(tmp_path):
    path = write(tmp_path, "max_retries: lots\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={"COORDINATION_MAX_RETRIES": "2"})
    assert problems_of(excinfo) == [f"max_retries: invalid value 'lots' from {path}:1:14: expected an integer >= 0"]


def test_unknown_key_in_file_lists_the_valid_keys(tmp_path):
    path = write(tmp_path, "max_retries: 2\n  # indented comment\nmax_retrys: 3\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    assert problems_of(excinfo) == [f"max_retrys: unknown key from {path}:3:1: expected one of {VALID_KEYS}"]


def test_unknown_override_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_config(overrides={"retries": 1}, env={"QUARTERDECK_CONFIG_DIR": str(tmp_path)})
    assert problems_of(excinfo) == [f"retries: unknown key from argument: expected one of {VALID_KEYS}"]


def test_non_string_and_nested_keys_are_unknown(tmp_path):
    path = write(tmp_path, "3: x\n? [a, b]\n: y\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    assert [(p.field, p.source.detail) for p in excinfo.value.problems] == [("3", f"{path}:1:1"), ("?", f"{path}:2:3")]


def test_duplicate_key_is_an_error(tmp_path):
    path = write(tmp_path, "max_retries: 2\nbase_delay: 1\nmax_retries: 4\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    assert problems_of(excinfo) == [
        f"max_retries: duplicate key (first set on line 1) from {path}:3:1: expected each setting at most once"
    ]


@pytest.mark.parametrize(("text", "where", "reason"), [
    ("max_retries: [1, 2\nbase_delay: 3\n", "2:11",
     "while parsing a flow sequence, expected ',' or ']', but got ':'"),
    ("base_delay: 1\nmax_retries: [1, 2", "2:14",
     "while parsing a flow sequence, expected ',' or ']', but got '<stream end>'"),
    ("max_retries: 1\n\tbase_delay: 2\n", "2:1",
     "while scanning for the next token, found character '\\t' that cannot start any token"),
    ("max_retries: a: b\n", "1:15", "mapping values are not allowed here"),
    ("max_retries: 1\n---\nbase_delay: 2\n", "2:1",
     "expected a single document in the stream, but found another document"),
    ("max_retries: \x07\n", "1:14", "special characters are not allowed"),
])
def test_yaml_syntax_errors_point_at_line_and_column(tmp_path, text, where, reason):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    assert problems_of(excinfo) == [f"config: invalid YAML ({reason}) from {path}:{where}: expected valid YAML"]


def test_a_yaml_error_without_a_position_still_names_the_file(tmp_path):
    problem = _syntax_problem(tmp_path / "c.yaml", "", yaml.MarkedYAMLError(problem="broken"))
    assert str(problem) == f"config: invalid YAML (broken) from {tmp_path / 'c.yaml'}: expected valid YAML"


@pytest.mark.parametrize(("text", "kind"), [("- 1\n- 2\n", "list"), ("just words\n", "single value")])
def test_top_level_must_be_a_mapping(tmp_path, text, kind):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    assert problems_of(excinfo) == [
        f"config: the document is a {kind} from {path}:1:1: expected a mapping of setting names to values"
    ]


def test_unconstructible_value_is_reported_at_the_value(tmp_path):
    path = write(tmp_path, "base_delay: !seconds 3\nmax_retries: 2020-13-45\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    assert problems_of(excinfo) == [
        f"base_delay: unreadable value (could not determine a constructor for the tag '!seconds') from {path}:1:13: "
        "expected a plain YAML value",
        f"max_retries: unreadable value (month must be in 1..12) from {path}:2:14: expected a plain YAML value",
    ]


def test_explicit_missing_file_is_an_error(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as excinfo:
        load_config(str(missing), env={})
    assert problems_of(excinfo) == [f"config: file not found from {missing}: expected an existing YAML file"]


def test_unreadable_files_are_errors(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_config(tmp_path, env={})
    assert problems_of(excinfo) == [f"config: cannot read the file (Is a directory) from {tmp_path}: "
                                    "expected a readable YAML file"]
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"max_retries: \xff\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(binary, env={})
    assert problems_of(excinfo) == [f"config: cannot read the file (invalid start byte at byte 13) from {binary}: "
                                    "expected UTF-8 text"]


# --- showing the effective config ------------------------------------------------------------

def test_format_config_shows_value_and_source_per_line(tmp_path):
    path = write(tmp_path, "\n\nbase_delay: 0.5\nenable_validation: off\n")
    loaded = load_config(path, overrides={"validation_rules_path": "/r"}, env={"COORDINATION_MAX_RETRIES": "7"})
    rows = [
        ("enable_validation = false", f"file {path}:4"),
        ("validation_rules_path = /r", "argument"),
        ("max_retries = 7", "env COORDINATION_MAX_RETRIES"),
        ("base_delay = 0.5", f"file {path}:3"),
        ("backoff_multiplier = 2.0", "default"),
        ("circuit_breaker_threshold = 5", "default"),
        ("enable_performance_monitoring = true", "default"),
        ("collection_interval = 5.0", "default"),
        ("max_data_points = 1000", "default"),
        ("broker_url = null", "default"),
        ("relay_wait = 30.0", "default"),
    ]
    assert format_config(loaded).splitlines() == [f"{left:<36}  ({source})" for left, source in rows]
    assert format_config(loaded).splitlines()[6] == "enable_performance_monitoring = true  (default)"


def test_config_as_dict_is_json_ready(tmp_path):
    path = write(tmp_path, "validation_rules_path: rules\n")
    data = json.loads(json.dumps(config_as_dict(load_config(path, env={"COORDINATION_BASE_DELAY": "0.25"}))))
    assert data["base_delay"] == {"value": 0.25, "source": "env", "detail": "COORDINATION_BASE_DELAY"}
    assert data["validation_rules_path"] == {"value": str(tmp_path / "rules"), "source": "file", "detail": f"{path}:1"}
    assert data["max_retries"] == {"value": 3, "source": "default", "detail": ""}
    assert list(data) == VALID_KEYS.split(", ")
