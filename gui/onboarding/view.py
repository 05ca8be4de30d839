"""The onboarding panel's widgets, and the preview of one agent's two texts as HTML.

Top to bottom: what the run does, the agent table (check boxes, states), the options row
(select all/none, style, urgent), the action row (preview, start), a one-line notice, and the
preview of the selected agent's texts exactly as they will be delivered.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.onboarding import STYLES, Step
from quarterdeck.gui.onboarding.model import AGENT, OnboardingModel

if TYPE_CHECKING:
    from quarterdeck.gui.onboarding.panel import OnboardingPanel

INTRO = ("For each checked agent, in order: the <b>wrap-up</b> to its current chat, then its "
         "<b>new-chat keys</b>, then the <b>onboarding</b> text. Captains go last. Nothing is sent "
         "until every text renders and passes the rules.")
PREVIEW_HINT = "Preview (Alt+P) shows each checked agent's two texts exactly as they will be typed."
BOX = ("background:#f6f8fa; border:1px solid #d0d7de; padding:6px; font-family:monospace; "
       "white-space:pre-wrap;")


def build_view(panel: OnboardingPanel) -> None:
    """Create the panel's widgets as attributes of ``panel``."""
    intro = QLabel(INTRO)
    intro.setWordWrap(True)
    intro.setObjectName("onboarding-intro")

    panel.model = OnboardingModel(panel)
    panel.table = QTableView()
    panel.table.setObjectName("onboarding-agents")
    panel.table.setModel(panel.model)
    panel.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    panel.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    panel.table.verticalHeader().hide()
    panel.table.setAlternatingRowColors(True)
    panel.table.setWordWrap(False)  # a long reason is elided; its tooltip has it whole
    header = panel.table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    panel.table.setToolTip("Check the agents to onboard (Space toggles the current one)")

    panel.all_button = QPushButton("&All")
    panel.all_button.setToolTip("Check every agent")
    panel.none_button = QPushButton("&None")
    panel.none_button.setToolTip("Uncheck every agent")
    panel.style_combo = QComboBox()
    panel.style_combo.setObjectName("onboarding-style")
    for style in STYLES:
        panel.style_combo.addItem(style.capitalize(), style)
    panel.style_combo.setToolTip("Which onboarding template: onboarding-friendly.md or "
                                 "onboarding-professional.md (yours replace the bundled ones)")
    style_label = QLabel("St&yle")
    style_label.setBuddy(panel.style_combo)
    panel.urgent = QCheckBox("&Urgent")
    panel.urgent.setToolTip("Send both messages urgent: the agents' urgent submit keys, ahead of normal mail")
    options = QHBoxLayout()
    options.addWidget(panel.all_button)
    options.addWidget(panel.none_button)
    options.addSpacing(12)
    options.addWidget(style_label)
    options.addWidget(panel.style_combo)
    options.addWidget(panel.urgent)
    options.addStretch(1)

    panel.preview_button = QPushButton("&Preview")
    panel.preview_button.setObjectName("onboarding-preview-button")
    panel.start_button = QPushButton("&Start onboarding")
    panel.start_button.setObjectName("onboarding-start-button")
    panel.start_button.setDefault(True)
    panel.summary = QLabel("")
    panel.summary.setObjectName("onboarding-summary")
    actions = QHBoxLayout()
    actions.addWidget(panel.summary, 1)
    actions.addWidget(panel.preview_button)
    actions.addWidget(panel.start_button)

    panel.notice = QLabel("")
    panel.notice.setObjectName("onboarding-notice")
    panel.notice.setWordWrap(True)
    panel.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    panel.notice.hide()

    panel.preview = QTextBrowser()
    panel.preview.setObjectName("onboarding-preview")
    panel.preview.setOpenLinks(False)
    panel.preview.setPlaceholderText(PREVIEW_HINT)

    top = QWidget()
    top_layout = QVBoxLayout(top)
    top_layout.setContentsMargins(0, 0, 0, 0)
    top_layout.addWidget(panel.table, 1)
    top_layout.addLayout(options)
    top_layout.addLayout(actions)
    top_layout.addWidget(panel.notice)
    split = QSplitter(Qt.Orientation.Vertical)
    split.setChildrenCollapsible(False)
    split.addWidget(top)
    split.addWidget(panel.preview)
    split.setStretchFactor(0, 1)
    split.setStretchFactor(1, 1)

    layout = QVBoxLayout(panel)
    layout.setContentsMargins(8, 8, 8, 8)
    layout.setSpacing(6)
    layout.addWidget(intro)
    layout.addWidget(split, 1)
    panel.table.setCurrentIndex(panel.model.index(0, AGENT))


def say(label: QLabel, text: str, error: bool = False) -> None:
    """Show ``text`` in the notice line, red for an error."""
    colour, back = ("#c62828", "#ffebee") if error else ("#2e7d32", "#e8f5e9")
    label.setStyleSheet(f"QLabel#onboarding-notice {{ background:{back}; border-left:4px solid {colour}; "
                        "padding:4px 8px; }")
    label.setText(text)
    label.setVisible(bool(text))


def step_html(step: Step, new_chat_keys: tuple[str, ...] | None) -> str:
    """One agent's two texts, headed by what happens before each."""
    wrapup, onboarding = step.texts()
    where = (f"after {'+'.join(new_chat_keys)} opens a new chat" if new_chat_keys else
             "in the same place (this agent has no new-chat keys)")
    role = html.escape(step.role or "no role")
    return (f"<h3 style='margin:0'>{html.escape(step.agent_id)} <span style='color:#57606a; "
            f"font-weight:normal'>· {role} · {html.escape(step.transport)}</span></h3>"
            f"<p style='color:#0969da; margin:8px 0 2px 0'><b>1 · Wrap-up</b>, to the current chat</p>"
            f"<p style='{BOX}'>{_pre(wrapup)}</p>"
            f"<p style='color:#0969da; margin:8px 0 2px 0'><b>2 · Onboarding</b>, {html.escape(where)}</p>"
            f"<p style='{BOX}'>{_pre(onboarding)}</p>")


def _pre(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")
