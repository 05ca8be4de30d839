"""The pattern files: what the loader refuses (one line naming file, pattern and fault), that the
shipped files load, and the reset times the agents print."""
from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import pytest

from quarterdeck.core.activity.watch.patterns import CATEGORIES, PATTERNS_DIR, PatternError, load_dir, patterns_for
from quarterdeck.core.activity.watch.resets import TIME, parse_reset
from quarterdeck.core.transports.tmux.profiles import AGENT_KINDS

GOOD = """kind: demo
patterns:
  busy:
    - name: esc
      regex: 'esc to interrupt'
"""


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(PatternError) as caught:
        load_dir(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message and message.startswith("demo.yaml: ")
    return message


def test_the_shipped_files_load_with_every_kind():
    sets = load_dir(PATTERNS_DIR)
    assert set(sets) == {"claude-code", "codex", "aider", "gemini", "plain"} == set(AGENT_KINDS)  # the roster's kinds
    for kind, found in sets.items():
        categories = {p.category for p in found.patterns}
        assert categories <= set(CATEGORIES) and "exited" in categories and "idle" in categories, kind
        if kind != "plain":
            assert {"busy", "permission", "login", "rate_limit"} <= categories, kind
    assert patterns_for("codex") is patterns_for("codex")  # compiled once


@pytest.mark.parametrize(("text", "says"), [
    (GOOD.replace("'esc to interrupt'", "'esc (to'"), "busy/esc: regex does not compile: missing )"),
    (GOOD.replace("'esc to interrupt'", "''"), "busy/esc: regex is missing or empty"),
    (GOOD.replace("'esc to interrupt'", "'x*'"), "busy/esc: regex matches an empty line"),
    (GOOD.replace("name: esc", "name: Esc Key"), "busy/'Esc Key': name must be lower-case"),
    (GOOD + "    - name: esc\n      regex: 'again'\n", "busy/esc: the name is used twice"),
    (GOOD.replace("busy:", "bussy:"), "bussy: unknown category"),
    (GOOD.replace("kind: demo", "kind: other"), "kind must be 'demo' (the file's name), not 'other'"),
    (GOOD.replace("regex:", "flags: i\n      regex:"), "busy/esc: unknown key(s) flags"),
    (GOOD.replace("regex:", "span: 9\n      regex:"), "busy/esc: span must be a whole number from 1 to 5"),
    (GOOD.replace("regex:", "last_line: yes please\n      regex:"), "busy/esc: last_line must be true or false"),
    (GOOD.replace("'esc to interrupt'", "'resets (?P<reset>{time})'"),
     "busy/esc: only rate_limit patterns capture a reset time"),
    (GOOD.replace("busy:", "rate_limit:").replace("'esc to interrupt'", "'resets {time}'"),
     "rate_limit/esc: {time} must sit in a group named reset"),
    (GOOD + "tail: 1\n", "tail must be a whole number of lines from 3 to 100"),
    ("kind: demo\npatterns: [\n", "cannot be read"),
    ("- a list\n", "not a mapping with kind and patterns"),
])
def test_a_bad_file_is_refused_in_one_line_naming_the_pattern(tmp_path, text, says):
    assert says in refused(tmp_path, text)


def test_a_good_file_with_a_reset_group_loads(tmp_path):
    text = GOOD.replace("busy:", "rate_limit:").replace("'esc to interrupt'", "'resets (?P<reset>{time})'")
    (found,) = load_dir(write(tmp_path, text)).values()
    assert found.patterns[0].has_reset and found.tail == 15


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(PatternError, match="no pattern files"):
        load_dir(tmp_path)


def local(now: float, hour: int, minute: int = 0, days: int = 0) -> float:
    base = datetime.fromtimestamp(now).astimezone()
    return base.replace(hour=hour, minute=minute, second=0, microsecond=0).timestamp() + days * 86400


@pytest.mark.parametrize("text", ["7pm", "7:30pm", "4:04 PM", "19:00", "Dec 8, 7pm", "Dec 29th, 2025 10:15 PM",
                                  "7pm (America/New_York)", "7:30 PM UTC", "in 2.4s", "in 1m12s", "in 2h 30m",
                                  "5 PM GMT+1", "Jan 3 at 9am", "in 20ms"])
def test_every_reset_form_the_agents_print_is_a_time(text):
    assert re.fullmatch(TIME, text)
    assert parse_reset(text, time.time()) is not None


def test_a_clock_time_is_its_next_occurrence_in_local_time():
    now = local(time.time(), 13, 0)
    assert parse_reset("7pm", now) == local(now, 19)
    assert parse_reset("4:04 PM", now) == local(now, 16, 4)
    assert parse_reset("19:00", now) == local(now, 19)
    assert parse_reset("9am", now) == pytest.approx(local(now, 9, days=1), abs=3601)  # tomorrow (DST aside)
    assert parse_reset("1pm", now) == pytest.approx(local(now, 13, days=1), abs=3601)  # now is not "after now"
    assert parse_reset("in 1m12s", now) == now + 72
    assert parse_reset("12am", now) == pytest.approx(local(now, 0, days=1), abs=3601)


def test_a_named_zone_or_date_is_honoured():
    noon_utc = datetime.fromisoformat("2026-12-06T12:00:00+00:00").timestamp()
    assert parse_reset("7:30 PM UTC", noon_utc) == datetime.fromisoformat("2026-12-06T19:30:00+00:00").timestamp()
    assert parse_reset("5 PM GMT+1", noon_utc) == datetime.fromisoformat("2026-12-06T17:00:00+01:00").timestamp()
    now = datetime(2026, 12, 6, 12, 0).astimezone().timestamp()
    berlin = datetime.fromisoformat("2026-12-07T19:00:00+01:00").timestamp()
    assert parse_reset("7pm (Europe/Berlin)", datetime.fromisoformat("2026-12-06T19:30:00+01:00").timestamp()) == berlin
    assert parse_reset("Dec 29th, 2025 10:15 PM", now) == datetime(2025, 12, 29, 22, 15).astimezone().timestamp()
    assert parse_reset("Jan 3 at 9am", now) == datetime(2027, 1, 3, 9, 0).astimezone().timestamp()


@pytest.mark.parametrize("text", ["13pm", "25:00", "7", "soon", "Foo 3, 7pm", "7pm (Not/AZone)x"])
def test_what_is_not_a_time_gives_none_or_the_clock_alone(text):
    result = parse_reset(text, time.time())
    if text == "7pm (Not/AZone)x":
        assert result is not None  # an unknown zone: the clock in local time
    else:
        assert result is None
