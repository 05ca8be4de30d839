"""The models' plain values (what is written: unset keys left out where the models say so) and their errors
as people read them (``model_check``: the key, a sentence, every key at fault); the models load no pydantic."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from quarterdeck.core.model_check import Invalid, checked, checked_all, decoded, dumped
from quarterdeck.core.models import (
    Agent,
    DryRunTransport,
    GuiTransport,
    Message,
    TmuxSubmit,
    TmuxTransport,
    WindowMatch,
)

# --- what is written, and the errors as people read them --------------------------------------

def test_unset_keys_are_left_out_where_the_models_say_so():
    assert dumped(WindowMatch(class_="Code")) == {"class": "Code"}
    assert dumped(TmuxTransport(target="s:0.1")) == {"kind": "tmux", "target": "s:0.1"}
    assert dumped(TmuxTransport(target="s:0.1", submit=TmuxSubmit(presses=2))) == \
        {"kind": "tmux", "target": "s:0.1", "submit": {"presses": 2}}
    gui = dumped(GuiTransport(chat=(1, 2)))
    assert gui["onboarding"] is None and gui["paste_keys"] == ["ctrl", "v"]  # defaults written out
    assert checked(WindowMatch, {"class": "  Code "}).class_ == "Code"


@pytest.mark.parametrize(("data", "loc", "message"), [
    ({"kind": "gui", "chat": [1, "2"]}, ("transport", "chat", 1), "Input should be a valid integer"),
    ({"kind": "tmux"}, ("transport", "target"), "Field required"),
    ({"kind": "tmux", "target": "s:0", "bogus": 1}, ("transport", "bogus"), "Extra inputs are not permitted"),
    ({"kind": "tmux", "target": "s:0", "agent": "vim"}, ("transport", "agent"),
     "Input should be 'plain', 'claude-code', 'codex', 'aider' or 'gemini'"),
    ({"kind": "tmux", "target": "s:0", "submit": {"presses": 11}}, ("transport", "submit", "presses"),
     "Input should be less than or equal to 10"),
    ({"kind": "tmux", "target": "s:0", "submit": {"pause": 500}}, ("transport", "submit", "pause"),
     "Input should be less than or equal to 120"),
    ({"kind": "gui", "chat": [1, 2], "window": {"pid": 0}}, ("transport", "window", "pid"),
     "Input should be greater than 0"),
    ({"kind": "gui", "chat": [1, 2], "window": {}}, ("transport", "window"),
     "a window needs a class, a title or an id, e.g. {class: Cursor, title: api-service}"),
    ({"kind": "gui", "chat": [1, 2], "window": {"class": " "}}, ("transport", "window", "class"),
     "String should have at least 1 character"),
    ({"kind": "gui", "chat": [1, 2], "window": {"class": "X"},
      "onboarding_in_window": {"anchor": "top-left", "offset": [1, 2]}}, ("transport",),
     "onboarding_in_window needs 'onboarding' (the point as captured)"),
    ({"kind": "inbox", "path": Path("/tmp/in")}, None, None),
])
def test_errors_name_the_key_and_say_what_is_wrong(data, loc, message):
    if loc is None:  # a value already of the field's type passes through
        assert checked(Agent, {"id": "A", "transport": data}).transport.kind == data["kind"]
        return
    with pytest.raises(Invalid) as excinfo:
        checked(Agent, {"id": "A", "transport": data})
    [error] = excinfo.value.errors()
    assert (error["loc"], error["msg"]) == (loc, message)


def test_checked_all_reports_each_key_at_fault_once():
    agent, errors = checked_all(Agent, {"id": "9", "hooks": "vim", "transport": {
        "kind": "gui", "chat": [1.5, 2], "paste_keys": ["ctrl", "zz"], "window": {"title": " "}}})
    assert agent is None
    assert [(e["loc"], e["input"]) for e in errors] == [
        (("id",), "9"), (("hooks",), "vim"), (("transport", "chat", 0), 1.5),
        (("transport", "window", "title"), " "), (("transport", "paste_keys", 1), "zz")]
    _, errors = checked_all(Agent, {"id": "A", "transport": {"kind": "gui", "chat": [1, 2], "window": {
        "pid": 0, "id": -1, "title": "x"}, "submit_keys": []}})  # inside a mapping too, not just the first
    assert [e["loc"] for e in errors] == [("transport", "window", "pid"), ("transport", "window", "id"),
                                          ("transport", "submit_keys")]
    agent, errors = checked_all(Agent, {"id": "A", "transport": {"kind": "dryrun"}})
    assert errors == [] and agent == Agent(id="A", transport=DryRunTransport())


def test_a_check_across_keys_is_not_reported_after_the_key_it_needs_failed():
    _, errors = checked_all(Agent, {"id": "A", "transport": {
        "kind": "gui", "chat": [1, 2], "window": {"id": -1},
        "chat_in_window": {"anchor": "top-left", "offset": [1, 2]}}})
    assert [e["loc"] for e in errors] == [("transport", "window", "id")]
    _, errors = checked_all(Agent, {"id": "A", "transport": {
        "kind": "gui", "chat": [1, 2], "chat_in_window": {"anchor": "top-left", "offset": [1, 2]}}})
    assert [(e["loc"], e["msg"]) for e in errors] == [
        (("transport",), "chat_in_window needs 'window' (which window the point is in)")]


def test_bad_json_on_the_wire_is_invalid_too():
    with pytest.raises(Invalid) as excinfo:
        decoded(Message, b'{"sender": "C", "content": ')
    assert excinfo.value.errors()[0]["type"] == "json_invalid"
    with pytest.raises(Invalid) as excinfo:
        decoded(Message, b'{"sender": "C", "content": 5}')
    assert excinfo.value.errors()[0]["loc"] == ("content",) and excinfo.value.errors()[0]["input"] == 5


def test_the_models_and_the_roster_load_no_pydantic():
    probe = ("import sys\nimport quarterdeck.core.models, quarterdeck.core.roster.roster\n"
             "import quarterdeck.core.roster.edit, quarterdeck.core.roster.importing, quarterdeck.core.relay.protocol\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'), 'msgspec' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["[]", "True"]


def test_a_pattern_and_a_lower_bound_read_as_written_in_the_model():
    from quarterdeck.core.model_check import Invalid, checked
    from quarterdeck.core.models import Agent, TmuxSubmit

    with pytest.raises(Invalid) as bad_id:
        checked(Agent, {"id": "3x", "transport": {"kind": "tmux", "target": "-x"}})
    assert bad_id.value.errors()[0]["msg"] == "String should match pattern '^[A-Za-z][A-Za-z0-9_.-]{0,63}$'"
    with pytest.raises(Invalid) as bad_target:
        checked(Agent, {"id": "A", "transport": {"kind": "tmux", "target": "-x"}})
    assert bad_target.value.errors()[0]["msg"] == r"String should match pattern '^[^\s-][^\x00-\x1f\x7f]*$'"
    with pytest.raises(Invalid) as presses:
        checked(TmuxSubmit, {"presses": 0})
    assert presses.value.errors()[0]["msg"] == "Input should be greater than or equal to 1"  # not the ids' "> 0"


def test_the_text_of_an_error_names_the_key_at_fault():
    """One line, the key first (what ``agents capture`` prints for a bad window id or pid)."""
    with pytest.raises(Invalid) as bad_id:
        checked(WindowMatch, {"class": "Code", "id": 0})
    assert str(bad_id.value) == "id: Input should be greater than 0"
    with pytest.raises(Invalid) as nested:
        checked(Agent, {"id": "A", "transport": {"kind": "gui", "chat": [1, 2], "window": {"pid": -3}}})
    assert str(nested.value) == "transport.window.pid: Input should be greater than 0"
    with pytest.raises(Invalid) as whole:
        checked(WindowMatch, {})
    assert str(whole.value) == "a window needs a class, a title or an id, e.g. {class: Cursor, title: api-service}"
