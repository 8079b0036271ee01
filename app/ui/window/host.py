"""What the main window's action handlers use of the window, so they need not import it.

`MainWindow` builds `MainActions` (which builds `SourceActions`) with itself; the actions see
it through `WindowHost`, the menus (`menus.build_menus`) through `MenuHost`. The window
imports the actions and the menus, never the other way round.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from app.ui.context import AppContext


class WindowHost(Protocol):
    """The main window (a QMainWindow, the parent of the dialogs the actions open)."""

    context: AppContext
    services: Any  # the background services (delivery, scheduler, listener) or None
    banner: Any  # the message strip at the top: `say(text, level)`
    sources: Any  # the sources panel of the dashboard
    actions_: Any  # the window's `MainActions`

    def refresh(self) -> None:
        """Read the journal and the sources again and show them."""

    def restart_services(self) -> Any:
        """Restart the background services with the saved settings."""

    def update_connection_label(self, paused: str = "", detail: str = "") -> None:
        """Show the EnergyCAP connection (or why delivery is paused) in the status bar."""

    def connected(self) -> bool:
        """Whether an EnergyCAP host and API key are saved."""

    def open_path(self, path: Path) -> Any:
        """Open a meter data file in a preview window."""


class MenuHost(WindowHost, Protocol):
    """What the menus and toolbar use of the main window (a QMainWindow)."""

    tabs: Any  # the window's tab widget
    log_viewer: Any  # the Log tab

    def menuBar(self) -> Any:
        """The window's menu bar."""

    def addToolBar(self, area: Any, toolbar: Any) -> None:
        """Add `toolbar` to the window."""

    def deliver_now(self) -> None:
        """Deliver pending readings now."""

    def quit_app(self) -> None:
        """Quit the app, stopping the background services."""
