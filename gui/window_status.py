"""The window's delivery controls and state: Stop all, Resume, Skip and Send anyway, the
full-width STOPPED / GUI PAUSED banner under the toolbar (``quarterdeck.gui.banner``), and the status bar with
the health headline ("DEGRADED · 3/4 reachable · Agent-2 forced open by you"), queue depth and
STOPPED / GUI PAUSED.

Everything here follows real events from the delivery bridge (``ctx.delivery``) and the outbox's
counts (read off the UI thread through ``ctx.jobs``); the main window only places the actions.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow

from quarterdeck.core.service import service_health
from quarterdeck.gui.banner import DeliveryBanner
from quarterdeck.gui.roster.placement import relays_text, unread

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.gui.context import AppContext

STATUS_COLOURS = {"UP": "#2e7d32", "DEGRADED": "#f9a825", "DOWN": "#c62828", "OUT_OF_SERVICE": "#ef6c00",
                  "UNKNOWN": "#757575"}
RESUME_TIP = ("Deliver again after Stop all, here and in every Quarterdeck process it stopped (sending a message "
              "also resumes)")
AFAR = "<b style='color:#ef6c00'>GUI PAUSED ON "  # the status label, while relays say so
HEADLINE_PX = 420  # the headline is elided past this, so the status bar never widens the window


class WindowStatus(QObject):
    """The delivery actions of ``window`` and its status bar, kept in step with the delivery bridge."""

    def __init__(self, window: QMainWindow, ctx: AppContext) -> None:
        super().__init__(window)
        self.window, self.ctx = window, ctx
        self._paused_on: DeliveryEvent | None = None  # the paused delivery's event, while GUI delivery waits
        self._afar: tuple[str, ...] = ()  # the relays whose GUI delivery is paused, as last shown
        self._build_actions()
        ctx.delivery.sig_halted.connect(self._on_delivery_halted)
        ctx.delivery.sig_serving.connect(self.refresh)  # not "DOWN" until the next tick
        ctx.delivery.sig_stopped.connect(self._on_delivery_stopped)
        ctx.delivery.sig_resumed.connect(self._on_delivery_resumed)
        ctx.delivery.sig_delivery_event.connect(self._on_delivery_event)

    def _build_actions(self) -> None:
        window = self.window
        self.stop_action = QAction("Stop all", window)
        self.stop_action.setObjectName("action-stop-all")
        self.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_action.setToolTip("Stop every delivery now, in every Quarterdeck process on this outbox, "
                                    "and cancel the queue (Esc)")
        self.stop_action.triggered.connect(self.ctx.delivery.stop_all)
        self.resume_action = QAction("Resume", window)
        self.resume_action.setObjectName("action-resume")
        self.resume_action.setToolTip(RESUME_TIP)
        self.resume_action.setEnabled(False)
        self.resume_action.triggered.connect(self._on_resume_action_triggered)
        self.skip_action, self.force_action = (self._paused_action(name, tip, act) for name, tip, act in (
            ("Skip", "Cancel the delivery GUI delivery paused on, and go on with the others", "skip"),
            ("Send anyway", "Send the paused delivery over the draft in its agent's input (it is cleared)",
             "force")))

    def _paused_action(self, name: str, tip: str, act: str) -> QAction:
        """An action on the delivery GUI delivery paused on: ``act`` names the delivery bridge's call."""
        action = QAction(name, self.window, toolTip=tip, enabled=False)
        action.setObjectName(f"action-{act}")
        action.triggered.connect(lambda: self._paused_on and getattr(self.ctx.delivery, act)(self._paused_on))
        return action

    def build_banner(self) -> None:
        """The STOPPED / GUI PAUSED banner, on a row of its own under the window's toolbar."""
        self.window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.banner = DeliveryBanner(self.window, self.ctx.delivery, self.resume_action, self.skip_action,
                                     self.force_action)
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.banner)
        self.window.addAction(self.banner.requeue_action)  # in the palette, and after a Resume too
        self.ctx.delivery.sig_failed.connect(self._on_ctx_status)
        self.ctx.sig_fault.connect(self.banner.show_fault)  # a storage fault: the panel runs on and says so

    def build_status_bar(self) -> None:
        """The status bar, and the banner (built with it: both show the delivery's state)."""
        self.build_banner()
        bar = self.window.statusBar()
        self.health_label = QLabel("Health: …")
        self.health_label.setObjectName("status-health")
        self.health_label.setMinimumWidth(200)  # clipped on a narrow window rather than widening it
        self.queue_label = QLabel("Queue: …")
        self.queue_label.setObjectName("status-queue")
        self.stop_label = QLabel("")
        self.stop_label.setObjectName("status-stopped")
        bar.addPermanentWidget(self.stop_label)
        bar.addPermanentWidget(self.queue_label)
        bar.addPermanentWidget(self.health_label)
        self._health = service_health(self.ctx.delivery.worker, self.ctx.fleet)
        self._health_ids = self.ctx.fleet.ids()
        self.ctx.sig_fleet_changed.connect(self._on_ctx_fleet_changed)
        self.ctx.sig_status.connect(self._on_ctx_status)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def shutdown(self) -> None:
        self._timer.stop()

    # -- status ------------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        tree = self._health()
        status = tree["status"]
        score = tree.get("score")
        colour = STATUS_COLOURS.get(status, "#757575")
        headline = tree.get("headline", "")
        if (machines := self.ctx.session.machines) is not None:  # relays on other machines: are they up?
            as_last_seen = unread(machines.problems)  # not "up": nobody can tell now
            relays = relays_text(machines.relays, as_last_seen=as_last_seen)
            relays = f"broker not read: {relays}" if as_last_seen else relays
            headline = f"{relays} · {headline}" if headline else relays
        shown = self.health_label.fontMetrics().elidedText(headline, Qt.TextElideMode.ElideRight, HEADLINE_PX)
        self.health_label.setText(f"Health: <b style='color:{colour}'>{status.replace('_', ' ')}</b>"
                                  + (f" · {html.escape(shown)}" if headline else ""))
        self.health_label.setToolTip(f"{status} · score {'–' if score is None else score}/100 · {headline}\n"
                                     f"Failure rates over the {tree.get('window') or 'figure window'}")
        self.ctx.jobs.run(self.ctx.store.counts_by_state, self._show_counts, self._show_counts_error,
                          owner=self)

    def _show_counts(self, counts: dict[str, int]) -> None:
        queued, sending = counts.get("queued", 0), counts.get("sending", 0)
        uncertain = counts.get("uncertain", 0)
        text = f"Queue: {queued} queued · {sending} sending"
        if counts.get("waiting", 0):  # sent "when idle": held until the agent is free
            text += f" · {counts['waiting']} waiting for idle"
        if uncertain:
            text += f" · <b style='color:#ef6c00'>{uncertain} uncertain</b>"
        self.queue_label.setText(text)
        self.banner.set_counts(counts)

    def _show_counts_error(self, error: BaseException) -> None:
        self.queue_label.setText(f"Queue: unavailable ({type(error).__name__})")

    @Slot()
    def _on_ctx_fleet_changed(self) -> None:
        """This machine's agents and the relays' (read every 2 s): a new health check when they changed."""
        fleet = self.ctx.fleet
        if fleet.ids() != self._health_ids:
            self._health, self._health_ids = service_health(self.ctx.delivery.worker, fleet), fleet.ids()
        self._show_afar()

    @Slot(str)
    def _on_ctx_status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10_000)

    @Slot()
    def _on_delivery_halted(self) -> None:
        self.stop_label.setText("<b style='color:#c62828'>STOPPED</b>")
        self.resume_action.setEnabled(True)
        self._paused_on = None  # a delivery a pause held is cancelled with the queue: nothing to skip or force
        self.skip_action.setEnabled(False)
        self.force_action.setEnabled(False)
        self.refresh()  # health says stopped at once

    @Slot(object)
    def _on_delivery_event(self, event: DeliveryEvent) -> None:
        if event.state == "paused":
            self.stop_label.setText("<b style='color:#ef6c00'>GUI PAUSED</b>")
            self.stop_label.setToolTip(event.detail)
            self.resume_action.setEnabled(True)
            self._paused_on = event
            self.skip_action.setEnabled(True)
            self.force_action.setEnabled("holds a draft" in event.detail)
            self.window.statusBar().showMessage(
                f"{event.agent_id}: {event.detail} (Resume to go on, Skip to leave it out)", 30_000)

    @Slot(int)
    def _on_delivery_stopped(self, cancelled: int) -> None:
        self.refresh()  # the queue just emptied: count it now, not at the next tick
        self.window.statusBar().showMessage(f"Stop all: {cancelled} queued deliveries cancelled", 10_000)

    def _show_afar(self) -> None:
        """GUI delivery paused on relays' screens (a person there: a draft in an agent's input), as the
        relays announce it (read every 2 s): said in the status bar, and Resume is offered (it reaches
        them). Shown while they say so; a STOPPED or GUI PAUSED here is not covered."""
        machines = self.ctx.session.machines
        paused = [] if machines is None else [r for r in machines.relays if r.paused and not r.stale]
        names = tuple(r.name for r in paused)
        if names and names != self._afar:
            self.window.statusBar().showMessage(
                "; ".join(f"GUI delivery paused on relay {r.name}'s screen: {r.paused}" for r in paused)
                + " (Resume goes on there)", 30_000)
        ours = not self.stop_label.text() or self.stop_label.text().startswith(AFAR)  # free, or says this
        self._afar = names
        self.resume_action.setToolTip(RESUME_TIP if not names else f"Deliver again on {', '.join(names)} (GUI "
                                      "delivery paused there for a person at its screen), and here after a Stop all")
        if names:
            self.resume_action.setEnabled(True)
            if ours:
                self.stop_label.setText(f"{AFAR}{html.escape(', '.join(names))}</b>")
                self.stop_label.setToolTip("\n".join(f"Relay {r.name}: {r.paused}" for r in paused)
                                           + "\nResume: deliver again there (and here)")
        elif ours and self.stop_label.text():  # they went on: Resume is offered as the rest says
            delivery = self.ctx.delivery
            self.stop_label.setText("")
            self.stop_label.setToolTip("")
            self.resume_action.setEnabled(delivery.dispatcher.stopped or bool(delivery.dispatcher.gui_paused)
                                          or delivery.lifted_here_only)

    @Slot()
    def _on_resume_action_triggered(self) -> None:
        self.ctx.delivery.resume(everywhere=True, afar=bool(self._afar))

    @Slot()
    def _on_delivery_resumed(self) -> None:
        elsewhere = self.ctx.delivery.lifted_here_only  # a send lifted it here: Resume lifts the rest
        self.stop_label.setText("<b style='color:#ef6c00'>STOPPED ELSEWHERE</b>" if elsewhere else "")
        self.stop_label.setToolTip("This window delivers again (a send lifted the stop here); other "
                                   "processes and the relays stay stopped until you Resume" if elsewhere else "")
        self.resume_action.setEnabled(elsewhere)
        self.skip_action.setEnabled(False)
        self.force_action.setEnabled(False)
        self._paused_on = None
        self._show_afar()  # relays that say GUI delivery is paused there still do
