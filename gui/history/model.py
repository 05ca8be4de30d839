"""The history as a lazy table model: pages load in the background as the view scrolls down.

Only the first page is asked for when the filters change; ``fetchMore`` (called by the view
near the bottom) queues the next one on ``ctx.jobs`` and returns at once, and the page is
appended with ``beginInsertRows`` when it arrives. Pages continue by key
(:mod:`quarterdeck.core.store.paging`), so the thousandth page costs what the first did.

Every request carries the generation it was made in; changing the filters starts a new one,
so a page or count of the old filters that arrives late is dropped.

:meth:`refresh` keeps what is loaded current without a reset: lines newer than the top are
inserted above it, and deliveries that changed are repainted in place (``dataChanged`` on the
changed cells), or removed when they no longer match (say, a ``queued`` filter).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from quarterdeck.core.store.history import count
from quarterdeck.core.store.paging import PAGE, Key, Line, lines_by_id, newer, page, placements, row_of
from quarterdeck.core.store.query import Filters
from quarterdeck.gui.history.columns import ALIGNMENTS, COLUMNS, changed_columns, colour_of

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.store import Store
    from quarterdeck.gui.jobs import Jobs

log = logging.getLogger(__name__)

LINE_ROLE = Qt.ItemDataRole.UserRole
_DISPLAY, _FOREGROUND, _ALIGNMENT, _TOOLTIP, _LINE = (int(role.value) for role in (
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.TextAlignmentRole,
    Qt.ItemDataRole.ToolTipRole, LINE_ROLE))
NEWER_LIMIT = 1000  # more new lines than this between two refreshes: reload instead
# a text search counts its matches up to this many: a common word matches hundreds of thousands,
# and counting them all reads every match (about 200 ms over a million deliveries) on the jobs
# thread the next page waits behind; past it the count says "more than 1,000"
COUNT_CAP = 1000

AnyIndex = QModelIndex | QPersistentModelIndex


class HistoryModel(QAbstractTableModel):
    sig_count_changed = Signal(int)  # deliveries matching the filters, in all; COUNT_CAP + 1: more than COUNT_CAP
    sig_page_loaded = Signal(int)  # how many lines a page appended
    sig_refreshed = Signal()  # a refresh was applied
    sig_load_failed = Signal(str)  # a query raised; the message says what

    def __init__(self, jobs: Jobs, store: Store, *, page_size: int = PAGE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs = jobs
        self._store = store
        self._page_size = page_size
        self._lines: list[Line] = []
        self._filters = Filters()
        self._generation = 0
        self._complete = False  # every matching line below the last loaded one is loaded
        self._fetching = False
        self._refreshing = False
        self._dirty: set[int] = set()  # deliveries to look at again on the next refresh
        self._refresh_wanted = False
        self.total: int | None = None

    # -- reading -----------------------------------------------------------------------------
    @property
    def filters(self) -> Filters:
        return self._filters

    @property
    def busy(self) -> bool:
        """A page or a refresh is on its way."""
        return self._fetching or self._refreshing

    def line(self, row: int) -> Line:
        return self._lines[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        # Called ~7 times per visible cell per paint (once per role the delegate asks for), so
        # the common roles are tested first and unused ones cost one comparison chain.
        if not index.isValid():
            return None
        if role == _DISPLAY:
            return COLUMNS[index.column()].text(self._lines[index.row()])
        if role == _FOREGROUND:
            return colour_of(index.column(), self._lines[index.row()])
        if role == _ALIGNMENT:
            return ALIGNMENTS[index.column()]
        if role == _TOOLTIP:
            return COLUMNS[index.column()].tip(self._lines[index.row()])
        if role == _LINE:
            return self._lines[index.row()]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section].title
        return None

    # -- loading -----------------------------------------------------------------------------
    def set_filters(self, filters: Filters) -> None:
        self._filters = filters
        self.reload()

    def reload(self) -> None:
        """Forget what is loaded and ask for the first page and the count of the current filters."""
        self._generation += 1
        self.beginResetModel()
        self._lines = []
        self.endResetModel()
        self._complete = False
        self._fetching = self._refreshing = self._refresh_wanted = False
        self._dirty.clear()
        self.total = None
        self._request_page()
        self._request_count()

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:
        return not parent.isValid() and not self._complete and not self._fetching

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:
        if self.canFetchMore(parent):
            self._request_page()

    def _request_page(self) -> None:
        self._fetching = True
        store, filters, size = self._store, self._filters, self._page_size
        after = self._lines[-1].key if self._lines else None
        self._jobs.run(partial(page, store, filters, after=after, limit=size + 1),
                       partial(self._page_arrived, self._generation),
                       partial(self._query_failed, self._generation, "page"), owner=self)

    def _request_count(self) -> None:
        store, filters = self._store, self._filters
        self._jobs.run(partial(_count, store, filters),
                       partial(self._count_arrived, self._generation),
                       partial(self._query_failed, self._generation, "count"), owner=self)

    def _page_arrived(self, generation: int, lines: list[Line]) -> None:
        if generation != self._generation:
            return  # the filters changed while it was on its way
        self._fetching = False
        self._complete = len(lines) <= self._page_size
        lines = lines[:self._page_size]
        if lines:
            first = len(self._lines)
            self.beginInsertRows(QModelIndex(), first, first + len(lines) - 1)
            self._lines.extend(lines)
            self.endInsertRows()
        self.sig_page_loaded.emit(len(lines))
        if self._refresh_wanted:
            self.refresh()

    def _count_arrived(self, generation: int, total: int) -> None:
        if generation == self._generation:
            self.total = total
            self.sig_count_changed.emit(total)

    def _query_failed(self, generation: int, what: str, error: BaseException) -> None:
        if generation != self._generation:
            return
        if what == "page":
            self._fetching = False
            self._complete = True  # no retry loop from the view asking again; Refresh starts over
        elif what == "refresh":
            self._refreshing = False
        log.warning("history %s query failed: %s", what, error)
        self.sig_load_failed.emit(f"{type(error).__name__}: {error}")

    # -- keeping current ---------------------------------------------------------------------
    def refresh(self, delivery_ids: Iterable[int] = ()) -> None:
        """Fetch lines newer than the top and the current state of ``delivery_ids``, then merge."""
        self._dirty.update(int(i) for i in delivery_ids)
        if self._refreshing or (self._fetching and not self._lines):
            self._refresh_wanted = True  # after the one in flight (or the first page) lands
            return
        self._refresh_wanted = False
        self._refreshing = True
        ids, self._dirty = sorted(self._dirty), set()
        top = self._lines[0].key if self._lines else None
        self._jobs.run(partial(_refresh_query, self._store, self._filters, top, ids),
                       partial(self._refresh_arrived, self._generation),
                       partial(self._query_failed, self._generation, "refresh"), owner=self)

    def _refresh_arrived(self, generation: int, result: tuple[list[Line], list[Line], set[int], int | None]
                         ) -> None:
        if generation != self._generation:
            return
        self._refreshing = False
        above, current, matching, total = result
        if len(above) > NEWER_LIMIT:
            self.reload()  # too many to splice in; the gap could not be closed in one go
            return
        for line in current:
            row = row_of(self._lines, line)
            if row is None:
                continue
            if line.delivery_id not in matching:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._lines[row]
                self.endRemoveRows()
            elif line != self._lines[row]:
                columns = changed_columns(self._lines[row], line)
                self._lines[row] = line
                if columns:
                    self.dataChanged.emit(self.index(row, min(columns)), self.index(row, max(columns)))
        arrivals = above + [line for line in current if line.delivery_id in matching]
        for row, lines in placements(self._lines, arrivals, complete=self._complete):
            self.beginInsertRows(QModelIndex(), row, row + len(lines) - 1)
            self._lines[row:row] = lines
            self.endInsertRows()
        if total is not None:
            self._count_arrived(generation, total)
        self.sig_refreshed.emit()
        if self._refresh_wanted or self._dirty:
            self.refresh()


def _refresh_query(store: Store, filters: Filters, top: Key | None, ids: list[int]
                   ) -> tuple[list[Line], list[Line], set[int], int | None]:
    """Runs on the jobs thread: lines above ``top``, the current lines of ``ids`` (matching or
    not, so a loaded one that stopped matching can be found and removed), which of them match,
    and a fresh count when anything could have changed it."""
    above = newer(store, filters, than=top, limit=NEWER_LIMIT + 1)
    current = lines_by_id(store, ids)
    matching = {line.delivery_id for line in lines_by_id(store, ids, filters)} if ids else set()
    total = _count(store, filters) if above or ids else None
    return above, current, matching, total


def _count(store: Store, filters: Filters) -> int:
    """The deliveries matching ``filters``: exactly without a text (an index counts them at once),
    up to ``COUNT_CAP + 1`` with one."""
    return count(store, at_most=COUNT_CAP if filters.text else None, **vars(filters))
