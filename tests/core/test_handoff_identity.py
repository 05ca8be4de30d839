"""A send's identity (what its meaning depends on): a sender and a serve agree on it only when the
settings they read are the same, and the configuration reads ``COORDINATION_*`` whatever the case."""
from __future__ import annotations

from pathlib import Path

from quarterdeck.core.handoff.wire import identity


def _env_part(env: dict[str, str], tmp_path: Path) -> object:
    return identity(tmp_path, None, tmp_path / "coordination.yaml", None, env)["env"]


def test_a_setting_in_lower_case_changes_the_identity_as_the_upper_case_one_does(tmp_path):
    plain = _env_part({"PATH": "/usr/bin"}, tmp_path)
    upper = _env_part({"PATH": "/usr/bin", "COORDINATION_ENABLE_VALIDATION": "false"}, tmp_path)
    lower = _env_part({"PATH": "/usr/bin", "coordination_enable_validation": "false"}, tmp_path)
    assert upper != plain and lower != plain
    assert lower == upper  # the same setting, as the configuration reads it


def test_other_variables_leave_the_identity_alone(tmp_path):
    assert _env_part({"PATH": "/usr/bin"}, tmp_path) == _env_part({"PATH": "/bin", "HOME": "/x"}, tmp_path)
