"""The roster's line about the other machines, with a broker configured (issue 14).

Above the tiles and the table, one line: how many relays answer (``2 relays up``, ``3 relays · M2
last seen 40 s ago``), the ids found on two machines (sends to them are refused until one is
renamed; their rows name both machines) and the relays whose GUI delivery is paused for a person at
their screen (``GUI paused on box-3``), in red when something is wrong; a problem the rows do not
show (the broker unreachable: the relays as last seen; an announcement that cannot be read) gets a
line of its own. Every problem the merge found is in the tooltip. It follows ``sig_fleet_changed``;
dismissed, it stays hidden until something other than a count of seconds changes. Without a broker
it never shows.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QWidget

from quarterdeck.gui.roster.placement import relays_text, unread
from quarterdeck.gui.roster.widgets import Banner

if TYPE_CHECKING:
    from quarterdeck.gui.context import AppContext

_DIGITS = re.compile(r"\d+")


class MachinesBar(Banner):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("roster-machines", "#eef3f8", "×", self._on_dismissed, parent)
        self._ctx = ctx
        self._dismissed: str | None = None
        self._shape = ""
        self.button.setToolTip("Hide until something changes")
        ctx.sig_fleet_changed.connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        if self._ctx.session.machines is None:
            self.dismiss()
            return
        shown = self._ctx.shown
        conflicts = [a for a, w in shown.where.items() if w.key == "conflict"]
        told = [f"agent id {a} " for a in conflicts] + [f"relay {r.name} " for r in shown.relays if r.stale]
        others = [p for p in shown.problems if not p.startswith(tuple(told))]  # the unreachable broker…
        seen = relays_text(shown.relays, as_last_seen=unread(shown.problems))
        head = f"Other machines: {seen if shown.relays or not others else 'none known'}"
        if conflicts:
            head += f" · ⚠ {', '.join(conflicts)} on two machines (sends refused)"
        paused = [r for r in shown.relays if r.paused and not r.stale]  # a person at its screen
        if paused:
            head += f" · GUI paused on {', '.join(r.name for r in paused)} (Resume goes on there)"
        text = "\n".join([head, *(f"⚠ {p}" for p in others)])
        self._shape = _DIGITS.sub("#", text)
        if self._shape == self._dismissed:
            return
        self.say(text, error=bool(shown.problems))
        self.label.setToolTip("\n".join([*shown.problems, *(f"relay {r.name}: GUI delivery paused: {r.paused}"
                                                            for r in paused),
                                          "Relays announce their agents every 2 s; one silent "
                                          "for 10 s is shown offline. An agent id on two machines is never guessed: "
                                          "rename one of them."]))

    def _on_dismissed(self) -> None:
        self._dismissed = self._shape
        self.dismiss()
