"""End to end on a real display: the captain broadcasts from the composer, the delivery thread
types through the GUI transport into demo chat windows and xterm windows, and each receives the
text byte for byte."""
from __future__ import annotations

import os

import pytest
from xterm_desk import XTERM_PASTE, wait_until

from quarterdeck.core.delivery.prefix import format_for_delivery
from quarterdeck.core.models import Agent, GuiTransport, Message
from quarterdeck.core.roster.roster import Roster, load_roster
from quarterdeck.core.session import Session
from quarterdeck.gui.composer.panel import ComposerPanel
from quarterdeck.gui.context import AppContext
from quarterdeck.gui.demo import DemoSwarm

CONTENT = ("Wrap up: é ß — 你好 🚀\n"
           "run `make test` && echo \"$HOME\" | tee 'out' > /dev/null; 100% {braces}\n"
           "\n"
           "last line after a blank one")


@pytest.mark.x11
def test_broadcast_from_the_composer_reaches_demo_agents_and_xterms_exactly(
        qtbot, xterms, empty_clipboard, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    demo = DemoSwarm.start(2, tmp_path / "demo", env=env)
    ctx = None
    try:
        demo_roster = load_roster(demo.wait_ready(30))
        terms = xterms(2)
        agents = (*demo_roster.agents,
                  *(Agent(id=f"Term-{n + 1}", role="terminal",
                          transport=GuiTransport(chat=t.point, paste_keys=XTERM_PASTE))
                    for n, t in enumerate(terms)))
        session = Session.open(roster=Roster(agents), data_dir=tmp_path / "data")
        ctx = AppContext(session, roster_path=None)
        composer = ComposerPanel(ctx)
        qtbot.addWidget(composer)
        composer.sending.confirm = lambda title, text: True  # the broadcast confirmation: yes
        ctx.start()
        delivered: list[str] = []
        ctx.delivery.sig_delivery_event.connect(
            lambda e: delivered.append(e.agent_id) if e.state == "delivered" else None)
        composer.editor.setPlainText(CONTENT)
        assert composer.broadcast()
        qtbot.waitUntil(lambda: len(delivered) == 4, timeout=30_000)

        shape = Message(sender="Captain", type="broadcast", content=CONTENT)
        for agent in demo_roster.agents:
            wait_until(lambda a=agent: demo.messages(a.id), f"{agent.id}'s transcript")
            assert demo.messages(agent.id) == [format_for_delivery(shape, agent.id)]
        for n, term in enumerate(terms):
            expected = (format_for_delivery(shape, f"Term-{n + 1}") + "\n").encode()
            assert term.wait_for(expected) == expected
    finally:
        if ctx is not None:
            ctx.shutdown()
        demo.close()
