"""The tray icon: the app lives on when the window closes; failures are notified."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.ui.snapshot import Snapshot
from app.ui.window.main_window import MainWindow
from app.ui.window.panels import display_name


class Tray(QSystemTrayIcon):
    """Tray icon with Show / Quit; notifies only of failures and needed actions."""

    def __init__(self, window: MainWindow, icon: QIcon) -> None:
        super().__init__(icon, window)
        self.window = window
        self.setToolTip("meterbridge — starting…")
        self._on_click: Callable[[], None] = window.bring_to_front
        self._known_problems: set[str] = set()
        self._known_held = 0
        self._devices_holding: set[str] = set()
        menu = QMenu(window)
        self.status_action = QAction("Starting…", menu)
        self.status_action.setEnabled(False)  # a line of status, not a command
        menu.addAction(self.status_action)
        menu.addSeparator()
        for text, slot in (
            ("&Show meterbridge", window.bring_to_front),
            ("&Open file…", lambda: (window.bring_to_front(), window.actions_.open_dialog())),
            ("&Deliver now", window.deliver_now),
        ):
            action = QAction(text, menu)
            action.triggered.connect(lambda _c=False, s=slot: s())
            menu.addAction(action)
        menu.addSeparator()
        quit_action = QAction("&Quit", menu)
        quit_action.triggered.connect(window.quit_app)
        menu.addAction(quit_action)
        self.menu = menu
        self.setContextMenu(menu)
        self.activated.connect(self._on_activated)
        self.messageClicked.connect(self._on_message_clicked)
        window.snapshot_shown.connect(self.notice)
        window.snapshot_shown.connect(self.show_status)
        window.hidden_to_tray.connect(self.notice_hidden)
        window.services_noted.connect(self.notice_services)
        window.held.counted.connect(self.notice_held)
        window.held_pushes.counted.connect(self.notice_held_pushes)
        window.keep_in_tray = True

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.window.bring_to_front()

    def notice(self, snap: Snapshot) -> list[str]:
        """Notify of new failures in `snap` (each once); returns the new problems."""
        problems = problems_in(snap)
        new = [p for p in problems if p not in self._known_problems]
        self._known_problems = set(problems)
        if new and self.window.context.prefs.notify_failures:
            self.notify(new, open_tab=2 if snap.dead_letters else 0)
        return new

    def show_status(self, snap: Snapshot) -> str:
        """The tooltip and the menu's first line: “3 sources OK · 96 refused”."""
        text = status_line(snap)
        self.setToolTip(f"meterbridge — {text}")
        self.status_action.setText(text)
        return text

    def notice_hidden(self) -> bool:
        """Once ever: say that closing the window keeps meterbridge running in the tray."""
        marker = self.window.context.paths.config_dir / "tray-notice-shown"
        if marker.exists():
            return False
        self.showMessage(
            "meterbridge is still running",
            "It keeps receiving and delivering readings from the tray. "
            "To stop it, choose Quit in the tray menu.",
            QSystemTrayIcon.MessageIcon.Information,
        )
        with contextlib.suppress(OSError):  # unwritable: it shows again next time, no harm
            marker.write_text("shown\n", encoding="utf-8")
        return True

    def notice_services(self, notes: list[str]) -> list[str]:
        """Notify when a background service cannot run (a needed action); returns those."""
        problems = [n for n in notes if n.startswith(("Push listener not running", "Not running"))]
        if problems and self.window.context.prefs.notify_failures:
            self.notify(problems, open_tab=3)
        return problems

    def notice_held(self, count: int) -> bool:
        """Notify when more readings are held than before (a decision is needed)."""
        grew = count > self._known_held
        self._known_held = count
        if grew and self.window.context.prefs.notify_failures:
            text = f"{count} value(s) held — decision needed: EnergyCAP already has other values."
            self.notify([text], open_tab=self.window.tabs.indexOf(self.window.held))
        return grew

    def notice_held_pushes(self, counts: dict[str, int]) -> list[str]:
        """Once per device that starts holding pushes: say they wait to be mapped.

        A device is told again only after its held pushes were all mapped or discarded
        and new ones arrive. Returns the devices notified now.
        """
        holding = {name for name, count in counts.items() if count > 0}
        new = sorted(holding - self._devices_holding)
        self._devices_holding = holding
        if new and self.window.context.prefs.notify_failures:
            total = sum(counts[name] for name in new)
            names = ", ".join(display_name(name) for name in new)
            text = f"{names}: {total} push(es) held — map them (Map held pushes… on the dashboard)"
            self.notify([text], open_tab=0)
        return new

    def notify(self, problems: list[str], open_tab: int) -> None:
        """Show one notification; clicking it opens the tab with the problem."""
        self._on_click = lambda: self._open(open_tab)
        text = problems[0] if len(problems) == 1 else f"{len(problems)} problems: {problems[0]} …"
        self.showMessage("meterbridge needs attention", text, QSystemTrayIcon.MessageIcon.Warning)

    def _open(self, tab: int) -> None:
        self.window.bring_to_front()
        self.window.tabs.setCurrentIndex(tab)

    def _on_message_clicked(self) -> None:
        self._on_click()


def problems_in(snap: Snapshot) -> list[str]:
    """Plain sentences for what needs the user: failed sources and refused readings."""
    found = [snap.paused] if snap.paused else []  # one notice, not one per waiting source
    found += [
        f"{display_name(s.name)}: {s.last_error or s.state}"
        for s in snap.sources
        if s.state in ("failed", "needs attention")
    ]
    if snap.dead_letters:
        found.append(f"EnergyCAP refused {len(snap.dead_letters)} reading(s); see Dead letters.")
    return found


def status_line(snap: Snapshot) -> str:
    """Sources in trouble or fine, refused readings and the pause, in a few words."""
    if snap.paused:
        return snap.paused.split(":")[0] + f" · {sum(r.pending for r in snap.sources):,} waiting"
    bad = sum(1 for s in snap.sources if s.state in ("failed", "needs attention"))
    fine = len(snap.sources) - bad
    parts = [f"{fine} source{'s' if fine != 1 else ''} OK"]
    if bad:
        parts.append(f"{bad} need{'s' if bad == 1 else ''} attention")
    refused = sum(s.rejected for s in snap.sources)
    if refused:
        parts.append(f"{refused:,} refused")
    return " · ".join(parts)
