"""The captain's side of issue 14 without a broker: broker_url in the configuration (checked, never
shown with its password) and one roster merged from this machine's agents and the relays'."""
from __future__ import annotations

from pathlib import Path

import pytest

from quarterdeck.core.broker_url import endpoint, redact
from quarterdeck.core.config import ConfigError, config_as_dict, format_config, load_config
from quarterdeck.core.models import Agent, InboxTransport
from quarterdeck.core.relay.protocol import AnnouncedAgent, Announcement
from quarterdeck.core.roster.remote import STALE_S, merge, seen_text
from quarterdeck.core.roster.roster import Roster

SECRET = "s3cr3t-pw"


def test_without_a_broker_nothing_is_configured():
    assert load_config(env={}).config.broker_url is None
    assert load_config(env={"COORDINATION_BROKER_URL": "  "}).config.broker_url is None


@pytest.mark.parametrize("url", [f"redis://:{SECRET}@10.0.0.5:6380/2", f"rediss://qd:{SECRET}@broker.lan"])
def test_the_password_never_shows(url):
    loaded = load_config(env={"COORDINATION_BROKER_URL": url})
    assert loaded.config.broker_url == url  # the connection gets it whole
    shown = format_config(loaded) + str(config_as_dict(loaded))
    assert SECRET not in shown and ":***@" in shown
    assert SECRET not in endpoint(url) and SECRET not in redact(url)


@pytest.mark.parametrize(("url", "why"), [
    (f"http://:{SECRET}@host:6379", "the scheme must be redis:// or rediss://, not http://"),
    (f"redis://:{SECRET}@host:99999", "not a URL"),
    ("redis://", "no host"),
    (f"redis://:{SECRET}@host/cache", "the path must be a database number"),
])
def test_a_malformed_url_is_one_line_without_the_password(url, why):
    with pytest.raises(ConfigError) as excinfo:
        load_config(env={"COORDINATION_BROKER_URL": url})
    [problem] = excinfo.value.problems
    line = str(problem)
    assert "\n" not in line and SECRET not in line and why in line
    assert line.startswith("broker_url: invalid value") and "env COORDINATION_BROKER_URL" in line


def test_the_broker_argument_beats_the_environment():
    loaded = load_config(overrides={"broker_url": "redis://a:1"}, env={"COORDINATION_BROKER_URL": "redis://b:2"})
    assert loaded.config.broker_url == "redis://a:1" and loaded.sources["broker_url"].kind == "argument"


def local(*ids: str) -> Roster:
    return Roster(tuple(Agent(id=i, transport=InboxTransport(path=Path(f"/tmp/in-{i}"))) for i in ids))


def announced(name: str, seen_at: float, *ids: str) -> Announcement:
    return Announcement(name, f"{name.lower()}.lan", 4242, seen_at - 60, seen_at,
                        [AnnouncedAgent(i, f"{i} there", "backend", "tmux", f"{i}:0.0") for i in ids])


def test_each_agent_gets_its_machine_and_remote_ones_go_through_their_relay():
    now = 1_000_000.0
    machines = merge(local("Agent-1"), [announced("M2", now - 1, "Agent-9")], now=now, machine="captain-box")
    assert [(p.agent.id, p.machine) for p in machines.placed] == [("Agent-1", "captain-box"), ("Agent-9", "M2")]
    nine = machines.roster.get("Agent-9")
    assert nine.transport.kind == "relay" and nine.transport.relay == "M2" and nine.transport.target == "Agent-9:0.0"
    assert nine.display_name == "Agent-9 there" and nine.role == "backend"
    assert machines.problems == () and machines.refusal(["Agent-1", "Agent-9"]) is None
    assert not machines.placed[1].offline and machines.relays[0].health == "ok"


def test_a_relay_not_seen_for_10_s_is_last_seen_and_its_agents_offline():
    now = 1_000_000.0
    machines = merge(local(), [announced("M2", now - 40, "Agent-9"), announced("M3", now - STALE_S + 1, "Agent-7")],
                     now=now, machine="here")
    stale, fresh = machines.placed
    assert stale.offline and stale.relay is not None and stale.relay.health == "last seen 40 s ago"
    assert not fresh.offline
    assert machines.problems == ("relay M2 last seen 40 s ago: its agents are offline",)
    assert "Agent-9" in machines.roster  # still deliverable: the relay takes it when it is back
    assert seen_text(300) == "last seen 5 min ago"


def test_the_same_id_on_two_machines_is_an_error_never_a_guess():
    now = 1_000_000.0
    machines = merge(local("Agent-1", "Agent-2"), [announced("M2", now, "Agent-2", "Agent-5"),
                                                   announced("M3", now, "Agent-5")], now=now, machine="here")
    assert dict(machines.conflicts) == {"Agent-2": ("here", "M2"), "Agent-5": ("M2", "M3")}
    assert machines.roster.ids() == ["Agent-1"]
    assert [p.conflict for p in machines.placed] == [False, True, True, True, True]
    assert "agent id Agent-2 is on 2 machines (here, M2)" in machines.problems[0]
    assert machines.refusal(["Agent-1", "Agent-5"]) == (
        "Agent-5 is on more than one machine (M2 and M3): not sent; give one of them another id")


def test_a_relay_agent_that_is_not_valid_here_is_a_problem_not_a_crash():
    now = 1_000_000.0
    machines = merge(local(), [announced("M2", now, "9-bad-id", "Agent-9")], now=now, machine="here")
    assert machines.roster.ids() == ["Agent-9"]
    assert machines.problems[0].startswith("relay M2: agent '9-bad-id' is not valid here")
