"""A delivery sent to a relay that stopped answering says so at once, on its row as well (the panel
reads rows back), and goes when the relay is back: a real redis-server, the captain's session, and
``quarterdeck relay`` started late as a separate process."""
from __future__ import annotations

import polling
import redis
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import RelayProcess, inbox_texts, write_roster

from quarterdeck.core.compose.progress import SendProgress
from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import KEYS, AnnouncedAgent, Announcement
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.session import Session


def test_a_delivery_to_a_relay_gone_says_it_waits_for_it_and_goes_when_it_is_back(tmp_path,
                                                                                redis_server: RedisServer) -> None:
    admin = redis.Redis(port=redis_server.port)
    now = float(admin.time()[0])  # the relay was last seen 40 s ago, in the broker's clock
    folder = tmp_path / "in1"
    gone = Announcement("box-1", "elsewhere", 1, now - 100, now - 40, [AnnouncedAgent("Box-1", "Box-1", "",
                                                                                      "inbox", str(folder))])
    admin.hset(KEYS.relays, "box-1", gone.to_json())
    session = Session.open(roster=Roster(()), data_dir=tmp_path / "captain", broker_url=redis_server.url,
                           relays=True)
    events: list[tuple[int, str, str]] = []
    session.dispatcher.add_listener(lambda e: events.append((e.delivery_id, e.state, e.detail)))
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.05)
    worker.start()
    relay = None
    try:
        [submission] = session.submit_many([Message(sender="Captain", recipients=["Box-1"], content="while away")])
        [delivery] = submission.delivery_ids
        why = "waiting for relay box-1 to come back (last seen 4"
        polling.wait_until(lambda: any(e[1] == "waiting" and e[2].startswith(why) for e in events),
                           "the delivery to say it waits for the relay", timeout=10)
        row = session.store.delivery(delivery)
        assert row.state == "sending" and (row.reason or "").startswith(why), row
        progress = SendProgress()
        progress.start([submission.message.id])
        progress.submitted(submission.message.id, ["Box-1"], [delivery])
        progress.recorded([row])  # as the panel's read-back shows it
        assert progress.rows[0].text().startswith(f"sending · {why}")
        roster = write_roster(tmp_path / "box-1.yaml", [{"id": "Box-1", "transport": "inbox", "path": str(folder)}])
        relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "box-1-data").start()
        polling.wait_until(lambda: session.store.delivery(delivery).state == "delivered",
                           "the relay back to deliver it", timeout=30)
        assert session.store.delivery(delivery).reason is None
        assert [text for text in inbox_texts(folder) if "while away" in text] != []
        assert len(inbox_texts(folder)) == 1
    finally:
        if relay is not None:
            relay.close()
        worker.request_stop()
        worker.join()
        session.close()
        admin.close()
