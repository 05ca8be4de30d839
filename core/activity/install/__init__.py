"""Putting Quarterdeck's hook into each agent tool's own settings, and taking it out again.

``registry`` says where each tool (Claude Code, Cursor, VS Code, Windsurf, Gemini CLI, Codex)
keeps its hooks and in which shape; ``jsonhooks`` and ``notify`` edit the two JSON shapes and
Codex's ``config.toml``; ``files`` reads and writes a settings file without disturbing the rest of
it; ``command`` builds the hook's command and tells Quarterdeck's entries from the user's;
``manage`` installs, uninstalls and lists. ``quarterdeck agents hooks`` is the command line.
"""
from quarterdeck.core.activity.install.files import SettingsError
from quarterdeck.core.activity.install.manage import FileChange, FileStatus, Outcome, install, status, uninstall
from quarterdeck.core.activity.install.registry import LABELS, TOOLS

__all__ = ["LABELS", "TOOLS", "FileChange", "FileStatus", "Outcome", "SettingsError", "install", "status",
           "uninstall"]
