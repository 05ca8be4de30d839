"""Messages and roster entries: defaults, JSON round trips, and what the models refuse (through
``model_check.checked``, as input from outside is built; calling a class checks only across fields)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from quarterdeck.core.model_check import FieldError, Invalid, checked, decoded, dumped, encoded
from quarterdeck.core.models import (
    STANDARD_TAGS,
    Agent,
    DryRunTransport,
    GuiTransport,
    InboxTransport,
    Message,
    TmuxTransport,
    TransportSettings,
)


def msg(**kw) -> Message:
    return Message(**{"sender": "Captain", "content": "hi", **kw})


# --- Message ---------------------------------------------------------------------------------

def test_message_defaults():
    before = datetime.now(UTC)
    m = msg()
    assert (m.recipients, m.type, m.priority, m.tags, m.sender_kind) == ([], "text", "normal", [], "captain")
    assert len(m.id) == 32 and int(m.id, 16) >= 0 and m.id != msg().id
    assert m.created_at.tzinfo is UTC and before <= m.created_at <= datetime.now(UTC)


def test_message_round_trips_through_json():
    m = msg(recipients=["Agent-1", "Agent-2"], type="broadcast", priority="urgent", tags=["captain", "db-fix"],
            sender_kind="human", created_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    assert decoded(Message, encoded(m)) == m
    assert checked(Message, dumped(m)) == m
    assert dumped(m)["created_at"] == "2024-05-01T12:00:00Z"


def test_message_keeps_an_explicit_id():
    assert msg(id="abc").id == "abc"
    with pytest.raises(Invalid):
        checked(Message, {"sender": "Captain", "content": "hi", "id": ""})


@pytest.mark.parametrize("field", ["sender", "content"])
def test_message_requires_sender_and_content(field):
    data = {"sender": "Captain", "content": "hi"}
    del data[field]
    with pytest.raises(Invalid) as excinfo:
        checked(Message, data)
    assert excinfo.value.errors()[0]["loc"] == (field,)
    assert excinfo.value.errors()[0]["msg"] == "Field required"


def test_message_allows_what_the_rule_engine_judges():
    m = msg(sender="", content="   ", recipients=["nobody-known"])
    assert (m.sender, m.content) == ("", "   ")


@pytest.mark.parametrize(("field", "value"), [
    ("type", "shout"), ("priority", "high"), ("sender_kind", "robot"), ("recipients", "Agent-1"), ("extra", 1),
])
def test_message_rejects_bad_fields(field, value):
    with pytest.raises(Invalid) as excinfo:
        checked(Message, {"sender": "Captain", "content": "hi", field: value})
    assert excinfo.value.errors()[0]["loc"][0] == field


def test_created_at_must_be_aware_and_is_kept_in_utc():
    with pytest.raises(Invalid, match="timezone"):
        checked(Message, {"sender": "Captain", "content": "hi", "created_at": "2024-01-01T09:00:00"})
    with pytest.raises(FieldError, match="timezone"):
        msg(created_at=datetime(2024, 1, 1, 9, 0))
    moment = datetime(2024, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    m = msg(created_at=moment)
    assert m.created_at == moment and m.created_at.tzinfo is UTC and m.created_at.hour == 7


def test_standard_and_user_tags():
    assert STANDARD_TAGS == ("captain", "onboarding", "wrapup")
    tags = [*STANDARD_TAGS, "db", "fix_2", "q3-plan", "9lives"]
    assert msg(tags=tags).tags == tags


@pytest.mark.parametrize("tag", ["Urgent", "two words", "-lead", "_lead", "", "tag!", "émoji"])
def test_bad_tags_are_rejected(tag):
    with pytest.raises(Invalid) as excinfo:
        checked(Message, {"sender": "Captain", "content": "hi", "tags": ["ok", tag]})
    assert excinfo.value.errors()[0]["loc"] == ("tags", 1)
    with pytest.raises(FieldError, match="is not a tag"):
        msg(tags=["ok", tag])


def test_repeated_tags_are_kept_once_in_order():
    assert msg(tags=["b", "a", "b", "captain", "a"]).tags == ["b", "a", "captain"]
    assert checked(Message, {"sender": "C", "content": "x", "tags": ["b", "b"]}).tags == ["b"]


def test_rule_fields_are_plain_copies():
    m = msg(recipients=["Agent-1"], tags=["captain"], priority="urgent", type="onboarding")
    fields = m.rule_fields()
    assert fields == {"content": "hi", "sender": "Captain", "recipients": ["Agent-1"], "type": "onboarding",
                      "priority": "urgent", "tags": ["captain"]}
    fields["recipients"].append("Agent-2")
    fields["tags"].clear()
    assert (m.recipients, m.tags) == (["Agent-1"], ["captain"])


def test_message_is_frozen():
    with pytest.raises(AttributeError):
        msg().content = "changed"  # type: ignore[misc]


# --- Agent and transports --------------------------------------------------------------------

DRY = DryRunTransport()


@pytest.mark.parametrize("agent_id", ["Agent-3", "a", "reviewer_2", "db.migrator", "X" * 64])
def test_agent_ids_accepted(agent_id):
    assert Agent(id=agent_id, transport=DRY).id == agent_id


@pytest.mark.parametrize("agent_id", ["", "3-agent", "-x", "Agent 3", "Agent/3", "X" * 65, "Agent-3\n"])
def test_agent_ids_rejected(agent_id):
    with pytest.raises(Invalid) as excinfo:
        checked(Agent, {"id": agent_id, "transport": {"kind": "dryrun"}})
    assert excinfo.value.errors()[0]["loc"] == ("id",)


def test_agent_defaults_and_display_name_fallback():
    agent = Agent(id="Agent-3", transport=DRY)
    assert (agent.display_name, agent.role, agent.enabled) == ("Agent-3", "", True)
    assert agent.transport == DryRunTransport()
    assert Agent(id="Agent-3", display_name="  ", transport=DRY).display_name == "Agent-3"
    assert Agent(id="Agent-3", display_name="Backend", transport=DRY).display_name == "Backend"


def test_agent_rejects_extras_and_is_frozen():
    with pytest.raises(Invalid) as excinfo:
        checked(Agent, {"id": "A", "transport": {"kind": "dryrun"}, "colour": "red"})
    assert excinfo.value.errors()[0]["type"] == "extra_forbidden"
    assert excinfo.value.errors()[0]["loc"] == ("colour",)
    with pytest.raises(AttributeError):
        Agent(id="A", transport=DRY).enabled = False  # type: ignore[misc]


@pytest.mark.parametrize(("data", "cls"), [
    ({"kind": "gui", "chat": [100, 200]}, GuiTransport),
    ({"kind": "tmux", "target": "swarm:0.1"}, TmuxTransport),
    ({"kind": "inbox", "path": "/tmp/inbox"}, InboxTransport),
    ({"kind": "dryrun"}, DryRunTransport),
])
def test_transport_is_chosen_by_kind_and_round_trips(data, cls):
    agent = checked(Agent, {"id": "Agent-1", "display_name": "One", "role": "db", "enabled": False,
                            "transport": data})
    assert type(agent.transport) is cls and agent.transport.kind == data["kind"]
    assert decoded(Agent, encoded(agent)) == agent
    assert dumped(agent)["transport"]["kind"] == data["kind"]


@pytest.mark.parametrize("data", [{"chat": [1, 2]}, {"kind": "ssh", "host": "x"}, {"kind": "dryrun", "x": 1}])
def test_transport_needs_a_known_kind_and_no_extras(data):
    with pytest.raises(Invalid) as excinfo:
        checked(TransportSettings, data)
    assert excinfo.value.errors()[0]["type"] in {"missing", "union_tag_invalid", "extra_forbidden"}


def test_gui_defaults():
    gui = GuiTransport(chat=(10, 20))
    assert (gui.kind, gui.chat, gui.onboarding, gui.clear_before_paste) == ("gui", (10, 20), None, False)
    assert (gui.paste_keys, gui.submit_keys, gui.urgent_submit_keys, gui.new_chat_keys) == \
        (("ctrl", "v"), ("enter",), ("ctrl", "enter"), ("ctrl", "t"))


def test_points_may_be_negative_on_a_second_monitor():
    assert checked(GuiTransport, {"chat": (-1920, 40), "onboarding": [-1800, 900]}).onboarding == (-1800, 900)


@pytest.mark.parametrize("point", [(1,), (1, 2, 3), (1.5, 2), ("10", 20), (True, 2), None, "10,20"])
def test_bad_points_are_rejected(point):
    with pytest.raises(Invalid) as excinfo:
        checked(GuiTransport, {"chat": point})
    assert excinfo.value.errors()[0]["loc"][0] == "chat"


@pytest.mark.parametrize("keys", [("command", "v"), ("ctrl", "shift", "v"), ("f5",), ("esc",), (";",), ("V",)])
def test_good_key_combos(keys):
    assert GuiTransport(chat=(0, 0), paste_keys=keys).paste_keys == keys


@pytest.mark.parametrize(("keys", "hint"), [
    ((), "needs at least one key"), (("ctl", "v"), "unknown key 'ctl'"), (("Ctrl", "v"), "unknown key 'Ctrl'"),
    ((" ",), "unknown key ' '"), (("ctrl", "ctrl"), "appears twice"), (("f25",), "unknown key"),
])
def test_bad_key_combos_are_rejected(keys, hint):
    with pytest.raises(Invalid) as excinfo:
        checked(GuiTransport, {"chat": (0, 0), "submit_keys": keys})
    [error] = excinfo.value.errors()
    assert error["loc"][0] == "submit_keys" and hint in error["msg"]
    with pytest.raises(FieldError, match=hint):  # checked when built from values already checked, too
        GuiTransport(chat=(0, 0), submit_keys=keys)


@pytest.mark.parametrize("target", ["", "-t evil", " swarm", "swarm:0\n.1", "a\x00b", "swarm:0.1\n"])
def test_bad_tmux_targets_are_rejected(target):
    with pytest.raises(Invalid):
        checked(TmuxTransport, {"target": target})


def test_inbox_path():
    assert checked(InboxTransport, {"path": "inbox/a"}).path == Path("inbox/a")
    assert checked(InboxTransport, {"path": "~/swarm/inbox"}).path == Path.home() / "swarm" / "inbox"
    assert InboxTransport(path=Path("~/in")).path == Path.home() / "in"
    with pytest.raises(Invalid, match="no home folder is known for '~no-such-user-qd'; write the folder out"):
        checked(InboxTransport, {"path": "~no-such-user-qd/inbox"})  # once a traceback
    with pytest.raises(Invalid, match="the inbox path is empty"):
        checked(InboxTransport, {"path": "  "})
    with pytest.raises(Invalid, match="Input should be a valid string"):
        checked(InboxTransport, {"path": 5})
    assert dumped(InboxTransport(path=Path("/tmp/in"))) == {"kind": "inbox", "path": "/tmp/in"}

