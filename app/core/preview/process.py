"""Convert a large file for the preview in a child process.

A conversion thread in the GUI process shares the GIL with the GUI thread: on
a busy machine the GUI then stalls whenever the converting thread is swapped
out while holding it. A child process has its own interpreter, so the GUI
thread only waits for the final unpickling. Small files stay in-process
(starting a child costs about a second).
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pandas as pd

from app.core.error_kinds import KindedError, kind_of
from app.core.mapping import MappingTable
from app.core.preview.data import (
    Cancelled,
    PreviewCancelled,
    PreviewData,
    PreviewRequest,
    Progress,
    load_preview,
)
from connectors.base import Source

PROCESS_MIN_BYTES = 1_000_000
PRELOAD = ["app.core.preview.process", "app.core.connector_catalog"]
POLL_S = 0.05


class PreviewFailed(KindedError):
    """The child could not convert the file; the message says why, `kind` what kind of
    failure it was (the child's error's, app.core.error_kinds)."""


def process_context() -> Any:
    """A forkserver (POSIX) whose children already hold the readers; spawn elsewhere.

    With a forkserver the GUI process never forks itself (forking a big process
    pauses it); the server, started once, forks cheap children.
    """
    if sys.platform == "win32" or "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def warm_up() -> None:
    """Start the fork server now (call it off the GUI thread at app start)."""
    if getattr(sys, "frozen", False) or sys.platform == "win32":
        return
    context = process_context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def use_process(path: Path) -> bool:
    """Whether `path` is big enough for a child process (never in a frozen bundle).

    A frozen bundle would need ``multiprocessing.freeze_support()`` at the very
    start of its entry point to act as the child; until then it converts in-process.
    """
    if getattr(sys, "frozen", False):
        return False
    try:
        return path.stat().st_size >= PROCESS_MIN_BYTES
    except OSError:
        return False


def _child(
    conn: Connection,
    path: str,
    connector_id: str,
    options: dict[str, Any],
    table: MappingTable,
) -> None:
    from app.core.connector_catalog import build_registry

    def progress(count: int, message: str) -> None:
        conn.send(("progress", count, message))

    try:
        connector = build_registry().get(connector_id)
        request = PreviewRequest(connector, Source.from_path(path), options, table)
        data = load_preview(request, progress=progress)
        _send_in_pieces(conn, data)
    except Exception as exc:  # reported to the parent as a message, never a traceback dump
        conn.send(("error", str(exc) or type(exc).__name__, kind_of(exc)))
    finally:
        conn.close()


def _send_in_pieces(conn: Connection, data: PreviewData) -> None:
    """One column per message: the parent unpickles in short steps, never holding the GIL
    for long (one 200 MB pickle took 150 ms to load)."""
    frame = data.mapped
    for name in frame.columns:
        conn.send(("column", name, frame[name]))
    data.mapped = frame.iloc[:0]
    if data.columns is not None:
        data.columns.mapped = data.mapped
    conn.send(("done", data))


def _assemble(data: PreviewData, columns: dict[str, Any]) -> PreviewData:
    """Put the columns received one by one back into the preview."""
    frame = pd.DataFrame(columns, copy=False) if columns else data.mapped
    data.mapped = frame
    if data.columns is not None:
        data.columns.mapped = frame
        data.columns.refresh_views()
    return data


def load_preview_in_process(
    request: PreviewRequest, *, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> PreviewData:
    """`load_preview` in a child process (a source without a path: in this one);
    cancelling terminates the child.

    Raises:
        PreviewCancelled: when `cancelled()` turned true.
        PreviewFailed: when the child reported an error or died.
    """
    if request.source.path is None:
        return load_preview(request, progress=progress, cancelled=cancelled)
    context = process_context()
    parent, child = context.Pipe(duplex=False)
    args = (str(request.source.path), request.connector.info.id, dict(request.options))
    process = context.Process(target=_child, args=(child, *args, request.table), daemon=True)
    process.start()
    child.close()
    try:
        return _wait(parent, process, progress, cancelled)
    finally:
        if process.is_alive():
            process.terminate()
        process.join(5)
        parent.close()


def _wait(
    conn: Connection, process: Any, progress: Progress | None, cancelled: Cancelled | None
) -> PreviewData:
    columns: dict[str, Any] = {}
    while True:
        if cancelled is not None and cancelled():
            raise PreviewCancelled("conversion cancelled")
        if not conn.poll(POLL_S):
            if not process.is_alive() and not conn.poll(0):
                raise PreviewFailed(f"the conversion process ended (exit code {process.exitcode})")
            continue
        try:
            message = conn.recv()
        except EOFError:
            raise PreviewFailed("the conversion process ended without an answer") from None
        if message[0] == "progress":
            if progress is not None:
                progress(int(message[1]), str(message[2]))
        elif message[0] == "column":
            columns[str(message[1])] = message[2]
        elif message[0] == "done":
            return _assemble(message[1], columns)
        else:
            raise PreviewFailed(str(message[1]), kind=str(message[2]))
