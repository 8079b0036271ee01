"""Screenshots of the held values tab and the Verdigris circuit picker (offscreen).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_held_verdigris.py [OUT]

Everything shown is real: a journal whose readings were delivered to the loopback
EnergyCAP fake and then changed by their source (so they are held), and the
Verdigris fake answering the wizard's token request and building listing.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tools.screenshots import shoot, wait_for  # noqa: E402


def held_values(app: Any, context: Any, path: Path) -> None:
    """The Held values tab over a journal with a clock-change day held."""
    from app.core.delivery.engine import deliver_pending
    from app.core.journal.store import Journal
    from app.ui.window.main_window import MainWindow
    from tests.core.delivery.test_delivery import FAST, MAPPING, client_for, day
    from tests.fakes.energycap import FakeChannel, FakeEnergyCap

    with FakeEnergyCap(api_key="test-key") as fake:
        fake.add_meter(1, "M1", [FakeChannel(11, "C11", "Use", "kWh", 1800)], "Europe/London")
        journal = Journal(context.paths.journal_file)
        journal.accept(day("MPAN1"), source="imserv-feed")
        deliver_pending(journal, client_for(fake), FAST, MAPPING)
        journal.accept(day("MPAN1", base=1.25), source="imserv-feed")
    window = MainWindow(context)
    window.held.zone = ZoneInfo("Europe/London")
    window.resize(1180, 620)
    window.show()
    counted: list[int] = []
    window.held.counted.connect(counted.append)
    window.held.refresh()
    wait_for(app, lambda: counted)
    window.tabs.setCurrentWidget(window.held)
    window.held.table.selectRow(2)
    shoot(window, path)


def verdigris_picker(app: Any, context: Any, path: Path) -> None:
    """The Verdigris wizard's circuit picker after a successful test."""
    from PySide6.QtCore import Qt

    from app.ui.wizards.source_wizard import SOURCE, TEST, SourceWizard
    from tests.fakes.verdigris import FakeVerdigris

    with FakeVerdigris(annex_circuits=["300", "301", "302"]) as fake:
        wizard = SourceWizard(context, "verdigris")
        wizard.resize(760, 640)
        wizard.show()
        source = wizard.page(SOURCE)
        source.name.setText("Campus-circuits")
        source.client_id.setText(fake.client_id)
        source.secret.setText(fake.client_secret)
        wizard.next()
        test = wizard.page(TEST)
        test.auth_url, test.api_url = fake.token_url, fake.url
        test.button.click()
        wait_for(app, lambda: test.buildings is not None and not test.asking)
        test.picker.filter.setText("annex")
        test.picker.set_shown(True)
        test.picker.filter.setText("")
        for ident in ("104", "105"):
            item = test.picker.tree.findItems(ident, Qt.MatchFlag.MatchRecursive, 1)[0]
            item.setCheckState(0, Qt.CheckState.Checked)
        shoot(wizard, path)


def main() -> int:
    """Make both screenshots in a throw-away home."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="meterbridge-shots-"))
    os.environ["METERBRIDGE_HOME"] = str(home)
    from app.core.paths import resolve_paths
    from app.ui.application import ensure_qapp
    from app.ui.context import AppContext
    from app.ui.theme import apply_theme

    app = ensure_qapp()
    context = AppContext.load(resolve_paths(home).ensure())
    apply_theme(app, "light")
    held_values(app, context, out / "held-values.png")
    verdigris_picker(app, context, out / "wizard-verdigris.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
