"""The pane classifier over every fixture screen (tests/fixtures/panes/expected.yaml), the
pattern files' checks and the reset times the agents print."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from quarterdeck.core.activity import events
from quarterdeck.core.activity.watch.classify import classify, match, tail_lines
from quarterdeck.core.activity.watch.patterns import PATTERNS_DIR, load_dir, patterns_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "panes"
MANIFEST = yaml.safe_load((FIXTURES / "expected.yaml").read_text(encoding="utf-8"))
NOW = datetime.strptime(MANIFEST["now"], "%Y-%m-%d %H:%M").astimezone().timestamp()
CASES = MANIFEST["fixtures"]


def expected_reset(spec: str) -> float:
    """"+72s", "16:04" (local) or "19:00 Europe/Berlin": the next such moment after NOW."""
    if spec.startswith("+"):
        return NOW + float(spec[1:].rstrip("s"))
    clock, _, zone = spec.partition(" ")
    hour, minute = map(int, clock.split(":"))
    base = datetime.fromtimestamp(NOW, ZoneInfo(zone)) if zone else datetime.fromtimestamp(NOW).astimezone()
    moment = base.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment.timestamp() <= NOW:
        moment += timedelta(days=1)
    return moment.timestamp()


def case_id(case: dict) -> str:
    return case["file"] + (f"@{case['changed']}s" if "changed" in case else "")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_each_fixture_is_seen_as_expected(case):
    kind = case["file"].split("/")[0]
    text = (FIXTURES / case["file"]).read_text(encoding="utf-8")
    changed_at = NOW - case["changed"] if "changed" in case else None
    seen = classify(kind, text, NOW, changed_at=changed_at)
    assert seen.kind == case["seen"], seen
    assert seen.waits_for == case.get("waits"), seen
    if "pattern" in case:
        assert seen.pattern == f"{kind}/{case['pattern']}", seen
        assert seen.line and seen.line.split("  ")[0][:40] in text, seen
    else:
        assert seen.pattern is None and seen.line is None, seen
    if "resets" in case:
        assert seen.resets_at == pytest.approx(expected_reset(case["resets"]), abs=1), seen
        assert "(resets " in seen.name
    else:
        assert seen.resets_at is None, seen
    event = seen.event("Agent-1", NOW)
    assert event.source == events.TMUX_WATCH and event.kind == seen.kind and event.at == NOW
    assert (event.detail is not None) == ("resets" in case)


def test_every_fixture_file_has_an_expectation_and_says_where_it_came_from():
    files = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.txt")}
    listed = {case["file"] for case in CASES}
    assert files == listed
    assert all(name.endswith((".real.txt", ".source.txt")) for name in files)
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for name in files:
        if name.endswith(".source.txt"):
            assert name.removesuffix(".source.txt").split("/", 1)[1].split("-")[0] in readme, name


def test_every_pattern_matches_in_some_fixture():
    matched: set[str] = set()
    for case in CASES:
        kind = case["file"].split("/")[0]
        patterns = patterns_for(kind)
        text = (FIXTURES / case["file"]).read_text(encoding="utf-8")
        matched |= {f"{kind}/{hit.pattern.category}/{hit.pattern.name}"
                    for hit in match(patterns, tail_lines(text, patterns.tail))}
    every = {f"{kind}/{p.category}/{p.name}" for kind, sets in load_dir(PATTERNS_DIR).items() for p in sets.patterns}
    assert every - matched == set()


def test_old_text_above_the_tail_does_not_count():
    limit = "You've hit your session limit · resets 7pm (Europe/Berlin)"
    screen = "\n".join([limit] + [f"line {i}" for i in range(20)] + ["❯ "])
    seen = classify("claude-code", screen, NOW)
    assert seen.kind == events.SEEN_IDLE and seen.pattern == "claude-code/idle/input-box"


def test_a_message_above_a_later_prompt_is_old_news():
    # the limit came, then the captain sent another prompt and it was answered
    screen = "\n".join(["❯ rebuild", "  ⎿  API Error: Request rejected (429) · slow down",
                        "❯ try again", "● Done.", "────", "❯ ", "────", "  ? for shortcuts"])
    assert classify("claude-code", screen, NOW).kind == events.SEEN_IDLE
    assert classify("claude-code", screen.replace("❯ try again\n", ""), NOW).kind == events.SEEN_RATE_LIMITED


def test_a_busy_line_below_a_limit_means_working_again_and_above_it_limited():
    limit, busy = "■ You’ve hit your usage limit. Try again at 4:04 PM.", "◦ Working (3s • esc to interrupt)"
    assert classify("codex", f"{limit}\n{busy}\n› Ask", NOW).kind == events.SEEN_WORKING
    assert classify("codex", f"{busy}\n{limit}\n› Ask", NOW).kind == events.SEEN_RATE_LIMITED


def test_an_aider_question_counts_only_at_the_input_line():
    asked = "No git repo found, create one to track aider's changes (recommended)? (Y)es/(N)o [Yes]:"
    assert classify("aider", asked, NOW).waits_for == events.QUESTION
    assert classify("aider", f"{asked}\nGit repository created\n>", NOW).kind == events.SEEN_IDLE


def test_no_pattern_is_working_while_the_screen_changes_and_idle_when_quiet():
    assert classify("plain", "compiling", NOW, changed_at=NOW - 4.9).kind == events.SEEN_WORKING
    quiet = classify("plain", "compiling", NOW, changed_at=NOW - 5.0)
    assert quiet.kind == events.SEEN_IDLE and quiet.name == "screen quiet 5 s"
    assert classify("plain", "compiling", NOW, changed_at=NOW - 1, quiet_after=0.5).kind == events.SEEN_IDLE
    assert classify("plain", "", NOW).kind == events.SEEN_IDLE
    menu = classify("codex", "  /model  choose what model to use", NOW, changed_at=NOW - 30)
    assert (menu.kind, menu.name) == (events.SEEN_IDLE, "screen quiet 5 s, no input prompt seen")


def test_an_unknown_kind_is_refused_by_name():
    with pytest.raises(ValueError, match="no screen patterns for agent kind 'cursor'"):
        classify("cursor", "", NOW)
