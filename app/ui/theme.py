"""Light and dark: follow the OS colour scheme (Qt 6.5+), or force one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

DARK = {
    QPalette.ColorRole.Window: "#202124",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#17181a",
    QPalette.ColorRole.AlternateBase: "#242629",
    QPalette.ColorRole.ToolTipBase: "#2b2d30",
    QPalette.ColorRole.ToolTipText: "#e8eaed",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#2b2d30",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.Highlight: "#3d7bd9",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#8ab4f8",
    QPalette.ColorRole.PlaceholderText: "#9aa0a6",
    QPalette.ColorRole.Mid: "#3c4043",
}


def dark_palette() -> QPalette:
    """A calm dark palette for Fusion (used when the platform has none)."""
    palette = QPalette()
    for role, colour in DARK.items():
        palette.setColor(role, QColor(colour))
    disabled = QColor("#80868b")
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, disabled)
    return palette


def scheme_of(theme: str) -> Qt.ColorScheme:
    """The Qt colour scheme for a theme name (system → Unknown, i.e. follow the OS)."""
    return {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(
        theme, Qt.ColorScheme.Unknown
    )


def is_dark() -> bool:
    """Whether the app currently shows dark colours."""
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def apply_theme(app: QApplication, theme: str) -> None:
    """Follow the OS (system) or force light/dark; Fusion + palette where Qt cannot."""
    hints = QGuiApplication.styleHints()
    wanted = scheme_of(theme)
    if wanted == Qt.ColorScheme.Unknown:
        hints.unsetColorScheme()
    else:
        hints.setColorScheme(wanted)
    effective = hints.colorScheme()
    if wanted == Qt.ColorScheme.Dark and effective != Qt.ColorScheme.Dark:
        app.setStyle(QStyleFactory.create("Fusion"))
        app.setPalette(dark_palette())
    elif wanted == Qt.ColorScheme.Light and effective == Qt.ColorScheme.Dark:
        app.setStyle(QStyleFactory.create("Fusion"))
        app.setPalette(app.style().standardPalette())
    elif wanted != Qt.ColorScheme.Dark:
        app.setPalette(QPalette())  # an empty palette means: the platform's own again


def follow_os(app: QApplication, theme_of: object) -> None:
    """Re-apply the theme when the OS switches between light and dark."""
    hints = QGuiApplication.styleHints()
    hints.colorSchemeChanged.connect(lambda _s: apply_theme(app, str(theme_of())))  # type: ignore[operator]
