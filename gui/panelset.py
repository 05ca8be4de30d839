"""The window's panels, made when they are first needed.

A :class:`PanelSpec` names a panel (its ``NAME``, ``TITLE``, dock ``AREA`` and ``TAB_WITH``) and
where its class is (``"module:Class"``) without importing it, so the window can lay out every dock
before any panel module is loaded. A panel class serves as its own spec.

:class:`PanelSet` is the window's ``panels`` mapping: every panel's name is in it from the start,
and a panel is made the first time it is looked up (``panels["charts"]``), by the window when its
dock first comes in front, or in the idle time after the first paint. ``built()`` is the panels
made so far, for what must not make one (the window's closing, finding the focus).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QWidget

if TYPE_CHECKING:  # annotations only
    from quarterdeck.gui.panel import Panel


class PanelKind(Protocol):
    """What the window needs to know of a panel before it is made: a spec or the class itself."""

    @property
    def NAME(self) -> str: ...
    @property
    def TITLE(self) -> str: ...
    @property
    def AREA(self) -> Qt.DockWidgetArea: ...
    @property
    def TAB_WITH(self) -> str: ...


@dataclass(frozen=True)
class PanelSpec:
    NAME: str
    TITLE: str
    AREA: Qt.DockWidgetArea
    TAB_WITH: str
    where: str  # "package.module:Class"

    def load(self) -> type[Panel]:
        module, _, name = self.where.partition(":")
        cls: type[Panel] = getattr(importlib.import_module(module), name)
        return cls


def panel_class(kind: PanelKind) -> type[Panel]:
    """The class of ``kind`` (imported now if it is a spec)."""
    return kind.load() if isinstance(kind, PanelSpec) else kind  # type: ignore[return-value]


_LEFT, _RIGHT, _BOTTOM = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                          Qt.DockWidgetArea.BottomDockWidgetArea)
# The panels of quarterdeck.gui.app.PANELS, each with the NAME, TITLE, AREA and TAB_WITH its class
# has (tests/gui/test_panel_start.py checks), and the Attention panel that comes with the roster.
PANEL_SPECS = (
    PanelSpec("roster", "Roster", _LEFT, "", "quarterdeck.gui.roster.panel:RosterPanel"),
    PanelSpec("composer", "Composer", _RIGHT, "", "quarterdeck.gui.composer.panel:ComposerPanel"),
    PanelSpec("rules", "Rules", _BOTTOM, "history", "quarterdeck.gui.ruleedit.panel:RulesPanel"),
    PanelSpec("charts", "Charts", _BOTTOM, "history", "quarterdeck.gui.charts.panel:ChartsPanel"),
    PanelSpec("health", "Health", _LEFT, "", "quarterdeck.gui.charts.health:HealthPanel"),
    PanelSpec("history", "History", _BOTTOM, "", "quarterdeck.gui.history.panel:HistoryPanel"),
    PanelSpec("contracts", "Contracts", _BOTTOM, "history", "quarterdeck.gui.contracts.panel:ContractsPanel"),
    PanelSpec("onboarding", "Onboarding", _RIGHT, "composer", "quarterdeck.gui.onboarding.panel:OnboardingPanel"),
    PanelSpec("deadletters", "Dead letters", _BOTTOM, "history",
              "quarterdeck.gui.deadletters.panel:DeadLettersPanel"),
)
ATTENTION = PanelSpec("attention", "Attention", _LEFT, "history", "quarterdeck.gui.activity.panel:AttentionPanel")


class PanelSet(dict[str, "Panel"]):  # a dict: panels look each other up with isinstance(panels, dict)
    """Every panel of the window by name, in the View menu's order: looking one up makes it
    (``make(name)``, given here, makes it); iterating gives every name, ``items()`` and
    ``values()`` make them all. ``owner``, the window: what the idle making does not outlive."""

    def __init__(self, names: list[str], make: Callable[[str], Panel], owner: QWidget) -> None:
        super().__init__()
        self._names = list(names)
        self._make = make
        self._owner = owner

    def __getitem__(self, name: str) -> Panel:
        if not super().__contains__(name):
            if name not in self._names:
                raise KeyError(name)
            super().__setitem__(name, self._make(name))
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self._names else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def keys(self) -> list[str]:  # type: ignore[override]
        return list(self._names)

    def values(self) -> list[Panel]:  # type: ignore[override]
        return [self[name] for name in self._names]

    def items(self) -> list[tuple[str, Panel]]:  # type: ignore[override]
        return [(name, self[name]) for name in self._names]

    def make(self, name: str) -> Panel:
        """Panel ``name``, made now if it was not."""
        return self[name]

    def is_built(self, name: str) -> bool:
        return super().__contains__(name)

    def make_on_sight(self, name: str, dock: QDockWidget) -> None:
        """Make panel ``name`` as soon as its ``dock`` comes in front (shown, or its tab chosen)."""
        dock.visibilityChanged.connect(lambda visible: self.make(name).came_in_front() if visible else None)

    def make_the_rest(self, first: str = "") -> None:
        """Make the panels not made yet, one per turn of the event loop (``first`` first), so
        the window keeps answering meanwhile; not once the window is closed or hidden."""
        pending = sorted(self.pending(), key=lambda name: name != first)
        if pending and self._owner.isVisible():
            self.make(pending[0])
            QTimer.singleShot(0, self._owner, lambda: self.make_the_rest(first))

    def built(self) -> dict[str, Panel]:
        """The panels made so far, in menu order."""
        return {name: super(PanelSet, self).__getitem__(name) for name in self._names if self.is_built(name)}

    def pending(self) -> list[str]:
        """The panels not made yet, in menu order."""
        return [name for name in self._names if not self.is_built(name)]
