"""Which group rows of a live view are open: one by one, or every one by the view's
"Show groups opened" checkbox (closing one of all leaves the others open)."""

from __future__ import annotations


class GroupRows:
    """Mixed into a view that has ``groups`` (rows that are groups), ``opened`` (those opened one
    by one), the ``open_all`` checkbox and ``_groups_changed()`` (lay its rows out again)."""

    groups: set[str]
    opened: set[str]

    def is_open(self, group: str) -> bool:
        return self.open_all.isChecked() or group in self.opened

    def set_group_open(self, group: str, opened: bool) -> None:
        """Open a group (its inner rows follow it) or close it (one row for all of it)."""
        if opened:
            self.opened.add(group)
        else:
            self.opened.discard(group)
            if self.open_all.isChecked() and group in self.groups:
                self.opened |= self.groups - {group}
                self.open_all.blockSignals(True)
                self.open_all.setChecked(False)
                self.open_all.blockSignals(False)
        self._groups_changed()

    def _groups_changed(self) -> None:  # pragma: no cover - each view lays out its own rows
        raise NotImplementedError
