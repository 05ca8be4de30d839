"""The onboarding flow on a real SQLite outbox with dry-run transports: what is queued, in what
order, what is refused before anything is queued, and the gate that guards each new chat."""
from __future__ import annotations

import threading

import pytest
from msgspec.structs import replace

from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.models import Agent, DryRunTransport, InboxTransport, Message
from quarterdeck.core.onboarding import (
    OnboardingError,
    OnboardingGate,
    OnboardingProgress,
    RulesRefused,
    TemplateProblem,
    build_plan,
    gate_for,
    queue_plan,
    store_contracts,
)
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session
from quarterdeck.core.transports.dryrun import DryRunDelivery


def roster_of(*specs: tuple[str, str], disabled: tuple[str, ...] = ()) -> Roster:
    return Roster(tuple(Agent(id=i, role=r, enabled=i not in disabled, transport=DryRunTransport())
                        for i, r in specs))


CREW = roster_of(("Agent-1", "captain"), ("Agent-2", "api"), ("Agent-3", "tests"))


class Recorder:
    """Dry-run transports that also record the global delivery order."""

    def __init__(self, fail: dict[str, int] | None = None) -> None:
        self.order: list[tuple[str, bool, str]] = []  # agent, onboarding?, priority
        self.by_agent: dict[str, DryRunDelivery] = {}
        self.fail = fail or {}
        self._lock = threading.Lock()

    def __call__(self, agent):
        recorder = self

        class Recording(DryRunDelivery):
            def deliver(self, request, stop):
                receipt = super().deliver(request, stop)
                with recorder._lock:
                    recorder.order.append((request.agent_id, request.onboarding, request.priority))
                return receipt

        transport = Recording(fail_times=self.fail.get(agent.id, 0))
        self.by_agent[agent.id] = transport
        return transport

    def texts(self, agent_id: str) -> list[str]:
        return [r.text for r in self.by_agent[agent_id].sent]


@pytest.fixture
def open_session(tmp_path):
    made = []

    def make(roster: Roster = CREW, recorder: Recorder | None = None) -> tuple[Session, Recorder]:
        recorder = recorder or Recorder()
        session = Session.open(roster=roster, data_dir=tmp_path / "data", transport_factory=recorder, stagger=0)
        session.dispatcher.policy = replace(session.dispatcher.policy, base_delay=0.001, jitter=0.0)
        made.append(session)
        return session, recorder

    yield make
    for session in made:
        session.close()


def run_to_end(session: Session, plan, progress: OnboardingProgress | None = None) -> OnboardingProgress:
    progress = progress or OnboardingProgress()
    progress.start(plan)
    gate = gate_for(session.dispatcher, session.store)
    session.dispatcher.add_listener(progress.event)
    gate.add_listener(progress.event)
    progress.queued(queue_plan(session, plan, gate))
    session.dispatcher.run(until=lambda: progress.finished, idle_wait=0.01)
    return progress


def user_template(folder, name: str, text: str):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_agent_gets_its_wrapup_then_its_onboarding_and_the_captain_goes_last(open_session):
    session, recorder = open_session()
    plan = build_plan(session.roster, None, style="friendly", validator=session.validator)
    assert plan.agent_ids == ("Agent-2", "Agent-3", "Agent-1")
    progress = run_to_end(session, plan)
    assert progress.succeeded and progress.summary() == "3 of 3 agents onboarded"
    assert recorder.order == [("Agent-2", False, "normal"), ("Agent-2", True, "normal"),
                              ("Agent-3", False, "normal"), ("Agent-3", True, "normal"),
                              ("Agent-1", False, "normal"), ("Agent-1", True, "normal")]
    wrapup, onboarding = recorder.texts("Agent-3")
    assert wrapup.startswith("[C2A] Captain → Agent-3\nTime to wrap up, Agent-3.")
    assert "anything the next tests should know" in wrapup
    assert onboarding.startswith("[C2A] Captain → Agent-3 | ONBOARDING\nHi Agent-3, welcome aboard! "
                                 "You are our tests in this swarm.")
    assert (wrapup, onboarding) == plan.steps[1].texts()
    assert "Agent-Agent" not in wrapup + onboarding
    rows = session.store.connection().execute(
        "SELECT m.type, m.tags FROM deliveries d JOIN messages m ON m.id = d.message_id ORDER BY d.id").fetchall()
    assert [(r["type"], r["tags"]) for r in rows][:2] == [("text", '["wrapup"]'), ("onboarding", '["onboarding"]')]


def test_chosen_agents_keep_their_order_except_the_captain(open_session):
    session, recorder = open_session()
    plan = build_plan(session.roster, ["Agent-1", "Agent-3", "Agent-3"], style="professional")
    assert plan.agent_ids == ("Agent-3", "Agent-1")
    run_to_end(session, plan)
    assert [a for a, _, _ in recorder.order] == ["Agent-3", "Agent-3", "Agent-1", "Agent-1"]
    assert recorder.texts("Agent-1")[1].split("\n")[1] == (
        "Agent-1: you are assigned to this project as captain. This chat replaces your previous one.")


def test_urgent_run_keeps_each_wrapup_first_and_overtakes_normal_mail(open_session):
    session, recorder = open_session()
    session.submit(Message(sender="Captain", recipients=["Agent-2"], content="queued earlier"))
    plan = build_plan(session.roster, ["Agent-2"], urgent=True)
    run_to_end(session, plan)
    session.dispatcher.run(until=lambda: session.store.pending_count() == 0, idle_wait=0.01)
    assert recorder.order == [("Agent-2", False, "urgent"), ("Agent-2", True, "urgent"),
                              ("Agent-2", False, "normal")]


def test_unknown_placeholder_names_file_line_and_column_and_queues_nothing(open_session, tmp_path):
    session, recorder = open_session()
    folder = tmp_path / "mine"
    path = user_template(folder, "onboarding-friendly", "Welcome {agent_id}.\nYour job: {rol}\n")
    with pytest.raises(TemplateProblem) as caught:
        build_plan(session.roster, None, user_dir=folder)
    assert str(caught.value).startswith(f"{path}:2:11: unknown placeholder {{rol}}")
    assert (caught.value.line, caught.value.column) == (2, 11)
    assert session.store.connection().execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    assert recorder.order == []


def test_a_broken_wrapup_template_is_caught_too(tmp_path):
    path = user_template(tmp_path / "mine", "wrap-up", "Wrap up {agent_id\nplease")
    with pytest.raises(TemplateProblem, match=rf"^{path}:1:9: '{{' is never closed"):
        build_plan(CREW, None, user_dir=tmp_path / "mine")


def test_a_user_template_replaces_the_bundled_one_without_doubling_the_prefix(tmp_path):
    user_template(tmp_path / "mine", "onboarding-professional", "Hello Agent-{agent_id} ({role})\n")
    plan = build_plan(CREW, ["Agent-2"], style="professional", user_dir=tmp_path / "mine")
    assert plan.steps[0].onboarding.content == "Hello Agent-2 (api)"
    assert plan.onboarding_template.path == tmp_path / "mine" / "onboarding-professional.md"


def test_contract_placeholder_needs_a_contract_for_every_agent(tmp_path):
    user_template(tmp_path / "mine", "onboarding-friendly", "Hi {agent_id}.\n\nYour work:\n  {contract}\n")
    contracts = {"Agent-2": "Contract #4: Fix login (3 points)"}
    plan = build_plan(CREW, ["Agent-2"], user_dir=tmp_path / "mine", contract_for=contracts.get)
    assert plan.steps[0].onboarding.content == "Hi Agent-2.\n\nYour work:\n  Contract #4: Fix login (3 points)"
    with pytest.raises(TemplateProblem, match=r"onboarding-friendly\.md:4:3: no contract assigned to Agent-3"):
        build_plan(CREW, ["Agent-2", "Agent-3"], user_dir=tmp_path / "mine", contract_for=contracts.get)
    with pytest.raises(TemplateProblem, match="no contract assigned to Agent-2"):
        build_plan(CREW, ["Agent-2"], user_dir=tmp_path / "mine")


def test_contracts_come_from_the_store_next_to_the_outbox(open_session, tmp_path):
    from quarterdeck.core.contracts import ContractStore

    session, _ = open_session()
    with ContractStore(session.store.path) as contracts:
        contracts.create("Fix the login redirect", description="Keep ?next= through OAuth.", points=3,
                         assignee="Agent-2")
        done = contracts.create("Old work", assignee="Agent-2")
        contracts.cancel(done.id)
    lookup = store_contracts(session.store.path)
    assert lookup("Agent-2") == "Contract #1: Fix the login redirect (3 points)\nKeep ?next= through OAuth."
    assert lookup("Agent-3") is None


def test_rules_refuse_before_anything_is_queued(open_session, tmp_path):
    session, _recorder = open_session()
    user_template(tmp_path / "mine", "wrap-up", "   \n")
    with pytest.raises(RulesRefused) as caught:
        build_plan(session.roster, None, user_dir=tmp_path / "mine", validator=session.validator)
    assert [(a, s, r) for a, s, r, _ in caught.value.failures] == [
        ("Agent-2", "wrap-up", "content-not-blank"), ("Agent-3", "wrap-up", "content-not-blank"),
        ("Agent-1", "wrap-up", "content-not-blank")]
    assert "Agent-2 wrap-up: content-not-blank" in str(caught.value)
    assert session.store.pending_count() == 0


@pytest.mark.parametrize(("ids", "problem"), [
    (["Agent-9"], "'Agent-9' is not on the roster"),
    (["Agent-4"], "'Agent-4' is disabled"),
    ([], "no agents to onboard"),
])
def test_agent_choice_problems(ids, problem):
    roster = roster_of(("Agent-1", ""), ("Agent-4", ""), disabled=("Agent-4",))
    with pytest.raises(OnboardingError, match=problem):
        build_plan(roster, ids)


def test_style_and_missing_templates(tmp_path):
    with pytest.raises(OnboardingError, match="unknown style 'casual'"):
        build_plan(CREW, None, style="casual")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(OnboardingError, match="no template named 'wrap-up'"):
        build_plan(CREW, None, user_dir=empty, bundled_dir=empty)


def test_notes_for_blank_roles_and_agents_without_new_chat_keys(tmp_path):
    roster = Roster((Agent(id="Agent-1", transport=InboxTransport(path=tmp_path / "in")),))
    plan = build_plan(roster, None)
    assert plan.notes == ("Agent-1 has no role: {role} is empty in its texts",
                          "Agent-1 (inbox) has no new-chat keys: both texts arrive in the same place")
    data = plan.to_json()
    assert data["agents"][0]["agent"] == "Agent-1" and data["agents"][0]["onboarding"].startswith("[C2A]")


def test_a_failed_wrapup_cancels_that_agents_onboarding_only(open_session):
    session, recorder = open_session(recorder=Recorder(fail={"Agent-2": 100}))
    plan = build_plan(session.roster, ["Agent-2", "Agent-3"])
    progress = run_to_end(session, plan)
    assert progress.state("Agent-2", "wrap-up") == "failed"
    assert progress.state("Agent-2", "onboarding") == "cancelled"
    assert progress.text("Agent-2", "onboarding").startswith("cancelled (not sent, its wrap-up failed")
    assert [(a, o) for a, o, _ in recorder.order] == [("Agent-3", False), ("Agent-3", True)]
    assert not progress.succeeded and progress.summary() == "1 of 2 agents onboarded, 1 not"
    assert session.store.pending_count() == 0 and gate_for(session.dispatcher, session.store).waiting == 0


def test_gate_skips_an_onboarding_whose_wrapup_failed_before_it_was_queued():
    class Store:
        cancelled: list[int] = []

        def mark_cancelled(self, delivery_id, reason):
            self.cancelled.append(delivery_id)

    gate = OnboardingGate(Store())
    gate.expect("w1", "Agent-2")
    gate(DeliveryEvent(7, "w1", "Agent-2", "failed", detail="pane gone"))
    outcome = gate.queue_onboarding("w1", lambda: pytest.fail("must not be queued"))
    assert outcome == "not sent, its wrap-up failed: pane gone"
    assert gate.waiting == 0
    gate(DeliveryEvent(8, "other", "Agent-2", "failed"))  # not watched: ignored
    gate.expect("w2", "Agent-3")
    gate(DeliveryEvent(9, "w2", "Agent-3", "sending"))
    gate(DeliveryEvent(9, "w2", "Agent-3", "delivered"))
    assert gate.waiting == 0 and Store.cancelled == []


def test_gate_for_registers_one_gate_per_dispatcher(open_session):
    session, _ = open_session()
    first = gate_for(session.dispatcher, session.store)
    assert gate_for(session.dispatcher, session.store) is first
    assert session.dispatcher._listeners.count(first) == 1


def test_a_refused_submit_mid_run_skips_that_agent_and_goes_on(open_session):
    session, recorder = open_session()
    plan = build_plan(session.roster, ["Agent-2", "Agent-3"])
    session.set_roster(roster_of(("Agent-3", "tests")))  # Agent-2 left the roster after the check
    progress = run_to_end(session, plan)
    assert progress.state("Agent-2", "wrap-up") == "skipped"
    assert progress.text("Agent-2", "onboarding") == "not queued: its wrap-up was not queued"
    assert progress.state("Agent-3", "onboarding") == "delivered"
    assert [a for a, _, _ in recorder.order] == ["Agent-3", "Agent-3"]


def test_gate_cancels_a_queued_onboarding_and_says_so():
    from types import SimpleNamespace

    from quarterdeck.core.store.rows import InvalidTransition

    class Store:
        def __init__(self):
            self.cancelled = []

        def mark_cancelled(self, delivery_id, reason):
            if delivery_id == 99:
                raise InvalidTransition(delivery_id, "cancelled", "cancelled")
            self.cancelled.append((delivery_id, reason))

    store = Store()
    gate = OnboardingGate(store)
    heard: list[DeliveryEvent] = []
    gate.add_listener(heard.append)
    gate.add_listener(heard.append)  # once only
    gate.add_listener(lambda e: 1 / 0)  # a broken listener does not stop the gate
    for wrapup, onboarding_delivery in (("w1", 12), ("w2", 99)):
        gate.expect(wrapup, "Agent-5")
        queued = gate.queue_onboarding(wrapup, lambda d=onboarding_delivery: SimpleNamespace(
            message=SimpleNamespace(id=f"o-{d}"), delivery_ids=(d,)))
        assert queued.delivery_ids == (onboarding_delivery,)
    gate(DeliveryEvent(11, "w1", "Agent-5", "cancelled", detail="stopped"))
    gate(DeliveryEvent(98, "w2", "Agent-5", "uncertain"))  # already cancelled by stop-all: nothing to say
    assert store.cancelled == [(12, "not sent, its wrap-up was cancelled: stopped")]
    assert heard == [DeliveryEvent(12, "o-12", "Agent-5", "cancelled",
                                   detail="not sent, its wrap-up was cancelled: stopped")]
    assert gate.waiting == 0
