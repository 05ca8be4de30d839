"""How a demo chat window looks: a light, minimal AI-chat pane (Qt style sheet plus bubble HTML).

Qt's rich text has no rounded corners, so bubbles are one-cell tables with a tinted background
and a thin border: the captain's messages on the right (indigo; urgent ones rose), the demo
agent's echo on the left (slate), a new chat as a centred divider.
"""
from __future__ import annotations

__all__ = ["ECHO_HTML", "NEW_CHAT_HTML", "STYLE", "message_html"]

STYLE = """
QWidget#demoChat { background: #ffffff; }
QWidget#header { background: #f8fafc; border-bottom: 1px solid #e2e8f0; }
QLabel#name { color: #0f172a; font-size: 14px; }
QLabel#role { color: #4338ca; background: #eef2ff; border-radius: 8px; padding: 1px 8px; font-size: 11px; }
QLabel#count { color: #64748b; font-size: 11px; }
QTextBrowser#transcript { border: none; background: #ffffff; padding: 4px 10px; }
QPlainTextEdit#input {
    border: 1px solid #cbd5e1; border-radius: 12px; padding: 6px 8px;
    background: #f8fafc; color: #0f172a; font-size: 13px;
}
QPlainTextEdit#input:focus { border: 2px solid #6366f1; background: #ffffff; }
QLabel#hint { color: #94a3b8; font-size: 10px; }
"""

_BUBBLE = (
    '<table align="{align}" cellpadding="9" cellspacing="0" bgcolor="{fill}" '
    'style="border: 1px solid {edge}; border-style: solid; margin-top: 8px; margin-{side}: 36px;">'
    '<tr><td><span style="color: {accent}; font-size: 11px; font-weight: 600;">{{header}}</span><br>'
    '<span style="color: #0f172a; font-size: 13px; white-space: pre-wrap;">{{body}}</span>'
    '</td></tr></table>'
)

_MINE = _BUBBLE.format(align="right", side="left", fill="#eef2ff", edge="#c7d2fe", accent="#4f46e5")
_URGENT = _BUBBLE.format(align="right", side="left", fill="#fff1f2", edge="#fecdd3", accent="#e11d48")

ECHO_HTML = _BUBBLE.format(align="left", side="right", fill="#f1f5f9", edge="#e2e8f0", accent="#475569")
NEW_CHAT_HTML = ('<hr style="background-color: #e2e8f0; margin-top: 14px;">'
                 '<p align="center" style="color: #64748b; font-size: 11px; font-weight: 600; margin-bottom: 6px;">'
                 "{header}</p>")


def message_html(header: str, body: str, *, urgent: bool) -> str:
    """A captain's message bubble; ``header`` and ``body`` must already be HTML-escaped."""
    return (_URGENT if urgent else _MINE).format(header=header, body=body)
