"""Several processes on one outbox: who claims what, when typing counts as begun, and one failing
agent's backoff never holding up the others (real SQLite, real inbox folders)."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from quarterdeck.core.compose.submit import submit
from quarterdeck.core.config import CoordinationConfig
from quarterdeck.core.delivery.errors import RetryableError
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.models import Agent, DryRunTransport, Message
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.store import Store
from quarterdeck.core.transports.dryrun import DryRunDelivery
from quarterdeck.core.transports.inbox import InboxDelivery

ROOT = Path(__file__).resolve().parents[2]


def roster_of(*ids: str) -> Roster:
    return Roster(agents=tuple(Agent(id=i, transport=DryRunTransport()) for i in ids))


def msg(*recipients: str, content: str = "Rebase on main, then run the suite.") -> Message:
    return Message(sender="Captain", content=content, recipients=list(recipients))


def test_a_command_claims_its_own_deliveries_never_another_live_process_s(tmp_path):
    path = tmp_path / "q.sqlite3"
    roster = roster_of("Agent-1", "Agent-2")
    with Store(path) as mine, Store(path) as theirs:
        [their_id] = submit(theirs, roster, msg("Agent-1")).delivery_ids
        [my_id] = submit(mine, roster, msg("Agent-2")).delivery_ids
        assert mine.claim_next(own_only=True).delivery_id == my_id
        assert mine.claim_next(own_only=True) is None, "the other store's delivery is left to it"
        assert mine.states_of([their_id, my_id]) == {their_id: "queued", my_id: "sending"}
        assert theirs.claim_next().delivery_id == their_id


def test_a_command_takes_over_what_a_dead_process_left_queued(tmp_path):
    path = tmp_path / "q.sqlite3"
    script = ("import sys; from pathlib import Path; from quarterdeck.core.models import Message; "
              "from quarterdeck.core.store import Store; "
              "s = Store(Path(sys.argv[1])); "
              "s.enqueue(Message(sender='Captain', content='left behind', recipients=['Agent-1']), "
              "[('Agent-1', 'dryrun')])")
    subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, check=True, timeout=60)
    with Store(path) as store:
        task = store.claim_next(own_only=True)
        assert task is not None and task.content == "left behind"


def test_a_crash_before_typing_began_queues_the_delivery_again_after_it_uncertain(tmp_path):
    path = tmp_path / "q.sqlite3"
    roster = roster_of("Agent-1", "Agent-2")
    with Store(path) as keeper:
        first, second = submit(keeper, roster, msg("Agent-1", "Agent-2")).delivery_ids
        crashed = Store(path)
        assert crashed.claim_next(started=False).delivery_id == first  # claimed, then a stagger wait
        other = crashed.claim_next(started=False)
        crashed.mark_started(other.delivery_id)  # typing began for this one
        crashed.close()  # the process is gone
        [uncertain] = keeper.recover()
        assert uncertain.id == second
        assert keeper.states_of([first, second]) == {first: "queued", second: "uncertain"}
        assert keeper.claim_next(own_only=True).delivery_id == first


def test_an_interrupted_dispatcher_hands_back_a_claimed_delivery_it_never_typed(tmp_path):
    roster = roster_of("Agent-1")
    never = DryRunDelivery()
    with Store(tmp_path / "q.sqlite3") as store:
        d = Dispatcher(store, roster, stagger=0, transport_factory=lambda agent: never)
        [delivery] = submit(store, roster, msg("Agent-1")).delivery_ids
        events = []
        d.add_listener(events.append)
        d.add_listener(lambda e: d.interrupt() if e.state == "sending" else None)  # SIGTERM lands now
        d.process_next()
        assert never.attempts == []
        assert store.states_of([delivery]) == {delivery: "queued"}, "released, not cancelled"
        assert [e.state for e in events] == ["sending", "queued"]
        assert store.delivery(delivery).started_at is None


def test_one_agent_s_backoff_does_not_hold_up_the_others(tmp_path):
    roster = Roster(agents=(Agent(id="Agent-1", transport=DryRunTransport()),
                            *(Agent(id=f"Agent-{n}", transport=DryRunTransport()) for n in (2, 3, 4))))
    failing = DryRunDelivery(fail_times=2, error=RetryableError)
    inboxes = {f"Agent-{n}": InboxDelivery(tmp_path / f"in-{n}") for n in (2, 3, 4)}
    config = CoordinationConfig(max_retries=3, base_delay=1.0, backoff_multiplier=2.0)
    with Store(tmp_path / "q.sqlite3") as store:
        d = Dispatcher(store, roster, config=config, stagger=0,
                       transport_factory=lambda agent: failing if agent.id == "Agent-1" else inboxes[agent.id])
        when: dict[str, float] = {}
        d.add_listener(lambda e: when.setdefault(e.agent_id, time.monotonic()) if e.state == "delivered" else None)
        ids = submit(store, roster, msg("Agent-1", "Agent-2", "Agent-3", "Agent-4")).delivery_ids
        started = time.monotonic()
        worker = threading.Thread(target=d.run, kwargs={"until": lambda: len(when) == 4, "idle_wait": 0.05})
        worker.start()
        worker.join(30)
        assert not worker.is_alive()
        assert set(store.states_of(ids).values()) == {"delivered"}
        others = max(when[f"Agent-{n}"] for n in (2, 3, 4)) - started
        assert others < 1.0, f"the other agents waited {others:.1f} s behind Agent-1's backoff"
        assert when["Agent-1"] - started >= 2.0, "Agent-1 still waited out its own backoff (1 s, then 2 s)"
        for n in (2, 3, 4):
            assert len(list((tmp_path / f"in-{n}").glob("*.md"))) == 1
        assert len(failing.sent) == 1 and len(failing.attempts) == 3
